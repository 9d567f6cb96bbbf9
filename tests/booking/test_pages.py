"""Booking through the pages and the API, as teachers and owners do."""

import re
from datetime import timedelta

import pytest

from booking import services
from booking.tables import Booking, BookingSeries
from tests.booking.conftest import at
from tests.conftest import csrf, grid_states, login


def _form(day, start="09:00", end="11:00", **extra):
    return {"day": day.isoformat(), "start_time": start, "end_time": end, "group_size": "10", **extra}


async def test_a_teacher_books_from_the_resource_page(client, world, tuesday):
    await login(client, "sofie@vti.be")
    page = await client.get(f"/resources/{world['resource'].id}")
    assert "Aanvraag versturen" in page.text
    token = await csrf(client, f"/resources/{world['resource'].id}")
    response = await client.post(f"/resources/{world['resource'].id}/book",
                                 data={**_form(tuesday), "purpose": "GIP", "_csrf_token": token})
    assert "Je aanvraag is verstuurd." in response.text
    assert re.search(r"/bookings/\d+$", str(response.url))
    assert "aangevraagd" in response.text and "GIP" in response.text
    listing = await client.get("/bookings")
    assert "Lasatelier" in listing.text
    # The week on the resource page no longer offers the booked time.
    week = await client.get(f"/resources/{world['resource'].id}?week={tuesday.isoformat()}")
    states = grid_states(week.text)
    day = tuesday.isoformat()
    # 09:00-11:00 with 15 minutes between bookings: 08:00-08:45 is free but shorter than an hour.
    assert [states[f"{day}T{t}"] for t in ("08:00", "08:30", "09:00", "10:30", "11:00", "11:30", "15:30", "16:00")] == \
        ["short", "taken", "taken", "taken", "taken", "free", "free", "short"]


async def test_a_taken_time_shows_alternatives_and_the_waitlist(client, world, tuesday):
    await services.request_booking(world["stranger"], world["resource"].id, at(tuesday, 9), at(tuesday, 11), 8)
    await login(client, "sofie@vti.be")
    token = await csrf(client, f"/resources/{world['resource'].id}")
    response = await client.post(f"/resources/{world['resource'].id}/book", data={**_form(tuesday), "_csrf_token": token})
    assert response.status_code == 409
    assert "Deze tijd is al gereserveerd." in response.text
    assert len(re.findall(r'<ul class="alternatives">', response.text)) == 1
    assert response.text.count('name="start_time" value=') >= 4  # three alternatives and the form
    response = await client.post(f"/resources/{world['resource'].id}/book",
                                 data={**_form(tuesday), "waitlist": "1", "_csrf_token": token})
    assert "Je staat op de wachtlijst." in response.text


async def test_a_broken_rule_is_shown_on_the_page(client, world, tuesday):
    await login(client, "sofie@vti.be")
    token = await csrf(client, f"/resources/{world['resource'].id}")
    response = await client.post(f"/resources/{world['resource'].id}/book",
                                 data={**_form(tuesday, "15:00", "17:30"), "_csrf_token": token})
    assert response.status_code == 422
    assert "Die dag is het open 08:00-16:30" in response.text
    assert 'value="15:00"' in response.text  # what was chosen stays
    response = await client.post(f"/resources/{world['resource'].id}/book",
                                 data={**_form(tuesday, "negen", "11:00"), "_csrf_token": token})
    assert response.status_code == 422 and "Geef het uur als 08:30." in response.text


async def test_a_weekly_series_previews_then_books_the_free_ones(client, world, tuesday):
    taken_day = tuesday + timedelta(days=14)
    await services.request_booking(world["stranger"], world["resource"].id, at(taken_day, 9), at(taken_day, 11), 8)
    await login(client, "sofie@vti.be")
    token = await csrf(client, f"/resources/{world['resource'].id}")
    series = {**_form(tuesday, "08:30", "12:00"), "repeat": "1", "until": (tuesday + timedelta(days=28)).isoformat()}
    preview = await client.post(f"/resources/{world['resource'].id}/book", data={**series, "_csrf_token": token})
    assert preview.text.count('class="occurrence-free"') == 4
    assert preview.text.count('class="occurrence-taken"') == 1
    assert "De 4 vrije reserveren" in preview.text
    assert await Booking.count() == 1  # nothing booked by looking
    response = await client.post(f"/resources/{world['resource'].id}/book-series",
                                 data={**series, "mode": "free", "_csrf_token": token})
    assert "4 keer gereserveerd; 1 overgeslagen." in response.text
    mine = await Booking.objects().where(Booking.teacher == world["teacher"].actor.user.id).order_by(Booking.start)
    assert len(mine) == 4 and len({b.series for b in mine}) == 1
    assert (await BookingSeries.objects().first()).rrule.startswith("FREQ=WEEKLY;INTERVAL=1;UNTIL=")
    # Cancel the rest of the series from the second occurrence on.
    token = await csrf(client, f"/bookings/{mine[1].id}")
    await client.post(f"/bookings/{mine[1].id}/cancel", data={"scope": "following", "_csrf_token": token})
    rows = await Booking.objects().where(Booking.teacher == world["teacher"].actor.user.id).order_by(Booking.start)
    statuses = [b.status for b in rows]
    assert statuses == ["requested", "cancelled", "cancelled", "cancelled"]


async def test_my_bookings_show_only_my_school(client, world, tuesday):
    await services.request_booking(world["stranger"], world["resource"].id, at(tuesday, 13), at(tuesday, 15), 8)
    theirs = await Booking.objects().first()
    await services.request_booking(world["colleague"], world["resource"].id, at(tuesday, 9), at(tuesday, 11), 8)
    await login(client, "sofie@vti.be")
    listing = await client.get("/bookings")
    assert "<td>Jan Peeters</td>" in listing.text  # the colleague's booking: the whole school's list
    assert f"/bookings/{theirs.id}\"" not in listing.text
    mine = (await client.get("/bookings?mine=1")).text
    assert "Jan Peeters" not in mine and "Geen reservaties" in mine
    assert (await client.get(f"/bookings/{theirs.id}")).status_code == 404


async def test_the_owner_approves_in_place_with_htmx_and_sees_the_calendar(client, world, tuesday):
    booking = await services.request_booking(world["teacher"], world["resource"].id, at(tuesday, 9), at(tuesday, 11), 10)
    await login(client, "staff@metaal.be")
    inbox = await client.get("/bookings/inbox")
    assert f'id="request-{booking.id}"' in inbox.text and "VTI Gent" in inbox.text
    token = await csrf(client, "/bookings/inbox")
    headers = {"HX-Request": "true", "HX-Target": f"request-{booking.id}", "X-CSRFToken": token}
    row = await client.post(f"/bookings/{booking.id}/approve", headers=headers)
    assert row.text.startswith(f'<tr id="request-{booking.id}">') and "bevestigd" in row.text
    assert (await Booking.objects().first()).status == "confirmed"
    calendar = await client.get(f"/calendar/facilities/{world['facility'].id}?week={tuesday.isoformat()}")
    assert "Lasatelier" in calendar.text and "VTI Gent" in calendar.text
    detail = await client.get(f"/bookings/{booking.id}")
    assert "goedgekeurd en bevestigd" in detail.text  # the history


async def test_teachers_do_not_see_owner_calendars(client, world):
    await login(client, "sofie@vti.be")
    assert (await client.get(f"/calendar/facilities/{world['facility'].id}")).status_code == 403
    assert (await client.get("/bookings/inbox")).text.count("request-") == 0


async def test_the_api_books_decides_and_cancels(client, world, tuesday):
    from accounts import services as accounts

    _r, teacher = await accounts.create_api_token(world["teacher"], "api")
    _r, staff = await accounts.create_api_token(world["staff"], "api")
    _r, stranger = await accounts.create_api_token(world["stranger"], "api")
    as_teacher, as_staff = {"Authorization": f"Bearer {teacher}"}, {"Authorization": f"Bearer {staff}"}
    free = (await client.get(f"/api/v1/resources/{world['resource'].id}/availability?from={tuesday}T00:00&to={tuesday}T23:59",
                             headers=as_teacher)).json()
    assert [s["start"][11:16] for s in free["free"]] == ["08:00"]
    created = await client.post("/api/v1/bookings", headers=as_teacher, json={
        "resource_id": world["resource"].id, "start": f"{tuesday}T09:00", "end": f"{tuesday}T11:00", "group_size": 10,
        "study_programme": "lassen-constructie"})
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "requested" and body["price_cents"] == 18000
    assert body["start"][-6:] in ("+01:00", "+02:00")  # Brussels time with its offset
    booking_id = body["id"]
    assert (await client.get(f"/api/v1/bookings/{booking_id}", headers={"Authorization": f"Bearer {stranger}"})).status_code == 404
    assert (await client.post(f"/api/v1/bookings/{booking_id}/approve", headers=as_teacher)).status_code == 403
    broken = await client.post("/api/v1/bookings", headers=as_teacher, json={
        "resource_id": world["resource"].id, "start": f"{tuesday}T09:00", "end": f"{tuesday}T09:15", "group_size": 10})
    assert broken.status_code == 422 and broken.json()["rule"] == "end"
    approved = await client.post(f"/api/v1/bookings/{booking_id}/approve", headers=as_staff)
    assert approved.json()["status"] == "confirmed"
    listed = (await client.get("/api/v1/bookings", headers=as_teacher)).json()
    assert [b["id"] for b in listed] == [booking_id]
    cancelled = await client.post(f"/api/v1/bookings/{booking_id}/cancel", headers=as_teacher, json={"reason": "ziek"})
    assert cancelled.json()["status"] == "cancelled"
    again = await client.post(f"/api/v1/bookings/{booking_id}/cancel", headers=as_teacher)
    assert again.status_code == 409
    declined = await client.post(f"/api/v1/bookings/{booking_id}/decline", headers=as_staff, json={"reason": "x"})
    assert declined.status_code == 409


async def test_search_free_between_leaves_out_booked_resources(client, world, tuesday):
    await login(client, "sofie@vti.be")
    window = f"free_from={tuesday}T09:30&free_to={tuesday}T10:30"
    assert "Lasatelier" in (await client.get(f"/search?{window}")).text
    await services.request_booking(world["stranger"], world["resource"].id, at(tuesday, 9), at(tuesday, 11), 8)
    assert "Lasatelier" not in (await client.get(f"/search?{window}")).text
    assert "Lasatelier" in (await client.get(f"/search?free_from={tuesday}T13:00&free_to={tuesday}T15:00")).text


@pytest.mark.parametrize("body", [
    {},
    {"resource_id": "een", "start": "x", "end": "y", "group_size": 1},
    {"resource_id": 1, "start": "morgen", "end": "overmorgen", "group_size": 5},
    {"resource_id": 99999999999, "start": "2027-06-01T09:00", "end": "2027-06-01T11:00", "group_size": 5},
    {"resource_id": 1, "start": "2027-06-01T09:00", "end": "2027-06-01T11:00", "group_size": 10**12},
    {"resource_id": 1, "start": "2027-06-01T09:00", "end": "2027-06-01T11:00", "group_size": 5, "rrule": "FREQ=BOGUS"},
])
async def test_bad_booking_requests_get_a_problem_not_a_crash(client, world, body):
    from accounts import services as accounts

    _r, token = await accounts.create_api_token(world["teacher"], "api")
    response = await client.post("/api/v1/bookings", headers={"Authorization": f"Bearer {token}"}, json=body)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"]
    assert await Booking.count() == 0


async def test_an_endless_repeat_rule_is_refused_at_once(client, world, tuesday):
    from accounts import services as accounts

    _r, token = await accounts.create_api_token(world["teacher"], "api")
    response = await client.post("/api/v1/bookings", headers={"Authorization": f"Bearer {token}"}, json={
        "resource_id": world["resource"].id, "start": f"{tuesday}T09:00", "end": f"{tuesday}T11:00", "group_size": 5,
        "rrule": "FREQ=DAILY"})
    assert response.status_code == 422
    assert "UNTIL of COUNT" in response.json()["detail"]


async def test_the_next_week_through_htmx_is_the_week_fragment(client, world, tuesday):
    await login(client, "sofie@vti.be")
    response = await client.get(f"/resources/{world['resource'].id}?week={(tuesday + timedelta(days=7)).isoformat()}",
                                headers={"HX-Request": "true", "HX-Target": "week"})
    assert response.status_code == 200
    assert "Er ging bij ons iets mis" not in response.text
    assert "Week van" in response.text and "<html" not in response.text and 'class="weekgrid"' in response.text
    week_after = tuesday + timedelta(days=14) - timedelta(days=tuesday.weekday())
    assert f"/resources/{world['resource'].id}?week={week_after.isoformat()}" in response.text


async def test_a_waitlist_entry_shows_in_my_bookings_and_can_be_left(client, world, tuesday):
    from booking.tables import WaitlistEntry

    await services.request_booking(world["stranger"], world["resource"].id, at(tuesday, 9), at(tuesday, 11), 8)
    await services.join_waitlist(world["teacher"], world["resource"].id, at(tuesday, 9), at(tuesday, 11), 10)
    await login(client, "sofie@vti.be")
    page = await client.get("/bookings")
    assert "Op de wachtlijst" in page.text and "Lasatelier" in page.text and "wacht" in page.text
    entry = await WaitlistEntry.objects().first()
    other = await client.get("/bookings?mine=1")
    assert f"/waitlist/{entry.id}/leave" in other.text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
    left = await client.post(f"/waitlist/{entry.id}/leave", data={"_csrf_token": token})
    assert "Je staat niet meer op de wachtlijst." in left.text
    assert (await WaitlistEntry.objects().first()).status == "cancelled"
    assert "Op de wachtlijst" not in (await client.get("/bookings")).text


async def test_the_week_says_why_a_day_has_no_free_time(client, world, tuesday, wb):
    from datetime import datetime

    from core.i18n import BRUSSELS

    await login(client, "sofie@vti.be")
    today = datetime.now(BRUSSELS).date()
    this_week = (await client.get(f"/resources/{world['resource'].id}?week={today.isoformat()}")).text
    past_days = today.weekday()  # Monday .. yesterday
    weekdays_past = min(past_days, 5)
    assert this_week.count(">voorbij<") >= weekdays_past - 1  # today may still have time left
    assert "gesloten (sluiting)" not in this_week  # the past is not a closure
    # The notice (24 hours): tomorrow's hours are not offered as free time.
    tomorrow = today + timedelta(days=1)
    if tomorrow.weekday() < 5 and tomorrow.isocalendar()[1] == today.isocalendar()[1]:
        assert "te kort vooraf" in this_week or ">voorbij<" in this_week
    # A fully booked day in the future says so.
    for start, end in (((8, 0), (9, 45)), ((10, 0), (11, 45)), ((12, 0), (13, 45)), ((14, 0), (16, 30))):
        await services.request_booking(world["stranger"], world["resource"].id, at(tuesday, *start),
                                       at(tuesday, *end), 8)
    later = (await client.get(f"/resources/{world['resource'].id}?week={tuesday.isoformat()}")).text
    assert "volzet" in later


async def test_cancelling_asks_first_and_shows_the_fee_the_policy_charges(client, world, tuesday):
    from inventory.tables import Resource

    await Resource.update({Resource.free_cancellation_hours: 24 * 365}, force=True)  # always late: a fee
    booking = await services.request_booking(world["teacher"], world["resource"].id, at(tuesday, 9),
                                             at(tuesday, 11), 10, study_programme=None)
    await login(client, "sofie@vti.be")
    detail = await client.get(f"/bookings/{booking.id}")
    assert f'href="/bookings/{booking.id}/cancel"' in detail.text
    confirm = await client.get(f"/bookings/{booking.id}/cancel")
    assert "Reservatie annuleren?" in confirm.text
    assert "Nu annuleren kost €\xa090,00" in confirm.text  # half of the 180 euro, by the policy
    assert (await Booking.objects().first()).status == "requested"  # asking changed nothing
    token = re.search(r'name="_csrf_token" value="([^"]+)"', confirm.text).group(1)
    done = await client.post(f"/bookings/{booking.id}/cancel", data={"_csrf_token": token})
    assert "De reservatie is geannuleerd." in done.text
    assert (await Booking.objects().first()).cancellation_fee_cents == 9000


async def test_home_pages_show_the_work_to_act_on(client, world, tuesday):
    from inventory.tables import Resource

    booking = await services.request_booking(world["teacher"], world["resource"].id, at(tuesday, 9), at(tuesday, 11), 10)
    empty = await Resource.insert(Resource(facility=world["facility"].id, name="Plooibank zonder uren", kind="machine",
                                           category=world["resource"].category, capacity=4))
    del empty
    await login(client, "sofie@vti.be")
    home = await client.get("/")
    assert "Je komende reservaties" in home.text and f'href="/bookings/{booking.id}"' in home.text
    assert "Wacht op een antwoord: 1" in home.text
    assert 'action="/search"' in home.text
    await client.post("/logout", data={"_csrf_token": re.search(r'name="_csrf_token" value="([^"]+)"', home.text).group(1)})
    await login(client, "staff@metaal.be")
    owner_home = await client.get("/")
    assert "Aanvragen die op jou wachten: 1" in owner_home.text and "VTI Gent" in owner_home.text
    assert "Plooibank zonder uren" in owner_home.text  # no opening hours: schools cannot book it


async def test_an_owner_without_a_reason_sees_the_error_next_to_the_reason_field(client, world, tuesday):
    booking = await services.request_booking(world["teacher"], world["resource"].id, at(tuesday, 9), at(tuesday, 11), 8)
    await login(client, "staff@metaal.be")
    token = await csrf(client, f"/bookings/{booking.id}")
    declined = await client.post(f"/bookings/{booking.id}/decline", data={"reason": " ", "_csrf_token": token})
    assert declined.status_code == 422
    assert '<small class="field-error" id="err-reason" role="alert">' in declined.text
    assert 'aria-describedby="err-reason"' in declined.text
    cancelled = await client.post(f"/bookings/{booking.id}/cancel", data={"reason": "", "_csrf_token": token})
    assert cancelled.status_code == 422 and "Reservatie annuleren?" in cancelled.text
    assert '<small class="field-error" id="err-reason" role="alert">' in cancelled.text
    assert (await Booking.objects().where(Booking.id == booking.id).first()).status == "requested"


async def test_a_completed_booking_shows_what_it_saved_the_school(client, world):
    """The alternative cost kept on the booking minus what the school paid, and per pupil (as
    attended); nothing before it is done, nor without a known alternative cost."""
    from datetime import datetime, timezone

    from accounts.tables import User

    sofie = await User.objects().where(User.email == "sofie@vti.be").first()
    begin = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=14)

    async def row(status: str, alternative: int, price: int, method: str, attended=None, shift: int = 0) -> int:
        b = Booking(resource=world["resource"].id, school=world["school"].id, teacher=sofie.id,
                    start=begin + timedelta(hours=3 * shift), end=begin + timedelta(hours=3 * shift + 2),
                    hold_end=begin + timedelta(hours=3 * shift + 2), status=status, group_size=10,
                    price_cents=price, alternative_cost_cents=alternative, payment_method=method, pupils_attended=attended)
        await b.save()
        return b.id

    paid = await row("completed", 20000, 7000, "invoice", attended=8)
    free = await row("completed", 20000, 7000, "free", shift=1)
    unknown = await row("completed", 0, 7000, "invoice", shift=2)
    coming = await row("confirmed", 20000, 7000, "invoice", shift=3)
    await login(client, "sofie@vti.be")
    page = (await client.get(f"/bookings/{paid}")).text
    assert re.search(r'data-figure="savings">€\xa0130,00 <small>\(€\xa016,25 per leerling\)', page)  # 13000 / 8 came
    page = (await client.get(f"/bookings/{free}")).text
    assert re.search(r'data-figure="savings">€\xa0200,00 <small>\(€\xa020,00 per leerling\)', page)
    for booking_id in (unknown, coming):
        assert 'data-figure="savings"' not in (await client.get(f"/bookings/{booking_id}")).text
