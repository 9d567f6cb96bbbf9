import os

from piccolo.conf.apps import AppConfig

from needs.tables import Need, NeedOffer, PhaseOut, PhaseOutResponse

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="needs",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[Need, NeedOffer, PhaseOut, PhaseOutResponse],
    migration_dependencies=["allocation.piccolo_app", "booking.piccolo_app", "inventory.piccolo_app",
                            "accounts.piccolo_app"],
    commands=[],
)
