"""Shapes of the needs API."""

from __future__ import annotations

from typing import Annotated

import msgspec

Id = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
Short = Annotated[str, msgspec.Meta(max_length=200)]


class NeedCreate(msgspec.Struct):
    """INTERFACES.md: {category, study_programme?, pupils, days_per_year, region?, reason}."""

    category: Annotated[str, msgspec.Meta(max_length=80)]
    pupils: Annotated[int, msgspec.Meta(ge=-100_000, le=100_000)]
    days_per_year: Annotated[int, msgspec.Meta(ge=-100_000, le=100_000)]
    reason: Annotated[str, msgspec.Meta(max_length=20)]
    study_programme: Annotated[str, msgspec.Meta(max_length=80)] | None = None
    region: Annotated[str, msgspec.Meta(max_length=12)] | None = None
    equipment: Annotated[str, msgspec.Meta(max_length=1000)] = ""
    note: Annotated[str, msgspec.Meta(max_length=10_000)] = ""
    school_id: Id | None = None


class OfferCreate(msgspec.Struct):
    message: Annotated[str, msgspec.Meta(max_length=10_000)]
    resource_id: Id | None = None


class OfferOut(msgspec.Struct):
    id: int
    need_id: int
    owner: str
    resource_id: int | None
    resource: str | None
    message: str
    created_at: str
    resource_url: str | None


class NeedOut(msgspec.Struct):
    id: int
    school: str
    category: str
    category_name: str
    equipment: str
    study_programme: str | None
    pupils: int
    days_per_year: int
    region: str
    reason: str
    reason_label: str
    note: str
    status: str
    status_label: str
    offers: int
    created_at: str
    url: str
    derived: bool = False


class MatchOut(msgspec.Struct):
    resource_id: int
    resource: str
    facility: str
    municipality: str
    owner: str
    capacity: int
    distance_km: float | None
    whole_group: bool
    groups: int
    free_hours: int
    why: list[str]
    url: str


class DerivedNeedOut(msgspec.Struct):
    source: str
    category: str
    category_name: str
    study_programme: str | None
    region: str
    count: int
    unmet_days: int
    pupils: int
    derived: bool = True
