"""Owners' calendars against a real Radicale server: linked over CalDAV and over its plain ICS
address, events added, moved and deleted there make availability follow after a sync; a calendar
that fails keeps its last good busy time; overlaps with bookings are listed, never deleted; with
write-back, bookings made, moved and cancelled in Werkbank appear, move and vanish in Radicale and
are not read back as busy time."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import icalendar
import pytest

from booking import services
from booking.tables import BusyBlock
from calendars import linking, secrets, sync
from calendars.tables import CalendarConflict, LinkedCalendar, WrittenEvent
from core.errors import ValidationFailed
from tests.booking.conftest import at
from tests.conftest import login


@pytest.fixture
def settings(settings):
    """Radicale listens on loopback: a test, like a local calendar server, allows private addresses."""
    return settings.with_(calendar_allow_private=True, calendar_sync_minutes=15)


def _event(uid: str, start: datetime, end: datetime, summary: str = "Onderhoud", **extra) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//Radicale//NL", "BEGIN:VEVENT", f"UID:{uid}",
             f"DTSTAMP:{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}",
             f"DTSTART:{start.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}",
             f"DTEND:{end.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}", f"SUMMARY:{summary}",
             *[f"{k.upper()}:{v}" for k, v in extra.items()], "END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join(lines).encode()


def _put(radicale, calendar_url: str, uid: str, body: bytes) -> None:
    response = radicale.client.put(f"{calendar_url}{uid}.ics", auth=radicale.auth, content=body,
                                   headers={"Content-Type": "text/calendar; charset=utf-8"})
    assert response.status_code in (201, 204), response.text


def _delete(radicale, calendar_url: str, uid: str) -> None:
    assert radicale.client.delete(f"{calendar_url}{uid}.ics", auth=radicale.auth).status_code in (200, 204)


async def _sync_all(uow_for) -> None:
    await LinkedCalendar.update({LinkedCalendar.next_sync_at: None}, force=True)
    await sync.sync_due_job(uow_for(), 10)


async def _bookable(world, tuesday, hh: int, mm: int = 0) -> bool:
    from core.errors import ValidationFailed as Refused

    try:
        async with world["stranger"].transaction():
            await services.request_booking(world["stranger"], world["resource"].id, at(tuesday, hh, mm),
                                           at(tuesday, hh + 1, mm), 5)
            raise _Rollback
    except _Rollback:
        return True
    except (Refused, services.BookingConflict):
        return False


class _Rollback(Exception):
    pass


@pytest.mark.parametrize("kind", ["caldav", "ics"])
async def test_a_linked_calendar_blocks_time_and_availability_follows_its_changes(world, tuesday, uow_for, radicale,
                                                                                    radicale_calendar, kind):
    uid = f"onderhoud-{uuid.uuid4().hex}"
    _put(radicale, radicale_calendar, uid, _event(uid, at(tuesday, 13), at(tuesday, 14)))
    calendar = await linking.link_calendar(world["staff"], f"resource:{world['resource'].id}", kind, radicale_calendar,
                                           radicale.user, radicale.password)
    assert calendar.password_encrypted and radicale.password not in calendar.password_encrypted
    await _sync_all(uow_for)
    assert not await _bookable(world, tuesday, 13)
    assert await _bookable(world, tuesday, 10)
    # moved in Radicale: the old time comes free, the new one is taken
    _put(radicale, radicale_calendar, uid, _event(uid, at(tuesday, 15), at(tuesday, 16)))
    await _sync_all(uow_for)
    assert await _bookable(world, tuesday, 13) and not await _bookable(world, tuesday, 15)
    # transparent and cancelled events are free time
    free_uid = f"vrij-{uuid.uuid4().hex}"
    _put(radicale, radicale_calendar, free_uid, _event(free_uid, at(tuesday, 10), at(tuesday, 11), transp="TRANSPARENT"))
    await _sync_all(uow_for)
    assert await _bookable(world, tuesday, 10)
    # deleted in Radicale
    _delete(radicale, radicale_calendar, uid)
    await _sync_all(uow_for)
    assert await _bookable(world, tuesday, 15)
    state = await LinkedCalendar.objects().first()
    assert state.last_error == "" and state.last_success_at is not None and state.failures == 0


async def test_a_failing_calendar_keeps_its_last_good_busy_time_and_tells_the_owner(client, world, tuesday, uow_for,
                                                                                      radicale, radicale_calendar, wb):
    uid = f"les-{uuid.uuid4().hex}"
    _put(radicale, radicale_calendar, uid, _event(uid, at(tuesday, 13), at(tuesday, 14)))
    await linking.link_calendar(world["staff"], f"resource:{world['resource'].id}", "caldav", radicale_calendar,
                                radicale.user, radicale.password)
    await _sync_all(uow_for)
    blocks = await BusyBlock.count()
    assert blocks == 1
    await LinkedCalendar.update({LinkedCalendar.password_encrypted: secrets.encrypt(wb.settings.secret_key, "fout")},
                                force=True)
    await _sync_all(uow_for)
    state = await LinkedCalendar.objects().first()
    assert state.failures == 1 and "gebruikersnaam of het wachtwoord" in state.last_error
    assert "fout" not in state.last_error and radicale.password not in state.last_error
    assert await BusyBlock.count() == blocks and not await _bookable(world, tuesday, 13)
    assert state.next_sync_at > datetime.now(timezone.utc) + timedelta(minutes=10)
    await login(client, "staff@metaal.be")
    page = await client.get("/calendars/linked/")
    assert "Kon niet gelezen worden" in page.text and "blijft meetellen" in page.text
    assert "fout" not in page.text and radicale.password not in page.text


async def test_linking_a_wrong_address_or_password_says_why_and_saves_nothing(world, radicale, radicale_calendar):
    with pytest.raises(ValidationFailed, match="gebruikersnaam of het wachtwoord"):
        await linking.link_calendar(world["staff"], f"resource:{world['resource'].id}", "caldav", radicale_calendar,
                                    radicale.user, "niet-het-wachtwoord")
    with pytest.raises(ValidationFailed):
        await linking.link_calendar(world["staff"], f"resource:{world['resource'].id}", "ics",
                                    f"{radicale.base_url}bestaat-niet/", radicale.user, radicale.password)
    with pytest.raises(ValidationFailed, match="lokaal of privénetwerk"):
        await _private(world)  # the cloud metadata address, with the production setting
    assert await LinkedCalendar.count() == 0


async def _private(world):
    from core.registry import Werkbank

    app = world["staff"].app
    strict = Werkbank(app.settings.with_(calendar_allow_private=False), app.engine, app.clock)
    strict.templates, strict.mail_contexts, strict.hooks = app.templates, app.mail_contexts, app.hooks
    await linking.link_calendar(strict.unit_of_work(world["staff"].actor), f"resource:{world['resource'].id}", "ics",
                                "http://169.254.169.254/latest/meta-data/")


async def test_an_event_over_a_booking_is_listed_as_a_conflict_and_nothing_is_cancelled(client, world, tuesday, uow_for,
                                                                                         radicale, radicale_calendar):
    booking = await services.request_booking(world["teacher"], world["resource"].id, at(tuesday, 9), at(tuesday, 11), 8)
    await linking.link_calendar(world["staff"], f"resource:{world['resource'].id}", "caldav", radicale_calendar,
                                radicale.user, radicale.password)
    uid = f"audit-{uuid.uuid4().hex}"
    _put(radicale, radicale_calendar, uid, _event(uid, at(tuesday, 10), at(tuesday, 12), summary="Audit"))
    await _sync_all(uow_for)
    [conflict] = await CalendarConflict.objects()
    assert conflict.booking == booking.id and conflict.uid == uid
    assert (await services.view(world["staff"], booking.id)).booking.status == "requested"
    await login(client, "staff@metaal.be")
    page = await client.get("/calendars/linked/")
    assert "1 reservatie overlapt je agenda" in page.text and f'href="/bookings/{booking.id}"' in page.text


async def test_write_back_creates_moves_and_removes_events_and_never_reads_them_back(world, tuesday, uow_for, radicale,
                                                                                     radicale_calendar):
    await linking.link_calendar(world["staff"], f"resource:{world['resource'].id}", "caldav", radicale_calendar,
                                radicale.user, radicale.password, write_back=True)
    booking = await services.request_booking(world["teacher"], world["resource"].id, at(tuesday, 9), at(tuesday, 11), 8)
    assert await sync.write_back_job(uow_for(), 50) == 1
    uid = f"werkbank-booking-{booking.id}@testserver.local"
    stored = radicale.client.get(f"{radicale_calendar}{uid}.ics", auth=radicale.auth)
    assert stored.status_code == 200
    event = icalendar.Calendar.from_ical(stored.content).walk("VEVENT")[0]
    assert event.decoded("DTSTART") == at(tuesday, 9)
    assert "SCHEDULE-AGENT=CLIENT" in stored.text.replace("\r\n ", "")
    await _sync_all(uow_for)
    assert (await LinkedCalendar.objects().first()).busy_count == 0  # our own event is not busy time
    assert await _bookable(world, tuesday, 13)

    await services.reschedule(world["teacher"], booking.id, at(tuesday, 13), at(tuesday, 15))
    assert await sync.write_back_job(uow_for(), 50) == 1
    moved = icalendar.Calendar.from_ical(
        radicale.client.get(f"{radicale_calendar}{uid}.ics", auth=radicale.auth).content).walk("VEVENT")[0]
    assert moved.decoded("DTSTART") == at(tuesday, 13)
    assert await sync.write_back_job(uow_for(), 50) == 0  # nothing changed since

    await services.cancel(world["teacher"], booking.id)
    assert await sync.write_back_job(uow_for(), 50) == 1
    assert radicale.client.get(f"{radicale_calendar}{uid}.ics", auth=radicale.auth).status_code == 404
    assert await WrittenEvent.count() == 0


async def test_unlinking_removes_the_events_werkbank_wrote_and_then_forgets_the_calendar(world, tuesday, uow_for, radicale,
                                                                                        radicale_calendar):
    calendar = await linking.link_calendar(world["staff"], f"resource:{world['resource'].id}", "caldav",
                                           radicale_calendar, radicale.user, radicale.password, write_back=True)
    uid = f"les-{uuid.uuid4().hex}"
    _put(radicale, radicale_calendar, uid, _event(uid, at(tuesday, 13), at(tuesday, 14)))
    booking = await services.request_booking(world["teacher"], world["resource"].id, at(tuesday, 9), at(tuesday, 11), 8)
    assert await sync.write_back_job(uow_for(), 50) == 1
    await _sync_all(uow_for)
    assert not await _bookable(world, tuesday, 13)
    written = f"{radicale_calendar}werkbank-booking-{booking.id}@testserver.local.ics"
    assert radicale.client.get(written, auth=radicale.auth).status_code == 200

    assert await linking.unlink(world["staff"], calendar.id) is True
    assert await _bookable(world, tuesday, 13)  # its busy time stopped blocking at once
    assert await linking.linked(world["staff"]) == []
    assert await sync.write_back_job(uow_for(), 50) == 1
    assert radicale.client.get(written, auth=radicale.auth).status_code == 404  # Werkbank's copy is gone ...
    assert radicale.client.get(f"{radicale_calendar}{uid}.ics", auth=radicale.auth).status_code == 200  # ... theirs not
    assert await LinkedCalendar.count() == 0 and await WrittenEvent.count() == 0
    assert await sync.write_back_job(uow_for(), 50) == 0


async def test_done_bookings_stay_in_the_owners_calendar_and_a_password_in_the_address_is_encrypted(
        world, tuesday, uow_for, radicale, radicale_calendar):
    from booking.tables import Booking

    with_password = radicale_calendar.replace("http://", f"http://{radicale.user}:{radicale.password}@")
    calendar = await linking.link_calendar(world["staff"], f"resource:{world['resource'].id}", "caldav", with_password,
                                           write_back=True)
    assert calendar.url == radicale_calendar and radicale.password not in calendar.url
    assert calendar.username == radicale.user and calendar.password_encrypted
    booking = await services.request_booking(world["teacher"], world["resource"].id, at(tuesday, 9), at(tuesday, 11), 8)
    assert await sync.write_back_job(uow_for(), 50) == 1
    await Booking.update({Booking.status: "completed", Booking.pupils_attended: 8}).where(Booking.id == booking.id)
    assert await sync.write_back_job(uow_for(), 50) == 0  # history stays in the owner's calendar
    uid = f"werkbank-booking-{booking.id}@testserver.local"
    assert radicale.client.get(f"{radicale_calendar}{uid}.ics", auth=radicale.auth).status_code == 200


async def test_hostile_calendars_end_in_a_recorded_error_and_the_old_busy_time_stays(world, tuesday, uow_for, radicale,
                                                                                       radicale_calendar, web_server):
    """An endless FREQ=SECONDLY rule, a 60 MB body, bytes that are no calendar, a server error:
    each sync ends (the parser and the fetcher are bounded), records why, and keeps the last
    good busy blocks."""
    uid = f"les-{uuid.uuid4().hex}"
    _put(radicale, radicale_calendar, uid, _event(uid, at(tuesday, 13), at(tuesday, 14)))
    calendar = await linking.link_calendar(world["staff"], f"resource:{world['resource'].id}", "ics", radicale_calendar,
                                           radicale.user, radicale.password)
    await _sync_all(uow_for)
    assert await BusyBlock.count() == 1 and not await _bookable(world, tuesday, 13)

    endless = f"eindeloos-{uuid.uuid4().hex}"
    _put(radicale, radicale_calendar, endless, _event(endless, at(tuesday, 8), at(tuesday, 8) + timedelta(seconds=1),
                                                       rrule="FREQ=SECONDLY"))
    cases = [("herhalingen", None), ("groter dan", web_server.url("/big?size=60000000")),
             ("geen iCalendar-bestand", web_server.url("/big?size=100")), ("HTTP 500", web_server.url("/status/500"))]
    for failures, (message, url) in enumerate(cases, start=1):
        if url:
            await LinkedCalendar.update({LinkedCalendar.url: url, LinkedCalendar.etag: ""}).where(
                LinkedCalendar.id == calendar.id)
        await _sync_all(uow_for)
        state = await LinkedCalendar.objects().where(LinkedCalendar.id == calendar.id).first()
        assert message in state.last_error and state.failures == failures, (message, state.last_error)
        assert await BusyBlock.count() == 1 and not await _bookable(world, tuesday, 13), message


async def test_a_calendar_on_a_whole_site_may_write_fewer_appointments_per_resource(world, tuesday, uow_for, radicale,
                                                                                    radicale_calendar, monkeypatch):
    """Each appointment of a facility's calendar is a busy block on each of its resources: the
    limit on appointments shrinks with the number of resources, and going over it is an error the
    owner sees, not millions of rows."""
    assert sync.max_spans(1) == 50_000 and sync.max_spans(40) == 5_000 and sync.max_spans(10_000) == 100
    monkeypatch.setattr(sync, "max_spans", lambda resources: 2)
    for hour in (9, 11, 13):
        uid = f"les-{uuid.uuid4().hex}"
        _put(radicale, radicale_calendar, uid, _event(uid, at(tuesday, hour), at(tuesday, hour + 1)))
    await linking.link_calendar(world["staff"], f"facility:{world['facility'].id}", "caldav", radicale_calendar,
                                radicale.user, radicale.password)
    await _sync_all(uow_for)
    state = await LinkedCalendar.objects().first()
    assert "te veel afspraken" in state.last_error and state.failures == 1
    assert await BusyBlock.count() == 0


async def test_an_account_or_server_address_links_its_one_calendar_or_lists_them_to_choose(world, radicale,
                                                                                         radicale_calendar):
    """Owners paste what their calendar app shows: the server's or their account's address. With
    one event calendar there, that one is linked; with several, the message lists them."""
    from tests.calendars.conftest import RADICALE_SECOND

    user, password = RADICALE_SECOND
    only = f"{radicale.base_url}{user}/werkplaats/"
    radicale.client.delete(only, auth=(user, password))
    body = ('<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
            "<D:set><D:prop><D:displayname>Werkplaats</D:displayname></D:prop></D:set></C:mkcalendar>")
    assert radicale.client.request("MKCALENDAR", only, auth=(user, password), content=body.encode()).status_code == 201
    try:
        for pasted in (radicale.base_url, f"{radicale.base_url}{user}/"):
            calendar = await linking.link_calendar(world["staff"], f"resource:{world['resource'].id}", "caldav", pasted,
                                                   user, password)
            assert calendar.url == only and calendar.name == "Werkplaats"
            await linking.unlink(world["staff"], calendar.id)
    finally:
        radicale.client.delete(only, auth=(user, password))

    radicale.make_calendar(displayname="Onderhoud")  # the first account has several calendars
    with pytest.raises(ValidationFailed) as caught:
        await linking.link_calendar(world["staff"], f"resource:{world['resource'].id}", "caldav", radicale.home_url,
                                    radicale.user, radicale.password)
    assert "agenda's. Plak het adres van de agenda die de tijd blokkeert" in str(caught.value)
    assert radicale_calendar in str(caught.value) and "Lasrobot" in str(caught.value)
    assert await LinkedCalendar.count() == 0
