"""Shapes of the inventory API."""

from __future__ import annotations

import msgspec


class Price(msgspec.Struct):
    model: str
    amount_cents: int
    text: str
    instructor_fee_cents: int = 0


class ResourceSummary(msgspec.Struct):
    id: int
    name: str
    kind: str
    category: str
    category_name: str
    facility: str
    municipality: str
    region: str
    owner: str
    capacity: int
    price: Price
    distance_km: float | None = None
    url: str = ""


class ResourceList(msgspec.Struct):
    total: int
    items: list[ResourceSummary]


class OpeningSpan(msgspec.Struct):
    weekday: int
    opens: str
    closes: str


class ClosureOut(msgspec.Struct):
    starts_at: str
    ends_at: str
    reason: str


class Rules(msgspec.Struct):
    capacity: int
    needs_approval: bool
    min_notice_hours: int
    max_advance_days: int
    min_duration_minutes: int
    max_duration_minutes: int
    default_duration_minutes: int
    buffer_minutes: int
    request_expiry_days: int
    free_cancellation_hours: int
    late_cancellation_percent: int
    required_qualification: str | None
    opening_hours: list[OpeningSpan]
    closures: list[ClosureOut]


class ResourceOut(msgspec.Struct):
    id: int
    name: str
    kind: str
    category: str
    category_name: str
    description: str
    accessories: str
    study_programmes: list[str]
    facility: str
    address: str
    postal_code: str
    municipality: str
    region: str
    latitude: float | None
    longitude: float | None
    owner: str
    funding: str
    price: Price
    alternative_cost_cents: int
    alternative_cost_unit: str
    alternative_cost_source: str
    rules: Rules
    photos: list[str]
    status: str
