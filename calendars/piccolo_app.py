import os

from piccolo.conf.apps import AppConfig

from calendars.tables import CalendarConflict, CalendarFeed, LinkedCalendar, WrittenEvent

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="calendars",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[CalendarFeed, LinkedCalendar, WrittenEvent, CalendarConflict],
    migration_dependencies=["booking.piccolo_app", "inventory.piccolo_app", "accounts.piccolo_app"],
    commands=[],
)
