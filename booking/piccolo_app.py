import os

from piccolo.conf.apps import AppConfig

from booking.tables import Booking, BookingSeries, BusyBlock, WaitlistEntry

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="booking",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[BookingSeries, Booking, WaitlistEntry, BusyBlock],
    migration_dependencies=["inventory.piccolo_app", "accounts.piccolo_app"],
    commands=[],
)
