"""What a round reads from the domains below it, in a few queries for all its resources: the
days each resource can give (opening hours, closures, busy blocks, holding bookings), the
opening hours, and the days schools got in earlier rounds."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from allocation.supply import BRUSSELS, free_days, school_days
from allocation.tables import AllocationRound, RoundAllocation
from booking.tables import HOLDING_STATUSES, Booking, BusyBlock
from inventory.tables import Closure, OpeningHours

HISTORY_WINDOW = timedelta(days=365)


def _as_time(value) -> time:
    return value if isinstance(value, time) else time.fromisoformat(str(value))


def candidate_days(rnd: AllocationRound) -> list[date]:
    """Monday to Friday in the round's period, without its excluded days."""
    skip = [date.fromisoformat(day) for day in as_list(rnd.excluded_days)]
    return school_days(rnd.period_start, rnd.period_end, skip=skip)


def as_list(value) -> list:
    """A JSON list column as a list (SQLite hands JSON columns back as text)."""
    return json.loads(value or "[]") if isinstance(value, str) else list(value or [])


async def opening_hours(resource_ids: list[int]) -> dict[int, dict[int, list[tuple[time, time]]]]:
    """resource id -> weekday -> its opening intervals (wall times), sorted."""
    week: dict[int, dict[int, list[tuple[time, time]]]] = defaultdict(lambda: defaultdict(list))
    if resource_ids:
        rows = await OpeningHours.select(OpeningHours.resource, OpeningHours.weekday, OpeningHours.opens,
                                         OpeningHours.closes).where(OpeningHours.resource.is_in(resource_ids))
        for row in rows:
            week[row["resource"]][row["weekday"]].append((_as_time(row["opens"]), _as_time(row["closes"])))
    for days in week.values():
        for spans in days.values():
            spans.sort()
    return week


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    return (datetime.combine(first, time(0), BRUSSELS),
            datetime.combine(last + timedelta(days=1), time(0), BRUSSELS))


async def blocked_times(resource_ids: list[int], first: date, last: date,
                        ignore_booking_ids: set[int] = frozenset()) -> dict[int, list[tuple[datetime, datetime]]]:
    """resource id -> closures, busy blocks and holding bookings (with their buffers) that touch
    the days [first, last]; bookings in `ignore_booking_ids` (the round's own) left out."""
    low, high = day_bounds(first, last)
    blocked: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    if not resource_ids:
        return blocked
    for row in await Closure.select(Closure.resource, Closure.starts_at, Closure.ends_at).where(
            Closure.resource.is_in(resource_ids) & (Closure.starts_at < high) & (Closure.ends_at > low)):
        blocked[row["resource"]].append((row["starts_at"], row["ends_at"]))
    for row in await BusyBlock.select(BusyBlock.resource, BusyBlock.start, BusyBlock.end).where(
            BusyBlock.resource.is_in(resource_ids) & (BusyBlock.start < high) & (BusyBlock.end > low)):
        blocked[row["resource"]].append((row["start"], row["end"]))
    # a booking holds [start - buffer, hold_end): the buffer lies before and after it
    for row in await Booking.select(Booking.id, Booking.resource, Booking.start, Booking.hold_end, Booking.end).where(
            Booking.resource.is_in(resource_ids) & Booking.status.is_in(list(HOLDING_STATUSES))
            & (Booking.start < high + timedelta(days=1)) & (Booking.hold_end > low - timedelta(days=1))):
        if row["id"] in ignore_booking_ids:
            continue
        buffer = row["hold_end"] - row["end"]
        blocked[row["resource"]].append((row["start"] - buffer, row["hold_end"]))
    return blocked


async def free_days_of(rnd: AllocationRound, resource_ids: list[int], ignore_booking_ids: set[int] = frozenset(),
                       *, after: date | None = None) -> dict[int, tuple[date, ...]]:
    """resource id -> the whole days it can give the round (only those after `after`, when given:
    a day that has begun is not handed out)."""
    candidates = [day for day in candidate_days(rnd) if after is None or day > after]
    week = await opening_hours(resource_ids)
    blocked = await blocked_times(resource_ids, rnd.period_start, rnd.period_end, ignore_booking_ids)
    return {resource_id: free_days(candidates, week.get(resource_id, {}), blocked.get(resource_id, []))
            for resource_id in resource_ids}


async def history(rnd: AllocationRound) -> dict[int, int]:
    """school id -> days it was given (and booked) in the organiser's other published rounds whose
    period started in the year before this one's."""
    earlier = await AllocationRound.select(AllocationRound.id).where(
        (AllocationRound.organiser == rnd.organiser) & (AllocationRound.id != rnd.id)
        & (AllocationRound.status == AllocationRound.Status.published)
        & (AllocationRound.period_start < rnd.period_start)
        & (AllocationRound.period_start >= rnd.period_start - HISTORY_WINDOW))
    ids = [row["id"] for row in earlier]
    if not ids:
        return {}
    rows = await RoundAllocation.select(RoundAllocation.school, RoundAllocation.id).where(
        RoundAllocation.allocation_round.is_in(ids) & RoundAllocation.booking.is_not_null())
    counts: dict[int, int] = defaultdict(int)
    for row in rows:
        counts[row["school"]] += 1
    return dict(counts)
