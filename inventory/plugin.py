"""The inventory plugin: owners' pages, search and resource pages, the resources API, its
tables in piccolo-admin and its template helpers."""

from __future__ import annotations

from datetime import timedelta

from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from core.jobs import Job
from core.registry import Werkbank
from inventory import csvio, search, taxonomy
from inventory.api import ResourceApiController
from inventory.controllers import InventoryController
from inventory.discovery import DiscoveryController
from inventory.tables import Category, Closure, Facility, Qualification, QualificationGrant, Resource, StudyProgramme
from inventory.templating import register


class InventoryPlugin(InitPluginProtocol):
    def __init__(self, app: Werkbank) -> None:
        self.app = app

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.extend([InventoryController, DiscoveryController, ResourceApiController])
        self.app.admin_tables.extend([Facility, Resource, Closure, Qualification, QualificationGrant, Category,
                                      StudyProgramme])
        register(self.app.templates)
        self.app.hooks.add("accounts.study_programmes", taxonomy.programme_choices)
        self.app.jobs.add(Job(name="inventory.imports", run=csvio.imports_job, every=timedelta(seconds=30), batch=1,
                              wake_on=(csvio.ImportQueued,), lease=timedelta(minutes=30),
                              description="imports large CSV files, one at a time, with progress"))
        self.app.jobs.add(Job(name="inventory.search_records", run=search.purge_records_job, every=timedelta(hours=24),
                              batch=5000, description="forgets records of unmet searches after five years"))
        return app_config
