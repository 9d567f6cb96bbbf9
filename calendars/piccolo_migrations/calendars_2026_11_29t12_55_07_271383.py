from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Text
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-29T12:55:07:271383"
VERSION = "1.38.0"
DESCRIPTION = "a linked calendar remembers its last failed write-back apart"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="calendars", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="LinkedCalendar",
        tablename="linked_calendar",
        column_name="write_error",
        db_column_name="write_error",
        column_class_name="Text",
        column_class=Text,
        params={
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
