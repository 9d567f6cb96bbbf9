"""The CalDAV client against a real Radicale server: linking checks, writing, moving and removing
events, reading a time range, and the same address rules and error messages as the ICS fetch."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import httpx
import icalendar
import pytest

from calendars.caldav import calendar_events, check_calendar, delete_event, merge_calendars, put_event
from calendars.fetch import CalendarConflict, FetchError, ForbiddenAddress, fetch_calendar
from core.i18n import BRUSSELS, use_language

RANGE = (datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC))

BRUSSELS_TZ = """BEGIN:VTIMEZONE
TZID:Europe/Brussels
BEGIN:STANDARD
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
END:DAYLIGHT
END:VTIMEZONE"""


def english(error: Exception) -> str:
    with use_language("en"):
        return str(error)


def event(uid: str, start: str, end: str, summary: str = "Werkbank: lasrobot", extra: str = "") -> bytes:
    """A VCALENDAR with one event in Brussels time (start/end as 20250106T090000)."""
    text = (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Werkbank//Test//NL\n"
        f"{BRUSSELS_TZ}\n"
        f"BEGIN:VEVENT\nUID:{uid}\nDTSTAMP:20250101T000000Z\n"
        f"DTSTART;TZID=Europe/Brussels:{start}\nDTEND;TZID=Europe/Brussels:{end}\n"
        f"SUMMARY:{summary}\n{extra}END:VEVENT\nEND:VCALENDAR\n"
    )
    return text.replace("\n", "\r\n").encode()


def events_in(data: bytes) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(data)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


# --- linking ---------------------------------------------------------------------------------


async def test_check_calendar_reports_a_writable_calendar(radicale, radicale_calendar):
    info = await check_calendar(radicale_calendar, radicale.auth, allow_private=True)
    assert info["is_calendar"] is True
    assert info["supports_events"] is True
    assert info["writable"] is True
    assert info["displayname"] == "Lasrobot"
    assert info["url"] == radicale_calendar
    assert "write" in info["privileges"]


async def test_check_calendar_on_a_collection_that_is_not_a_calendar(radicale):
    info = await check_calendar(radicale.home_url, radicale.auth, allow_private=True)
    assert info["is_calendar"] is False


async def test_check_calendar_with_credentials_in_the_url(radicale, radicale_calendar):
    with_user = radicale_calendar.replace("http://", f"http://{radicale.user}:{radicale.password}@")
    info = await check_calendar(with_user, None, allow_private=True)
    assert info["is_calendar"] is True
    assert radicale.password not in info["url"]


async def test_a_wrong_password_is_a_clear_error_without_the_password(radicale, radicale_calendar, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "Fout-Wachtwoord-987"
    calls = [
        check_calendar(radicale_calendar, (radicale.user, wrong), allow_private=True),
        calendar_events(radicale_calendar, (radicale.user, wrong), *RANGE, allow_private=True),
        put_event(radicale_calendar, (radicale.user, wrong), "x", event("x", "20250106T090000", "20250106T100000"),
                  allow_private=True),
        fetch_calendar(radicale_calendar, auth=(radicale.user, wrong), allow_private=True),
    ]
    for call in calls:
        with pytest.raises(FetchError) as caught:
            await call
        error = caught.value
        assert error.status == 401
        assert english(error) == "The calendar server 127.0.0.1 did not accept the user name or password."
        for text in (str(error), english(error), repr(error), error.detail, caplog.text):
            assert wrong not in text and radicale.password not in text


async def test_an_address_that_is_no_caldav_server(web_server):
    with pytest.raises(FetchError) as caught:
        await check_calendar(web_server.url("ics"), None, allow_private=True)
    assert english(caught.value) == "The address at 127.0.0.1 is not a CalDAV calendar."


async def test_no_password_at_all(radicale, radicale_calendar):
    with pytest.raises(FetchError) as caught:
        await check_calendar(radicale_calendar, None, allow_private=True)
    assert english(caught.value) == "The calendar server 127.0.0.1 asks for a user name and password."


async def test_another_users_calendar_is_refused(radicale, radicale_calendar):
    other = radicale_calendar.replace(f"/{radicale.user}/", "/iemand-anders/")
    with pytest.raises(FetchError) as caught:
        await check_calendar(other, radicale.auth, allow_private=True)
    assert caught.value.status in (403, 404)


@pytest.mark.parametrize("call", ["check", "events", "put", "delete"])
async def test_caldav_on_loopback_is_refused_without_allow_private(radicale, radicale_calendar, call):
    auth = radicale.auth
    calls = {
        "check": lambda: check_calendar(radicale_calendar, auth),
        "events": lambda: calendar_events(radicale_calendar, auth, *RANGE),
        "put": lambda: put_event(radicale_calendar, auth, "x", event("x", "20250106T090000", "20250106T100000")),
        "delete": lambda: delete_event(radicale_calendar, auth, "x"),
    }
    with pytest.raises(ForbiddenAddress):
        await calls[call]()


async def test_caldav_through_a_name_that_resolves_to_loopback_is_refused(radicale, radicale_calendar, fake_dns):
    fake_dns["caldav.example.test"] = ["127.0.0.1"]
    url = radicale_calendar.replace("127.0.0.1", "caldav.example.test")
    with pytest.raises(ForbiddenAddress):
        await check_calendar(url, radicale.auth)
    # ... and with allow_private the same name reaches Radicale on the checked address.
    info = await check_calendar(url, radicale.auth, allow_private=True)
    assert info["is_calendar"] is True


# --- writing, moving, removing -----------------------------------------------------------------


async def test_put_move_and_delete_are_seen_by_calendar_events_and_the_ics_url(radicale, radicale_calendar):
    url, auth = radicale_calendar, radicale.auth
    etag = await put_event(url, auth, "booking-17@werkbank.be", event("booking-17@werkbank.be", "20250106T090000",
                                                                       "20250106T110000"), allow_private=True)
    assert etag

    found = events_in(await calendar_events(url, auth, *RANGE, allow_private=True))
    assert found["booking-17@werkbank.be"].start.astimezone(UTC) == datetime(2025, 1, 6, 8, tzinfo=UTC)

    first = await fetch_calendar(url, auth=auth, allow_private=True)
    assert first.status == 200 and first.etag
    assert "booking-17@werkbank.be" in events_in(first.body)
    unchanged = await fetch_calendar(url, auth=auth, etag=first.etag, last_modified=first.last_modified,
                                     allow_private=True)
    assert (unchanged.status, unchanged.body) == (304, b"")

    # Move it: only with the ETag we hold.
    moved = event("booking-17@werkbank.be", "20250107T130000", "20250107T150000")
    new_etag = await put_event(url, auth, "booking-17@werkbank.be", moved, etag=etag, allow_private=True)
    assert new_etag and new_etag != etag
    found = events_in(await calendar_events(url, auth, *RANGE, allow_private=True))
    assert found["booking-17@werkbank.be"].start.astimezone(UTC) == datetime(2025, 1, 7, 12, tzinfo=UTC)
    changed = await fetch_calendar(url, auth=auth, etag=first.etag, allow_private=True)
    assert changed.status == 200 and changed.etag != first.etag
    assert events_in(changed.body)["booking-17@werkbank.be"].start.astimezone(UTC) == datetime(2025, 1, 7, 12, tzinfo=UTC)

    await delete_event(url, auth, "booking-17@werkbank.be", etag=new_etag, allow_private=True)
    assert events_in(await calendar_events(url, auth, *RANGE, allow_private=True)) == {}
    assert events_in((await fetch_calendar(url, auth=auth, allow_private=True)).body) == {}
    await delete_event(url, auth, "booking-17@werkbank.be", allow_private=True)  # gone already: fine


async def test_creating_twice_and_a_stale_etag_are_conflicts(radicale, radicale_calendar):
    url, auth = radicale_calendar, radicale.auth
    data = event("b-1", "20250106T090000", "20250106T100000")
    etag = await put_event(url, auth, "b-1", data, allow_private=True)
    with pytest.raises(CalendarConflict) as caught:
        await put_event(url, auth, "b-1", data, allow_private=True)
    assert english(caught.value) == "The event was changed on the calendar server 127.0.0.1 in the meantime."
    # Someone edits the event in their calendar app: our ETag is stale now.
    await put_event(url, auth, "b-1", event("b-1", "20250106T090000", "20250106T100000", summary="Bewerkt"),
                    overwrite=True, allow_private=True)
    with pytest.raises(CalendarConflict):
        await put_event(url, auth, "b-1", data, etag=etag, allow_private=True)
    with pytest.raises(CalendarConflict):
        await delete_event(url, auth, "b-1", etag=etag, allow_private=True)
    assert "b-1" in events_in(await calendar_events(url, auth, *RANGE, allow_private=True))


async def test_uids_with_odd_characters_get_a_safe_resource_name(radicale, radicale_calendar):
    url, auth = radicale_calendar, radicale.auth
    uid = "boeking 5/12?x=1#@werkbank.be"
    await put_event(url, auth, uid, event(uid, "20250108T090000", "20250108T100000"), allow_private=True)
    assert uid in events_in(await calendar_events(url, auth, *RANGE, allow_private=True))
    await delete_event(url, auth, uid, allow_private=True)
    assert events_in(await calendar_events(url, auth, *RANGE, allow_private=True)) == {}


# --- reading a time range ----------------------------------------------------------------------


async def test_calendar_events_keeps_to_the_time_range_and_merges_timezones(radicale, radicale_calendar):
    url, auth = radicale_calendar, radicale.auth
    await put_event(url, auth, "in-1", event("in-1", "20250106T090000", "20250106T100000"), allow_private=True)
    await put_event(url, auth, "in-2", event("in-2", "20250131T230000", "20250201T010000"), allow_private=True)
    await put_event(url, auth, "later", event("later", "20250301T090000", "20250301T100000"), allow_private=True)
    await put_event(url, auth, "weekly", event("weekly", "20241202T090000", "20241202T100000",
                                                extra="RRULE:FREQ=WEEKLY;COUNT=10\n"), allow_private=True)
    await put_event(url, auth, "ended", event("ended", "20241101T090000", "20241101T100000",
                                               extra="RRULE:FREQ=WEEKLY;COUNT=2\n"), allow_private=True)
    data = await calendar_events(url, auth, *RANGE, allow_private=True)
    assert set(events_in(data)) == {"in-1", "in-2", "weekly"}
    assert data.count(b"BEGIN:VTIMEZONE") == 1
    assert "RRULE" in events_in(data)["weekly"]  # whole, for the caller to expand

    everything = (await fetch_calendar(url, auth=auth, allow_private=True)).body
    assert set(events_in(everything)) == {"in-1", "in-2", "later", "weekly", "ended"}


async def test_calendar_events_needs_aware_datetimes(radicale, radicale_calendar):
    with pytest.raises(ValueError):
        await calendar_events(radicale_calendar, radicale.auth, datetime(2025, 1, 1), datetime(2025, 2, 1),
                              allow_private=True)


async def test_an_empty_calendar_is_an_empty_vcalendar(radicale, radicale_calendar):
    data = await calendar_events(radicale_calendar, radicale.auth, *RANGE, allow_private=True)
    assert events_in(data) == {}
    assert data.startswith(b"BEGIN:VCALENDAR\r\n") and data.endswith(b"END:VCALENDAR\r\n")


async def test_a_missing_calendar(radicale):
    with pytest.raises(FetchError) as caught:
        await calendar_events(f"{radicale.home_url}bestaat-niet/", radicale.auth, *RANGE, allow_private=True)
    assert caught.value.status == 404


# --- servers that answer differently (MockTransport) -------------------------------------------


CALDAV_URL = "https://cloud.example.com/remote.php/dav/calendars/jan/werkbank/"


def multistatus(*responses: str) -> bytes:
    return ('<?xml version="1.0"?><d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
            + "".join(responses) + "</d:multistatus>").encode()


def response(href: str, data: str | None) -> str:
    if data is None:
        return (f"<d:response><d:href>{href}</d:href><d:propstat><d:prop><d:getetag>\"1\"</d:getetag></d:prop>"
                "<d:status>HTTP/1.1 200 OK</d:status></d:propstat><d:propstat><d:prop><c:calendar-data/></d:prop>"
                "<d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response>")
    escaped = data.replace("&", "&amp;").replace("<", "&lt;")
    return (f"<d:response><d:href>{href}</d:href><d:propstat><d:prop><d:getetag>\"1\"</d:getetag>"
            f"<c:calendar-data>{escaped}</c:calendar-data></d:prop><d:status>HTTP/1.1 200 OK</d:status>"
            "</d:propstat></d:response>")


async def test_calendar_data_left_out_of_the_query_is_fetched_with_multiget():
    seen: list[bytes] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        assert request.method == "REPORT" and request.headers["depth"] == "1"
        if b"calendar-query" in request.content:
            return httpx.Response(207, content=multistatus(response("/remote.php/dav/calendars/jan/werkbank/a.ics", None)))
        assert b"<d:href>/remote.php/dav/calendars/jan/werkbank/a.ics</d:href>" in request.content
        return httpx.Response(207, content=multistatus(response(
            "/remote.php/dav/calendars/jan/werkbank/a.ics", event("a", "20250106T090000", "20250106T100000").decode())))

    data = await calendar_events(CALDAV_URL, ("jan", "pw"), *RANGE, transport=httpx.MockTransport(handle))
    assert set(events_in(data)) == {"a"}
    assert len(seen) == 2
    assert b'<c:time-range start="20250101T000000Z" end="20250201T000000Z"/>' in seen[0]


async def test_a_server_without_report_is_read_with_get():
    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "REPORT":
            return httpx.Response(405)
        return httpx.Response(200, content=event("a", "20250106T090000", "20250106T100000"))

    data = await calendar_events(CALDAV_URL, ("jan", "pw"), *RANGE, transport=httpx.MockTransport(handle))
    assert set(events_in(data)) == {"a"}


@pytest.mark.parametrize("body", [b"<not xml", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'])
async def test_unreadable_or_entity_laden_xml_is_refused(body):
    transport = httpx.MockTransport(lambda request: httpx.Response(207, content=body))
    with pytest.raises(FetchError) as caught:
        await check_calendar(CALDAV_URL, ("jan", "pw"), transport=transport)
    assert english(caught.value) == "The calendar server cloud.example.com sent an answer that could not be read."


async def test_a_server_that_does_not_tell_its_privileges():
    body = multistatus(
        "<d:response><d:href>/remote.php/dav/calendars/jan/werkbank/</d:href><d:propstat><d:prop>"
        "<d:displayname>Werkbank</d:displayname><d:resourcetype><d:collection/><c:calendar/></d:resourcetype>"
        "</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat><d:propstat><d:prop><d:current-user-privilege-set/>"
        "</d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response>")
    transport = httpx.MockTransport(lambda request: httpx.Response(207, content=body))
    info = await check_calendar(CALDAV_URL, ("jan", "pw"), transport=transport)
    assert info["is_calendar"] is True and info["writable"] is None and info["displayname"] == "Werkbank"


async def test_a_read_only_calendar():
    body = multistatus(
        "<d:response><d:href>/cal/</d:href><d:propstat><d:prop>"
        "<d:resourcetype><d:collection/><c:calendar/></d:resourcetype>"
        "<d:current-user-privilege-set><d:privilege><d:read/></d:privilege><d:privilege><c:read-free-busy/>"
        "</d:privilege></d:current-user-privilege-set>"
        '<c:supported-calendar-component-set><c:comp name="VTODO"/></c:supported-calendar-component-set>'
        "</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>")
    transport = httpx.MockTransport(lambda request: httpx.Response(207, content=body))
    info = await check_calendar(CALDAV_URL, ("jan", "pw"), transport=transport)
    assert info["writable"] is False and info["supports_events"] is False


async def test_put_asks_for_the_etag_when_the_server_does_not_send_one():
    methods: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        methods.append(request.method)
        if request.method == "PUT":
            assert request.headers["if-none-match"] == "*"
            assert str(request.url) == CALDAV_URL + "b-1.ics"
            return httpx.Response(201)
        return httpx.Response(207, content=multistatus(
            f'<d:response><d:href>{CALDAV_URL}b-1.ics</d:href><d:propstat><d:prop><d:getetag>"abc"</d:getetag></d:prop>'
            "<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"))

    etag = await put_event(CALDAV_URL.rstrip("/"), ("jan", "pw"), "b-1", event("b-1", "20250106T090000", "20250106T100000"),
                           transport=httpx.MockTransport(handle))
    assert etag == '"abc"' and methods == ["PUT", "PROPFIND"]


def test_merge_calendars_keeps_events_and_one_timezone_each():
    one = event("a", "20250106T090000", "20250106T100000", extra="DESCRIPTION:lang\n  gevouwen\n").decode()
    two = event("b", "20250107T090000", "20250107T100000").decode().replace(
        "PRODID:-//Werkbank//Test//NL", "PRODID:x\r\nX-WR-TIMEZONE:Europe/Brussels\r\nMETHOD:PUBLISH")
    merged = merge_calendars([one.replace("\r\n", "\n"), two])
    calendar = icalendar.Calendar.from_ical(merged)
    assert [str(e["UID"]) for e in calendar.walk("VEVENT")] == ["a", "b"]
    assert len(calendar.walk("VTIMEZONE")) == 1
    assert calendar["X-WR-TIMEZONE"] == "Europe/Brussels" and "METHOD" not in calendar
    assert str(calendar.walk("VEVENT")[0]["DESCRIPTION"]) == "lang gevouwen"
    assert b"\r\n" in merged and b"\n\n" not in merged


def test_a_time_range_from_brussels_time_is_sent_in_utc():
    from calendars.caldav import _query_body

    start = datetime(2025, 7, 1, 9, tzinfo=BRUSSELS)
    body = _query_body(start, start + timedelta(days=1))
    assert b'start="20250701T070000Z" end="20250702T070000Z"' in body
