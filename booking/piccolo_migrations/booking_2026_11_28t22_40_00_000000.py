from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-28T22:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "no two holding bookings of a resource overlap (PostgreSQL exclusion constraint)"

HOLDING = "('requested', 'approved', 'confirmed')"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="booking", description=DESCRIPTION)

    async def add_constraint():
        from piccolo.conf.apps import Finder

        engine = Finder().get_engine()
        if engine.engine_type != "postgres":
            return  # SQLite: bookings are written in BEGIN IMMEDIATE transactions that check first
        await engine.run_ddl("CREATE EXTENSION IF NOT EXISTS btree_gist")
        await engine.run_ddl(
            "ALTER TABLE booking ADD CONSTRAINT booking_no_overlap EXCLUDE USING gist "
            "(resource WITH =, tstzrange(\"start\", hold_end, '[)') WITH &&) "
            f"WHERE (status IN {HOLDING})"
        )

    async def drop_constraint():
        from piccolo.conf.apps import Finder

        engine = Finder().get_engine()
        if engine.engine_type == "postgres":
            await engine.run_ddl("ALTER TABLE booking DROP CONSTRAINT IF EXISTS booking_no_overlap")

    manager.add_raw(add_constraint)
    manager.add_raw_backwards(drop_constraint)
    return manager
