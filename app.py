"""The Litestar app factory: `create_app(settings)`. `litestar run` and `werkbank serve` use it."""

from __future__ import annotations

from pathlib import Path

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine as Jinja
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from piccolo.engine.base import Engine

from core import db, web
from core import logging as wb_logging
from core.api import HealthController
from core.settings import Settings
from core.templating import environment
from core.worker import Worker

ROOT = Path(__file__).resolve().parent


def compose_domains(settings: Settings) -> None:
    """What the domains need from each other and from the settings, wired once per process."""
    from booking import rules as booking_rules
    from booking import services as booking_services
    from inventory import discovery, search
    from regions import geocoding

    geocoding.configure(settings.geocoder)
    booking_services.settings_base_url["value"] = settings.base_url
    if booking_rules.search_condition not in search.free_window_conditions:
        search.free_window_conditions.append(booking_rules.search_condition)
    if booking_rules.taken_time not in discovery.taken_time_providers:
        discovery.taken_time_providers.append(booking_rules.taken_time)


def domain_jobs() -> list:
    from booking import services as booking_services

    return [booking_services.run_jobs]


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> Litestar:
    from accounts.admin import admin_handler
    from accounts.api import MeController
    from accounts.auth import AuthMiddleware
    from accounts.controllers import AccountController, OutboxController
    from accounts.labels import kind_label, network_label, role_label
    from accounts.tables import Membership
    from booking.api import AvailabilityApiController, BookingApiController
    from booking.controllers import BookingController
    from booking.labels import register as register_booking_templates
    from inventory.api import ResourceApiController
    from inventory.controllers import InventoryController
    from inventory.discovery import DiscoveryController
    from inventory.tables import (
        Category,
        Closure,
        Facility,
        Qualification,
        QualificationGrant,
        Resource,
        StudyProgramme,
    )
    from inventory.templating import register as register_inventory_templates
    from regions.geography import region_name, rtc_name

    settings = settings or Settings.from_env()
    wb_logging.configure(settings.log_format, settings.log_level)
    engine = engine or db.engine_from_url(settings.database_url)
    db.bind_engine(engine)
    compose_domains(settings)
    worker = Worker(settings, jobs=domain_jobs()) if settings.in_process_worker else None

    web.page_globals.update({"settings": settings})
    environment().globals.update(
        role_label=role_label, kind_label=kind_label, network_label=network_label,
        region_name=region_name, rtc_name=rtc_name, role=Membership.Role,
    )
    register_inventory_templates(environment())
    register_booking_templates(environment())

    async def on_startup(app: Litestar) -> None:
        await db.start(engine)
        if worker is not None:
            worker.start()

    async def on_shutdown(app: Litestar) -> None:
        if worker is not None:
            await worker.stop()
        await db.stop(engine)

    app = Litestar(
        route_handlers=[
            AccountController,
            OutboxController,
            HealthController,
            MeController,
            InventoryController,
            DiscoveryController,
            ResourceApiController,
            AvailabilityApiController,
            BookingApiController,
            BookingController,
            admin_handler(settings, [Facility, Resource, Closure, Qualification, QualificationGrant, Category,
                                     StudyProgramme]),
            create_static_files_router(path="/static", directories=[ROOT / "static"], name="static",
                                       include_in_schema=False),
        ],
        middleware=[web.SecurityHeadersMiddleware(https=settings.secure_cookies), web.LanguageMiddleware(),
                    AuthMiddleware()],
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_name="werkbank_csrf",
            cookie_secure=settings.secure_cookies,
            cookie_httponly=True,
            exclude=["/api/", "/webhooks/", "/admin"],
        ),
        template_config=TemplateConfig(engine=Jinja.from_environment(environment())),
        plugins=[HTMXPlugin()],
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
    app.state.worker = worker
    return app
