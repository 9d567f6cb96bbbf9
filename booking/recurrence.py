"""Recurring bookings: "every Tuesday 08:30-12:00 until the end of the trimester", weekly or
every two weeks, an RRULE underneath, expanded in Brussels wall time (so 08:30 stays 08:30
across daylight-saving changes). Before booking, each occurrence is judged: free, taken, or
against a rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import islice

from dateutil.rrule import rrulestr

from booking import events, rules, services
from booking.tables import HOLDING_STATUSES, Booking, BookingSeries
from core import audit
from core.errors import Conflict, DomainError, ValidationFailed
from core.i18n import format_date
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


MAX_RULE_LENGTH = 300  # the column's length
MAX_SERIES_DAYS = 730  # no series reaches further than any resource may be booked ahead
WEEKDAYS = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}


def _allowed_rules() -> str:
    return _("Werkbank repeats a booking daily or weekly: FREQ=DAILY or FREQ=WEEKLY, optionally INTERVAL "
             "(1 to 52) and BYDAY (e.g. MO,WE), and an end: COUNT (at most %(n)s) or UNTIL (a date), e.g. "
             "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;UNTIL=20270331.", n=MAX_OCCURRENCES)


def _refused(message: str) -> ValidationFailed:
    return ValidationFailed(message, {"rrule": message}, rule="rrule")


def parse_rule(rule: str, first_day: date) -> dict:
    """The parts of a repeat rule that Werkbank accepts, checked one by one before anything is
    expanded (so no rule can make the expansion slow): FREQ DAILY or WEEKLY, INTERVAL, BYDAY,
    WKST, and exactly one of COUNT (at most MAX_OCCURRENCES) or UNTIL (at most MAX_SERIES_DAYS
    after the first day)."""
    text = (rule or "").strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text or len(text) > MAX_RULE_LENGTH:
        raise _refused(_allowed_rules())
    parts: dict[str, str] = {}
    for piece in text.upper().split(";"):
        key, sep, value = piece.partition("=")
        if not sep or key in parts or key not in ("FREQ", "INTERVAL", "BYDAY", "COUNT", "UNTIL", "WKST"):
            raise _refused(_allowed_rules())
        parts[key] = value.strip()
    if parts.get("FREQ") not in ("DAILY", "WEEKLY"):
        raise _refused(_allowed_rules())
    if ("COUNT" in parts) == ("UNTIL" in parts):
        raise _refused(_("A series needs an end: give UNTIL or COUNT in the rule.") + " " + _allowed_rules())
    interval = parts.get("INTERVAL", "1")
    if not interval.isdigit() or not 1 <= int(interval) <= 52:
        raise _refused(_allowed_rules())
    days = [d for d in parts.get("BYDAY", "").split(",") if d] if "BYDAY" in parts else []
    if "BYDAY" in parts and (not days or any(d not in WEEKDAYS for d in days)):
        raise _refused(_allowed_rules())
    if "WKST" in parts and parts["WKST"] not in WEEKDAYS:
        raise _refused(_allowed_rules())
    if "COUNT" in parts:
        if not parts["COUNT"].isdigit() or not 1 <= int(parts["COUNT"]) <= MAX_OCCURRENCES:
            raise _refused(_("A series has at most %(n)s occurrences.", n=MAX_OCCURRENCES))
    else:
        raw = parts["UNTIL"].rstrip("Z")
        try:
            until = datetime.strptime(raw[:8], "%Y%m%d").date()
            if len(raw) > 8 and not (raw[8] == "T" and len(raw) == 15 and raw[9:].isdigit()):
                raise ValueError(raw)
        except ValueError:
            raise _refused(_allowed_rules()) from None
        if until < first_day:
            raise _refused(_("The last day of the series comes before the first."))
        if until > first_day + timedelta(days=MAX_SERIES_DAYS):
            raise _refused(_("A series may run at most %(n)s days.", n=MAX_SERIES_DAYS))
    return parts


def expand(rule: str, first_day: date, starts: time, ends: time) -> list[tuple[datetime, datetime]]:
    """The occurrences of `rule` from `first_day`, as UTC spans of the same wall times. The rule
    is checked first (parse_rule); its expansion is then bounded by MAX_OCCURRENCES dates over
    at most MAX_SERIES_DAYS days, so it takes microseconds, never the event loop."""
    if ends <= starts:
        raise ValidationFailed(_("The end must come after the start."))
    parse_rule(rule, first_day)
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    try:
        days = list(islice(rrulestr(text, dtstart=datetime.combine(first_day, starts)), MAX_OCCURRENCES + 1))
    except (ValueError, TypeError, KeyError):
        raise _refused(_allowed_rules()) from None
    if len(days) > MAX_OCCURRENCES:
        raise _refused(_("A series has at most %(n)s occurrences.", n=MAX_OCCURRENCES))
    if not days:
        raise _refused(_("This rule gives no date at all; check its days and its end."))
    return [(from_local(day), from_local(datetime.combine(day.date(), ends))) for day in days]


def within_horizon(resource: Resource, spans: list[tuple[datetime, datetime]], now: datetime) -> None:
    """A series ends within the resource's booking horizon (max_advance_days)."""
    if spans and spans[-1][0] > now + timedelta(days=resource.max_advance_days):
        raise _refused(_("This resource is booked at most %(d)s days ahead; end the series by %(date)s.",
                         d=resource.max_advance_days,
                         date=format_date(now + timedelta(days=resource.max_advance_days))))


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
    within_horizon(resource, spans, uow.now())
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
        within_horizon(resource, spans, uow.now())
        judged, times = await _judge(uow, resource, spans, group_size)
        if not free_only and any(o.state != "free" for o in judged):
            raise Conflict(_("Not every occurrence is free; nothing was booked."))
        if not any(o.state == "free" for o in judged):
            raise Conflict(_("None of the occurrences is free; nothing was booked."))
        series = BookingSeries(resource=resource_id, school=school, teacher=actor.user.id, rrule=rule.strip(),
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
