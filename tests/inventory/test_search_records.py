"""Unmet demand: a search for free time that finds nothing free is kept (the filters chosen, its
region, how many matched apart from being taken), once per hour and days, never who searched or
the words typed; past windows and unknown filters are not demand."""

from __future__ import annotations

from datetime import timedelta

from booking import services as bookings
from inventory.tables import SearchRecord
from tests.booking.conftest import at, next_weekday, world  # noqa: F401  (the fixture)
from tests.conftest import login


async def test_a_search_that_finds_nothing_free_is_kept_once(client, world):  # noqa: F811
    day = next_weekday(2)
    await bookings.request_booking(world["stranger"], world["resource"].id, at(day, 9), at(day, 12), 8)
    await login(client, "sofie@vti.be")
    page = await client.get(f"/search?category=welding&free_from={day}T09:00&free_to={day}T11:00")
    assert page.status_code == 200 and "Lasatelier" not in page.text
    # Typing and nudging the hours (htmx sends each): the same search.
    for text, start in (("l", "09:30"), ("las", "10:00"), ("lasatelier", "09:00")):
        await client.get(f"/search?q={text}&category=welding&free_from={day}T{start}&free_to={day}T11:30",
                         headers={"HX-Request": "true"})
    records = await SearchRecord.select()
    assert len(records) == 1
    kept = records[0]
    assert (kept["category"], kept["region_code"], kept["postal_code"], kept["matched"], kept["found"]) == (
        "welding", "VOV", "", 1, 0)  # the school's own postal code is not kept
    assert kept["searched_at"].minute == 0 and kept["searched_at"].second == 0  # the hour, not the moment
    assert set(kept) == {"id", "fingerprint", "searched_at", "category", "study_programme", "region_code",
                         "postal_code", "radius_km", "free_from", "free_to", "matched", "found"}  # nobody, no words

    # Free time found, no time asked, a past window, an unknown category: nothing kept.
    assert "Lasatelier" in (await client.get(f"/search?category=welding&free_from={day}T13:00&free_to={day}T15:00")).text
    await client.get("/search?category=welding")
    past = day - timedelta(days=21)
    await client.get(f"/search?category=welding&free_from={past}T09:00&free_to={past}T11:00")
    await client.get(f"/search?category=no-such-thing&free_from={day}T09:00&free_to={day}T11:00")
    assert await SearchRecord.count() == 1
    # A typed postal code is kept (it is the place asked about, not who asked).
    await client.get(f"/search?category=welding&near=9000&free_from={day}T09:00&free_to={day}T11:00")
    assert await SearchRecord.count().where(SearchRecord.postal_code == "9000") == 1


async def test_the_api_keeps_unmet_searches_too(client, world):  # noqa: F811
    from accounts.services import create_api_token

    day = next_weekday(2)
    await bookings.request_booking(world["stranger"], world["resource"].id, at(day, 9), at(day, 12), 8)
    _row, token = await create_api_token(world["teacher"], "test")
    answer = await client.get(f"/api/v1/resources?free_from={day}T10:00&free_to={day}T11:00&q=las",
                              headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.json()["total"] == 0
    records = await SearchRecord.select(SearchRecord.matched, SearchRecord.region_code)
    assert records == [{"matched": 1, "region_code": "VOV"}]
