"""The calendars plugin: feeds out (`/ical/{token}.ics`, the feeds page and API), owners' linked
calendars in (the sync job) and bookings written back (the write-back job, woken by booking
events)."""

from __future__ import annotations

from datetime import timedelta

from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from booking import events
from calendars import sync
from calendars.controllers import (
    CalendarPagesController,
    FeedApiController,
    FeedController,
    LinkedCalendarApiController,
    LinkedCalendarsController,
)
from calendars.feeds import FeedCache
from calendars.tables import CalendarFeed, LinkedCalendar
from core.jobs import Job
from core.registry import Werkbank


class CalendarsPlugin(InitPluginProtocol):
    def __init__(self, app: Werkbank) -> None:
        self.app = app

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.extend([FeedController, CalendarPagesController, FeedApiController,
                                          LinkedCalendarsController, LinkedCalendarApiController])
        self.app.admin_tables.extend([CalendarFeed, LinkedCalendar])
        self.app.feed_cache = FeedCache()
        self.app.jobs.add(Job(name="calendars.sync", run=sync.sync_due_job, every=timedelta(minutes=1), batch=10,
                              wake_on=(sync.CalendarLinked,), lease=timedelta(minutes=10),
                              description="reads owners' linked calendars when due (busy time)"))
        self.app.jobs.add(Job(name="calendars.write_back", run=sync.write_back_job, every=timedelta(minutes=5),
                              batch=50, lease=timedelta(minutes=10),
                              wake_on=(events.BookingRequested, events.BookingApproved, events.BookingConfirmed,
                                       events.BookingDeclined, events.BookingCancelled, events.BookingExpired,
                                       events.BookingRescheduled, sync.CalendarLinked),
                              description="writes bookings into owners' CalDAV calendars"))
        return app_config
