"""When a resource is open and not closed: a pure function of its opening hours (Brussels wall
times), its closures and other busy blocks (Step 3 adds bookings and buffers). Right across
daylight-saving changes: each day's wall times are turned into UTC on that day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from core.i18n import BRUSSELS
from inventory.hours import Interval

Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class Day:
    day: date
    open: list[Span]  # opening hours of that day, in UTC
    free: list[Span]  # open minus closures and busy blocks, in UTC


def wall_time(day: date, at: time) -> datetime:
    """A wall time on a day as UTC. In the spring gap, a time that does not exist moves forward
    by the gap (02:30 -> 03:30 summer time); in the autumn overlap the first occurrence counts
    (02:30 summer time). zoneinfo does both with fold=0: a time in the gap takes the offset from
    before the change (+01:00), which lands an hour later on the wall."""
    return datetime.combine(day, at).replace(tzinfo=BRUSSELS, fold=0).astimezone(timezone.utc)


def subtract(spans: list[Span], blocks: list[Span]) -> list[Span]:
    """spans minus blocks, both sorted or not; result sorted, empty pieces dropped."""
    result = sorted(spans)
    for b_start, b_end in sorted(blocks):
        pieces = []
        for s_start, s_end in result:
            if b_end <= s_start or b_start >= s_end:
                pieces.append((s_start, s_end))
                continue
            if s_start < b_start:
                pieces.append((s_start, b_start))
            if b_end < s_end:
                pieces.append((b_end, s_end))
        result = pieces
    return [(a, b) for a, b in result if b > a]


def days(week: dict[int, list[Interval]], first_day: date, count: int, blocks: list[Span]) -> list[Day]:
    result = []
    for offset in range(count):
        day = first_day + timedelta(days=offset)
        opened = [(wall_time(day, a), wall_time(day, b)) for a, b in week.get(day.weekday(), [])]
        opened = [(a, b) for a, b in opened if b > a]
        result.append(Day(day=day, open=opened, free=subtract(opened, blocks)))
    return result


# --- the week grid of a resource's page ---------------------------------------------------------

GRID_STEP = timedelta(minutes=30)


@dataclass(frozen=True)
class Cell:
    """Half an hour of one day. `state`: free (a booking of the shortest length can start here),
    short (nothing taken, but the gap is shorter than the shortest booking), taken (a booking or
    the owner's calendar, with the buffers), closure, closed (outside opening hours), notice
    (within the notice the owner asks), ahead (beyond how far ahead one may book) or past.
    `until`: for a free cell, the end a click proposes (the usual length, cut to the free time)."""

    start: datetime
    end: datetime
    state: str
    until: datetime | None = None


@dataclass(frozen=True)
class Grid:
    days: list[date]
    rows: list[tuple[time, list[Cell]]]  # a wall time, and a cell per day


def _overlaps(spans: list[Span], start: datetime, end: datetime) -> bool:
    return any(a < end and start < b for a, b in spans)


def week_grid(week: dict[int, list[Interval]], first_day: date, count: int, *, closures: list[Span],
              taken: list[Span], now: datetime, earliest: datetime, latest: datetime, shortest: timedelta,
              usual: timedelta, step: timedelta = GRID_STEP, top: int | None = None,
              bottom: int | None = None) -> Grid:
    """Hours down, days across, in Brussels wall time, from the earliest opening to the latest
    closing of the week (whole hours; 08:00-17:00 when the resource has no hours). A free cell
    agrees with the booking rules: [start, start + max(step, shortest)) lies in opening hours
    minus closures and taken time, the start is not before `earliest` (now plus notice) nor
    after `latest` (now plus the advance limit). `top`/`bottom`: hours to show instead."""
    opens = [a for spans in week.values() for a, _b in spans]
    closes = [b for spans in week.values() for _a, b in spans]
    if top is None:
        top = min(opens).hour if opens else 8
    if bottom is None:
        bottom = (max(closes).hour + (1 if max(closes).minute else 0)) if closes else 17
    length = max(step, shortest)
    minutes = range(top * 60, bottom * 60, int(step.total_seconds() // 60))
    days_ = [first_day + timedelta(days=n) for n in range(count)]
    columns = []
    for day in days_:
        opened = [(wall_time(day, a), wall_time(day, b)) for a, b in week.get(day.weekday(), [])]
        opened = [(a, b) for a, b in opened if b > a]
        free = subtract(opened, list(closures) + list(taken))
        cells = []
        for m in minutes:
            start = wall_time(day, time(m // 60, m % 60))
            end = start + step
            if start < now:
                state = "past"
            elif not fits(opened, start, end):
                state = "closed"
            elif _overlaps(closures, start, end):
                state = "closure"
            elif start < earliest:
                state = "notice"
            elif start > latest:
                state = "ahead"
            elif _overlaps(taken, start, end):
                state = "taken"
            elif fits(free, start, start + length):
                state = "free"
            else:
                state = "short"
            until = None
            if state == "free":
                span_end = next(b for a, b in free if a <= start < b)
                until = min(start + max(usual, length), span_end)
            cells.append(Cell(start, end, state, until))
        columns.append(cells)
    rows = [(time(m // 60, m % 60), [column[k] for column in columns]) for k, m in enumerate(minutes)]
    return Grid(days=days_, rows=rows)


def fits(spans: list[Span], start: datetime, end: datetime) -> bool:
    return any(a <= start and end <= b for a, b in spans)
