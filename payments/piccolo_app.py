import os

from piccolo.conf.apps import AppConfig

from payments.tables import BillingSettings, Invoice, Payment, Refund, StripeEvent, StripeObject

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="payments",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[BillingSettings, Payment, Refund, StripeObject, StripeEvent, Invoice],
    migration_dependencies=["booking.piccolo_app", "inventory.piccolo_app", "accounts.piccolo_app"],
    commands=[],
)
