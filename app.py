"""The Litestar app factory: `create_app(settings)`. `litestar run` and `werkbank serve` use it.
It makes one Werkbank (settings, engine, clock, events, jobs, templates), lists the domain
plugins in dependency order, and sets what is app-wide (middleware order, CSRF, errors)."""

from __future__ import annotations

from pathlib import Path

from litestar import Litestar
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine as Jinja
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from piccolo.engine.base import Engine

from core import csrf, db, edge, inputs, web
from core import logging as wb_logging
from core.registry import Werkbank
from core.settings import Settings
from core.uow import Clock
from core.worker import Worker

ROOT = Path(__file__).resolve().parent


def domain_plugins(app: Werkbank) -> list:
    """The domains, lowest first: each adds its routes, tables, templates, jobs and subscribers."""
    from accounts.plugin import AccountsPlugin, AdminPlugin
    from allocation.plugin import AllocationPlugin
    from booking.plugin import BookingPlugin
    from calendars.plugin import CalendarsPlugin
    from core.plugin import CorePlugin
    from inventory.plugin import InventoryPlugin
    from needs.plugin import NeedsPlugin
    from payments.plugin import PaymentsPlugin
    from regions.plugin import RegionsPlugin
    from reports.plugin import ReportsPlugin

    return [CorePlugin(app), RegionsPlugin(app), AccountsPlugin(app), InventoryPlugin(app), BookingPlugin(app),
            CalendarsPlugin(app), PaymentsPlugin(app), AllocationPlugin(app), ReportsPlugin(app),
            NeedsPlugin(app), AdminPlugin(app)]


def build_werkbank(settings: Settings, engine: Engine, clock: Clock | None = None) -> Werkbank:
    """The same parts as create_app's, without the web app (for tests and scripts that call
    services directly): every plugin registers its jobs, subscribers, hooks and templates."""
    from litestar.config.app import AppConfig

    from accounts.plugin import AdminPlugin

    db.bind_engine(engine)
    werkbank = Werkbank(settings, engine, clock)
    config = AppConfig()
    for plugin in domain_plugins(werkbank):
        if not isinstance(plugin, AdminPlugin):  # adds only the /admin route
            plugin.on_app_init(config)
    return werkbank


def create_app(settings: Settings | None = None, engine: Engine | None = None, clock: Clock | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    wb_logging.configure(settings.log_format, settings.log_level)
    engine = engine or db.engine_from_url(settings.database_url)
    db.bind_engine(engine)  # Piccolo's tables talk to one engine per process
    werkbank = Werkbank(settings, engine, clock)
    worker = Worker(werkbank) if settings.in_process_worker else None

    async def on_startup(app: Litestar) -> None:
        await db.start(engine)
        await werkbank.open()
        if worker is not None:
            worker.start()

    async def on_shutdown(app: Litestar) -> None:
        if worker is not None:
            await worker.stop()
        await werkbank.close()
        await db.stop(engine)

    app = Litestar(
        route_handlers=[create_static_files_router(path="/static", directories=[ROOT / "static"], name="static",
                                                   include_in_schema=False)],
        # The unit of work opens before authentication (which reads through it); the accounts
        # plugin appends its AuthMiddleware after these.
        middleware=[web.SecurityHeadersMiddleware(https=settings.secure_cookies), web.LanguageMiddleware(),
                    inputs.OriginCheckMiddleware(settings.base_url), csrf.CSRFCookieMiddleware(settings.secure_cookies),
                    inputs.InputGuardMiddleware(),
                    edge.UnitOfWorkMiddleware()],
        dependencies=edge.dependencies(),
        before_request=csrf.check_csrf,
        template_config=TemplateConfig(engine=Jinja.from_environment(werkbank.templates)),
        plugins=[HTMXPlugin(), *domain_plugins(werkbank)],
        exception_handlers={Exception: web.exception_to_response},
        openapi_config=OpenAPIConfig(
            title="Werkbank API", version="1", path="/schema", render_plugins=[SwaggerRenderPlugin()],
        ),
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        request_max_body_size=10 * 1024 * 1024,
        debug=False,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.werkbank = werkbank
    app.state.worker = worker
    return app
