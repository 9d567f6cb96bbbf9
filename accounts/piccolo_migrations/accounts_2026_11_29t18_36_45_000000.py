from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-29T18:36:45:000000"
VERSION = "1.38.0"
DESCRIPTION = "One school bill per school, programme and school year"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)

    async def add_index():
        from piccolo.conf.apps import Finder

        await Finder().get_engine().run_ddl(
            "CREATE UNIQUE INDEX school_bill_one_per_year ON school_bill (school, programme, school_year)")

    async def drop_index():
        from piccolo.conf.apps import Finder

        await Finder().get_engine().run_ddl("DROP INDEX IF EXISTS school_bill_one_per_year")

    manager.add_raw(add_index)
    manager.add_raw_backwards(drop_index)
    return manager
