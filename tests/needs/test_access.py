"""Who sees which need, per role (least privilege), through the API and the pages alike."""

import pytest

from tests.conftest import login
from tests.needs.conftest import NEED

# VTI Gent (katholiek, Gent, East Flanders) records a need. Who sees it:
SEES = {
    "teacher": True, "colleague": True, "school_admin": True,  # the school itself
    "stranger": False,  # a teacher of another school
    "staff": True,  # an owner with a facility in East Flanders
    "robotix_staff": False,  # an owner only in Antwerp
    "rtc_vov": True, "rtc_van": False,  # the RTC of the need's region, not another
    "kov": True, "go": False,  # the provider of the school's network, not another
    "admin": True,
}


@pytest.mark.parametrize("name", sorted(SEES))
async def test_who_sees_an_open_need(client, needs_world, api_headers, name):
    need_id = (await client.post("/api/v1/needs", headers=await api_headers("teacher"), json=NEED)).json()["id"]
    headers = await api_headers(name)
    one = await client.get(f"/api/v1/needs/{need_id}", headers=headers)
    listed = [n["id"] for n in (await client.get("/api/v1/needs", headers=headers)).json()]
    matches = await client.get(f"/api/v1/needs/{need_id}/matches", headers=headers)
    if SEES[name]:
        assert (one.status_code, listed, matches.status_code) == (200, [need_id], 200)
    else:
        assert (one.status_code, listed, matches.status_code) == (404, [], 404)


async def test_owners_keep_seeing_only_the_closed_needs_they_answered(client, needs_world, api_headers):
    teacher = await api_headers("teacher")
    answered = (await client.post("/api/v1/needs", headers=teacher, json=NEED)).json()["id"]
    unanswered = (await client.post("/api/v1/needs", headers=teacher, json={**NEED, "category": "cnc"})).json()["id"]
    staff = await api_headers("staff")
    assert (await client.post(f"/api/v1/needs/{answered}/offers", headers=staff,
                              json={"message": "Woensdag kan"})).status_code == 201
    for need_id in (answered, unanswered):
        assert (await client.post(f"/api/v1/needs/{need_id}/close", headers=teacher)).status_code == 200
    assert [n["id"] for n in (await client.get("/api/v1/needs", headers=staff)).json()] == [answered]
    assert (await client.get(f"/api/v1/needs/{unanswered}", headers=staff)).status_code == 404
    # The RTC of the region still sees both.
    rtc = await api_headers("rtc_vov")
    assert sorted(n["id"] for n in (await client.get("/api/v1/needs", headers=rtc)).json()) == sorted([answered, unanswered])


async def test_the_needs_page_follows_the_same_rules(client, needs_world, api_headers):
    need_id = (await client.post("/api/v1/needs", headers=await api_headers("teacher"), json=NEED)).json()["id"]
    await login(client, "an@go.be")
    page = await client.get("/needs")
    assert page.status_code == 200 and f'data-need="{need_id}"' not in page.text
    assert (await client.get(f"/needs/{need_id}")).status_code == 404


async def test_people_without_a_role_have_no_needs_page(client, needs_world, create_user):
    from accounts.tables import Membership

    user = await create_user("teacher", email="zonder@rol.be")
    await Membership.delete().where(Membership.user == user.id)
    await login(client, "zonder@rol.be")
    assert (await client.get("/needs")).status_code == 403
    client.cookies.clear()
    assert (await client.get("/needs", follow_redirects=False)).status_code in (302, 303)
