"""Unmet demand: a search for free time that finds nothing free is kept (its filters, its
region, how many matched apart from being taken), once per hour, never who searched."""

from __future__ import annotations

from booking import services as bookings
from inventory.tables import SearchRecord
from tests.booking.conftest import at, next_weekday, world  # noqa: F401  (the fixture)
from tests.conftest import login


async def test_a_search_that_finds_nothing_free_is_kept_once(client, world):  # noqa: F811
    day = next_weekday(2)
    await bookings.request_booking(world["stranger"], world["resource"].id, at(day, 9), at(day, 12), 8)
    await login(client, "sofie@vti.be")
    window = f"free_from={day}T09:00&free_to={day}T11:00"
    page = await client.get(f"/search?category=welding&{window}")
    assert page.status_code == 200 and "Lasatelier" not in page.text
    await client.get(f"/search?category=welding&{window}")  # the same search again, the same hour
    records = await SearchRecord.select()
    assert len(records) == 1
    kept = records[0]
    assert (kept["category"], kept["region_code"], kept["matched"], kept["found"]) == ("welding", "VOV", 1, 0)
    assert set(kept) == {"id", "fingerprint", "searched_at", "text", "category", "study_programme", "region_code",
                         "postal_code", "radius_km", "free_from", "free_to", "matched", "found"}  # nobody's name

    # Free time found, or no time asked: nothing kept.
    assert "Lasatelier" in (await client.get(f"/search?category=welding&free_from={day}T13:00&free_to={day}T15:00")).text
    await client.get("/search?category=welding")
    assert await SearchRecord.count() == 1


async def test_the_api_keeps_unmet_searches_too(client, world):  # noqa: F811
    from accounts.services import create_api_token

    day = next_weekday(2)
    await bookings.request_booking(world["stranger"], world["resource"].id, at(day, 9), at(day, 12), 8)
    _row, token = await create_api_token(world["teacher"], "test")
    answer = await client.get(f"/api/v1/resources?free_from={day}T10:00&free_to={day}T11:00&q=las",
                              headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.json()["total"] == 0
    records = await SearchRecord.select(SearchRecord.text, SearchRecord.matched)
    assert records == [{"text": "las", "matched": 1}]
