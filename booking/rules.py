"""The rules of a resource, checked for a wanted time: notice, advance, duration, capacity,
qualification, opening hours, closures, busy blocks and other bookings (buffers included).
Prices and the alternative cost, and the nearest free alternatives when a time is taken."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from booking import availability
from booking.availability import Hold
from booking.tables import Booking, holding_sql
from core.errors import ValidationFailed
from core.i18n import BRUSSELS, format_datetime, format_time
from core.i18n import gettext as _
from inventory import services as inventory
from inventory.hours import Interval
from inventory.tables import Resource

ALTERNATIVE_STEP = timedelta(minutes=30)
ALTERNATIVE_HORIZON = timedelta(days=21)
WEEKDAY_NAMES_NL = ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"]


@dataclass
class ResourceTimes:
    """What is needed to judge times of one resource in a window (read once, in two queries)."""

    resource: Resource
    week: dict[int, list[Interval]]
    closures: list[tuple[datetime, datetime]]
    busy: list[tuple[datetime, datetime]]
    holds: list[Hold]
    start: datetime
    end: datetime
    hold_ids: list[int] = field(default_factory=list)
    overdue_ids: set[int] = field(default_factory=set)  # requests past their answer time, not yet expired

    @property
    def buffer(self) -> timedelta:
        return timedelta(minutes=self.resource.buffer_minutes)

    def free(self, ignore: set[int] | None = None) -> list[tuple[datetime, datetime]]:
        holds = [h for h, i in zip(self.holds, self.hold_ids, strict=True) if not ignore or i not in ignore]
        return availability.free_spans(self.week, self.closures, self.busy, holds, self.start, self.end, self.buffer)

    def overdue_in(self, start: datetime, end: datetime) -> list[int]:
        """Overdue requests whose hold meets [start, end): they expire before the time is booked."""
        gap = self.buffer
        return [i for h, i in zip(self.holds, self.hold_ids, strict=True)
                if i in self.overdue_ids and h.start - max(gap, h.buffer) < end and h.end + max(gap, h.buffer) > start]

    def drop(self, ids: set[int]) -> None:
        """Forget these holds (they were expired)."""
        keep = [k for k, i in enumerate(self.hold_ids) if i not in ids]
        self.holds = [self.holds[k] for k in keep]
        self.hold_ids = [self.hold_ids[k] for k in keep]
        self.overdue_ids -= ids

    def add(self, booking_id: int, start: datetime, end: datetime, buffer: timedelta) -> None:
        """A hold made in this transaction (the next occurrence of a series must see it)."""
        self.holds.append(Hold(start, end, buffer))
        self.hold_ids.append(booking_id)


def _moment(value) -> datetime:
    if isinstance(value, str):  # SQLite returns raw timestamps as text
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


async def load_times(resource: Resource, start: datetime, end: datetime, now: datetime | None = None) -> ResourceTimes:
    """In one query: the opening hours and, in [start, end) with a day's margin, the closures,
    busy blocks and holding bookings. With `now`, requests past their answer time are
    marked overdue (they hold until the expiry job or a booking expires them)."""
    margin = timedelta(days=1)
    low, high = start - margin, end + margin
    rows = await Booking.raw(
        "SELECT 'w' AS kind, weekday AS id, NULL AS a, NULL AS b, NULL AS c, CAST(opens AS TEXT) AS o, "
        "CAST(closes AS TEXT) AS x FROM opening_hours WHERE resource = {} "
        "UNION ALL SELECT 'c', 0, starts_at, ends_at, ends_at, NULL, NULL FROM closure "
        "WHERE resource = {} AND starts_at < {} AND ends_at > {} "
        "UNION ALL SELECT 'b', 0, \"start\", \"end\", \"end\", NULL, NULL FROM busy_block "
        "WHERE resource = {} AND \"start\" < {} AND \"end\" > {} "
        "UNION ALL SELECT CASE WHEN status = 'requested' AND expires_at <= {} THEN 'o' ELSE 'h' END, id, "
        "\"start\", \"end\", hold_end, NULL, NULL FROM booking bk "
        f"WHERE resource = {{}} AND {holding_sql('bk')} AND \"start\" < {{}} AND hold_end > {{}}",
        resource.id, resource.id, high, low, resource.id, high, low,
        now or datetime.max.replace(tzinfo=timezone.utc), resource.id, high, low)
    week: dict[int, list[Interval]] = {}
    closures, busy, holds, hold_ids, overdue = [], [], [], [], set()
    for row in rows:
        if row["kind"] == "w":
            week.setdefault(row["id"], []).append((time.fromisoformat(row["o"]), time.fromisoformat(row["x"])))
            continue
        a, b = _moment(row["a"]), _moment(row["b"])
        if row["kind"] == "c":
            closures.append((a, b))
        elif row["kind"] == "b":
            busy.append((a, b))
        else:
            holds.append(Hold(a, b, _moment(row["c"]) - b))
            hold_ids.append(row["id"])
            if row["kind"] == "o":
                overdue.add(row["id"])
    for spans in week.values():
        spans.sort()
    return ResourceTimes(resource, week, sorted(closures), sorted(busy), holds, start, end, hold_ids, overdue)


QualificationCheck = Callable[[date], Awaitable[bool]]


def _violation(field_name: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, {field_name: message}, rule=field_name)


async def check_rules(resource: Resource, times: ResourceTimes, start: datetime, end: datetime, group_size: int,
                      teacher_id: int, *, at: datetime, qualified: QualificationCheck | None = None) -> None:
    """Raises ValidationFailed (422) naming the first rule the wanted time breaks and what would
    work. Does not look at other bookings (that is a conflict, 409). `times` must cover
    [start, end)."""
    moment = at
    if end <= start:
        raise _violation("end", _("The end must come after the start."))
    if start.second or start.microsecond or end.second or end.microsecond:
        raise _violation("start", _("Book in whole minutes (for example 08:30)."))
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
    _check_group(resource, group_size)
    await _check_qualification(resource, teacher_id, start, qualified)
    _check_times(times, start, end)


async def _check_qualification(resource: Resource, teacher_id: int, start: datetime,
                               qualified: QualificationCheck | None = None) -> None:
    if resource.required_qualification:
        check = qualified or (lambda day: inventory.is_qualified(teacher_id, resource.required_qualification, day))
        if not await check(start.astimezone(BRUSSELS).date()):
            from inventory.tables import Qualification

            q = await Qualification.select(Qualification.name).where(
                Qualification.id == resource.required_qualification).first()
            raise _violation("qualification", _(
                "You need the qualification '%(name)s' first; ask the owner for a session.", name=q["name"]))


async def check_day(resource: Resource, times: ResourceTimes, start: datetime, end: datetime, group_size: int,
                    teacher_id: int, *, at: datetime) -> None:
    """The rules a whole day given by an allocation round must still meet when it is booked
    (ValidationFailed): still to come, a group that fits, a teacher with the qualification the
    resource asks, [start, end) within the day's opening (from its first opening to its last
    closing, a lunch break included), not closed and not busy. Notice, advance and duration
    limits are the round's business, not these."""
    if end <= start or start.astimezone(BRUSSELS).date() != end.astimezone(BRUSSELS).date():
        raise _violation("end", _("The end must come after the start."))
    if start <= at:
        raise _violation("start", _("That day has passed."))
    _check_group(resource, group_size)
    await _check_qualification(resource, teacher_id, start)
    spans = times.week.get(start.astimezone(BRUSSELS).weekday(), [])
    local_start, local_end = start.astimezone(BRUSSELS).time(), end.astimezone(BRUSSELS).time()
    if not spans or local_start < spans[0][0] or local_end > max(b for _a, b in spans):
        raise _violation("start", _opening_message(times.week, start))
    _check_closed_or_busy(times, start, end)


def _check_group(resource: Resource, group_size: int) -> None:
    if group_size < 1:
        raise _violation("group_size", _("The group needs at least one pupil."))
    if group_size > resource.capacity:
        raise _violation("group_size", _("At most %(n)s pupils fit; split the group or choose a larger resource.",
                                         n=resource.capacity))


def _check_times(times: ResourceTimes, start: datetime, end: datetime) -> None:
    """Within opening hours, outside closures and the owner's busy time."""
    opened = availability.opening_spans(times.week, start - timedelta(days=1), end + timedelta(days=1))
    if not availability.fits(opened, start, end):
        raise _violation("start", _opening_message(times.week, start))
    _check_closed_or_busy(times, start, end)


def _check_closed_or_busy(times: ResourceTimes, start: datetime, end: datetime) -> None:
    for a, b in times.closures:
        if a < end and start < b:
            raise _violation("start", _("The resource is closed from %(from)s to %(to)s.",
                                        **{"from": format_datetime(a, "short"), "to": format_datetime(b, "short")}))
    for a, b in times.busy:
        if a < end and start < b:
            same_day = a.astimezone(BRUSSELS).date() == b.astimezone(BRUSSELS).date()
            span = f"{format_datetime(a, 'short')}–{format_time(b) if same_day else format_datetime(b, 'short')}"
            raise _violation("start", _("That time is taken in the owner's own agenda (%(span)s).", span=span))


def _opening_message(week, start: datetime) -> str:
    local = start.astimezone(BRUSSELS)
    spans = week.get(local.weekday(), [])
    if not spans:
        return _("The resource is closed on that day; choose a day when it is open.")
    hours = ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in spans)
    return _("That day it is open %(hours)s; choose a time within the opening hours.", hours=hours)


def overlaps_hold(times: ResourceTimes, start: datetime, end: datetime) -> bool:
    """Whether another holding booking, with the larger of its buffer and the resource's before
    and after it, touches [start, end): the conflict of a whole allocated day, whose opening
    (a lunch break included) `check_day` has already judged."""
    return any(hold.start - max(hold.buffer, times.buffer) < end and hold.end + max(hold.buffer, times.buffer) > start
               for hold in times.holds)


def conflicts(times: ResourceTimes, start: datetime, end: datetime, ignore: set[int] | None = None) -> bool:
    """Whether another holding booking (with the buffers) takes part of [start, end). Call it
    after check_rules, which has already judged opening hours, closures and busy blocks."""
    return not availability.fits(times.free(ignore), start, end)


async def alternatives(resource: Resource, start: datetime, end: datetime, *, at: datetime,
                       count: int = 3) -> list[tuple[datetime, datetime]]:
    """The `count` free times of the same length nearest to the wanted start (before or after),
    within the resource's rules."""
    moment = at
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


# --- what inventory's search and resource page ask of booking (hooks, see booking/plugin.py) ---

def search_condition(engine_type: str, start: datetime, end: datetime, now: datetime) -> tuple[str, list]:
    """For inventory's "free between" search, the SQL that holds when `r` could be booked for the
    whole of [start, end): the same judgement as check_rules and conflicts (holding bookings with
    the larger of their own and the resource's buffer on both sides, busy blocks, notice,
    advance and duration); a property test holds the two together."""
    until = (start - now).total_seconds()
    duration = (end - start).total_seconds()
    max_buffer = timedelta(days=1)  # the largest buffer a resource may have: a cheap indexed window first
    if engine_type == "postgres":
        def secs(column: str) -> str:
            return f"CAST(EXTRACT(EPOCH FROM {column}) AS BIGINT)"
    else:
        def secs(column: str) -> str:
            return f"CAST(strftime('%s', {column}) AS INTEGER)"
    f, t = math.floor(start.timestamp()), math.ceil(end.timestamp())
    buffer = "r.buffer_minutes * 60"
    b_start, b_end, b_hold = secs('b."start"'), secs('b."end"'), secs("b.hold_end")
    sql = (
        f"r.min_notice_hours * 3600 <= {math.floor(until)} AND r.max_advance_days * 86400 >= {math.ceil(until)} "
        f"AND r.min_duration_minutes * 60 <= {math.floor(duration)} "
        f"AND r.max_duration_minutes * 60 >= {math.ceil(duration)} "
        "AND NOT EXISTS (SELECT 1 FROM booking b WHERE b.resource = r.id "
        f"AND {holding_sql('b')} AND b.\"start\" < {{}} AND b.hold_end > {{}} "
        f"AND ({b_hold} > {f} OR {b_end} + {buffer} > {f}) "
        f"AND ({b_start} < {t} + ({b_hold} - {b_end}) OR {b_start} - {buffer} < {t})) "
        "AND NOT EXISTS (SELECT 1 FROM busy_block bb WHERE bb.resource = r.id "
        "AND bb.\"start\" < {} AND bb.\"end\" > {})"
    )
    return sql, [end + max_buffer, start - max_buffer, end, start]


async def taken_time(uow, resource: Resource, start: datetime, end: datetime,
                     ignore: set[int] | None = None) -> list[tuple[datetime, datetime]]:
    """For the resource page: busy blocks and holding bookings with buffers in [start, end).
    Requests past their answer time are left out: booking their time expires them; so are the
    `ignore`d bookings (the one being moved)."""
    times = await load_times(resource, start, end, uow.now())
    times.drop(set(times.overdue_ids) | set(ignore or ()))
    return taken_spans(times)


def taken_spans(times: ResourceTimes) -> list[tuple[datetime, datetime]]:
    """Busy blocks, and holding bookings widened by the larger of their own and the resource's
    buffer: the time `conflicts` would refuse."""
    spans = list(times.busy)
    for hold in times.holds:
        gap = max(hold.buffer, times.buffer)
        spans.append((hold.start - gap, hold.end + gap))
    return spans
