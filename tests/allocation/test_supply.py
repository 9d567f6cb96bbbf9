"""The days a resource gives to a round: never a day a closure, booking or busy block touches, never
a day it is shut, and every other candidate day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from allocation.supply import BRUSSELS, free_days, school_days

MONDAY = date(2025, 10, 20)  # the week of the change to winter time (Sunday 26 October)
WEEKDAYS_8_TO_4 = {d: [(time(8, 0), time(16, 30))] for d in range(5)}


def test_a_closure_a_booking_and_a_lunch_time_booking_each_take_the_day():
    term = school_days(MONDAY, MONDAY + timedelta(days=13), skip=[MONDAY + timedelta(days=2)])
    opening = {0: [(time(8, 0), time(12, 0)), (time(13, 0), time(16, 0))], 1: [(time(8, 0), time(16, 0))],
               3: [(time(8, 0), time(16, 0))], 4: [(time(8, 0), time(16, 0))]}  # shut on Wednesdays
    blocked = [
        (datetime(2025, 10, 21, 15, 30, tzinfo=BRUSSELS), datetime(2025, 10, 21, 17, 0, tzinfo=BRUSSELS)),  # Tue
        (datetime(2025, 10, 27, 11, 0, tzinfo=UTC), datetime(2025, 10, 27, 12, 0, tzinfo=UTC)),  # Mon 12-13 CET: lunch
        (datetime(2025, 10, 28, 7, 0, tzinfo=BRUSSELS), datetime(2025, 10, 28, 8, 0, tzinfo=BRUSSELS)),  # Tue before 8
        (datetime(2025, 10, 30, 0, 0, tzinfo=BRUSSELS), datetime(2025, 11, 1, 0, 0, tzinfo=BRUSSELS)),  # Thu-Fri closed
        (datetime(2025, 10, 24, 16, 0, tzinfo=BRUSSELS), datetime(2025, 10, 24, 16, 0, tzinfo=BRUSSELS)),  # empty
    ]
    assert free_days(term, opening, blocked) == (
        date(2025, 10, 20), date(2025, 10, 23), date(2025, 10, 24), date(2025, 10, 28))


def test_school_days_skip_weekends_and_holidays():
    assert school_days(date(2025, 10, 31), date(2025, 11, 4), skip=[date(2025, 11, 3)]) == [
        date(2025, 10, 31), date(2025, 11, 4)]


INTERVALS = st.lists(st.tuples(st.integers(0, 14 * 24 * 4), st.integers(-4, 4 * 24 * 3)), max_size=12)


@settings(derandomize=True, max_examples=150, deadline=None, database=None)
@given(INTERVALS, st.integers(0, 2**5 - 1))
def test_no_free_day_touches_a_blocked_interval_and_no_open_untouched_day_is_left_out(quarters, open_mask):
    """Blocked intervals start on a quarter hour in two weeks around a DST change, last up to
    three days (or are empty/inverted, which block nothing); the resource opens 08:00-16:30 on the
    weekdays of `open_mask`."""
    opening = {d: WEEKDAYS_8_TO_4[d] for d in range(5) if open_mask >> d & 1}
    start = datetime.combine(MONDAY, time(0, 0), BRUSSELS).astimezone(UTC)
    blocked = [(start + timedelta(minutes=15 * s), start + timedelta(minutes=15 * (s + n))) for s, n in quarters]
    candidates = [MONDAY + timedelta(days=i) for i in range(14)]
    free = free_days(candidates, opening, blocked)
    for day in candidates:
        windows = [(datetime.combine(day, a, BRUSSELS), datetime.combine(day, b, BRUSSELS))
                   for a, b in opening.get(day.weekday(), ())]
        touched = any(s < b and e > a and e > s for s, e in blocked for a, b in windows)
        assert (day in free) == (bool(windows) and not touched), day
