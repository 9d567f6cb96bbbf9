import os

from piccolo.conf.apps import AppConfig

from core.tables import AuditEntry, JobState, OutboxMessage

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="core",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[OutboxMessage, AuditEntry, JobState],
    migration_dependencies=[],
    commands=[],
)
