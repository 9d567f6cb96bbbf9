"""Search's "free between" and the booking service judge a window alike: whatever search lists
as free can be booked for the whole window (buffers on both sides, notice, advance, duration,
opening hours, busy blocks), and what it leaves out is refused. A property test over generated
weeks, on both engines."""

from datetime import datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from booking import services
from booking.tables import Booking, BusyBlock
from core.errors import DomainError
from core.i18n import BRUSSELS
from core.uow import FrozenClock
from inventory.search import SearchQuery, search
from inventory.tables import Resource

NOW = datetime(2027, 5, 3, 10, 0, tzinfo=BRUSSELS)  # a Monday; the resource needs 24 hours' notice
QUARTERS = st.integers(min_value=6 * 4, max_value=18 * 4)  # 06:00 to 18:00 in quarters of an hour


class Rollback(Exception):
    pass


def _at(day_offset: int, quarter: int) -> datetime:
    day = NOW.date() + timedelta(days=day_offset)
    return datetime.combine(day, time(quarter // 4, 15 * (quarter % 4)), BRUSSELS)


holds = st.lists(st.tuples(st.integers(0, 2), QUARTERS, st.integers(2, 12), st.sampled_from([0, 15, 30])),
                 max_size=4)
# mostly windows the rules allow (after the notice, in the opening hours, 1 to 4 hours), some not
windows = st.tuples(st.integers(1, 4), st.integers(7 * 4, 16 * 4), st.integers(3, 17))


@pytest.fixture
async def frozen(world, settings, db):
    from app import build_werkbank

    wb = build_werkbank(settings, db.engine, FrozenClock(NOW))
    return wb, wb.unit_of_work(world["teacher"].actor)


async def _bookable(uow, resource_id: int, start: datetime, end: datetime) -> bool:
    try:
        async with uow.transaction():
            await services.request_booking(uow, resource_id, start, end, 6)
            raise Rollback
    except Rollback:
        return True
    except DomainError:
        return False


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(held=holds, window=windows, buffer=st.sampled_from([0, 15, 45]), busy=st.booleans())
# the resource's buffer (45) before a hold made with none: 08:30-09:30 ends inside it
@example(held=[(1, 40, 4, 0)], window=(2, 34, 4), buffer=45, busy=False)
# ... and after it: 11:15-12:15 starts inside it
@example(held=[(1, 40, 4, 0)], window=(2, 45, 4), buffer=45, busy=False)
# a hold's own buffer (30) after it, larger than the resource's (0): 11:15 starts inside it
@example(held=[(1, 40, 4, 30)], window=(2, 45, 4), buffer=0, busy=False)
# inside the 24 hours' notice (Tuesday 08:00, NOW is Monday 10:00), then just after it
@example(held=[], window=(1, 32, 4), buffer=0, busy=False)
@example(held=[], window=(1, 40, 4), buffer=0, busy=False)
# just outside both buffers: bookable
@example(held=[(1, 40, 4, 15)], window=(2, 46, 4), buffer=15, busy=False)
async def test_search_lists_a_resource_exactly_when_the_window_can_be_booked(world, frozen, held, window, buffer,
                                                                             busy):
    wb, teacher = frozen
    resource = world["resource"]
    await Booking.delete(force=True)
    await BusyBlock.delete(force=True)
    await Resource.update({Resource.buffer_minutes: buffer}, force=True)
    taken: list[tuple[datetime, datetime]] = []
    for day, quarter, length, own_buffer in held:
        start = _at(day + 1, quarter)
        end = start + timedelta(minutes=15 * length)
        if any(a < end + timedelta(minutes=own_buffer) and start < b for a, b in taken):
            continue  # holds never overlap (PostgreSQL's constraint would refuse it)
        taken.append((start, end + timedelta(minutes=own_buffer)))
        await Booking.insert(Booking(resource=resource.id, school=world["other_school"].id,
                                     teacher=world["stranger"].actor.user.id, start=start, end=end,
                                     hold_end=end + timedelta(minutes=own_buffer), status="confirmed",
                                     group_size=5))
    if busy:
        await BusyBlock.insert(BusyBlock(resource=resource.id, start=_at(2, 12 * 4), end=_at(2, 13 * 4)))
    day, quarter, length = window
    start = _at(day, quarter)
    end = start + timedelta(minutes=15 * length)
    result = await search(teacher, SearchQuery(free_from=start, free_to=end, limit=50))
    listed = resource.id in {hit.id for hit in result.hits}
    assert listed == await _bookable(teacher, resource.id, start, end), (
        f"search {'lists' if listed else 'leaves out'} {start:%a %H:%M}-{end:%H:%M} (buffer {buffer}, "
        f"holds {held}, busy {busy}) but booking {'refuses' if listed else 'accepts'} it")
