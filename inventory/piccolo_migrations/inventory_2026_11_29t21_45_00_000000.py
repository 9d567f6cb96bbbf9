from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-29T21:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Search records by the time they asked for (the regional report's unmet demand reads a period)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="inventory", description=DESCRIPTION)

    async def add_index():
        from piccolo.conf.apps import Finder

        await Finder().get_engine().run_ddl("CREATE INDEX search_record_free_from ON search_record (free_from)")

    async def drop_index():
        from piccolo.conf.apps import Finder

        await Finder().get_engine().run_ddl("DROP INDEX IF EXISTS search_record_free_from")

    manager.add_raw(add_index)
    manager.add_raw_backwards(drop_index)

    return manager
