"""Derived needs (searches that found nothing free, unmet registrations of published allocation
rounds: computed, never stored, marked derived) and demand next to supply per region and
category, with the gaps, for each role."""

from datetime import date, datetime, timedelta, timezone

from allocation.tables import AllocationRound, Registration, RoundAllocation
from inventory.tables import SearchRecord
from needs import derived, services
from needs.tables import Need
from tests.conftest import login


async def _search(n: int, category: str, region: str, days_ago: int = 3) -> None:
    moment = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(days=days_ago)
    await SearchRecord(fingerprint=f"fp-{n}", searched_at=moment, category=category, region_code=region,
                       free_from=moment + timedelta(days=7), free_to=moment + timedelta(days=7, hours=2),
                       matched=1, found=0).save()


async def _round(world, status: str) -> AllocationRound:
    today = date.today()
    row = AllocationRound(name=f"Ronde {status}", organiser=world["metaal"].id, region_code="VOV",
                          registration_opens=today, registration_closes=today, period_start=today,
                          period_end=today + timedelta(days=90), announce_on=today, status=status)
    await row.save()
    return row


async def _registration(world, round_, days: int, got: int, status: str = "active", school=None) -> None:
    school = school or world["school"]
    registration = Registration(allocation_round=round_.id, school=school.id,
                                teacher=world["users"]["teacher"].id, pupil_group="6 LC", resource=world["lasatelier"].id,
                                days=days, group_size=11, status=status)
    await registration.save()
    for n in range(got):
        await RoundAllocation(allocation_round=round_.id, registration=registration.id, school=school.id,
                              resource=world["lasatelier"].id, day=date.today() + timedelta(days=7 * (n + 1) + days)).save()


async def _data(world) -> None:
    """Searches: welding in VOV twice (and once 400 days ago: too old), CNC in VAN once.
    Rounds: VTI Gent asked 5 days and got 2 (3 unmet) in a published round; asked 2 and got 2
    (met); a withdrawn registration and one in a round not yet published do not count."""
    await _search(1, "welding", "VOV")
    await _search(2, "welding", "VOV", days_ago=10)
    await _search(3, "welding", "VOV", days_ago=400)
    await _search(4, "cnc", "VAN")
    published = await _round(world, "published")
    await _registration(world, published, days=5, got=2)
    await _registration(world, published, days=2, got=2)
    await _registration(world, published, days=4, got=0, status="withdrawn")
    await _registration(world, await _round(world, "allocated"), days=3, got=0)


def _plain(found) -> list[tuple]:
    return [(d.source, d.category, d.region_code, d.count, d.unmet_days) for d in found]


async def test_derived_needs_per_role(needs_world):
    await _data(needs_world)
    assert _plain(await derived.derived_needs(needs_world["rtc_vov"])) == [
        ("search", "welding", "VOV", 2, 0), ("round", "welding", "VOV", 1, 3)]
    assert _plain(await derived.derived_needs(needs_world["rtc_van"])) == [("search", "cnc", "VAN", 1, 0)]
    assert _plain(await derived.derived_needs(needs_world["admin"])) == [
        ("search", "cnc", "VAN", 1, 0), ("search", "welding", "VOV", 2, 0), ("round", "welding", "VOV", 1, 3)]
    # Metaal serves East Flanders (its facility), Robotix Antwerp.
    assert _plain(await derived.derived_needs(needs_world["staff"])) == _plain(
        await derived.derived_needs(needs_world["rtc_vov"]))
    assert _plain(await derived.derived_needs(needs_world["robotix_staff"])) == [("search", "cnc", "VAN", 1, 0)]
    # A school sees only its own unmet registrations; searches are nobody's.
    assert _plain(await derived.derived_needs(needs_world["teacher"])) == [("round", "welding", "VOV", 1, 3)]
    assert _plain(await derived.derived_needs(needs_world["stranger"])) == []
    assert all(d.derived for d in await derived.derived_needs(needs_world["admin"]))
    assert await Need.count() == 0  # computed, never stored


async def test_demand_next_to_supply_with_the_gaps(needs_world):
    await _data(needs_world)
    await services.record_need(needs_world["teacher"], services.NeedInput(
        category="welding", pupils=12, days_per_year=5, reason="outdated"))
    await services.record_need(needs_world["stranger"], services.NeedInput(
        category="cnc", pupils=8, days_per_year=3, reason="too_expensive"))
    closed = await services.record_need(needs_world["teacher"], services.NeedInput(
        category="cnc", pupils=30, days_per_year=3, reason="missing"))
    await services.close_need(needs_world["teacher"], closed.id)
    table = await derived.overview(needs_world["rtc_vov"])
    rows = {(r.region_code, r.category): r for r in table.rows}
    assert sorted(rows) == [("VOV", "cnc"), ("VOV", "welding")]
    cnc, welding = rows[("VOV", "cnc")], rows[("VOV", "welding")]
    # CNC in East Flanders: one open need of 8 pupils (the closed one does not count), no resource: a gap.
    assert (cnc.needs, cnc.pupils, cnc.searches, cnc.round_days, cnc.resources, cnc.free_hours, cnc.gap) == (
        1, 8, 0, 0, 0, 0, True)
    # Welding: one need of 12 pupils, 2 searches, 3 round days; Lasatelier in Gent with free time: no gap.
    assert (welding.needs, welding.pupils, welding.searches, welding.round_days, welding.resources) == (1, 12, 2, 3, 1)
    assert welding.free_hours > 0 and not welding.gap
    assert table.rows[0] is cnc  # gaps first
    # The Antwerp RTC: the CNC searches in its region, and Robotix's welding cell (supply, no demand).
    van = {(r.region_code, r.category): r for r in (await derived.overview(needs_world["rtc_van"])).rows}
    assert sorted(van) == [("VAN", "cnc"), ("VAN", "welding")]
    assert van[("VAN", "cnc")].gap and van[("VAN", "cnc")].searches == 1
    assert van[("VAN", "welding")].resources == 1 and not van[("VAN", "welding")].gap
    # Filters, and nothing for schools.
    assert [r.category for r in (await derived.overview(needs_world["admin"], region="VOV", category="cnc")).rows] == [
        "cnc"]
    assert (await derived.overview(needs_world["rtc_vov"], region="VAN")).rows == []
    assert (await derived.overview(needs_world["teacher"])).rows == []


async def test_the_page_marks_gaps_and_derived_needs(client, needs_world):
    await _data(needs_world)
    await services.record_need(needs_world["stranger"], services.NeedInput(
        category="cnc", pupils=8, days_per_year=3, reason="too_expensive"))
    await login(client, "rtc@ov.be")
    page = await client.get("/needs")
    assert page.status_code == 200
    assert 'data-region="VOV" data-category="cnc" data-gap="yes"' in page.text
    assert 'data-region="VOV" data-category="welding" data-gap="no"' in page.text
    assert page.text.count('data-derived="search"') == 1 and page.text.count('data-derived="round"') == 1
    assert 'data-form="record-need"' not in page.text  # RTC staff do not record needs
    filtered = await client.get("/needs?category=welding&region=VOV")
    assert 'data-category="cnc" data-gap' not in filtered.text
