from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from enum import Enum
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-29T17:43:04:126800"
VERSION = "1.38.0"
DESCRIPTION = "Resource.payment_mode: free, online (Stripe) or invoice"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="inventory", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Resource",
        tablename="resource",
        column_name="payment_mode",
        db_column_name="payment_mode",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 8,
            "default": "invoice",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": Enum(
                "PaymentMode",
                {"free": "free", "online": "online", "invoice": "invoice"},
            ),
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
