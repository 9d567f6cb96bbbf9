"""Shapes of the booking API."""

from __future__ import annotations

from typing import Annotated

import msgspec

Id = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]


class BookingCreate(msgspec.Struct):
    resource_id: Id
    start: Annotated[str, msgspec.Meta(max_length=60)]
    end: Annotated[str, msgspec.Meta(max_length=60)]
    group_size: Annotated[int, msgspec.Meta(ge=0, le=100_000)]
    study_programme: str | None = None
    purpose: str = ""
    rrule: str | None = None


class Reschedule(msgspec.Struct):
    start: Annotated[str, msgspec.Meta(max_length=60)]
    end: Annotated[str, msgspec.Meta(max_length=60)]


class Decision(msgspec.Struct):
    reason: str = ""


class BookingOut(msgspec.Struct):
    id: int
    resource_id: int
    resource: str
    school: str
    start: str
    end: str
    status: str
    status_label: str
    group_size: int
    price_cents: int
    alternative_cost_cents: int
    cancellation_fee_cents: int
    expires_at: str | None
    series_id: int | None
    url: str


class SeriesOut(msgspec.Struct):
    series_id: int
    bookings: list[BookingOut]
    skipped: list[dict]


class Span(msgspec.Struct):
    start: str
    end: str


class AvailabilityOut(msgspec.Struct):
    resource_id: int
    start: str
    end: str
    free: list[Span]
