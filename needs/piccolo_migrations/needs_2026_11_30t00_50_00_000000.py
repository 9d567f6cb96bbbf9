from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T00:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "One open phase-out dialogue per school and programme; indexes for the report's period and offers"

INDEXES = (
    "CREATE UNIQUE INDEX phase_out_one_open ON phase_out (school, study_programme) WHERE status <> 'closed'",
    "CREATE INDEX need_created ON need (created_at)",
    "CREATE INDEX phase_out_created ON phase_out (created_at)",
    "CREATE INDEX need_offer_resource_id ON need_offer (resource)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="needs", description=DESCRIPTION)

    async def add_indexes():
        from piccolo.conf.apps import Finder

        for statement in INDEXES:
            await Finder().get_engine().run_ddl(statement)

    async def drop_indexes():
        from piccolo.conf.apps import Finder

        for name in ("phase_out_one_open", "need_created", "phase_out_created", "need_offer_resource_id"):
            await Finder().get_engine().run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(add_indexes)
    manager.add_raw_backwards(drop_indexes)

    return manager
