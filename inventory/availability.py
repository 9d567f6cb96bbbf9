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
