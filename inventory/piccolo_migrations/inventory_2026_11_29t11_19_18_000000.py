from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-29T11:19:18:000000"
VERSION = "1.38.0"
DESCRIPTION = "existing resources: a usual booking length within their bounds"


class Resource(Table, tablename="resource"):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="inventory", description=DESCRIPTION)

    async def within_bounds():
        # two hours, or the nearest length the resource allows
        await Resource.raw(
            "UPDATE resource SET default_duration_minutes = CASE "
            "WHEN max_duration_minutes < 120 THEN max_duration_minutes "
            "WHEN min_duration_minutes > 120 THEN min_duration_minutes ELSE 120 END"
        )

    manager.add_raw(within_bounds)

    return manager
