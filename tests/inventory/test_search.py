"""A teacher finds resources by need, region, distance from the school and free time."""

from datetime import timedelta

import pytest

from accounts.services import system_actor
from inventory import services
from tests.booking.conftest import next_weekday
from tests.conftest import login


@pytest.fixture
async def catalogue(owner_org, create_facility, create_resource):
    """Resources in Gent (9000), Antwerpen (2000), Kortrijk (8500) and Genk (3600)."""
    org = await owner_org()
    gent = await create_facility(org, "9000", name="Campus Gent")
    antwerpen = await create_facility(org, "2000", name="Campus Antwerpen")
    kortrijk = await create_facility(org, "8500", name="Campus Kortrijk")
    genk = await create_facility(org, "3600", name="Campus Genk")
    return {
        "cnc_gent": await create_resource(gent, name="CNC-draaibank Gent", programmes=["mechatronica"]),
        "las_antwerpen": await create_resource(antwerpen, name="Lasatelier Antwerpen", category="welding",
                                               programmes=["lassen-constructie"]),
        "cnc_kortrijk": await create_resource(kortrijk, name="CNC-freesmachine Kortrijk",
                                              opening_hours="ma-vr 08:00-12:00"),
        "cobot_genk": await create_resource(genk, name="Cobotcel Genk", category="cobots-robotics",
                                            description="Universal Robots UR5e"),
    }


@pytest.fixture
async def teacher_in_gent(client, create_user, create_org):
    school = await create_org(slug="school-gent", name="VTI Gent", postal_code="9000")
    await create_user("teacher", org=school, email="t@school.be")
    await login(client, "t@school.be")
    return school


def _names(response) -> list[str]:
    import re

    return re.findall(r'<h3><a href="/resources/\d+">([^<]+)</a></h3>', response.text)


async def test_nearest_first_from_the_school_with_distances(client, catalogue, teacher_in_gent):
    response = await client.get("/search")
    assert _names(response) == ["CNC-draaibank Gent", "CNC-freesmachine Kortrijk", "Lasatelier Antwerpen",
                                "Cobotcel Genk"]
    assert "afstanden vanaf VTI Gent" in response.text
    assert "51,5 km" in response.text or "51,6 km" in response.text or "52,1 km" in response.text


async def test_radius_region_category_programme_and_text(client, catalogue, teacher_in_gent):
    assert _names(await client.get("/search?radius_km=55")) == ["CNC-draaibank Gent", "CNC-freesmachine Kortrijk",
                                                                "Lasatelier Antwerpen"]
    assert _names(await client.get("/search?radius_km=45")) == ["CNC-draaibank Gent", "CNC-freesmachine Kortrijk"]
    assert _names(await client.get("/search?radius_km=10")) == ["CNC-draaibank Gent"]
    assert _names(await client.get("/search?region=VLI")) == ["Cobotcel Genk"]
    assert _names(await client.get("/search?category=welding")) == ["Lasatelier Antwerpen"]
    assert _names(await client.get("/search?study_programme=mechatronica")) == ["CNC-draaibank Gent"]
    assert _names(await client.get("/search?q=ur5e")) == ["Cobotcel Genk"]  # the description counts too
    assert _names(await client.get("/search?q=cnc&near=8500")) == ["CNC-freesmachine Kortrijk", "CNC-draaibank Gent"]


async def test_free_between_follows_opening_hours_and_closures(client, catalogue, teacher_in_gent, uow_for):
    wednesday = next_weekday(2, weeks_ahead=3)
    thursday, sunday = wednesday + timedelta(days=1), wednesday + timedelta(days=4)
    # A Wednesday afternoon: Kortrijk closes at noon.
    window = f"free_from={wednesday}T13:00&free_to={wednesday}T15:00"
    assert "CNC-freesmachine Kortrijk" not in _names(await client.get(f"/search?{window}"))
    assert len(_names(await client.get(f"/search?{window}"))) == 3
    # A Sunday: nothing is open.
    assert _names(await client.get(f"/search?free_from={sunday}T09:00&free_to={sunday}T11:00")) == []
    await services.add_closure(uow_for(system_actor()), catalogue["cnc_gent"].id, f"{wednesday}T00:00", f"{thursday}T00:00",
                               "Onderhoud")
    assert "CNC-draaibank Gent" not in _names(await client.get(f"/search?{window}"))
    assert "CNC-draaibank Gent" in _names(await client.get(f"/search?free_from={thursday}T13:00&free_to={thursday}T15:00"))


@pytest.mark.parametrize("query, message", [
    ("free_from=2027-06-02T13:00", "Geef zowel het begin als het einde"),
    ("free_from=2027-06-02T15:00&free_to=2027-06-02T13:00", "moet na het begin komen"),
    ("free_from=2027-03-28T02:30&free_to=2027-03-28T05:00", "bestaat niet in België"),
    ("free_from=gisteren&free_to=morgen", "is geen datum en uur"),
    ("near=0000", "0000 is geen Belgische postcode."),
    ("radius_km=veel", "Geef een getal voor de afstand in km."),
])
async def test_bad_filters_say_what_is_wrong(client, catalogue, teacher_in_gent, query, message):
    response = await client.get(f"/search?{query}")
    assert response.status_code == 422
    assert message in response.text


async def test_htmx_gets_only_the_results_and_the_page_works_without_it(client, catalogue, teacher_in_gent):
    full = await client.get("/search?category=welding")
    assert "<html" in full.text and "<form" in full.text
    fragment = await client.get("/search?category=welding", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and "<form" not in fragment.text
    assert _names(fragment) == ["Lasatelier Antwerpen"]


async def test_the_map_gets_the_points_and_the_list_stands_without_it(client, catalogue, teacher_in_gent, app):
    response = await client.get("/search")
    assert 'id="map"' in response.text and 'id="map-data"' in response.text
    assert "CNC-draaibank Gent" in response.text.split('id="map-data"')[1]
    app.state.settings = app.state.settings.with_(map_tile_url="")  # no tile server configured
    response = await client.get("/search")
    assert 'id="map"' not in response.text and len(_names(response)) == 4


async def test_the_api_finds_and_describes_resources(client, catalogue, create_user, uow_for):
    from accounts import services as accounts

    user = await create_user("teacher", email="api@school.be")
    _row, token = await accounts.create_api_token(uow_for(), user=user, name="script")
    headers = {"Authorization": f"Bearer {token}"}
    found = (await client.get("/api/v1/resources?near=9000&radius_km=60", headers=headers)).json()
    assert found["total"] == 3
    first = found["items"][0]
    assert first["name"] == "CNC-draaibank Gent" and first["region"] == "VOV" and first["distance_km"] < 1
    assert first["price"] == {"model": "per_hour", "amount_cents": 3500, "text": "€\xa035,00 per uur",
                              "instructor_fee_cents": 0}
    assert [i["distance_km"] for i in found["items"]] == sorted(i["distance_km"] for i in found["items"])
    wednesday = next_weekday(2, weeks_ahead=3)
    window = (await client.get(f"/api/v1/resources?free_from={wednesday}T13:00:00%2B01:00"
                               f"&free_to={wednesday}T15:00:00%2B01:00", headers=headers)).json()
    assert "CNC-freesmachine Kortrijk" not in [i["name"] for i in window["items"]]  # closes at noon
    assert "CNC-draaibank Gent" in [i["name"] for i in window["items"]]

    detail = (await client.get(f"/api/v1/resources/{first['id']}", headers=headers)).json()
    assert detail["rules"]["buffer_minutes"] == 15
    assert detail["rules"]["opening_hours"][0] == {"weekday": 0, "opens": "08:00", "closes": "16:30"}
    assert detail["study_programmes"] == ["mechatronica"]
    assert detail["alternative_cost_cents"] == 9000

    bad = await client.get("/api/v1/resources?free_from=2027-06-02T15:00&free_to=2027-06-02T13:00", headers=headers)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert (await client.get("/api/v1/resources/999999", headers=headers)).status_code == 404
    assert (await client.get("/api/v1/resources")).status_code == 401


async def test_the_words_of_the_search_page(client, catalogue, teacher_in_gent):
    near = await client.get("/search?near=8500")
    assert "afstanden vanaf Kortrijk (8500)" in near.text
    wednesday = next_weekday(2, weeks_ahead=3)
    empty = await client.get(f"/search?q=cnc&free_from={wednesday}T06:00&free_to={wednesday}T07:00")
    assert "Niets is vrij voor die hele tijd" in empty.text and "Vergroot de afstand" not in empty.text
    nothing = await client.get("/search?q=bestaat-zeker-niet")
    assert "zoek op andere woorden" in nothing.text and "Vergroot de afstand" not in nothing.text


async def test_durations_read_as_people_say_them(client, owner_org, create_facility, create_resource, create_user):
    resource = await create_resource(await create_facility(await owner_org()), min_duration_minutes="90",
                                     max_duration_minutes="2880")
    await create_user("teacher", email="t@school.be")
    await login(client, "t@school.be")
    page = await client.get(f"/resources/{resource.id}")
    assert "Van 1 u 30 min tot 2 dagen per reservatie" in page.text
