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


async def test_health_answers_within_a_second_while_a_large_import_and_a_hostile_rule_run(client, world, app, wb):
    """Nothing one request sends holds the event loop: a 2,000-row import (queued, then run by
    its job) and an impossible repeat rule run while /api/v1/health keeps answering."""
    import asyncio
    import time

    import httpx

    from inventory.tables import Resource
    from tests.inventory.test_csv import HEADER, ROWS

    await create_owner_login(client)
    token = await csrf(client, "/inventory/")
    rows = "".join(ROWS[0].replace("ZWN-1", f"R-{n}") for n in range(2000))
    api = await _token(world)
    done = asyncio.Event()
    slowest = 0.0

    async def watch(probe):
        nonlocal slowest
        while not done.is_set():
            started = time.perf_counter()
            assert (await probe.get("/api/v1/health")).status_code == 200
            slowest = max(slowest, time.perf_counter() - started)
            await asyncio.sleep(0.05)

    async def work():
        try:
            refused = await client.post("/api/v1/bookings", headers=api, json={
                "resource_id": world["resource"].id, "start": "2027-06-01T09:00", "end": "2027-06-01T11:00",
                "group_size": 5, "rrule": "FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=31;COUNT=1"})
            queued = await client.post(f"/inventory/import?owner={world['owner'].id}", data={"_csrf_token": token},
                                       files={"file": ("groot.csv", (HEADER + rows).encode(), "text/csv")})
            ran = await wb.jobs.run("inventory.imports")
            return refused, queued, ran
        finally:
            done.set()

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local") as probe:
        (refused, queued, ran), _watched = await asyncio.gather(work(), watch(probe))
    assert refused.status_code == 422
    assert queued.status_code == 200 and ran.result == 1
    assert await Resource.count() == 2001  # the world's own resource and the 2,000 imported
    assert slowest < 1.0, f"/api/v1/health took {slowest:.2f} s during the import"


async def create_owner_login(client):
    await login(client, "staff@metaal.be")


@pytest.mark.parametrize("path", [
    "/api/v1/resources/{id}/availability?from=0001-01-01T00:00&to=0001-01-02T00:00",
    "/api/v1/resources/{id}/availability?from=9999-12-31T00:00&to=9999-12-31T23:00",
    "/api/v1/resources/{id}/availability?from=2027-01-01T00:00&to=99999-01-01T00:00",
    "/api/v1/resources?free_from=0001-01-01T09:00&free_to=0001-01-01T11:00",
    "/api/v1/resources?free_from=9999-12-31T09:00&free_to=9999-12-31T11:00",
    "/api/v1/resources?radius_km=1e308&near=9000", "/api/v1/resources?page=99999999999999999999",
    "/api/v1/bookings?limit=99999999999999999999", "/api/v1/bookings?offset=-1", "/api/v1/bookings?when=%00",
])
async def test_extreme_dates_and_numbers_in_the_api_are_4xx(client, world, path):
    response = await client.get(path.replace("{id}", str(world["resource"].id)), headers=await _token(world))
    assert 200 <= response.status_code < 500 and response.status_code not in (201, 204), response.text[:300]
    assert response.headers["content-type"].startswith("application/")
    assert "Er ging bij ons iets mis" not in response.text


@pytest.mark.parametrize("start, end, group_size", [
    ("0001-01-01T09:00", "0001-01-01T11:00", 5), ("9999-12-31T09:00", "9999-12-31T11:00", 5),
    ("2027-06-01T09:00", "2027-06-01T11:00", 2**31), ("2027-06-01T09:00:00+14:00", "2027-06-01T11:00:00-12:00", 5),
])
async def test_extreme_bookings_are_refused_and_write_nothing(client, world, start, end, group_size):
    response = await client.post("/api/v1/bookings", headers=await _token(world), json={
        "resource_id": world["resource"].id, "start": start, "end": end, "group_size": group_size})
    _refused(response, (400, 409, 422))
    assert await Booking.count() == 0


async def test_every_page_form_refuses_control_characters_before_it_acts(client, app, create_user):
    """Every POST route of the pages, as a platform admin (who may reach them all): a field with
    NUL gets a 4xx with the Dutch message, never a 5xx, and nothing is written."""
    import re as regex

    from core.tables import AuditEntry

    await create_user("platform_admin", email="beheer@werkbank.be")
    await login(client, "beheer@werkbank.be")
    token = await csrf(client, "/account")
    before = await AuditEntry.count()
    posts = sorted({route.path for route in app.routes for handler in getattr(route, "route_handlers", [])
                    if "POST" in getattr(handler, "http_methods", ()) and not route.path.startswith(("/api/", "/admin"))})
    assert len(posts) >= 25  # every form of the pages
    for path in posts:
        if path in ("/logout", "/language"):
            continue
        url = regex.sub(r"\{[^}]+\}", "1", path)
        response = await client.post(url, data={"_csrf_token": token, "name": "Campus\x00", "reason": "x\x01y",
                                                "email": "a\x00@b.be"})
        assert 400 <= response.status_code < 500, (path, response.status_code)
        assert "Er ging bij ons iets mis" not in response.text, path
    assert await AuditEntry.count() == before
