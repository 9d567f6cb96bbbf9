"""Hostile input is refused at the edge, on both engines alike: NUL and other control
characters anywhere in text, bodies that are not UTF-8, JSON nested too deep, repeat rules
longer than their column. Every answer is a 4xx with a clear message, and nothing is written."""

import pytest

from accounts import services as accounts
from booking.tables import Booking
from core.tables import AuditEntry
from inventory.tables import Facility
from tests.booking.conftest import at
from tests.conftest import csrf, login

NUL = "Lassen\x00oefenen"
CONTROL = "Lassen\x1boefenen"


async def _token(world) -> dict:
    _r, token = await accounts.create_api_token(world["teacher"], "api")
    return {"Authorization": f"Bearer {token}"}


def _refused(response, status: int | tuple = (400, 422)) -> None:
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, (response.status_code, response.text[:300])
    assert "Er ging bij ons iets mis" not in response.text


@pytest.mark.parametrize("field, value", [("purpose", NUL), ("purpose", CONTROL), ("study_programme", NUL),
                                          ("start", "2027-06-01\x00T09:00"), ("rrule", "FREQ=WEEKLY;COUNT=2" + "X" * 400)])
async def test_the_booking_api_refuses_control_characters_and_overlong_rules(client, world, tuesday, field, value):
    body = {"resource_id": world["resource"].id, "start": at(tuesday, 9).isoformat(),
            "end": at(tuesday, 11).isoformat(), "group_size": 5, field: value}
    response = await client.post("/api/v1/bookings", headers=await _token(world), json=body)
    _refused(response)
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"]
    assert await Booking.count() == 0


async def test_a_purpose_over_several_lines_is_fine(client, world, tuesday):
    body = {"resource_id": world["resource"].id, "start": at(tuesday, 9).isoformat(),
            "end": at(tuesday, 11).isoformat(), "group_size": 5, "purpose": "Lassen\n\tMIG en MAG\r\n"}
    assert (await client.post("/api/v1/bookings", headers=await _token(world), json=body)).status_code == 201


@pytest.mark.parametrize("body", [
    b'{"a":' * 100_000,  # nested far too deep
    b'{"resource_id": 1, "purpose": "\xff\xfe"}',  # not UTF-8
    b'{"purpose": "a\\u0000b"}',  # NUL, escaped
])
async def test_unreadable_json_is_a_400_problem(client, world, body):
    response = await client.post("/api/v1/bookings", headers={**await _token(world), "content-type": "application/json"},
                                 content=body)
    _refused(response)
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await Booking.count() == 0


async def test_login_and_password_reset_refuse_nul_before_anything(client, create_user):
    await create_user("teacher", email="t@school.be")
    token = await csrf(client)
    response = await client.post("/login", data={"email": "t@school.be\x00", "password": "x", "_csrf_token": token})
    _refused(response)
    assert "onzichtbare" in response.text
    response = await client.post("/password/forgot", data={"email": "t\x00@school.be", "_csrf_token": token})
    _refused(response)


@pytest.mark.parametrize("query", ["q=cnc%00", "category=welding%00", "region=VOV%00", "q=%ff%fe"])
async def test_search_refuses_control_characters_and_bad_bytes(client, create_user, query):
    await create_user("teacher", email="t@school.be")
    await login(client, "t@school.be")
    _refused(await client.get(f"/search?{query}"))
    _refused(await client.get(f"/api/v1/resources?{query}"), (400, 401, 422))


async def test_owner_forms_refuse_nul_and_write_nothing(client, create_user, owner_org, create_facility):
    owner = await owner_org()
    facility = await create_facility(owner)
    await create_user("owner_staff", org=owner, email="s@metaal.be")
    await login(client, "s@metaal.be")
    token = await csrf(client, "/inventory/")
    audit_before = await AuditEntry.count()
    response = await client.post(f"/inventory/facilities/{facility.id}", data={
        "name": "Campus\x00", "postal_code": "9000", "street": "Straat 1", "_csrf_token": token})
    _refused(response)
    assert (await Facility.objects().first()).name == "Campus"
    assert await AuditEntry.count() == audit_before
