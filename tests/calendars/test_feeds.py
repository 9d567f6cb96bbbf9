"""Calendar feeds: created and revoked on a page and through the API, valid RFC 5545 that parses
back with icalendar (Brussels times with a VTIMEZONE, stable UIDs, SEQUENCE that rises,
cancelled bookings kept as STATUS:CANCELLED), an ETag and 304, and 404 for a revoked or unknown
token or a user who lost the right to see it."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import icalendar

from accounts.tables import Membership
from booking import services
from calendars.tables import CalendarFeed
from core.i18n import BRUSSELS
from tests.booking.conftest import at
from tests.conftest import csrf, login


async def _api(client, uow):
    from accounts import services as accounts

    _r, token = await accounts.create_api_token(uow, "api")
    return {"Authorization": f"Bearer {token}"}


def _path(url: str) -> str:
    return url[url.index("/ical/"):]


async def test_a_teacher_feed_is_valid_icalendar_that_follows_every_change(client, world, tuesday):
    teacher = await _api(client, world["teacher"])
    created = await client.post("/api/v1/feeds", headers=teacher, json={"kind": "user"})
    assert created.status_code == 201
    body = created.json()
    assert body["kind"] == "user" and body["target_id"] == world["teacher"].actor.user.id
    assert body["url"].startswith("http://testserver.local/ical/") and body["url"].endswith(".ics")
    feed = _path(body["url"])
    assert (await CalendarFeed.objects().first()).token_hash not in body["url"]  # only the hash is stored

    booking = await services.request_booking(world["teacher"], world["resource"].id, at(tuesday, 9), at(tuesday, 11), 10,
                                             purpose="GIP")
    first = await client.get(feed)
    assert first.status_code == 200 and first.headers["content-type"].startswith("text/calendar")
    assert b"\r\n" in first.content and all(len(line) <= 75 for line in first.content.split(b"\r\n"))
    cal = icalendar.Calendar.from_ical(first.content)
    assert cal.walk("VTIMEZONE")[0]["TZID"] == "Europe/Brussels"
    [event] = cal.walk("VEVENT")
    assert str(event["UID"]) == f"werkbank-booking-{booking.id}@testserver.local"
    assert event.decoded("DTSTART") == at(tuesday, 9) and event["DTSTART"].params["TZID"] == "Europe/Brussels"
    assert str(event["STATUS"]) == "TENTATIVE" and int(event["SEQUENCE"]) == 0
    assert "Metaalcampus" in str(event["LOCATION"]) and "10 leerlingen" in str(event["DESCRIPTION"])
    assert f"/bookings/{booking.id}" in str(event["DESCRIPTION"])
    tag = first.headers["etag"]
    assert "max-age" in first.headers["cache-control"]

    unchanged = await client.get(feed, headers={"If-None-Match": tag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert (await client.get(feed, headers={"If-None-Match": f"W/{tag}"})).status_code == 304  # as a gzip proxy marks it
    head = await client.head(feed)
    assert head.status_code == 200 and head.headers["etag"] == tag and head.content == b""
    assert first.headers["content-type"] == "text/calendar; charset=utf-8"

    # A renamed resource or a moved site is news for the subscribers too.
    from inventory.tables import Facility, Resource

    await Resource.update({Resource.name: "Lasatelier 2", Resource.updated_at: datetime.now(timezone.utc)},
                          force=True)
    renamed = await client.get(feed, headers={"If-None-Match": tag})
    assert renamed.status_code == 200 and "Lasatelier 2" in renamed.text
    tag = renamed.headers["etag"]
    await Facility.update({Facility.street: "Nieuwe Dok 1", Facility.updated_at: datetime.now(timezone.utc)},
                          force=True)
    moved = await client.get(feed, headers={"If-None-Match": tag})
    assert moved.status_code == 200 and "Nieuwe Dok 1" in moved.text.replace("\r\n ", "")
    tag = moved.headers["etag"]

    await services.approve(world["staff"], booking.id)
    changed = await client.get(feed, headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag
    [event] = icalendar.Calendar.from_ical(changed.content).walk("VEVENT")
    assert str(event["STATUS"]) == "CONFIRMED" and int(event["SEQUENCE"]) == 1

    await services.cancel(world["teacher"], booking.id)
    [event] = icalendar.Calendar.from_ical((await client.get(feed)).content).walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 2  # kept so clients remove it

    deleted = await client.delete(f"/api/v1/feeds/{body['id']}", headers=teacher)
    assert deleted.status_code == 204
    assert (await client.get(feed)).status_code == 404
    assert (await client.get("/ical/not-a-token.ics")).status_code == 404


async def test_weekly_bookings_keep_their_wall_time_across_the_dst_change(client, world):
    """Tuesdays 09:00-11:00 Brussels time on both sides of the last Sunday of March 2027 (rows
    written directly: the dates are fixed): the feed says 09:00 with TZID each week, though the
    UTC hour differs."""
    from datetime import date

    from booking.tables import Booking

    teacher = await _api(client, world["teacher"])
    feed = _path((await client.post("/api/v1/feeds", headers=teacher, json={
        "kind": "school", "target_id": world["school"].id})).json()["url"])
    days = [date(2027, 3, 23), date(2027, 3, 30), date(2027, 4, 6)]
    for day in days:
        await Booking.insert(Booking(resource=world["resource"].id, school=world["school"].id,
                                     teacher=world["teacher"].actor.user.id, start=at(day, 9), end=at(day, 11),
                                     hold_end=at(day, 11), status="confirmed", group_size=10))
    content = (await client.get(feed)).content
    events = icalendar.Calendar.from_ical(content).walk("VEVENT")
    assert [e.decoded("DTSTART").astimezone(BRUSSELS).strftime("%H:%M") for e in events] == ["09:00"] * 3
    assert [e.decoded("DTSTART").utcoffset().total_seconds() / 3600 for e in events] == [1, 2, 2]
    assert content.count(b"DTSTART;TZID=Europe/Brussels:") == 3


async def test_who_may_follow_what(client, world, tuesday):
    teacher, staff = await _api(client, world["teacher"]), await _api(client, world["staff"])
    other_school = await client.post("/api/v1/feeds", headers=teacher, json={"kind": "school",
                                                                           "target_id": world["other_school"].id})
    assert other_school.status_code == 403
    resource = await client.post("/api/v1/feeds", headers=teacher, json={"kind": "resource",
                                                                       "target_id": world["resource"].id})
    assert resource.status_code == 403
    bad = await client.post("/api/v1/feeds", headers=teacher, json={"kind": "everything"})
    assert bad.status_code == 422
    owner = await client.post("/api/v1/feeds", headers=staff, json={"kind": "facility",
                                                                   "target_id": world["facility"].id})
    assert owner.status_code == 201
    feed = _path(owner.json()["url"])
    await services.request_booking(world["stranger"], world["resource"].id, at(tuesday, 9), at(tuesday, 11), 10)
    [event] = icalendar.Calendar.from_ical((await client.get(feed)).content).walk("VEVENT")
    assert "GO! Aalst" in str(event["SUMMARY"])
    # Staff who leave the organisation: the feed goes dark.
    await Membership.delete().where(Membership.user == world["staff"].actor.user.id)
    assert (await client.get(feed)).status_code == 404


async def test_the_feeds_page_creates_shows_once_and_revokes(client, world, tuesday):
    await login(client, "sofie@vti.be")
    page = await client.get("/calendars/")
    assert "Mijn reservaties" in page.text and "VTI Gent" in page.text
    assert 'href="/calendars/linked/"' not in page.text  # a teacher links no calendars
    token = await csrf(client, "/calendars/")
    created = await client.post("/calendars/feeds", data={"choice": "mine:0", "name": "Werkbank", "_csrf_token": token})
    assert created.status_code == 200 and created.history[0].status_code == 303  # a reload makes no second feed
    assert "Je feed is aangemaakt." in created.text
    url = re.search(r'id="feed-url" value="([^"]+)"', created.text).group(1)
    assert "webcal://" in created.text
    assert "Nog niet gelezen door een agenda-app. Heb je het adres al in je agenda gezet?" in created.text
    assert "Toont: Mijn reservaties" in created.text
    assert (await client.get(_path(url))).status_code == 200
    again = await client.get("/calendars/")
    assert url not in again.text and "werkbank_new_feed" not in client.cookies  # shown once
    assert await CalendarFeed.count() == 1
    assert "Nog niet gelezen door een agenda-app" not in again.text  # the poll is written down
    assert "Laatst gelezen door een agenda-app:" in again.text
    assert (await CalendarFeed.objects().first()).last_fetched_at is not None
    feed = await CalendarFeed.objects().first()
    revoked = await client.post(f"/calendars/feeds/{feed.id}/revoke", data={"_csrf_token": token})
    assert revoked.status_code == 200
    assert (await client.get(_path(url))).status_code == 404
    from core.tables import AuditEntry

    assert [row["action"] for row in await AuditEntry.select(AuditEntry.action).where(
        AuditEntry.object_type == "calendar_feed").order_by(AuditEntry.id)] == ["feed.created", "feed.revoked"]


async def test_add_to_my_calendar_is_a_single_event_file(client, world, tuesday):
    booking = await services.request_booking(world["teacher"], world["resource"].id, at(tuesday, 9), at(tuesday, 11), 10)
    await login(client, "sofie@vti.be")
    detail = await client.get(f"/bookings/{booking.id}")
    assert f'href="/bookings/{booking.id}/calendar.ics"' in detail.text
    download = await client.get(f"/bookings/{booking.id}/calendar.ics")
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    [event] = icalendar.Calendar.from_ical(download.content).walk("VEVENT")
    assert event.decoded("DTEND") == at(tuesday, 11)
    await login(client, "an@go.be")
    assert (await client.get(f"/bookings/{booking.id}/calendar.ics")).status_code == 404


def test_the_access_log_never_holds_a_feed_token_or_another_secret_path():
    import logging.config

    from core.logging import uvicorn_log_config

    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    logging.config.dictConfig(uvicorn_log_config())  # what `werkbank serve` gives uvicorn
    access = logging.getLogger("uvicorn.access")
    keep = Keep()
    for log_filter in access.handlers[0].filters:
        keep.addFilter(log_filter)
    access.addHandler(keep)
    try:
        for path in ("/ical/Zs8-geheim_token.ics", "/invitations/uitnodiging-geheim", "/password/reset/reset-geheim?x=1",
                     "/resources/3?week=2026-12-07"):
            access.info('%s - "%s %s HTTP/%s" %d', "10.0.0.1:5000", "GET", path, "1.1", 200)
    finally:
        access.removeHandler(keep)
    assert len(seen) == 4 and not any("geheim" in line for line in seen)
    assert "/ical/…" in seen[0] and "/resources/3?week=2026-12-07" in seen[3]


async def test_an_owner_feed_follows_a_renamed_resource_and_a_moved_site(client, world, tuesday):
    from inventory.tables import Facility, Resource

    staff = await _api(client, world["staff"])
    await services.request_booking(world["teacher"], world["resource"].id, at(tuesday, 9), at(tuesday, 11), 10)
    for kind, target in (("resource", world["resource"].id), ("facility", world["facility"].id)):
        feed = _path((await client.post("/api/v1/feeds", headers=staff, json={"kind": kind, "target_id": target})).json()["url"])
        tag = (await client.get(feed)).headers["etag"]
        assert (await client.get(feed, headers={"If-None-Match": tag})).status_code == 304
        name = f"Lasatelier {kind}"
        await Resource.update({Resource.name: name, Resource.updated_at: datetime.now(timezone.utc)}, force=True)
        renamed = await client.get(feed, headers={"If-None-Match": tag})
        assert renamed.status_code == 200 and name in renamed.text, kind
        tag = renamed.headers["etag"]
        street = f"Dok {kind}"
        await Facility.update({Facility.street: street, Facility.updated_at: datetime.now(timezone.utc)}, force=True)
        moved = await client.get(feed, headers={"If-None-Match": tag})
        assert moved.status_code == 200 and street in moved.text.replace("\r\n ", ""), kind
