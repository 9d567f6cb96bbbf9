"""The reports plugin: the regional report's page, downloads and API, and a link to it on the
home pages of those who may see it."""

from __future__ import annotations

from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from booking.home_regions import quarter_of
from core.registry import Werkbank
from core.uow import UnitOfWork
from reports.api import ReportApiController
from reports.controllers import ReportPagesController
from reports.scope import may_see_reports, scope_for


class ReportsPlugin(InitPluginProtocol):
    def __init__(self, app: Werkbank) -> None:
        self.app = app

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.extend([ReportPagesController, ReportApiController])
        self.app.hooks.add("home.panels", home_panels)
        self.app.templates.globals.update(may_see_reports=may_see_reports)
        return app_config


async def home_panels(uow: UnitOfWork) -> list[dict]:
    """The way to the report from the home page of provider, RTC and owner staff."""
    if not may_see_reports(uow.actor):
        return []
    scope = scope_for(uow.actor)
    networks = sorted(uow.actor.networks()) if scope.kind == "provider" else []
    return [{"roles": ["provider_staff", "rtc_staff", "owner_staff"], "template": "reports/_home_report.html",
             "context": {"scope": scope.kind, "networks": networks, "quarter": quarter_of(uow.now())}}]
