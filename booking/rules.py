"""The rules of a resource, checked for a wanted time: notice, advance, duration, capacity,
qualification, opening hours, closures, busy blocks and other bookings (buffers included).
Prices and the alternative cost, and the nearest free alternatives when a time is taken."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from booking import availability
from booking.availability import HOLDING, Hold
from booking.tables import Booking, BusyBlock
from core.errors import ValidationFailed
from core.i18n import BRUSSELS, format_datetime, format_time
from core.i18n import gettext as _
from core.timeutil import now
from inventory import services as inventory
from inventory.hours import Interval
from inventory.tables import Closure, OpeningHours, Resource

ALTERNATIVE_STEP = timedelta(minutes=30)
ALTERNATIVE_HORIZON = timedelta(days=21)
WEEKDAY_NAMES_NL = ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"]


@dataclass
class ResourceTimes:
    """What is needed to judge times of one resource in a window."""

    resource: Resource
    week: dict[int, list[Interval]]
    closures: list[tuple[datetime, datetime]]
    busy: list[tuple[datetime, datetime]]
    holds: list[Hold]
    start: datetime
    end: datetime
    hold_ids: list[int] = field(default_factory=list)

    @property
    def buffer(self) -> timedelta:
        return timedelta(minutes=self.resource.buffer_minutes)

    def free(self, ignore: set[int] | None = None) -> list[tuple[datetime, datetime]]:
        holds = [h for h, i in zip(self.holds, self.hold_ids, strict=True) if not ignore or i not in ignore]
        return availability.free_spans(self.week, self.closures, self.busy, holds, self.start, self.end, self.buffer)


async def load_times(resource: Resource, start: datetime, end: datetime) -> ResourceTimes:
    week: dict[int, list[Interval]] = {}
    for row in await OpeningHours.objects().where(OpeningHours.resource == resource.id).order_by(OpeningHours.opens):
        week.setdefault(row.weekday, []).append((row.opens, row.closes))
    margin = timedelta(days=1)
    closures = [(c["starts_at"], c["ends_at"]) for c in await Closure.select(Closure.starts_at, Closure.ends_at).where(
        (Closure.resource == resource.id) & (Closure.starts_at < end + margin) & (Closure.ends_at > start - margin))]
    busy = [(b["start"], b["end"]) for b in await BusyBlock.select(BusyBlock.start, BusyBlock.end).where(
        (BusyBlock.resource == resource.id) & (BusyBlock.start < end + margin) & (BusyBlock.end > start - margin))]
    rows = await Booking.select(Booking.id, Booking.start, Booking.end, Booking.hold_end).where(
        (Booking.resource == resource.id) & Booking.status.is_in(list(HOLDING))
        & (Booking.start < end + margin) & (Booking.hold_end > start - margin))
    holds = [Hold(r["start"], r["end"], r["hold_end"] - r["end"]) for r in rows]
    return ResourceTimes(resource, week, closures, busy, holds, start, end, [r["id"] for r in rows])


def _violation(field_name: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, {field_name: message}, rule=field_name)


async def check_rules(resource: Resource, start: datetime, end: datetime, group_size: int, teacher_id: int,
                      *, at: datetime | None = None) -> None:
    """Raises ValidationFailed (422) naming the first rule the wanted time breaks and what would
    work. Does not look at other bookings (that is a conflict, 409)."""
    moment = at or now()
    if end <= start:
        raise _violation("end", _("The end must come after the start."))
    minutes = (end - start).total_seconds() / 60
    if minutes < resource.min_duration_minutes:
        raise _violation("end", _("Book at least %(n)s minutes.", n=resource.min_duration_minutes))
    if minutes > resource.max_duration_minutes:
        raise _violation("end", _("Book at most %(n)s minutes at a time.", n=resource.max_duration_minutes))
    if start < moment + timedelta(hours=resource.min_notice_hours):
        earliest = moment + timedelta(hours=resource.min_notice_hours)
        raise _violation("start", _("Book at least %(h)s hours ahead: the earliest start is %(when)s.",
                                    h=resource.min_notice_hours, when=format_datetime(earliest, "short")))
    if start > moment + timedelta(days=resource.max_advance_days):
        raise _violation("start", _("Book at most %(d)s days ahead.", d=resource.max_advance_days))
    if group_size < 1:
        raise _violation("group_size", _("The group needs at least one pupil."))
    if group_size > resource.capacity:
        raise _violation("group_size", _("At most %(n)s pupils fit; split the group or choose a larger resource.",
                                         n=resource.capacity))
    if resource.required_qualification:
        if not await inventory.is_qualified(teacher_id, resource.required_qualification,
                                            start.astimezone(BRUSSELS).date()):
            from inventory.tables import Qualification

            q = await Qualification.select(Qualification.name).where(
                Qualification.id == resource.required_qualification).first()
            raise _violation("qualification", _(
                "You need the qualification '%(name)s' first; ask the owner for a session.", name=q["name"]))
    times = await load_times(resource, start, end)
    opened = availability.opening_spans(times.week, start - timedelta(days=1), end + timedelta(days=1))
    if not availability.fits(opened, start, end):
        raise _violation("start", _opening_message(times.week, start))
    for a, b in times.closures:
        if a < end and start < b:
            raise _violation("start", _("The resource is closed from %(from)s to %(to)s.",
                                        **{"from": format_datetime(a, "short"), "to": format_datetime(b, "short")}))
    for a, b in times.busy:
        if a < end and start < b:
            raise _violation("start", _("The owner has blocked %(from)s to %(to)s in their calendar.",
                                        **{"from": format_datetime(a, "short"), "to": format_datetime(b, "short")}))


def _opening_message(week, start: datetime) -> str:
    local = start.astimezone(BRUSSELS)
    spans = week.get(local.weekday(), [])
    if not spans:
        return _("The resource is closed on that day; choose a day when it is open.")
    hours = ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in spans)
    return _("That day it is open %(hours)s; choose a time within the opening hours.", hours=hours)


def conflicts(times: ResourceTimes, start: datetime, end: datetime, ignore: set[int] | None = None) -> bool:
    """Whether another holding booking (with the buffers) takes part of [start, end). Call it
    after check_rules, which has already judged opening hours, closures and busy blocks."""
    return not availability.fits(times.free(ignore), start, end)


async def alternatives(resource: Resource, start: datetime, end: datetime, count: int = 3,
                       at: datetime | None = None) -> list[tuple[datetime, datetime]]:
    """The `count` free times of the same length nearest to the wanted start (before or after),
    within the resource's rules."""
    moment = at or now()
    duration = end - start
    earliest = max(moment + timedelta(hours=resource.min_notice_hours), start - ALTERNATIVE_HORIZON)
    latest = min(moment + timedelta(days=resource.max_advance_days), start + ALTERNATIVE_HORIZON)
    if latest <= earliest:
        return []
    times = await load_times(resource, earliest, latest + duration)
    found = []
    for a, b in times.free():
        # candidate starts on the half hour inside each free span
        first = a + timedelta(seconds=(-a.timestamp()) % ALTERNATIVE_STEP.total_seconds())
        candidate = first
        while candidate + duration <= b:
            if earliest <= candidate <= latest and candidate != start:
                found.append((candidate, candidate + duration))
            candidate += ALTERNATIVE_STEP
    found.sort(key=lambda span: (abs((span[0] - start).total_seconds()), span[0]))
    return sorted(found[:count])


def price(resource: Resource, start: datetime, end: datetime, group_size: int) -> tuple[int, int]:
    """(price, alternative cost) in cents for that booking, by the resource's models."""
    hours = (end - start).total_seconds() / 3600
    model = resource.price_model
    if model == "per_hour":
        cents = round(resource.price_cents * hours)
    elif model == "per_half_day":
        cents = resource.price_cents * max(1, math.ceil(hours / 4 - 1e-9))
    elif model == "per_day":
        days = (end.astimezone(BRUSSELS).date() - start.astimezone(BRUSSELS).date()).days + 1
        cents = resource.price_cents * max(1, days)
    elif model == "per_pupil":
        cents = resource.price_cents * group_size
    else:
        cents = 0
    if resource.alternative_cost_unit == "per_session":
        alternative = resource.alternative_cost_cents
    else:
        alternative = round(resource.alternative_cost_cents * hours)
    return cents, alternative


def describe(span: tuple[datetime, datetime]) -> str:
    a, b = span
    return f"{format_datetime(a, 'short')}-{format_time(b)}"


def search_condition(start: datetime, end: datetime) -> tuple[str, list]:
    """For inventory's "free between" search: no holding booking and no busy block overlaps."""
    sql = ("NOT EXISTS (SELECT 1 FROM booking b WHERE b.resource = r.id "
           "AND b.status IN ('requested', 'approved', 'confirmed') AND b.\"start\" < {} AND b.hold_end > {}) "
           "AND NOT EXISTS (SELECT 1 FROM busy_block bb WHERE bb.resource = r.id "
           "AND bb.\"start\" < {} AND bb.\"end\" > {})")
    return sql, [end, start, end, start]


async def taken_time(resource: Resource, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """For the resource page: busy blocks and holding bookings with buffers in [start, end)."""
    times = await load_times(resource, start, end)
    spans = list(times.busy)
    for hold in times.holds:
        gap = max(hold.buffer, times.buffer)
        spans.append((hold.start - gap, hold.end + gap))
    return spans
