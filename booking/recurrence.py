"""Recurring bookings: "every Tuesday 08:30-12:00 until the end of the trimester", weekly or
every two weeks, an RRULE underneath, expanded in Brussels wall time (so 08:30 stays 08:30
across daylight-saving changes). Before booking, each occurrence is judged: free, taken, or
against a rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from itertools import islice

from dateutil.rrule import rrulestr

from booking import events, rules, services
from booking.tables import HOLDING_STATUSES, Booking, BookingSeries
from core import audit
from core.errors import Conflict, DomainError, ValidationFailed
from core.i18n import gettext as _
from core.timeutil import from_local
from core.uow import UnitOfWork
from inventory.tables import Resource

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


async def _qualification_memo(resource: Resource, teacher_id: int):
    """The teacher's grants for the resource's qualification, read once for a whole series."""
    from inventory.tables import QualificationGrant

    if not resource.required_qualification:
        return None
    rows = await QualificationGrant.select(QualificationGrant.expires_on).where(
        (QualificationGrant.qualification == resource.required_qualification)
        & (QualificationGrant.teacher == teacher_id) & QualificationGrant.withdrawn_at.is_null())

    async def qualified(day: date) -> bool:
        return any(row["expires_on"] is None or row["expires_on"] >= day for row in rows)

    return qualified


async def _judge(uow: UnitOfWork, resource: Resource, spans: list[tuple[datetime, datetime]],
                 group_size: int) -> tuple[list[Occurrence], rules.ResourceTimes | None]:
    """Each occurrence free, taken or against a rule, from one load of the series' window."""
    if not spans:
        return [], None
    moment = uow.now()
    times = await rules.load_times(resource, spans[0][0], spans[-1][1], now=moment)
    qualified = await _qualification_memo(resource, uow.actor.user.id)
    result = []
    for start, end in spans:
        try:
            await rules.check_rules(resource, times, start, end, group_size, uow.actor.user.id, at=moment,
                                    qualified=qualified)
        except ValidationFailed as exc:
            result.append(Occurrence(start, end, "rule", str(exc)))
            continue
        gone = set(times.overdue_in(start, end))  # overdue requests give way when booking
        taken = rules.conflicts(times, start, end, ignore=gone)
        result.append(Occurrence(start, end, "taken" if taken else "free", _("already taken") if taken else ""))
    return result, times


async def preview(uow: UnitOfWork, resource_id: int, spans: list[tuple[datetime, datetime]],
                  group_size: int) -> list[Occurrence]:
    resource = await services.active_resource(resource_id)
    judged, _times = await _judge(uow, resource, spans, group_size)
    return judged


async def book_series(uow: UnitOfWork, resource_id: int, rule: str, spans: list[tuple[datetime, datetime]],
                      group_size: int, study_programme: int | None = None, purpose: str = "",
                      free_only: bool = True) -> tuple[BookingSeries, list[Booking], list[Occurrence]]:
    """Books the occurrences in one transaction, each in its own savepoint: with `free_only`
    those that are free (a taken or refused one is reported and skipped), otherwise all of them
    or none. Nothing at all is left (no empty series) when no occurrence could be booked."""
    actor = uow.actor
    school = services.school_of(actor, None)
    purpose = services._purpose(purpose)
    async with uow.transaction():
        resource, owner_id = await services.bookable(resource_id)
        judged, times = await _judge(uow, resource, spans, group_size)
        if not free_only and any(o.state != "free" for o in judged):
            raise Conflict(_("Not every occurrence is free; nothing was booked."))
        if not any(o.state == "free" for o in judged):
            raise Conflict(_("None of the occurrences is free; nothing was booked."))
        series = BookingSeries(resource=resource_id, school=school, teacher=actor.user.id, rrule=rule[:300],
                               created_at=uow.now())
        await series.save()
        await audit.record(actor, "series.created", "series", series.id, rrule=rule, resource=resource_id)
        booked, skipped = [], [o for o in judged if o.state != "free"]
        for occurrence in judged:
            if occurrence.state != "free":
                continue
            try:
                async with uow.transaction():  # a savepoint: one occurrence that fails leaves the others
                    booked.append(await services.book_checked(
                        uow, resource, owner_id, times, occurrence.start, occurrence.end, group_size,
                        study_programme, purpose, school, series_id=series.id))
            except Exception as exc:
                if not (isinstance(exc, DomainError) or services._is_exclusion_violation(exc)):
                    raise
                if not free_only:
                    raise Conflict(_("Not every occurrence is free; nothing was booked.")) from None
                skipped.append(Occurrence(occurrence.start, occurrence.end, "taken", _("already taken")))
        if not booked:
            raise Conflict(_("None of the occurrences is free; nothing was booked."))
        uow.record(events.SeriesRequested(series_id=series.id, resource_id=resource_id, owner_id=owner_id,
                                          teacher_id=actor.user.id, booking_ids=tuple(b.id for b in booked),
                                          status=booked[0].status))
    skipped.sort(key=lambda o: o.start)
    return series, booked, skipped


async def cancel_series(uow: UnitOfWork, booking_id: int, reason: str = "", following: bool = True) -> list[Booking]:
    """Cancels this occurrence and, with `following`, the later ones of its series, in one
    transaction with one mail for all of them."""
    current = await services.view(uow, booking_id)
    if current.booking.series is None or not following:
        return [await services.cancel(uow, booking_id, reason)]
    async with uow.transaction():
        later = await Booking.objects().where(
            (Booking.series == current.booking.series) & (Booking.start >= current.booking.start)
            & Booking.status.is_in(list(HOLDING_STATUSES))).order_by(Booking.start)
        cancelled = [await services.cancel(uow, b.id, reason, part_of_series=True) for b in later]
        if cancelled:
            uow.record(events.SeriesCancelled(
                series_id=current.booking.series, resource_id=current.resource.id, owner_id=current.owner_id,
                teacher_id=current.booking.teacher, booking_ids=tuple(b.id for b in cancelled),
                by_owner=services.cancelled_by_owner(uow.actor, current)))
    return cancelled
