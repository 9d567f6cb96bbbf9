"""The planning board: a facility's (or the search's) resources down, days or hours across.
Owner staff see bookings with school and status, closures and their calendar; teachers see free
and taken only, and free time links to the booking form."""

from __future__ import annotations

import re
from datetime import timedelta

from booking import services
from booking.tables import BusyBlock
from inventory.tables import Closure
from tests.booking.conftest import at
from tests.conftest import login


async def _world_week(world, tuesday):
    await services.request_booking(world["stranger"], world["resource"].id, at(tuesday, 9), at(tuesday, 11), 8)
    await Closure.insert(Closure(resource=world["resource"].id, starts_at=at(tuesday + timedelta(days=1), 8),
                                 ends_at=at(tuesday + timedelta(days=1), 17), reason="onderhoud"))
    await BusyBlock.insert(BusyBlock(resource=world["resource"].id, start=at(tuesday, 14), end=at(tuesday, 15)),
                           BusyBlock(resource=world["resource"].id, start=at(tuesday, 15), end=at(tuesday, 16),
                                     summary="Bijscholing lasrobot"))


async def test_owner_staff_see_bookings_with_school_and_status_closures_and_their_calendar(client, world, tuesday):
    await _world_week(world, tuesday)
    await login(client, "staff@metaal.be")
    page = await client.get(f"/planning/facilities/{world['facility'].id}?date={tuesday.isoformat()}")
    assert page.status_code == 200
    assert "Lasatelier" in page.text
    assert "09:00–11:00 GO! Aalst" in page.text and "(aangevraagd)" in page.text
    assert "14:00–15:00 agenda van de eigenaar" in page.text
    assert "15:00–16:00 Bijscholing lasrobot" in page.text  # the title from their own calendar
    assert "08:00–17:00 gesloten" in page.text or "08:00–16:30 gesloten" in page.text
    booking_links = re.findall(r'href="/bookings/(\d+)"', page.text)
    assert len(booking_links) == 1
    inventory = await client.get("/inventory/")
    assert f'href="/planning/facilities/{world["facility"].id}"' in inventory.text


async def test_teachers_see_free_and_taken_only_and_free_time_books(client, world, tuesday):
    await _world_week(world, tuesday)
    await login(client, "sofie@vti.be")
    page = await client.get(f"/planning/facilities/{world['facility'].id}?date={tuesday.isoformat()}")
    assert "GO! Aalst" not in page.text and "agenda van de eigenaar" not in page.text
    assert "Bijscholing" not in page.text  # an owner's appointments are theirs
    assert "08:45–11:15 bezet" in page.text  # with the 15 minutes between bookings
    assert "14:00–16:00 bezet" in page.text
    free = re.findall(r'<a class="board-item free" href="([^"]+)"', page.text)
    monday = tuesday - timedelta(days=1)
    assert f"/resources/{world['resource'].id}?week={monday.isoformat()}&amp;slot={tuesday.isoformat()}T11:30#book-form" \
        in free
    form = await client.get(free[0].replace("&amp;", "&"))
    assert 'name="start_time" value=' in form.text and "Je koos" in form.text
    # The day view: hours across, a free hour links to the form, a taken one does not.
    day = await client.get(f"/planning/facilities/{world['facility'].id}?date={tuesday.isoformat()}&view=day")
    assert ">08:00</th>" in day.text and ">16:00</th>" in day.text
    assert f"slot={tuesday.isoformat()}T12:00#book-form" in day.text
    assert f"slot={tuesday.isoformat()}T10:00#book-form" not in day.text


async def test_the_search_results_as_a_board(client, world, tuesday):
    await login(client, "sofie@vti.be")
    search = await client.get("/search?category=welding")
    assert 'href="/planning?category=welding"' in search.text
    page = await client.get(f"/planning?category=welding&date={tuesday.isoformat()}")
    assert page.status_code == 200 and "Lasatelier" in page.text and "Metaalcampus" in page.text
    assert 'href="/search?category=welding"' in page.text
    fragment = await client.get(f"/planning?category=welding&date={(tuesday + timedelta(days=7)).isoformat()}",
                                headers={"HX-Request": "true", "HX-Target": "board"})
    assert "<html" not in fragment.text and "Lasatelier" in fragment.text
    empty = await client.get("/planning?category=cooking")
    assert empty.status_code == 200
    missing = await client.get("/planning/facilities/999999")
    assert missing.status_code == 404


async def test_dates_at_the_ends_of_the_calendar_are_not_errors(client, world):
    await login(client, "sofie@vti.be")
    for query in ("date=0001-01-01", "date=9999-12-31", "date=0001-01-01&view=day", "date=9999-12-31&view=day"):
        page = await client.get(f"/planning/facilities/{world['facility'].id}?{query}")
        assert page.status_code == 200, query
    for query in ("week=0001-01-01", "week=9999-12-31", "slot=0001-01-01T00:00", "slot=9999-12-31T23:30"):
        page = await client.get(f"/resources/{world['resource'].id}?{query}")
        assert page.status_code == 200, query
