import os

from piccolo.conf.apps import AppConfig

from allocation.tables import AllocationRound, Registration, RoundAllocation, RoundResource

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="allocation",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[AllocationRound, RoundResource, Registration, RoundAllocation],
    migration_dependencies=["booking.piccolo_app", "inventory.piccolo_app", "accounts.piccolo_app"],
    commands=[],
)
