"""Piccolo's configuration: the engine comes from WERKBANK_DATABASE_URL (SQLite by default)."""

import os

from piccolo.conf.apps import AppRegistry

from core.db import engine_from_url

DB = engine_from_url(os.environ.get("WERKBANK_DATABASE_URL", "sqlite:///werkbank.sqlite3"))

# Order matters only for readability: each app declares its migration dependencies.
APP_REGISTRY = AppRegistry(
    apps=[
        "core.piccolo_app",
        "accounts.piccolo_app",
        "regions.piccolo_app",
        "inventory.piccolo_app",
        "booking.piccolo_app",
        "calendars.piccolo_app",
        "payments.piccolo_app",
        "allocation.piccolo_app",
        "needs.piccolo_app",
    ]
)
