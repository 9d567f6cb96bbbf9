import os

from piccolo.conf.apps import AppConfig

from inventory.tables import (
    Category,
    Closure,
    Facility,
    InventoryImport,
    OpeningHours,
    Photo,
    Qualification,
    QualificationGrant,
    Resource,
    ResourceProgramme,
    SearchRecord,
    StudyProgramme,
)

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="inventory",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[Category, StudyProgramme, Facility, Qualification, QualificationGrant, Resource,
                   ResourceProgramme, OpeningHours, Closure, Photo, InventoryImport, SearchRecord],
    migration_dependencies=["accounts.piccolo_app"],
    commands=[],
)
