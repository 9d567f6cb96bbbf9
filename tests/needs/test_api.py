"""Needs through the JSON API: record, read, validation (422 problem+json), offers."""

from needs.tables import Need
from tests.needs.conftest import NEED


async def test_a_teacher_records_a_need_and_reads_it_back(client, needs_world, api_headers):
    headers = await api_headers("teacher")
    created = await client.post("/api/v1/needs", headers=headers, json=NEED)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["category"] == "welding" and body["study_programme"] == "lassen-constructie"
    assert (body["pupils"], body["days_per_year"], body["reason"], body["status"]) == (10, 6, "outdated", "open")
    assert body["region"] == "VOV"  # the school's region when none is given
    assert body["derived"] is False
    need = await Need.objects().where(Need.id == body["id"]).first()
    assert need.school == needs_world["school"].id and need.recorded_by == needs_world["users"]["teacher"].id
    listed = (await client.get("/api/v1/needs", headers=headers)).json()
    assert [n["id"] for n in listed] == [body["id"]]
    one = await client.get(f"/api/v1/needs/{body['id']}", headers=headers)
    assert one.status_code == 200 and one.json()["id"] == body["id"]


async def test_invalid_needs_are_422_problems_with_a_message_per_field(client, needs_world, api_headers):
    headers = await api_headers("teacher")
    response = await client.post("/api/v1/needs", headers=headers, json={
        "category": "zeppelins", "study_programme": "astrologie", "pupils": 0, "days_per_year": 400,
        "region": "XYZ", "reason": "bored"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 422 and body["detail"]
    assert sorted(body["errors"]) == ["category", "days_per_year", "pupils", "reason", "region", "study_programme"]
    assert await Need.count() == 0
    # A body that cannot be read is a 400, never a 500.
    unreadable = await client.post("/api/v1/needs", headers=headers, json={"category": "welding", "pupils": "many"})
    assert unreadable.status_code == 400


async def test_only_school_people_record_needs(client, needs_world, api_headers):
    for name in ("staff", "rtc_vov", "kov"):
        response = await client.post("/api/v1/needs", headers=await api_headers(name), json=NEED)
        assert response.status_code == 403, name
    assert (await client.post("/api/v1/needs", json=NEED)).status_code == 401
    assert await Need.count() == 0


async def test_a_school_admin_records_for_the_own_school_only(client, needs_world, api_headers):
    headers = await api_headers("school_admin")
    other = await client.post("/api/v1/needs", headers=headers, json={**NEED, "school_id": needs_world["other_school"].id})
    assert other.status_code == 403
    own = await client.post("/api/v1/needs", headers=headers, json={**NEED, "school_id": needs_world["school"].id,
                                                                    "region": "VAN"})
    assert own.status_code == 201 and own.json()["region"] == "VAN"


async def test_an_owner_answers_with_an_offer_and_the_school_sees_it(client, needs_world, api_headers):
    teacher = await api_headers("teacher")
    need_id = (await client.post("/api/v1/needs", headers=teacher, json=NEED)).json()["id"]
    staff = await api_headers("staff")
    offer = await client.post(f"/api/v1/needs/{need_id}/offers", headers=staff, json={
        "message": "We kunnen ons lasatelier op woensdag openen.", "resource_id": needs_world["lasatelier"].id})
    assert offer.status_code == 201, offer.text
    body = offer.json()
    assert body["resource_id"] == needs_world["lasatelier"].id and body["owner"] == "Opleidingscentrum Metaal"
    assert body["resource_url"].endswith(f"/resources/{needs_world['lasatelier'].id}")
    need = (await client.get(f"/api/v1/needs/{need_id}", headers=teacher)).json()
    assert (need["status"], need["offers"]) == ("answered", 1)
    offers = (await client.get(f"/api/v1/needs/{need_id}/offers", headers=teacher)).json()
    assert [o["id"] for o in offers] == [body["id"]]


async def test_offers_are_for_owner_staff_with_their_own_resources(client, needs_world, api_headers):
    need_id = (await client.post("/api/v1/needs", headers=await api_headers("teacher"), json=NEED)).json()["id"]
    message = {"message": "Welkom", "resource_id": needs_world["lasatelier"].id}
    # A teacher (even of the school) and RTC staff do not make offers.
    assert (await client.post(f"/api/v1/needs/{need_id}/offers", headers=await api_headers("teacher"),
                              json=message)).status_code == 403
    assert (await client.post(f"/api/v1/needs/{need_id}/offers", headers=await api_headers("rtc_vov"),
                              json=message)).status_code == 403
    # Robotix (Antwerpen, no facility in East Flanders) does not see the Gent need at all.
    assert (await client.post(f"/api/v1/needs/{need_id}/offers", headers=await api_headers("robotix_staff"),
                              json={"message": "Welkom"})).status_code == 404
    # Metaal's staff cannot offer Robotix's resource.
    staff = await api_headers("staff")
    foreign = await client.post(f"/api/v1/needs/{need_id}/offers", headers=staff,
                                json={"message": "Welkom", "resource_id": needs_world["lasrobot"].id})
    assert foreign.status_code == 403
    empty = await client.post(f"/api/v1/needs/{need_id}/offers", headers=staff, json={"message": "  "})
    assert empty.status_code == 422 and "message" in empty.json()["errors"]
    from needs.tables import NeedOffer

    assert await NeedOffer.count() == 0


async def test_a_closed_need_takes_no_more_offers(client, needs_world, api_headers):
    teacher = await api_headers("teacher")
    need_id = (await client.post("/api/v1/needs", headers=teacher, json=NEED)).json()["id"]
    assert (await client.post(f"/api/v1/needs/{need_id}/close", headers=await api_headers("colleague"))).json()[
        "status"] == "closed"
    assert (await client.post(f"/api/v1/needs/{need_id}/close", headers=teacher)).status_code == 409
    answer = await client.post(f"/api/v1/needs/{need_id}/offers", headers=await api_headers("staff"),
                               json={"message": "Welkom"})
    assert answer.status_code in (404, 409)  # owners no longer see closed needs they did not answer
