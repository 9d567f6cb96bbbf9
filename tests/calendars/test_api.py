"""Linked calendars through the API (INTERFACES.md): `POST /api/v1/calendars` links an owner's
calendar, `GET /api/v1/calendars/{id}` shows its state and last error, `POST .../sync` reads it
now and answers with that state, `DELETE` unlinks it. Against a real Radicale server."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from booking.tables import BusyBlock
from calendars.tables import LinkedCalendar
from tests.booking.conftest import at
from tests.calendars.test_feeds import _api
from tests.calendars.test_sync import _event, _put


@pytest.fixture
def settings(settings):
    return settings.with_(calendar_allow_private=True, calendar_sync_minutes=15)


async def test_an_owner_links_reads_and_unlinks_a_calendar_through_the_api(client, world, tuesday, radicale,
                                                                            radicale_calendar):
    staff = await _api(client, world["staff"])
    uid = f"onderhoud-{uuid.uuid4().hex}"
    _put(radicale, radicale_calendar, uid, _event(uid, at(tuesday, 13), at(tuesday, 14), summary="Onderhoud robot"))
    linked = await client.post("/api/v1/calendars", headers=staff, json={
        "target_kind": "resource", "target_id": world["resource"].id, "url": radicale_calendar,
        "username": radicale.user, "password": radicale.password})
    assert linked.status_code == 201, linked.text
    body = linked.json()
    assert body["kind"] == "caldav" and body["target_name"] == "Lasatelier" and body["has_credentials"] is True
    assert body["state"] == "pending" and body["last_success_at"] is None
    assert radicale.password not in linked.text and "password" not in body

    synced = await client.post(f"/api/v1/calendars/{body['id']}/sync", headers=staff)
    assert synced.status_code == 200, synced.text
    state = synced.json()
    assert state["state"] == "ok" and state["busy_events"] == 1 and state["last_error"] == ""
    assert datetime.fromisoformat(state["last_success_at"]) > datetime.now(timezone.utc) - timedelta(minutes=1)
    [block] = await BusyBlock.objects()
    assert block.summary == "Onderhoud robot"  # what the owner sees on the planning board and in conflicts

    # Moved in the owner's calendar: after a sync the old hour is free and the new one taken.
    _put(radicale, radicale_calendar, uid, _event(uid, at(tuesday, 10), at(tuesday, 11)))
    state = (await client.post(f"/api/v1/calendars/{body['id']}/sync", headers=staff)).json()
    assert state["state"] == "ok" and state["busy_events"] == 1
    [block] = await BusyBlock.objects()
    assert block.start == at(tuesday, 10)
    state = (await client.post(f"/api/v1/calendars/{body['id']}/sync", headers=staff)).json()
    assert state["state"] == "ok"
    assert [b.id for b in await BusyBlock.objects()] == [block.id]  # nothing changed there: nothing rewritten

    # The password stops working: the state says why, the last good busy time stays.
    radicale_password = radicale.password
    await LinkedCalendar.update({LinkedCalendar.password_encrypted: ""}, force=True)
    await LinkedCalendar.update({LinkedCalendar.username: "niemand"}, force=True)
    failing = (await client.post(f"/api/v1/calendars/{body['id']}/sync", headers=staff)).json()
    assert failing["state"] == "failing" and failing["failures"] == 1 and failing["last_error"]
    assert failing["last_success_at"] == state["last_success_at"]  # when it last read well
    assert await BusyBlock.count() == 1
    shown = await client.get(f"/api/v1/calendars/{body['id']}", headers=staff)
    assert shown.status_code == 200 and shown.json()["state"] == "failing"
    assert radicale_password not in shown.text and "niemand" not in shown.text
    assert [c["id"] for c in (await client.get("/api/v1/calendars", headers=staff)).json()] == [body["id"]]

    assert (await client.delete(f"/api/v1/calendars/{body['id']}", headers=staff)).status_code == 204
    assert await BusyBlock.count() == 0 and await LinkedCalendar.count() == 0
    assert (await client.get(f"/api/v1/calendars/{body['id']}", headers=staff)).status_code == 404
    from core.tables import AuditEntry

    trail = await AuditEntry.select(AuditEntry.action, AuditEntry.data).where(
        AuditEntry.object_type == "linked_calendar").order_by(AuditEntry.id)
    assert [row["action"] for row in trail] == ["calendar.linked", "calendar.unlinked"]
    assert radicale_password not in str(trail) and "127.0.0.1" in str(trail[0]["data"])


async def test_a_published_ics_address_is_linked_without_credentials_and_bad_input_gets_a_problem(client, world,
                                                                                                   web_server):
    staff = await _api(client, world["staff"])
    linked = await client.post("/api/v1/calendars", headers=staff, json={
        "target_kind": "facility", "target_id": world["facility"].id, "url": web_server.url("/ics")})
    assert linked.status_code == 201, linked.text
    assert linked.json()["kind"] == "ics" and linked.json()["target_kind"] == "facility"
    assert linked.json()["has_credentials"] is False
    twice = await client.post("/api/v1/calendars", headers=staff, json={
        "target_kind": "facility", "target_id": world["facility"].id, "url": web_server.url("/ics")})
    assert twice.status_code == 422 and "al gekoppeld aan Metaalcampus" in twice.json()["detail"]

    for data, field in (({"target_kind": "school", "target_id": 1, "url": "https://x.example/a.ics"}, "target_kind"),
                        ({"target_kind": "resource", "target_id": world["resource"].id, "url": "ftp://x/a.ics"}, "url"),
                        ({"target_kind": "resource", "target_id": world["resource"].id,
                          "url": web_server.url("/status/200")}, "url")):
        refused = await client.post("/api/v1/calendars", headers=staff, json=data)
        assert refused.status_code == 422, (data, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert field in refused.json().get("errors", {}), refused.json()
    assert await LinkedCalendar.count() == 1  # nothing half-written


async def test_a_calendar_another_process_is_reading_answers_409_and_is_not_read_twice(client, world, web_server):
    staff = await _api(client, world["staff"])
    created = (await client.post("/api/v1/calendars", headers=staff, json={
        "target_kind": "resource", "target_id": world["resource"].id, "url": web_server.url("/ics")})).json()
    await LinkedCalendar.update({LinkedCalendar.syncing_until: datetime.now(timezone.utc) + timedelta(minutes=3)},
                                force=True)
    before = len(web_server.requests)
    busy = await client.post(f"/api/v1/calendars/{created['id']}/sync", headers=staff)
    assert busy.status_code == 409 and "wordt nu gelezen" in busy.json()["detail"]
    assert len(web_server.requests) == before
    assert (await client.get(f"/api/v1/calendars/{created['id']}", headers=staff)).json()["state"] == "syncing"


async def test_who_may_see_and_change_a_linked_calendar(client, world, create_org, create_user, uow_for, web_server):
    from accounts import services as accounts

    staff = await _api(client, world["staff"])
    created = (await client.post("/api/v1/calendars", headers=staff, json={
        "target_kind": "resource", "target_id": world["resource"].id, "url": web_server.url("/ics")})).json()
    other_owner = await create_org(slug="bouwcampus", name="Bouwcampus", kind="training_centre")
    other_staff = await _api(client, uow_for(await accounts.load_actor(
        await create_user("owner_staff", org=other_owner, email="staff@bouwcampus.be"))))
    teacher = await _api(client, world["teacher"])
    path = f"/api/v1/calendars/{created['id']}"
    for headers, status in ((other_staff, 404), (teacher, 403), ({}, 401)):
        assert (await client.get(path, headers=headers)).status_code == status
        assert (await client.post(f"{path}/sync", headers=headers)).status_code == status
        assert (await client.delete(path, headers=headers)).status_code == status
    assert (await client.get("/api/v1/calendars", headers=other_staff)).json() == []
    # Another owner's resource is not a target for this staff.
    refused = await client.post("/api/v1/calendars", headers=other_staff, json={
        "target_kind": "resource", "target_id": world["resource"].id, "url": web_server.url("/ics")})
    assert refused.status_code == 403
    assert await LinkedCalendar.count() == 1


async def test_a_calendar_whose_password_changed_gets_the_new_one_on_the_page_and_through_the_api(
        client, world, tuesday, radicale, radicale_calendar, wb):
    from calendars import secrets
    from tests.conftest import csrf, login

    staff = await _api(client, world["staff"])
    created = (await client.post("/api/v1/calendars", headers=staff, json={
        "target_kind": "resource", "target_id": world["resource"].id, "url": radicale_calendar,
        "username": radicale.user, "password": radicale.password})).json()
    # The password stops working (as when the owner changes it at their calendar server).
    await LinkedCalendar.update({LinkedCalendar.password_encrypted: secrets.encrypt(wb.settings.secret_key, "oud")}, force=True)
    assert (await client.post(f"/api/v1/calendars/{created['id']}/sync", headers=staff)).json()["state"] == "failing"

    await login(client, "staff@metaal.be")
    token = await csrf(client, "/calendars/linked/")
    page = await client.get("/calendars/linked/")
    assert "Een nieuwe gebruikersnaam of een nieuw wachtwoord ingeven" in page.text
    wrong = await client.post(f"/calendars/linked/{created['id']}/credentials",
                              data={"username": radicale.user, "password": "nog-altijd-fout", "_csrf_token": token})
    assert wrong.status_code == 422 and "gebruikersnaam of het wachtwoord" in wrong.text
    assert 'aria-invalid="true"' in wrong.text and "nog-altijd-fout" not in wrong.text
    assert (await LinkedCalendar.objects().first()).failures == 1  # nothing stored

    fixed = await client.post(f"/calendars/linked/{created['id']}/credentials",
                              data={"username": radicale.user, "password": radicale.password, "_csrf_token": token})
    assert fixed.status_code == 200 and "werken; de agenda wordt nu opnieuw ingelezen" in fixed.text
    assert "Wordt zo meteen ingelezen" in fixed.text and 'hx-trigger="every 3s"' in fixed.text  # it shows the result
    await client.post(f"/api/v1/calendars/{created['id']}/sync", headers=staff)
    read = await client.get("/calendars/linked/")
    assert "Wordt zo meteen ingelezen" not in read.text and 'hx-trigger="every 3s"' not in read.text
    assert "Ingelezen" in read.text and 'href="/calendars/"' in read.text
    assert 'href="/calendars/linked/"' in (await client.get("/calendars/")).text  # the two ways, linked both ways
    calendar = await LinkedCalendar.objects().first()
    assert calendar.failures == 0 and calendar.last_error == "" and radicale.password not in calendar.password_encrypted

    refused = await client.patch(f"/api/v1/calendars/{created['id']}", headers=staff,
                                 json={"username": radicale.user, "password": "fout"})
    assert refused.status_code == 422 and refused.json()["errors"].get("password")
    changed = await client.patch(f"/api/v1/calendars/{created['id']}", headers=staff,
                                 json={"username": radicale.user, "password": radicale.password})
    assert changed.status_code == 200 and changed.json()["state"] in ("pending", "ok")
    assert changed.json()["last_success_at"].endswith(("+01:00", "+02:00"))  # Brussels time, as the bookings API
    assert "Ontkoppelen…" in read.text  # asked once more before it happens
    unlinked = await client.post(f"/calendars/linked/{created['id']}/unlink", data={"_csrf_token": token})
    assert unlinked.status_code == 200 and "De agenda is ontkoppeld" in unlinked.text
    assert "Nog geen agenda&#39;s gekoppeld." in unlinked.text or "Nog geen agenda's gekoppeld." in unlinked.text
