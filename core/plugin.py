"""The core plugin: health, the mail outbox job, and what every page's templates know."""

from __future__ import annotations

from datetime import timedelta

from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from core import mail
from core.api import HealthController
from core.jobs import Job
from core.registry import Werkbank


class CorePlugin(InitPluginProtocol):
    def __init__(self, app: Werkbank) -> None:
        self.app = app

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.append(HealthController)
        self.app.templates.globals["settings"] = self.app.settings
        self.app.jobs.add(Job(
            name="outbox", run=mail.send_pending, every=timedelta(seconds=30), batch=50,
            wake_on=(mail.MailQueued,), description="renders and sends queued mails",
        ))
        return app_config
