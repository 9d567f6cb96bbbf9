"""The calendars plugin: feeds out (`/ical/{token}.ics`, the feeds page and API)."""

from __future__ import annotations

from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from calendars.controllers import CalendarPagesController, FeedApiController, FeedController
from calendars.tables import CalendarFeed, LinkedCalendar
from core.registry import Werkbank


class CalendarsPlugin(InitPluginProtocol):
    def __init__(self, app: Werkbank) -> None:
        self.app = app

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.extend([FeedController, CalendarPagesController, FeedApiController])
        self.app.admin_tables.extend([CalendarFeed, LinkedCalendar])
        return app_config
