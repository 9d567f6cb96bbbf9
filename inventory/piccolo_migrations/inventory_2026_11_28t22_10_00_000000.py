from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-28T22:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "categories and study programmes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="inventory", description=DESCRIPTION)

    async def add_taxonomy():
        from inventory.taxonomy import sync_taxonomy

        await sync_taxonomy()

    manager.add_raw(add_taxonomy)
    return manager
