"""The match ranking on small hand-made datasets whose order was worked out by hand.

The rule (needs/matching.py): only resources of the need's category that serve its study
programme (none listed: every programme) and have free time; then whole group first (capacity
>= pupils), nearest first (unknown distance last), more free time first, then name."""

from datetime import datetime, timedelta, timezone

import pytest

from accounts import services as accounts
from core.errors import NotAllowed
from core.i18n import use_language
from inventory.tables import Closure, Resource
from needs import matching
from needs.matching import Candidate, NeedSpec
from tests.needs.conftest import NEED

WELDING, CNC = 1, 2
LASSEN, ELEKTRO = 7, 9
SCHOOL = (51.0, 3.7)


def north(km_tenths: float) -> tuple[float, float]:
    """A point `km_tenths` tenths of a degree north of the school: 0.1 degree of latitude is
    about 11.1 km here, so the order of distances is the order of these numbers."""
    return (51.0 + km_tenths / 10, 3.7)


def candidate(resource_id: int, name: str, capacity: int, point, free_minutes: int, category: int = WELDING,
              programmes: frozenset[int] = frozenset()) -> Candidate:
    return Candidate(resource_id=resource_id, name=name, facility="", municipality="", owner_id=1, owner_name="",
                     category_id=category, capacity=capacity, programmes=programmes, point=point,
                     free_minutes=free_minutes)


DATASET = [
    candidate(1, "Atelier Noord", 12, north(1), 600, programmes=frozenset({LASSEN})),  # whole, ~11.1 km, 10 h
    candidate(2, "Buurtatelier", 16, north(0.5), 120),  # whole, ~5.6 km, every programme
    candidate(3, "Centrum Klein", 8, north(0.1), 2400),  # nearest (~1.1 km), but 12 pupils need 2 groups
    candidate(4, "De Verre", 20, north(3), 60, programmes=frozenset({LASSEN})),  # whole, ~33 km
    candidate(5, "Elders", 20, north(0.1), 600, category=CNC),  # other category: out
    candidate(6, "Fout programma", 20, north(0.1), 600, programmes=frozenset({ELEKTRO})),  # other programme: out
    candidate(7, "Geen tijd", 20, north(0.2), 0),  # no free time: out
    candidate(8, "Hal Oost", 12, north(1), 900),  # same place as Atelier Noord, more free time: before it
    candidate(9, "Zonder adres", 30, None, 6000),  # whole group, distance unknown: after the located ones
]


def test_the_ranking_follows_the_rule_worked_out_by_hand():
    need = NeedSpec(category_id=WELDING, pupils=12, programme_id=LASSEN, programme_name="Lassen-constructie",
                    point=SCHOOL)
    # Whole group, by distance: Buurtatelier (5.6 km); Hal Oost and Atelier Noord (both 11.1 km: Hal Oost has
    # 15 free hours against 10); De Verre (33 km); Zonder adres (unknown). Then the one that needs splitting:
    # Centrum Klein, although it is the nearest. Elders, Fout programma and Geen tijd are left out.
    ranked = matching.rank(need, DATASET)
    assert [m.candidate.name for m in ranked] == ["Buurtatelier", "Hal Oost", "Atelier Noord", "De Verre",
                                                  "Zonder adres", "Centrum Klein"]
    assert [round(m.distance_km) if m.distance_km is not None else None for m in ranked] == [6, 11, 11, 33, None, 1]
    assert [m.groups for m in ranked] == [1, 1, 1, 1, 1, 2]
    assert matching.rank(need, DATASET, limit=2) == ranked[:2]


def test_without_a_programme_every_programme_fits():
    need = NeedSpec(category_id=WELDING, pupils=12, point=SCHOOL)
    names = [m.candidate.name for m in matching.rank(need, DATASET)]
    # Fout programma (~1.1 km, 20 places: the whole group) fits now, and is the nearest.
    assert names == ["Fout programma", "Buurtatelier", "Hal Oost", "Atelier Noord", "De Verre", "Zonder adres",
                     "Centrum Klein"]


def test_each_suggestion_says_why():
    need = NeedSpec(category_id=WELDING, pupils=12, programme_id=LASSEN, programme_name="Lassen-constructie",
                    point=SCHOOL)
    with use_language("en"):  # the English msgids: independent of the Dutch catalogue
        ranked = {m.candidate.name: m for m in matching.rank(need, DATASET)}
    assert ranked["Atelier Noord"].reasons == ["11.1 km from your school", "fits 12 pupils", "serves Lassen-constructie",
                                               "10 free hours in the next 8 weeks"]
    assert ranked["Buurtatelier"].reasons[2] == "open to every study programme"
    assert ranked["Centrum Klein"].reasons[1] == "room for 8 pupils at a time: 12 pupils in 2 groups"
    assert ranked["Zonder adres"].reasons[0] == "distance unknown"
    assert ranked["De Verre"].reasons[3] == "1 free hour in the next 8 weeks"


async def test_the_api_ranks_real_resources_by_hand_worked_distances(client, needs_world, api_headers, create_facility,
                                                                     create_resource, create_org):
    """From VTI Gent (9000), by the postal codes' centres: Gent 0 km, Aalst 25.3 km, Kortrijk 39.3 km,
    Antwerpen 52.1 km (regions.geocoding)."""
    metaal = needs_world["metaal"]
    aalst = await create_resource(await create_facility(metaal, name="Campus Aalst", postal_code="9300"),
                                  name="Laswerkplaats Aalst", category="welding", capacity="16")
    kortrijk = await create_resource(await create_facility(metaal, name="Campus Kortrijk", postal_code="8500"),
                                     name="Lasschool Kortrijk", category="welding", capacity="10",
                                     programmes=["lassen-constructie"])
    zwijnaarde = await create_facility(metaal, name="Campus Zwijnaarde", postal_code="9052")
    await create_resource(zwijnaarde, name="Elektrolabo", category="electrical-installations", capacity="20")
    await create_resource(zwijnaarde, name="Lasatelier elektro", category="welding", capacity="20",
                          programmes=["elektrotechnieken"])
    retired = await create_resource(zwijnaarde, name="Oud lasatelier", category="welding", capacity="20")
    await Resource.update({Resource.status: Resource.Status.retired}).where(Resource.id == retired.id)
    await create_resource(zwijnaarde, name="Zonder uren", category="welding", capacity="20", opening_hours="")
    closed = await create_resource(zwijnaarde, name="Gesloten", category="welding", capacity="20")
    now = datetime.now(timezone.utc)
    await Closure(resource=closed.id, starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=90),
                  reason="Verbouwing").save()
    headers = await api_headers("teacher")
    need_id = (await client.post("/api/v1/needs", headers=headers, json=NEED)).json()["id"]  # 10 pupils, lassen
    matches = (await client.get(f"/api/v1/needs/{need_id}/matches", headers=headers)).json()
    # Whole group: Lasatelier (Gent, 0 km), Laswerkplaats Aalst (25.3), Lasschool Kortrijk (39.3: 10 places for
    # 10 pupils fit). Then Lasrobotcel (Antwerpen, 8 places: 2 groups). Left out: Elektrolabo (category),
    # Lasatelier elektro (programme), Oud lasatelier (retired), Zonder uren (no opening hours), Gesloten (closed
    # for the whole window: no free time).
    assert [m["resource_id"] for m in matches] == [needs_world["lasatelier"].id, aalst.id, kortrijk.id,
                                                   needs_world["lasrobot"].id]
    assert [m["distance_km"] for m in matches] == [0.0, 25.3, 39.3, 52.1]
    assert [m["groups"] for m in matches] == [1, 1, 1, 2]
    assert all(len(m["why"]) == 4 and m["free_hours"] > 0 for m in matches)
    assert (await client.get(f"/api/v1/needs/{need_id}/matches?limit=1", headers=headers)).json()[0]["resource_id"] == \
        needs_world["lasatelier"].id


async def test_an_owner_sees_the_schools_nearby_it_could_serve(needs_world, create_org, create_user, uow_for):
    """Metaal (Lasatelier in Gent) could serve VTI Gent (0 km) and GO! Aalst (25.3 km), in that order; not
    the CNC need (Metaal has no CNC resource). Robotix (Antwerp) sees none of these East Flemish needs."""
    from needs import services

    def need_input(**extra):
        return services.NeedInput(category="welding", pupils=10, days_per_year=4, reason="missing", **extra)

    aalst = await services.record_need(needs_world["stranger"], need_input())
    gent = await services.record_need(needs_world["teacher"], need_input(study_programme="lassen-constructie"))
    await services.record_need(needs_world["teacher"], services.NeedInput(category="cnc", pupils=10, days_per_year=4,
                                                                          reason="missing"))
    suggested = await matching.schools_for_owner(needs_world["staff"])
    assert [(s.need["id"], s.match.candidate.resource_id) for s in suggested] == [
        (gent.id, needs_world["lasatelier"].id), (aalst.id, needs_world["lasatelier"].id)]
    assert await matching.schools_for_owner(needs_world["robotix_staff"]) == []
    assert await matching.schools_for_owner(needs_world["teacher"]) == []
    user = await create_user("owner_staff", org=needs_world["robotix"], email="tweede@robotix.be")
    with pytest.raises(NotAllowed):
        await matching.schools_for_owner(uow_for(await accounts.load_actor(user)), owner_id=needs_world["metaal"].id)
