"""Rounds' rules one at a time through the API and the pages: who may open one and for which
resources, what a registration must be (every bad field answered with a Dutch message, never a
500), what changes after the window, and publishing when a day was taken in the meantime."""

from __future__ import annotations

from datetime import datetime

from allocation.tables import AllocationRound, Registration, RoundAllocation
from booking.tables import Booking
from core.i18n import BRUSSELS
from core.tables import AuditEntry, OutboxMessage
from inventory.tables import Resource
from tests.allocation.conftest import ROUND_FORM, as_user
from tests.conftest import RESOURCE_FORM

ROUND = {k: v for k, v in ROUND_FORM.items() if v}


def round_body(*resources, **extra) -> dict:
    body = {**ROUND, "resource_ids": [r.id for r in resources], "max_days_per_group": 10, **extra}
    return body


async def test_the_rtc_and_the_owner_open_rounds_for_what_is_theirs(client, region, owner_org, create_facility,
                                                                    create_resource):
    api = region["tokens"]
    rtc = await client.post("/api/v1/rounds", headers=api["rtc"], json=round_body(
        region["forklift"], resource_caps={str(region["forklift"].id): 5}))
    assert rtc.status_code == 201, rtc.text
    assert rtc.json()["region"] == "VOV" and rtc.json()["organiser"] == "RTC Oost-Vlaanderen"
    assert rtc.json()["resources"][0]["cap_per_group"] == 5
    owner = await client.post("/api/v1/rounds", headers=api["staff"], json=round_body(region["welding"]))
    assert owner.status_code == 201 and owner.json()["region"] is None
    # the owner follows the RTC's round of its forklift workshop; the RTC sees only its own
    listed = {(r["id"], r["manage"]) for r in (await client.get("/api/v1/rounds", headers=api["staff"])).json()}
    assert listed == {(rtc.json()["id"], False), (owner.json()["id"], True)}
    assert [r["id"] for r in (await client.get("/api/v1/rounds", headers=api["rtc"])).json()] == [rtc.json()["id"]]
    # another owner's workshop in Antwerp: neither the RTC of Oost-Vlaanderen nor this owner may share it out
    other = await owner_org(slug="bouw", name="Bouwcampus")
    antwerp = await create_resource(await create_facility(other, postal_code="2000", name="Campus Antwerpen"),
                                    name="Metselatelier", category="welding")
    for who in ("rtc", "staff"):
        refused = await client.post("/api/v1/rounds", headers=api[who], json=round_body(antwerp))
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert (await client.post("/api/v1/rounds", headers=api["a"], json=round_body(region["welding"]))).status_code == 403
    assert await AllocationRound.count() == 2


BAD_ROUNDS = [
    ({"name": ""}, "name"),
    ({"resource_ids": []}, "resource_ids"),
    ({"resource_ids": ["x"]}, "resource_ids"),
    ({"registration_closes": "2027-05-01"}, "registration_closes"),
    ({"period_start": "2027-06-01"}, "period_start"),
    ({"period_end": "2027-09-01"}, "period_end"),
    ({"period_end": "2029-01-01"}, "period_end"),
    ({"announce_on": "2027-10-01"}, "announce_on"),
    ({"announce_on": "2027-13-45"}, "announce_on"),
    ({"excluded_days": ["2027-12-25"]}, "excluded_days"),
    ({"max_days_per_school": 0}, "max_days_per_school"),
    ({"max_days_per_group": "veel"}, "max_days_per_group"),
    ({"max_days_per_group": True}, "max_days_per_group"),
    ({"eligible_years": [8]}, "eligible_years"),
    ({"eligible_study_programmes": ["geen-richting"]}, "eligible_study_programmes"),
    ({"resource_caps": {"999": 3}}, "resource_caps"),
]


async def test_a_bad_round_is_refused_field_by_field(client, region):
    """Each case on the same world (one app and one world for all: they write nothing)."""
    for change, field in BAD_ROUNDS:
        response = await client.post("/api/v1/rounds", headers=region["tokens"]["rtc"],
                                     json={**round_body(region["forklift"]), **change})
        assert response.status_code == 422, (change, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert field in response.json()["errors"], (change, response.json())
        assert await AllocationRound.count() == 0


async def test_the_new_round_page_shows_what_was_wrong_and_keeps_what_was_typed(client, region):
    token = await as_user(client, "coordinator@rtc-ovl.be")
    response = await client.post("/rounds/", data={**ROUND_FORM, "period_end": "2027-09-01", "_csrf_token": token,
                                                    "resource_ids": [str(region["forklift"].id)]})
    assert response.status_code == 422
    assert 'aria-describedby="e-period_end"' in response.text and 'value="10-dagenregeling najaar"' in response.text
    await as_user(client, "sofie@vti.be")
    assert (await client.get("/rounds/new")).status_code == 403


async def _round(client, region) -> int:
    response = await client.post("/api/v1/rounds", headers=region["tokens"]["rtc"], json=round_body(
        region["forklift"], region["welding"], eligible_years=[6, 7]))
    assert response.status_code == 201
    return response.json()["id"]


REGISTRATION = {"resource_id": None, "days": 2, "group_size": 8, "pupil_group": "6 Logistiek", "school_year": 6}


BAD_REGISTRATIONS = [
    ({"days": 0}, "days"),
    ({"days": 11}, "days"),  # the period has 10 school days
    ({"days": "twee"}, "days"),
    ({"group_size": 13}, "group_size"),  # the forklift workshop holds 12
    ({"group_size": -1}, "group_size"),
    ({"pupil_group": "x" * 81}, "pupil_group"),
    ({"weekdays": [5]}, "weekdays"),
    ({"weekdays": "maandag"}, "weekdays"),
    ({"weeks": ["2027-W60"]}, "weeks"),
    ({"weeks": ["2027-W20"]}, "weeks"),  # not in the period
    ({"school_year": 4}, "school_year"),  # the round is for years 6 and 7
    ({"resource_id": 999999}, "resource_id"),
    ({"resource_id": None, "category_id": 999999}, "category_id"),
    ({"preference": 0}, "preference"),
    ({"study_programme": "onbestaand"}, "study_programme"),
    ({"note": "a" * 2001}, "note"),
]


async def test_a_bad_registration_is_refused_field_by_field(client, region):
    round_id = await _round(client, region)
    for change, field in BAD_REGISTRATIONS:
        body = {**REGISTRATION, "resource_id": region["forklift"].id, **change}
        response = await client.post(f"/api/v1/rounds/{round_id}/registrations", headers=region["tokens"]["a"],
                                     json=body)
        assert response.status_code == 422, (change, response.text)
        assert field in response.json()["errors"], (change, response.json())
        assert await Registration.count() == 0


async def test_hostile_bodies_get_a_problem_not_a_crash(client, region):
    round_id = await _round(client, region)
    url = f"/api/v1/rounds/{round_id}/registrations"
    control = await client.post("/api/v1/rounds", headers=region["tokens"]["rtc"],
                                json={**round_body(region["forklift"]), "name": "Ronde\u0000"})
    assert control.status_code == 422 and control.headers["content-type"].startswith("application/problem+json")
    for body in ([1, 2], "text", {"days": {"nested": [1]}}, {"weeks": [[["2027-W37"]]]}, {"days": 10**30}):
        response = await client.post(url, headers=region["tokens"]["a"], json=body)
        assert 400 <= response.status_code < 500, (body, response.status_code, response.text)
    bad_seed = await client.post(f"/api/v1/rounds/{round_id}/allocate", headers=region["tokens"]["rtc"],
                                 json={"seed": -1})
    assert bad_seed.status_code in (409, 422)
    assert (await client.get("/api/v1/rounds/99999999", headers=region["tokens"]["a"])).status_code == 404
    assert await Registration.count() == 0


async def test_a_school_changes_only_its_own_registrations_and_only_in_the_window(client, region, clock):
    round_id = await _round(client, region)
    url = f"/api/v1/rounds/{round_id}/registrations"
    api = region["tokens"]
    mine = (await client.post(url, headers=api["a"], json={**REGISTRATION, "resource_id": region["forklift"].id})).json()
    # the same group twice for the same workshop is one registration to change, not a second one
    twice = await client.post(url, headers=api["a"], json={**REGISTRATION, "resource_id": region["forklift"].id,
                                                            "pupil_group": "6 LOGISTIEK"})
    assert twice.status_code == 422
    for verb in ("patch", "delete"):
        kwargs = {"json": {"days": 1}} if verb == "patch" else {}
        stranger = await getattr(client, verb)(f"{url}/{mine['id']}", headers=api["b"], **kwargs)
        assert stranger.status_code == 404
    by_category = await client.patch(f"{url}/{mine['id']}", headers=api["a"], json={"category_id": region["welding"].category})
    assert by_category.status_code == 200 and by_category.json()["resource_id"] is None
    clock.advance(days=30)
    assert (await client.patch(f"{url}/{mine['id']}", headers=api["a"], json={"days": 1})).status_code == 409
    assert (await client.delete(f"{url}/{mine['id']}", headers=api["a"])).status_code == 409
    row = await Registration.objects().where(Registration.id == mine["id"]).first()
    assert row.status == "active" and row.days == 2
    actions = [e["action"] for e in await AuditEntry.select(AuditEntry.action).where(
        AuditEntry.object_type == "round_registration").order_by(AuditEntry.id)]
    assert actions == ["round.registered", "round.registration_changed"]


async def test_publishing_keeps_a_day_taken_since_the_allocation_and_books_the_rest(client, region, clock):
    round_id = await _round(client, region)
    api = region["tokens"]
    url = f"/api/v1/rounds/{round_id}"
    for school, group in (("a", "6 Logistiek"), ("b", "7 Magazijn")):
        response = await client.post(f"{url}/registrations", headers=api[school], json={
            **REGISTRATION, "resource_id": region["welding"].id, "pupil_group": group, "days": 2})
        assert response.status_code == 201
    clock.advance(days=30)
    allocated = (await client.post(f"{url}/allocate", headers=api["rtc"], json={"seed": 7})).json()
    days = sorted(d["day"] for r in allocated["registrations"] for d in r["allocated"])
    assert len(days) == 4
    # the owner books one of those days for something else before the RTC publishes
    taken_day = datetime.fromisoformat(days[0]).date()
    other = Booking(resource=region["welding"].id, school=region["schools"]["c"].id, teacher=region["users"]["c"].id,
                    start=datetime(taken_day.year, taken_day.month, taken_day.day, 13, 0, tzinfo=BRUSSELS),
                    end=datetime(taken_day.year, taken_day.month, taken_day.day, 15, 0, tzinfo=BRUSSELS),
                    hold_end=datetime(taken_day.year, taken_day.month, taken_day.day, 15, 0, tzinfo=BRUSSELS),
                    status="confirmed", group_size=5)
    await other.save()
    published = await client.post(f"{url}/publish", headers=api["rtc"])
    assert published.status_code == 200, published.text
    assert published.json()["booked"] == 3 and published.json()["not_booked"] == 1
    rows = await RoundAllocation.objects().where(RoundAllocation.allocation_round == round_id).order_by(RoundAllocation.day)
    assert rows[0].booking is None and rows[0].problem
    assert all(row.booking for row in rows[1:])
    # nothing half-written: the taken day has only the owner's booking
    on_that_day = await Booking.objects().where(
        (Booking.resource == region["welding"].id) & (Booking.start >= datetime(taken_day.year, taken_day.month,
                                                                                 taken_day.day, 0, 0, tzinfo=BRUSSELS))
        & (Booking.start < datetime(taken_day.year, taken_day.month, taken_day.day, 23, 0, tzinfo=BRUSSELS)))
    assert [b.id for b in on_that_day] == [other.id]
    # a published round cannot be allocated or adjusted again
    assert (await client.post(f"{url}/allocate", headers=api["rtc"], json={})).status_code == 409
    assert (await client.delete(f"{url}/allocations/{rows[1].id}", headers=api["rtc"])).status_code == 409
    assert await OutboxMessage.count() >= 3  # the two teachers, the school admin of A, the owner's staff
    # the regional report counts the day that was asked and not booked, once, under the workshop's category and region
    report = await client.get("/api/v1/reports/regions?from=2027-09-01&to=2027-09-30", headers=api["rtc"])
    assert report.status_code == 200, report.text
    unmet = report.json()["unmet"]
    assert unmet["round_days"] == 1
    assert [(row["category"], row["region"], row["round_days"]) for row in unmet["rows"]] == [("welding", "VOV", 1)]
    before = await client.get("/api/v1/reports/regions?from=2027-08-01&to=2027-08-31", headers=api["rtc"])
    assert before.json()["unmet"]["round_days"] == 0


async def test_two_publishes_at_once_book_each_day_once(client, region, clock):
    import asyncio

    round_id = await _round(client, region)
    api = region["tokens"]
    url = f"/api/v1/rounds/{round_id}"
    for school, group in (("a", "6 Logistiek"), ("b", "7 Magazijn"), ("c", "6 Lassen")):
        await client.post(f"{url}/registrations", headers=api[school], json={
            **REGISTRATION, "resource_id": region["welding"].id, "pupil_group": group, "days": 3})
    clock.advance(days=30)
    assert (await client.post(f"{url}/allocate", headers=api["rtc"], json={"seed": 1})).status_code == 200
    first, second = await asyncio.gather(client.post(f"{url}/publish", headers=api["rtc"]),
                                         client.post(f"{url}/publish", headers=api["rtc"]))
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    rows = await RoundAllocation.objects().where(RoundAllocation.allocation_round == round_id)
    made = await Booking.count().where((Booking.resource == region["welding"].id) & (Booking.status == "confirmed"))
    assert len(rows) == 9 and made == 9 and all(row.booking for row in rows)


async def test_a_day_with_a_lunch_break_and_a_buffer_is_one_booking_and_a_passed_day_is_not_booked(
        client, region, clock, uow_for):
    from accounts.services import system_actor
    from inventory import services as inventory

    # the welding workshop closes for lunch (12:00-12:30) and needs an hour between bookings
    await inventory.save_resource(uow_for(system_actor()), region["facility"].id, {
        **RESOURCE_FORM, "name": "Lasatelier", "category": "welding", "capacity": "10", "price_model": "free",
        "price": "0", "buffer_minutes": "60", "opening_hours": "ma-vr 08:00-12:00, 12:30-16:00"},
        resource_id=region["welding"].id)
    round_id = await _round(client, region)
    api, url = region["tokens"], f"/api/v1/rounds/{round_id}"
    await client.post(f"{url}/registrations", headers=api["a"], json={
        **REGISTRATION, "resource_id": region["welding"].id, "days": 3})
    clock.advance(days=30)
    allocated = (await client.post(f"{url}/allocate", headers=api["rtc"], json={"seed": 3})).json()
    days = sorted(d["day"] for r in allocated["registrations"] for d in r["allocated"])
    assert len(days) == 3
    # the RTC publishes late: the first day has begun by then
    first = datetime.fromisoformat(days[0]).date()
    clock.moment = datetime(first.year, first.month, first.day, 9, 0, tzinfo=BRUSSELS)
    published = (await client.post(f"{url}/publish", headers=api["rtc"])).json()
    problems = [d["problem"] for r in published["registrations"] for d in r["allocated"]]
    assert (published["booked"], published["not_booked"]) == (2, 1), problems
    bookings = await Booking.objects().where(Booking.resource == region["welding"].id).order_by(Booking.start)
    assert [(b.start.astimezone(BRUSSELS).strftime("%H:%M"), b.end.astimezone(BRUSSELS).strftime("%H:%M"))
            for b in bookings] == [("08:00", "16:00")] * 2
    assert {b.start.astimezone(BRUSSELS).date().isoformat() for b in bookings} == set(days[1:])


async def test_schools_see_their_days_only_once_published(client, region, clock):
    round_id = await _round(client, region)
    api, url = region["tokens"], f"/api/v1/rounds/{round_id}"
    await client.post(f"{url}/registrations", headers=api["a"], json={
        **REGISTRATION, "resource_id": region["welding"].id, "days": 2, "pupil_group": ""})
    clock.advance(days=30)
    await client.post(f"{url}/allocate", headers=api["rtc"], json={"seed": 3})
    draft = (await client.get(url, headers=api["a"])).json()
    assert draft["state"] == "allocated" and draft["totals"]["allocated_days"] == 0
    assert [(r["got"], r["allocated"], r["reason"]) for r in draft["registrations"]] == [(0, [], "")]
    await client.post(f"{url}/publish", headers=api["rtc"])
    final = (await client.get(url, headers=api["a"])).json()
    assert [(r["got"], len(r["allocated"])) for r in final["registrations"]] == [(2, 2)]


async def test_a_teacher_of_two_schools_registers_for_the_one_the_round_is_for(client, region, create_user):
    from accounts.tables import Membership

    far_teacher = region["users"]["far"]  # teaches in Antwerp, and from now on also at Sint-Lucas Eeklo
    await Membership.insert(Membership(user=far_teacher.id, organisation=region["schools"]["c"].id, role="teacher"))
    round_id = await _round(client, region)
    response = await client.post(f"/api/v1/rounds/{round_id}/registrations", headers=region["tokens"]["far"], json={
        **REGISTRATION, "resource_id": region["welding"].id})
    assert response.status_code == 201, response.text
    assert response.json()["school_id"] == region["schools"]["c"].id
    asked_far = await client.post(f"/api/v1/rounds/{round_id}/registrations", headers=region["tokens"]["far"], json={
        **REGISTRATION, "resource_id": region["welding"].id, "school_id": region["schools"]["far"].id})
    assert asked_far.status_code == 403


async def test_odd_dates_and_digits_are_refused_not_crashed_on(client, region, clock):
    far_future = await client.post("/api/v1/rounds", headers=region["tokens"]["rtc"], json={
        **round_body(region["forklift"]), "period_end": "9999-12-31"})
    assert far_future.status_code == 422 and "period_end" in far_future.json()["errors"]
    round_id = await _round(client, region)
    clock.advance(days=30)
    token = await as_user(client, "coordinator@rtc-ovl.be")
    for path, data in ((f"/rounds/{round_id}/allocate", {"seed": "²"}),
                       (f"/rounds/{round_id}/allocations", {"registration_id": "²", "resource_id": "1", "day": "x"})):
        response = await client.post(path, data={**data, "_csrf_token": token})
        assert response.status_code == 422, (path, response.status_code)


async def test_a_retired_resource_leaves_the_round(client, region, clock):
    round_id = await _round(client, region)
    api, url = region["tokens"], f"/api/v1/rounds/{round_id}"
    mine = await client.post(f"{url}/registrations", headers=api["a"], json={
        **REGISTRATION, "resource_id": region["welding"].id})
    await Resource.update({Resource.status: Resource.Status.retired}).where(Resource.id == region["welding"].id)
    again = await client.post(f"{url}/registrations", headers=api["b"], json={
        **REGISTRATION, "resource_id": region["welding"].id, "pupil_group": "7 Magazijn"})
    assert again.status_code == 422 and "resource_id" in again.json()["errors"]
    clock.advance(days=30)
    view = (await client.post(f"{url}/allocate", headers=api["rtc"], json={})).json()
    assert [r["id"] for r in view["resources"]] == [region["forklift"].id]
    line = next(r for r in view["registrations"] if r["id"] == mine.json()["id"])
    assert (line["got"], line["reason"]) == (0, "resource_gone")
