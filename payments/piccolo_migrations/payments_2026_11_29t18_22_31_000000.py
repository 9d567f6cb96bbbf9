from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-29T18:22:31:000000"
VERSION = "1.38.0"
DESCRIPTION = "One payment per booking; invoice numbers unique per owner (never reused)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="payments", description=DESCRIPTION)

    async def add_indexes():
        from piccolo.conf.apps import Finder

        engine = Finder().get_engine()
        await engine.run_ddl("CREATE UNIQUE INDEX payment_one_per_booking ON payment (booking)")
        await engine.run_ddl("CREATE UNIQUE INDEX invoice_owner_number ON invoice (owner, number)")

    async def drop_indexes():
        from piccolo.conf.apps import Finder

        engine = Finder().get_engine()
        await engine.run_ddl("DROP INDEX IF EXISTS invoice_owner_number")
        await engine.run_ddl("DROP INDEX IF EXISTS payment_one_per_booking")

    manager.add_raw(add_indexes)
    manager.add_raw_backwards(drop_indexes)

    return manager
