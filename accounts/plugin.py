"""The accounts plugin: log in and out, accounts, API tokens, the outbox page, who is asking
(the auth middleware, after the unit of work's), and piccolo-admin over every plugin's tables."""

from __future__ import annotations

from datetime import timedelta

from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from accounts import people, services
from accounts.admin import admin_handler
from accounts.api import MeController
from accounts.auth import AuthMiddleware
from accounts.controllers import AccountController, OutboxController
from accounts.labels import kind_label, network_label, role_label
from accounts.people_controllers import InvitationController, OwnerSignUpController, PeopleController
from accounts.school_bill_controllers import SchoolBillController
from accounts.tables import Membership
from core.jobs import Job
from core.registry import Werkbank


class AccountsPlugin(InitPluginProtocol):
    def __init__(self, app: Werkbank) -> None:
        self.app = app

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        services.apply_test_password_rounds(self.app.settings)
        app_config.route_handlers.extend([AccountController, OutboxController, MeController, PeopleController,
                                          InvitationController, OwnerSignUpController, SchoolBillController])
        app_config.middleware.append(AuthMiddleware())
        self.app.templates.globals.update(role_label=role_label, kind_label=kind_label, network_label=network_label,
                                          role=Membership.Role, manages_people=people.managed_organisations)
        self.app.jobs.add(Job(name="accounts.password_resets", run=services.password_resets_job,
                              every=timedelta(minutes=1), batch=100, wake_on=(services.PasswordResetRequested,),
                              description="looks up asked-for reset links and mails them"))
        return app_config


class AdminPlugin(InitPluginProtocol):
    """Last in the list: piccolo-admin at /admin over the tables the plugins before it registered."""

    def __init__(self, app: Werkbank) -> None:
        self.app = app

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.append(admin_handler(self.app))
        return app_config
