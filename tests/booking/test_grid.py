"""The week grid of a resource's page agrees with the booking service: a half hour drawn free can
be booked (from its start, for the shortest length, and for what a click proposes), and one drawn
otherwise is refused. A property test over generated weeks (opening hours, closures, busy blocks,
bookings with buffers, notice, advance limit, across the DST changes), and the pages a teacher
clicks through, with and without htmx."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking import rules, services
from booking.availability import Hold
from booking.rules import ResourceTimes
from core.errors import ValidationFailed
from inventory.availability import wall_time, week_grid
from inventory.tables import Resource
from tests.booking.conftest import at
from tests.conftest import csrf, grid_states, login

WEEKS = [date(2026, 10, 19), date(2026, 10, 26), date(2027, 3, 22), date(2027, 3, 29), date(2027, 1, 11)]  # DST in 2
HOURS = [
    [(time(8), time(16, 30))],
    [(time(8, 30), time(12)), (time(12, 45), time(16))],
    [(time(0, 0), time(23, 59))],
    [(time(7), time(9, 15)), (time(18), time(21))],
]


def _span(first: date, day: int, minute: int, length: int) -> tuple[datetime, datetime]:
    start = wall_time(first + timedelta(days=day), time(minute // 60, minute % 60))
    return start, start + timedelta(minutes=length)


spans = st.tuples(st.integers(0, 6), st.integers(0, 95).map(lambda q: q * 15), st.integers(1, 24).map(lambda q: q * 15))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(week_index=st.integers(0, len(WEEKS) - 1), hours=st.lists(st.sampled_from(HOURS), min_size=7, max_size=7),
       closed_days=st.sets(st.integers(0, 6), max_size=3), closures=st.lists(spans, max_size=2),
       busy=st.lists(spans, max_size=2), holds=st.lists(st.tuples(spans, st.sampled_from([0, 15, 30])), max_size=5),
       buffer=st.sampled_from([0, 15, 30]), notice=st.sampled_from([0, 2, 24, 48, 72]),
       advance=st.sampled_from([1, 3, 30]), shortest=st.sampled_from([30, 60, 90]), usual=st.sampled_from([30, 120, 240]),
       now_offset=st.integers(-72, 7 * 24).map(lambda h: timedelta(hours=h, minutes=7)))
def test_a_half_hour_drawn_free_is_bookable_and_one_drawn_otherwise_is_refused(
        week_index, hours, closed_days, closures, busy, holds, buffer, notice, advance, shortest, usual, now_offset):
    first = WEEKS[week_index]
    week = {day: hours[day] for day in range(7) if day not in closed_days}
    resource = Resource(capacity=12, min_notice_hours=notice, max_advance_days=advance, min_duration_minutes=shortest,
                        max_duration_minutes=480, buffer_minutes=buffer, required_qualification=None,
                        default_duration_minutes=max(shortest, usual))
    now = wall_time(first, time(0)) + now_offset
    window = (wall_time(first, time(0)) - timedelta(days=1), wall_time(first, time(0)) + timedelta(days=8))
    times = ResourceTimes(
        resource, week, sorted(_span(first, *c) for c in closures), sorted(_span(first, *b) for b in busy),
        [Hold(*_span(first, *h), timedelta(minutes=gap)) for h, gap in holds], *window,
        hold_ids=list(range(len(holds))))
    grid = week_grid(week, first, 7, closures=times.closures, taken=rules.taken_spans(times), now=now,
                     earliest=now + timedelta(hours=notice), latest=now + timedelta(days=advance),
                     shortest=timedelta(minutes=shortest), usual=timedelta(minutes=resource.default_duration_minutes))
    length = timedelta(minutes=max(30, shortest))
    seen = set()
    for _t, cells in grid.rows:
        for cell in cells:
            seen.add(cell.state)
            bookable = _bookable(resource, times, cell.start, cell.start + length, now)
            assert bookable == (cell.state == "free"), (cell, bookable)
            if cell.state == "free":
                assert cell.until is not None and cell.until - cell.start >= length
                assert _bookable(resource, times, cell.start, cell.until, now), cell


def _bookable(resource, times, start, end, now) -> bool:
    import asyncio

    async def check() -> bool:
        try:
            await rules.check_rules(resource, times, start, end, 5, 1, at=now)
        except ValidationFailed:
            return False
        return not rules.conflicts(times, start, end)

    return asyncio.run(check())


def test_the_grid_covers_the_opening_hours_and_marks_each_state():
    first = date(2027, 1, 11)
    week = {0: [(time(8), time(12))], 1: [(time(9, 30), time(16, 30))]}
    now = wall_time(first, time(10, 7))
    hold = (wall_time(first + timedelta(days=1), time(13)), wall_time(first + timedelta(days=1), time(14)))
    closure = (wall_time(first + timedelta(days=1), time(15)), wall_time(first + timedelta(days=1), time(16, 30)))
    grid = week_grid(week, first, 7, closures=[closure], taken=[hold], now=now, earliest=now + timedelta(hours=24),
                     latest=now + timedelta(days=30), shortest=timedelta(minutes=60), usual=timedelta(minutes=120))
    assert [t for t, _cells in grid.rows][0] == time(8) and [t for t, _cells in grid.rows][-1] == time(16, 30)
    tuesday = {f"{t:%H:%M}": cells[1].state for t, cells in grid.rows}
    assert tuesday["08:00"] == "closed" and tuesday["09:00"] == "closed"
    assert tuesday["09:30"] == "notice" and tuesday["10:00"] == "notice"  # before Tuesday 10:07
    assert tuesday["10:30"] == "free" and tuesday["12:00"] == "free"
    assert tuesday["12:30"] == "short"  # 12:30-13:00 is free but shorter than an hour
    assert tuesday["13:00"] == "taken" and tuesday["15:00"] == "closure"
    monday = {f"{t:%H:%M}": cells[0].state for t, cells in grid.rows}
    assert monday["10:00"] == "past" and monday["10:30"] == "notice" and monday["12:00"] == "closed"
    free_10_30 = next(cells[1] for t, cells in grid.rows if t == time(10, 30))
    assert free_10_30.until == wall_time(first + timedelta(days=1), time(12, 30))  # the usual 2 h
    free_12 = next(cells[1] for t, cells in grid.rows if t == time(12))
    assert free_12.until == wall_time(first + timedelta(days=1), time(13))  # cut at the booking
    assert grid.rows[0][1][0].start.tzinfo == timezone.utc


# --- the page a teacher clicks --------------------------------------------------------------------

async def test_clicking_a_free_half_hour_fills_in_the_form_with_and_without_htmx(client, world, tuesday):
    await login(client, "sofie@vti.be")
    resource = world["resource"].id
    page = await client.get(f"/resources/{resource}?week={tuesday.isoformat()}")
    slot = f"{tuesday.isoformat()}T10:00"
    assert grid_states(page.text)[slot] == "free"
    assert f'href="/resources/{resource}?week=' in page.text and f"slot={slot}#book-form" in page.text
    # Without JavaScript: the link opens the page with the form filled in (usual length: 2 hours).
    plain = await client.get(f"/resources/{resource}?week={tuesday.isoformat()}&slot={slot}")
    assert f'name="day" value="{tuesday.isoformat()}"' in plain.text
    assert 'name="start_time" value="10:00"' in plain.text and 'name="end_time" value="12:00"' in plain.text
    assert "Je koos" in plain.text and 'class="cell free picked"' in plain.text
    # Through htmx: only the form comes back, and what was typed stays.
    fragment = await client.get(f"/resources/{resource}?slot={tuesday.isoformat()}T15:30&group_size=9&purpose=GIP",
                                headers={"HX-Request": "true", "HX-Target": "book-form"})
    assert fragment.text.lstrip().startswith("<form") and "<html" not in fragment.text
    assert 'name="start_time" value="15:30"' in fragment.text
    assert 'name="end_time" value="16:30"' in fragment.text  # cut at closing time
    assert 'name="group_size" min="1" max="12" value="9"' in fragment.text and 'value="GIP"' in fragment.text
    # The filled-in form books.
    token = await csrf(client, f"/resources/{resource}")
    booked = await client.post(f"/resources/{resource}/book", data={
        "day": tuesday.isoformat(), "start_time": "10:00", "end_time": "12:00", "group_size": "9", "_csrf_token": token})
    assert "Je aanvraag is verstuurd." in booked.text
    after = grid_states((await client.get(f"/resources/{resource}?week={tuesday.isoformat()}")).text)
    assert after[slot] == "taken" and after[f"{tuesday.isoformat()}T12:00"] == "taken"  # the 15 minute buffer


async def test_a_rule_error_stands_next_to_its_field_and_the_form_keeps_what_was_typed(client, world, tuesday):
    await login(client, "sofie@vti.be")
    resource = world["resource"].id
    token = await csrf(client, f"/resources/{resource}")
    response = await client.post(f"/resources/{resource}/book", data={
        "day": tuesday.isoformat(), "start_time": "09:00", "end_time": "11:00", "group_size": "40",
        "purpose": "Lassen oefenen", "_csrf_token": token})
    assert response.status_code == 422
    assert 'aria-invalid="true" aria-describedby="err-group_size"' in response.text
    assert '<small class="field-error" id="err-group_size">' in response.text
    assert 'value="Lassen oefenen"' in response.text and 'name="start_time" value="09:00"' in response.text


async def test_every_free_half_hour_of_a_rendered_day_books_and_a_taken_one_does_not(client, world, tuesday, uow_for):
    """Through the service, each in a transaction rolled back: what the page draws is what books."""
    await services.request_booking(world["stranger"], world["resource"].id, at(tuesday, 12), at(tuesday, 13), 8)
    await login(client, "sofie@vti.be")
    states = grid_states((await client.get(f"/resources/{world['resource'].id}?week={tuesday.isoformat()}")).text)
    teacher = world["teacher"]
    day = tuesday.isoformat()
    checked = {"free": 0, "other": 0}
    for key, state in sorted(states.items()):
        if not key.startswith(day):
            continue
        hh, mm = int(key[11:13]), int(key[14:16])
        start = at(tuesday, hh, mm)
        try:
            async with teacher.transaction():
                await services.request_booking(teacher, world["resource"].id, start, start + timedelta(hours=1), 5)
                raise _Rollback
        except _Rollback:
            ok = True
        except (ValidationFailed, services.BookingConflict):
            ok = False
        assert ok == (state == "free"), (key, state)
        checked["free" if ok else "other"] += 1
    assert checked["free"] >= 8 and checked["other"] >= 5


class _Rollback(Exception):
    pass
