"""Availability is a pure function: opening hours minus closures, busy blocks and holding
bookings with buffers, right across the daylight-saving changes."""

from datetime import date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking.availability import Hold, fits, free_spans, opening_spans
from core.errors import ValidationFailed
from core.i18n import BRUSSELS
from core.timeutil import from_local

WEEK = {day: [(time(8, 0), time(12, 0)), (time(13, 0), time(16, 30))] for day in range(5)}
MONDAY = date(2027, 6, 7)
START = datetime.combine(MONDAY, time(0), BRUSSELS).astimezone(timezone.utc)
END = START + timedelta(days=7)


def local(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), BRUSSELS).astimezone(timezone.utc)


def test_opening_hours_minus_a_booking_and_its_buffer():
    hold = Hold(local(MONDAY, 9), local(MONDAY, 10), timedelta(minutes=15))
    spans = free_spans(WEEK, [], [], [hold], START, START + timedelta(days=1), timedelta(minutes=15))
    assert spans == [(local(MONDAY, 8), local(MONDAY, 8, 45)), (local(MONDAY, 10, 15), local(MONDAY, 12)),
                     (local(MONDAY, 13), local(MONDAY, 16, 30))]


@pytest.mark.parametrize("day, summer", [(date(2027, 3, 26), False), (date(2027, 3, 29), True),
                                         (date(2027, 10, 29), True), (date(2027, 11, 1), False)])
def test_wall_times_stay_right_across_daylight_saving(day, summer):
    spans = opening_spans({d: [(time(8), time(16, 30))] for d in range(7)},
                          datetime.combine(day, time(0), BRUSSELS), datetime.combine(day, time(23), BRUSSELS))
    (start, end), = spans
    assert start.astimezone(BRUSSELS).time() == time(8) and end.astimezone(BRUSSELS).time() == time(16, 30)
    assert start.hour == (6 if summer else 7)  # UTC


def test_the_day_of_the_change_is_open_its_full_wall_hours():
    sunday_spring, sunday_autumn = date(2027, 3, 28), date(2027, 10, 31)
    every_day = {d: [(time(0, 30), time(5, 0))] for d in range(7)}
    (spring,) = opening_spans(every_day, datetime.combine(sunday_spring, time(0), BRUSSELS),
                              datetime.combine(sunday_spring, time(23), BRUSSELS))
    assert spring[1] - spring[0] == timedelta(hours=3, minutes=30)  # one hour skipped
    (autumn,) = opening_spans(every_day, datetime.combine(sunday_autumn, time(0), BRUSSELS),
                              datetime.combine(sunday_autumn, time(23), BRUSSELS))
    assert autumn[1] - autumn[0] == timedelta(hours=5, minutes=30)  # one hour twice


@pytest.mark.parametrize("wall, message", [
    (datetime(2027, 3, 28, 2, 30), "bestaat niet in België"),
    (datetime(2027, 10, 31, 2, 30), "komt twee keer voor in België"),
])
def test_a_time_that_does_not_exist_or_happens_twice_is_refused(wall, message):
    with pytest.raises(ValidationFailed, match=message):
        from_local(wall)


minutes = st.integers(min_value=0, max_value=7 * 24 * 4 - 1).map(lambda q: START + timedelta(minutes=15 * q))
spans_strategy = st.lists(st.tuples(minutes, st.integers(1, 24)).map(lambda t: (t[0], t[0] + timedelta(minutes=15 * t[1]))),
                          max_size=6)
holds_strategy = spans_strategy.map(lambda spans: [Hold(a, b, timedelta(minutes=15)) for a, b in spans])


@settings(max_examples=200, deadline=None)
@given(closures=spans_strategy, busy=spans_strategy, holds=holds_strategy)
def test_free_time_is_open_and_touches_nothing_taken(closures, busy, holds):
    buffer = timedelta(minutes=15)
    free = free_spans(WEEK, closures, busy, holds, START, END, buffer)
    opened = opening_spans(WEEK, START, END)
    for a, b in free:
        assert b > a
        assert fits(opened, a, b)  # inside the opening hours
        for c, d in closures + busy:
            assert b <= c or a >= d  # no closure or busy block
        for hold in holds:
            assert b <= hold.start - buffer or a >= hold.end + buffer  # no booking, buffers kept
    for (_a, b), (c, _d) in zip(free, free[1:], strict=False):
        assert b <= c  # sorted, not overlapping


@settings(max_examples=200, deadline=None)
@given(closures=spans_strategy, holds=holds_strategy, probe=minutes, length=st.integers(1, 16))
def test_every_open_quarter_not_taken_is_free(closures, holds, probe, length):
    """Completeness: a time inside the opening hours that overlaps nothing taken is offered."""
    buffer = timedelta(minutes=15)
    start, end = probe, probe + timedelta(minutes=15 * length)
    opened = opening_spans(WEEK, START, END)
    clear = all(end <= c or start >= d for c, d in closures) and all(
        end <= h.start - buffer or start >= h.end + buffer for h in holds)
    if fits(opened, start, end) and clear:
        assert fits(free_spans(WEEK, closures, [], holds, START, END, buffer), start, end)
