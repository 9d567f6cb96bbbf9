"""The allocation plugin: rounds' pages and API, the mails of a published round, and a way to
the rounds from the home pages."""

from __future__ import annotations

from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from allocation import notifications
from allocation.access import may_organise
from allocation.api import RoundApiController
from allocation.controllers import RoundPagesController
from allocation.events import RoundPublished
from allocation.tables import AllocationRound, Registration, RoundAllocation, RoundResource
from core.registry import Werkbank


class AllocationPlugin(InitPluginProtocol):
    def __init__(self, app: Werkbank) -> None:
        self.app = app

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.extend([RoundPagesController, RoundApiController])
        self.app.admin_tables.extend([AllocationRound, RoundResource, Registration, RoundAllocation])
        self.app.subscribe(RoundPublished, notifications.on_published)
        self.app.mail_contexts["allocation"] = notifications.load_mail_context
        self.app.templates.globals.update(may_organise_rounds=may_organise)
        return app_config
