"""The regions plugin: the geocoder chosen by WERKBANK_GEOCODER, region names in templates."""

from __future__ import annotations

from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from core.registry import Werkbank
from regions.controllers import CustomRegionsController
from regions.geocoding import AddressLocator
from regions.geography import region_name, rtc_name


class RegionsPlugin(InitPluginProtocol):
    def __init__(self, app: Werkbank) -> None:
        self.app = app

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        self.app.locator = AddressLocator(self.app.settings.geocoder)
        app_config.route_handlers.append(CustomRegionsController)
        self.app.templates.globals.update(region_name=region_name, rtc_name=rtc_name)
        return app_config
