"""Recurring bookings: "every Tuesday 08:30-12:00 until the end of the trimester", weekly or
every two weeks, an RRULE underneath, expanded in Brussels wall time (so 08:30 stays 08:30
across daylight-saving changes). Before booking, each occurrence is judged: free, taken, or
against a rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from itertools import islice

from dateutil.rrule import rrulestr

from accounts.services import Actor
from booking import rules, services
from booking.tables import Booking, BookingSeries
from core import audit
from core.db import atomic
from core.errors import Conflict, DomainError, ValidationFailed
from core.i18n import gettext as _
from core.timeutil import from_local

MAX_OCCURRENCES = 60


@dataclass
class Occurrence:
    start: datetime
    end: datetime
    state: str  # free, taken, rule
    message: str = ""


def build_rrule(first_day: date, interval: int, until: date) -> str:
    if interval not in (1, 2):
        raise ValidationFailed(_("Repeat every week or every two weeks."))
    if until < first_day:
        raise ValidationFailed(_("The last day of the series comes before the first."))
    return f"FREQ=WEEKLY;INTERVAL={interval};UNTIL={until:%Y%m%d}T235959"


def expand(rule: str, first_day: date, starts: time, ends: time) -> list[tuple[datetime, datetime]]:
    """The occurrences of `rule` from `first_day`, as UTC spans of the same wall times."""
    if ends <= starts:
        raise ValidationFailed(_("The end must come after the start."))
    dtstart = datetime.combine(first_day, starts)
    upper = rule.upper()
    if "UNTIL=" not in upper and "COUNT=" not in upper:
        raise ValidationFailed(_("A series needs an end: give UNTIL or COUNT in the rule."))
    try:
        days = list(islice(rrulestr(rule, dtstart=dtstart), MAX_OCCURRENCES + 1))
    except (ValueError, TypeError, KeyError):
        raise ValidationFailed(_("%(rule)s is not a repeat rule Werkbank understands (RRULE, e.g. "
                                 "FREQ=WEEKLY;INTERVAL=1;UNTIL=20270331T235959).", rule=rule[:100])) from None
    if len(days) > MAX_OCCURRENCES:
        raise ValidationFailed(_("A series has at most %(n)s occurrences.", n=MAX_OCCURRENCES))
    return [(from_local(day), from_local(datetime.combine(day.date(), ends))) for day in days]


async def preview(actor: Actor, resource_id: int, spans: list[tuple[datetime, datetime]], group_size: int) -> list[Occurrence]:
    resource = await services._active_resource(resource_id)
    result = []
    for start, end in spans:
        try:
            await rules.check_rules(resource, start, end, group_size, actor.user.id)
        except ValidationFailed as exc:
            result.append(Occurrence(start, end, "rule", str(exc)))
            continue
        times = await rules.load_times(resource, start, end)
        taken = rules.conflicts(times, start, end)
        result.append(Occurrence(start, end, "taken" if taken else "free",
                                 _("already taken") if taken else ""))
    return result


async def book_series(actor: Actor, resource_id: int, rule: str, spans: list[tuple[datetime, datetime]],
                      group_size: int, study_programme: int | None = None, purpose: str = "",
                      free_only: bool = True) -> tuple[BookingSeries, list[Booking], list[Occurrence]]:
    """Books the occurrences: with `free_only` those that are free (the others are reported);
    otherwise all of them or none."""
    school = await services._school_of(actor, None)
    judged = await preview(actor, resource_id, spans, group_size)
    if not free_only and any(o.state != "free" for o in judged):
        raise Conflict(_("Not every occurrence is free; nothing was booked."))
    if not any(o.state == "free" for o in judged):
        raise Conflict(_("None of the occurrences is free; nothing was booked."))
    booked, skipped = [], [o for o in judged if o.state != "free"]
    async with atomic():
        series = BookingSeries(resource=resource_id, school=school, teacher=actor.user.id, rrule=rule)
        await series.save()
        await audit.record(actor, "series.created", "series", series.id, rrule=rule, resource=resource_id)
        for occurrence in judged:
            if occurrence.state != "free":
                continue
            try:
                booked.append(await services.request_booking(
                    actor, resource_id, occurrence.start, occurrence.end, group_size, study_programme, purpose,
                    school_id=school, series_id=series.id))
            except DomainError as exc:
                if not free_only:
                    raise
                skipped.append(Occurrence(occurrence.start, occurrence.end, "taken", str(exc)))
    return series, booked, skipped


async def cancel_series(actor: Actor, booking_id: int, reason: str = "", following: bool = True) -> list[Booking]:
    """Cancels this occurrence and, with `following`, the later ones of its series."""
    current = await services.view(actor, booking_id)
    if current.booking.series is None or not following:
        return [await services.cancel(actor, booking_id, reason)]
    later = await Booking.objects().where(
        (Booking.series == current.booking.series) & (Booking.start >= current.booking.start)
        & Booking.status.is_in(["requested", "approved", "confirmed"])).order_by(Booking.start)
    return [await services.cancel(actor, b.id, reason) for b in later]

