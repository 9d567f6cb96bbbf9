"""The days a resource can give to an allocation round: pure, so the allocation never has to know
about opening hours, closures, bookings or busy blocks, and so "no overlap with an existing
booking or closure" is a property of this one small function (tests/allocation/test_supply.py).

A round hands out whole days: a day counts only when the resource is open that weekday and no
blocked interval (a closure, a booking that holds the resource with its buffers added, a busy
block from the owner's calendar) touches the day from its first opening to its last closing. A
lunch break between two opening intervals is part of the day: the group keeps the workshop over
lunch, and the day is booked as one booking (see `day_span`)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["day_span", "free_days", "school_days"]

BRUSSELS = ZoneInfo("Europe/Brussels")  # a constant, not state; opening hours are Brussels wall times


def school_days(first: date, last: date, *, skip: Iterable[date] = ()) -> list[date]:
    """Monday to Friday from `first` to `last` inclusive, without the `skip` days (holidays)."""
    skipped = set(skip)
    days, day = [], first
    while day <= last:
        if day.weekday() < 5 and day not in skipped:
            days.append(day)
        day += timedelta(days=1)
    return days


def day_span(day: date, opening: Mapping[int, Sequence[tuple[time, time]]],
             tz: ZoneInfo = BRUSSELS) -> tuple[datetime, datetime] | None:
    """The day a round gives, as instants: from the first opening to the last closing of that
    weekday (None when the resource is shut). Opening hours lie in the day, far from the night-time
    DST change, so no local time here is missing or doubled."""
    spans = [(opens, closes) for opens, closes in opening.get(day.weekday(), ()) if opens < closes]
    if not spans:
        return None
    return (datetime.combine(day, min(a for a, _b in spans), tz), datetime.combine(day, max(b for _a, b in spans), tz))


def free_days(candidates: Iterable[date], opening: Mapping[int, Sequence[tuple[time, time]]],
              blocked: Iterable[tuple[datetime, datetime]], tz: ZoneInfo = BRUSSELS) -> tuple[date, ...]:
    """The candidate days on which the resource is open (`opening`: weekday 0 = Monday -> its
    wall-time intervals, `opens < closes`) and no `blocked` interval `[start, end)` (aware
    datetimes, any zone) overlaps the day's span (`day_span`). Sorted, without repeats."""
    intervals = sorted((start, end) for start, end in blocked if end > start)
    starts = [start for start, _ in intervals]
    # The longest blocked interval bounds how far back one can start and still reach a window.
    longest = max((end - start for start, end in intervals), default=timedelta(0))
    free = []
    for day in sorted(set(candidates)):
        span = day_span(day, opening, tz)
        if span is not None and not _overlaps(intervals, starts, longest, *span):
            free.append(day)
    return tuple(free)


def _overlaps(intervals: list[tuple[datetime, datetime]], starts: list[datetime], longest: timedelta,
              window_start: datetime, window_end: datetime) -> bool:
    """Whether any interval overlaps [window_start, window_end): only intervals starting after
    window_start - longest and before window_end can, and those lie together in the sorted list."""
    low = bisect_right(starts, window_start - longest)
    high = bisect_left(starts, window_end)
    return any(intervals[i][1] > window_start for i in range(max(0, low - 1), high))
