"""The booking plugin: booking pages and API, its events' subscribers (mails, the waitlist),
its jobs (expiry, reminders), and the hooks by which it narrows inventory's search and week
view (inventory does not import booking)."""

from __future__ import annotations

from datetime import timedelta

from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from booking import events, home, notifications, rules, services
from booking.api import AvailabilityApiController, BookingApiController
from booking.controllers import BookingController
from booking.labels import register
from booking.tables import Booking, BookingSeries, BusyBlock, WaitlistEntry
from core.jobs import Job
from core.registry import Werkbank


class BookingPlugin(InitPluginProtocol):
    def __init__(self, app: Werkbank) -> None:
        self.app = app

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app = self.app
        app_config.route_handlers.extend([AvailabilityApiController, BookingApiController, BookingController])
        app.admin_tables.extend([Booking, BookingSeries, WaitlistEntry, BusyBlock])
        register(app.templates)
        app.hooks.add("search.free_window", rules.search_condition)
        app.hooks.add("resource.taken_time", rules.taken_time)
        app.hooks.add("home.panels", home.home_panels)
        notifications.subscribe(app)
        for freed in (events.BookingDeclined, events.BookingCancelled, events.BookingExpired):
            app.subscribe(freed, services.on_time_freed)
        app.subscribe(events.BookingRescheduled, services.on_rescheduled)
        app.mail_contexts["booking"] = notifications.load_mail_context
        app.jobs.add(Job(name="booking.expiry", run=services.expire_due_job, every=timedelta(minutes=1), batch=200,
                         description="expires requests the owner did not answer in time"))
        app.jobs.add(Job(name="booking.reminders", run=services.reminders_job, every=timedelta(minutes=15),
                         batch=200, description="reminds teachers two days before their booking"))
        return app_config
