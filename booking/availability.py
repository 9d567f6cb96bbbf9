"""Availability of a resource: a pure function of its opening hours (wall times, right across
daylight-saving changes), closures, imported busy blocks and holding bookings with their
buffers, and the loader that reads those from the database for a window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from booking.tables import HOLDING_STATUSES
from core.i18n import BRUSSELS
from inventory.availability import Span, fits, subtract, wall_time  # noqa: F401  (fits: booking.rules uses it)
from inventory.hours import Interval

HOLDING = HOLDING_STATUSES


@dataclass(frozen=True)
class Hold:
    """A holding booking: taken in [start, end), and `buffer` before and after it."""

    start: datetime
    end: datetime
    buffer: timedelta = timedelta(0)


def opening_spans(week: dict[int, list[Interval]], start: datetime, end: datetime) -> list[Span]:
    """The opening hours in [start, end) as UTC spans."""
    first = start.astimezone(BRUSSELS).date() - timedelta(days=1)
    last = end.astimezone(BRUSSELS).date() + timedelta(days=1)
    spans: list[Span] = []
    day = first
    while day <= last:
        for a, b in week.get(day.weekday(), []):
            s, e = wall_time(day, a), wall_time(day, b)
            s, e = max(s, start), min(e, end)
            if e > s:
                spans.append((s, e))
        day += timedelta(days=1)
    return sorted(spans)


def free_spans(week: dict[int, list[Interval]], closures: list[Span], busy: list[Span], holds: list[Hold],
               start: datetime, end: datetime, buffer: timedelta = timedelta(0)) -> list[Span]:
    """Opening hours minus closures, busy blocks and holding bookings with buffers, within
    [start, end). A booking [s, e) fits iff it lies inside one free span: the buffer before a
    held time and after it is cut away. `buffer` is the resource's own buffer, applied to the
    holds (each hold may carry the buffer it was made with)."""
    blocks = list(closures) + list(busy)
    for hold in holds:
        gap = max(hold.buffer, buffer)
        blocks.append((hold.start - gap, hold.end + gap))
    return subtract(opening_spans(week, start, end), blocks)


def day_starts(first: date, count: int) -> list[date]:
    return [first + timedelta(days=n) for n in range(count)]
