from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-29T23:49:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "A resource's day is allocated at most once in a round"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="allocation", description=DESCRIPTION)

    async def add_index():
        from piccolo.conf.apps import Finder

        await Finder().get_engine().run_ddl(
            "CREATE UNIQUE INDEX round_allocation_slot ON round_allocation (allocation_round, resource, day)")

    async def drop_index():
        from piccolo.conf.apps import Finder

        await Finder().get_engine().run_ddl("DROP INDEX IF EXISTS round_allocation_slot")

    manager.add_raw(add_index)
    manager.add_raw_backwards(drop_index)

    return manager
