import os

from piccolo.conf.apps import AppConfig

from accounts.tables import (
    ApiToken,
    Invitation,
    LoginAttempt,
    Membership,
    Organisation,
    OwnerInvitation,
    PasswordResetRequest,
    PasswordResetToken,
    SchoolBill,
    Session,
    User,
)

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[User, Organisation, Membership, Session, ApiToken, LoginAttempt, PasswordResetToken,
                   PasswordResetRequest, Invitation, SchoolBill, OwnerInvitation],
    migration_dependencies=["core.piccolo_app"],
    commands=[],
)
