"""A whole round through the HTTP app, as the RTC and the schools do it: open, register from
several schools (page and API), change and withdraw, close, allocate (and replay the seed),
adjust by hand, publish, and find the days as confirmed bookings in the schools' calendars
and mails."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta

from allocation.tables import AllocationRound, Registration, RoundAllocation
from booking.tables import Booking
from core.tables import OutboxMessage
from tests.allocation.conftest import BOOKED_DAY, PERIOD, ROUND_FORM, as_user


def school_days() -> list[date]:
    first, last = PERIOD
    return [first + timedelta(days=n) for n in range((last - first).days + 1) if (first + timedelta(days=n)).weekday() < 5]


async def open_round(client, region) -> int:
    token = await as_user(client, "coordinator@rtc-ovl.be")
    page = await client.get("/rounds/new")
    assert page.status_code == 200 and "Heftruckatelier" in page.text
    form = {**ROUND_FORM, "_csrf_token": token, "resource_ids": [str(region["forklift"].id), str(region["welding"].id)],
            f"cap_{region['forklift'].id}": "5"}
    response = await client.post("/rounds/", data=form)
    assert response.status_code == 200, response.text
    round_id = int(re.search(r"/rounds/(\d+)", str(response.url))[1])
    assert 'data-state="open"' in response.text
    return round_id


async def test_a_round_from_opening_to_bookings_in_the_schools_calendars(client, region, clock):
    forklift, welding = region["forklift"], region["welding"]
    round_id = await open_round(client, region)
    url = f"/api/v1/rounds/{round_id}"

    # -- the schools register (one on the page, the others through the API) ------------------------
    token = await as_user(client, "sofie@vti.be")
    page = await client.get(f"/rounds/{round_id}")
    assert 'id="register"' in page.text
    registered = await client.post(f"/rounds/{round_id}/registrations", data={
        "_csrf_token": token, "pupil_group": "6 Logistiek A", "target": f"r{forklift.id}", "days": "6",
        "group_size": "10", "preference": "1"})
    assert registered.status_code == 200
    assert 'data-registration="' in registered.text
    api = client.cookies.clear() or region["tokens"]
    b1 = await client.post(f"{url}/registrations", headers=api["b"], json={
        "resource_id": forklift.id, "days": 4, "group_size": 12, "pupil_group": "7 Magazijn"})
    assert b1.status_code == 201, b1.text
    c1 = await client.post(f"{url}/registrations", headers=api["c"], json={
        "resource_id": welding.id, "days": 3, "group_size": 8, "pupil_group": "6 Lassen", "weekdays": [0, 1, 2]})
    c2 = await client.post(f"{url}/registrations", headers=api["c"], json={
        "resource_id": forklift.id, "days": 1, "group_size": 8, "pupil_group": "6 Lassen", "preference": 2})
    assert c1.status_code == c2.status_code == 201
    # C changes its mind about the forklift days and adds one; a stray registration is withdrawn
    changed = await client.patch(f"{url}/registrations/{c2.json()['id']}", headers=api["c"], json={"days": 2})
    assert changed.status_code == 200 and changed.json()["days"] == 2
    stray = await client.post(f"{url}/registrations", headers=api["b"], json={
        "resource_id": welding.id, "days": 2, "group_size": 9, "pupil_group": "7 Magazijn"})
    assert stray.status_code == 201, stray.text
    assert (await client.delete(f"{url}/registrations/{stray.json()['id']}", headers=api["b"])).status_code == 204
    # the school from Antwerp is not in this RTC's region; a welding group too large for the workshop is refused
    far = await client.post(f"{url}/registrations", headers=api["far"], json={
        "resource_id": forklift.id, "days": 2, "group_size": 8, "pupil_group": "5 Logistiek"})
    assert far.status_code == 403 and far.headers["content-type"].startswith("application/problem+json")
    too_big = await client.post(f"{url}/registrations", headers=api["b"], json={
        "resource_id": welding.id, "days": 1, "group_size": 14, "pupil_group": "7 Magazijn"})
    assert too_big.status_code == 422 and "group_size" in too_big.json()["errors"]
    # a school sees only its own registrations; nothing is booked yet
    seen_by_b = (await client.get(url, headers=api["b"])).json()
    assert [r["pupil_group"] for r in seen_by_b["registrations"] if r["status"] == "active"] == ["7 Magazijn"]
    assert seen_by_b["totals"]["asked_days"] == 6 + 4 + 3 + 2
    assert await Booking.count().where(Booking.resource.is_in([forklift.id, welding.id])) == 1

    # -- allocating waits for the window to close ---------------------------------------------------
    early = await client.post(f"{url}/allocate", headers=api["rtc"], json={})
    assert early.status_code == 409
    assert (await client.post(f"{url}/allocate", headers=api["b"], json={})).status_code == 403
    clock.advance(days=27)  # 16 June: closed
    assert (await client.post(f"{url}/registrations", headers=api["b"], json={
        "resource_id": welding.id, "days": 1, "group_size": 8, "pupil_group": "late"})).status_code == 409
    first = await client.post(f"{url}/allocate", headers=api["rtc"], json={"seed": 20270616})
    assert first.status_code == 200, first.text
    result = first.json()
    assert result["state"] == "allocated" and result["seed"] == 20270616

    def days_of(view) -> dict[int, list[tuple[int, str]]]:
        return {r["id"]: [(d["resource_id"], d["day"]) for d in r["allocated"]] for r in view["registrations"]}

    granted = [(res, day) for days in days_of(result).values() for res, day in days]
    # every day once, never the forklift's booked Wednesday, only school days of the period
    assert len(granted) == len(set(granted))
    assert (forklift.id, BOOKED_DAY.isoformat()) not in granted
    assert {day for _res, day in granted} <= {d.isoformat() for d in school_days()}
    by_id = {r["id"]: r for r in result["registrations"]}
    a_reg = next(r for r in result["registrations"] if r["pupil_group"] == "6 Logistiek A")
    c_forklift = by_id[c2.json()["id"]]
    # The forklift has 9 free days for 12 asked. One day per school per pass: C takes its welding
    # days first (its preference 1, on Mondays to Wednesdays), so after four passes A and B have 4
    # forklift days each and C 3 welding + 1 forklift day: 9 forklift days, 4 days for every school.
    assert sum(1 for res, _day in granted if res == forklift.id) == 9
    per_school = Counter(by_id[rid]["school_id"] for rid, days in days_of(result).items() for _d in days)
    assert sorted(per_school.values()) == [4, 4, 4]
    assert a_reg["got"] == 4 and a_reg["short"] == 2 and a_reg["reason"] == "supply_taken"
    assert c_forklift["got"] == 1 and c_forklift["reason"] == "supply_taken"
    c_days = [day for res, day in days_of(result)[c1.json()["id"]]]
    assert len(c_days) == 3 and all(date.fromisoformat(d).weekday() in (0, 1, 2) for d in c_days)
    # group "6 Lassen" of school C is never in two places on one day
    c_all = [day for rid in (c1.json()["id"], c2.json()["id"]) for _res, day in days_of(result)[rid]]
    assert len(c_all) == len(set(c_all))
    shortfall = c_forklift

    # the same seed gives the same allocation
    again = await client.post(f"{url}/allocate", headers=api["rtc"], json={"seed": 20270616})
    assert days_of(again.json()) == days_of(result)

    # -- adjusting by hand: the RTC moves one of A's forklift days to C ------------------------------
    token = await as_user(client, "coordinator@rtc-ovl.be")
    page = await client.get(f"/rounds/{round_id}")
    assert 'id="schools"' in page.text and "20270616" in page.text
    a_days = await RoundAllocation.objects().where(RoundAllocation.registration == a_reg["id"]).order_by(
        RoundAllocation.day)
    busy_c = [d for d in a_days if d.day.isoformat() in c_all]
    a_day = next(d for d in a_days if d.day.isoformat() not in c_all)  # C's group is free that day
    removed = await client.post(f"/rounds/{round_id}/allocations/{a_day.id}/remove", data={"_csrf_token": token})
    assert removed.status_code == 200
    if busy_c:  # a day C's group spends welding cannot be given to it as well
        elsewhere = await client.post(f"/rounds/{round_id}/allocations", data={
            "_csrf_token": token, "registration_id": str(shortfall["id"]), "resource_id": str(forklift.id),
            "day": busy_c[0].day.isoformat()})
        assert elsewhere.status_code == 422
    refused = await client.post(f"/rounds/{round_id}/allocations", data={
        "_csrf_token": token, "registration_id": str(shortfall["id"]), "resource_id": str(forklift.id),
        "day": BOOKED_DAY.isoformat()})
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.text  # the booked Wednesday stays out
    added = await client.post(f"/rounds/{round_id}/allocations", data={
        "_csrf_token": token, "registration_id": str(shortfall["id"]), "resource_id": str(forklift.id),
        "day": a_day.day.isoformat()})
    assert added.status_code == 200, added.text
    view = (await client.get(url, headers=api["rtc"])).json()
    by_id = {r["id"]: r for r in view["registrations"]}
    assert by_id[a_reg["id"]]["got"] == 3 and by_id[a_reg["id"]]["reason"] == "by_hand"
    assert by_id[shortfall["id"]]["got"] == 2 and by_id[shortfall["id"]]["short"] == 0

    # -- publishing books every day for the teacher who registered, and mails everyone ---------------
    published = await client.post(f"/rounds/{round_id}/publish", data={"_csrf_token": token})
    assert published.status_code == 200 and 'data-state="published"' in published.text
    rows = await RoundAllocation.objects().where(RoundAllocation.allocation_round == round_id)
    assert rows and all(row.booking is not None and not row.problem for row in rows)
    bookings = await Booking.objects().where(Booking.id.is_in([row.booking for row in rows])).order_by(Booking.id)
    assert {b.status for b in bookings} == {"confirmed"}
    teachers = {b.school: b.teacher for b in bookings}
    assert teachers[region["schools"]["a"].id] == region["users"]["a"].id
    assert teachers[region["schools"]["b"].id] == region["users"]["b"].id
    assert all(b.start.astimezone(BRUSSELS_TZ).hour == 8 and b.end.astimezone(BRUSSELS_TZ).strftime("%H:%M") == "16:30"
               for b in bookings)
    assert (await client.post(f"{url}/publish", headers=api["rtc"])).status_code == 409
    assert (await AllocationRound.objects().where(AllocationRound.id == round_id).first()).status == "published"

    # the bookings are in school B's calendar feed
    feed = await client.post("/api/v1/feeds", headers=api["b"], json={"kind": "school",
                                                                       "target_id": region["schools"]["b"].id})
    assert feed.status_code == 201, feed.text
    ics = await client.get(feed.json()["url"].replace("http://testserver.local", ""))
    assert ics.status_code == 200
    b_bookings = [b for b in bookings if b.school == region["schools"]["b"].id]
    assert ics.text.count("BEGIN:VEVENT") == len(b_bookings) == 4
    assert "Heftruckatelier" in ics.text

    # mails: one per teacher who registered and per school admin, one per owner staff; no per-booking mails
    mails = await OutboxMessage.objects().order_by(OutboxMessage.id)
    to = Counter(m.to_address for m in mails)
    assert to == {"sofie@vti.be": 1, "directie@vti.be": 1, "jan@go-aalst.be": 1, "an@sint-lucas.be": 1,
                  "planning@logistiek.be": 1}
    await render_outbox(client)
    mails = {m.to_address: m for m in await OutboxMessage.objects()}
    jan = mails["jan@go-aalst.be"].body_text
    assert "7 Magazijn" in jan and "4" in jan
    sofie = mails["sofie@vti.be"].body_text
    assert "6 Logistiek A" in sofie and shortfall_reason_text(sofie)
    owner_mail = mails["planning@logistiek.be"].body_text
    assert "GO! Aalst" in owner_mail and "VTI Gent" in owner_mail
    # the teachers see their registrations with what they got
    await as_user(client, "jan@go-aalst.be")
    mine = await client.get(f"/rounds/{round_id}")
    assert mine.text.count('data-allocation="') == 4
    assert (await Registration.count().where(Registration.allocation_round == round_id)) == 5


BRUSSELS_TZ = __import__("core.i18n", fromlist=["BRUSSELS"]).BRUSSELS


def shortfall_reason_text(body: str) -> bool:
    """The school is told why days were not granted (changed by the round's staff)."""
    return "staff" in body or "medewerkers" in body


async def render_outbox(client) -> None:
    from core.mail import render_pending

    werkbank = client._transport.app.state.werkbank
    async with werkbank.unit_of_work() as uow:
        await render_pending(uow)
