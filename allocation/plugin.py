"""The allocation plugin: rounds' pages and API, the mails of a published round, and a way to
the rounds from the home pages."""

from __future__ import annotations

from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from accounts.tables import Membership
from allocation import notifications, overview
from allocation.access import may_organise
from allocation.api import RoundApiController
from allocation.controllers import RoundPagesController
from allocation.events import RoundPublished
from allocation.tables import AllocationRound, Registration, RoundAllocation, RoundResource
from core.registry import Werkbank
from core.uow import UnitOfWork

Role = Membership.Role


class AllocationPlugin(InitPluginProtocol):
    def __init__(self, app: Werkbank) -> None:
        self.app = app

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.extend([RoundPagesController, RoundApiController])
        self.app.admin_tables.extend([AllocationRound, RoundResource, Registration, RoundAllocation])
        self.app.subscribe(RoundPublished, notifications.on_published)
        self.app.mail_contexts["allocation"] = notifications.load_mail_context
        self.app.templates.globals.update(may_organise_rounds=may_organise)
        self.app.hooks.add("home.panels", home_panels)
        return app_config


async def home_panels(uow: UnitOfWork) -> list[dict]:
    """Rounds to act on: for a school, the rounds open for registration; for the staff who run
    rounds, those waiting for them (closed and not allocated, or allocated and not published)."""
    actor = uow.actor
    if actor is None or not (actor.has_role(Role.teacher, Role.school_admin) or may_organise(actor)):
        return []
    rounds = await overview.list_rounds(uow)
    waiting = [r for r in rounds if r["manage"] and r["state"] in ("closed", "allocated")]
    schools = actor.has_role(Role.teacher, Role.school_admin)
    open_now = [r for r in rounds if schools and not r["manage"] and r["state"] == "open"]
    if not (waiting or open_now):
        return []
    return [{"roles": ["teacher", "school_admin", "rtc_staff", "owner_staff", "platform_admin"],
             "template": "allocation/_home_rounds.html", "context": {"waiting": waiting, "open": open_now}}]
