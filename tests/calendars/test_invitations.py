"""Invitations in mails: a confirmation carries METHOD:REQUEST and a cancellation METHOD:CANCEL for
the same UID with a higher SEQUENCE, organized by the platform's mailbox with the teacher as
attendee, as a text/calendar part (what Outlook, Gmail and Apple Mail show as an invitation) and
as a file. Sent through a real SMTP conversation."""

from __future__ import annotations

import icalendar

from booking import services
from core import mail
from inventory.tables import Resource
from tests.booking.conftest import at
from tests.core.test_mail import _smtp


def _calendar_part(message):
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, [p.get_content_type() for p in message.walk()]
    return parts[0], icalendar.Calendar.from_ical(parts[0].get_content())


async def test_a_confirmation_invites_and_a_cancellation_removes_the_same_event(wb, world, tuesday, smtp_server):
    await Resource.update({Resource.needs_approval: False}).where(Resource.id == world["resource"].id)
    booking = await services.request_booking(world["teacher"], world["resource"].id, at(tuesday, 9), at(tuesday, 11), 10)
    outbox = _smtp(wb, smtp_server.url)
    await mail.render_pending(outbox)
    await mail.send_pending(outbox)
    confirmed = [m for rcpt, m in smtp_server.messages if rcpt == ["sofie@vti.be"]]
    owner = [m for rcpt, m in smtp_server.messages if rcpt == ["staff@metaal.be"]]
    assert len(confirmed) == 1 and len(owner) == 1
    part, cal = _calendar_part(confirmed[0])
    assert part.get_param("method") == "REQUEST" and str(cal["METHOD"]) == "REQUEST"
    [event] = cal.walk("VEVENT")
    assert str(event["UID"]) == f"werkbank-booking-{booking.id}@testserver.local"
    assert str(event["ORGANIZER"]).lower() == "mailto:noreply@werkbank.local"
    assert str(event["ATTENDEE"]).lower() == "mailto:sofie@vti.be"
    assert event.decoded("DTSTART") == at(tuesday, 9)
    assert any(p.get_filename() == "uitnodiging.ics" for p in confirmed[0].walk())
    assert not [p for p in owner[0].walk() if p.get_content_type() == "text/calendar"]  # owners get no invitation

    await services.cancel(world["teacher"], booking.id)
    await mail.render_pending(outbox)
    await mail.send_pending(outbox)
    cancelled = [m for rcpt, m in smtp_server.messages if rcpt == ["sofie@vti.be"]][-1]
    part, cal = _calendar_part(cancelled)
    assert part.get_param("method") == "CANCEL"
    [gone] = cal.walk("VEVENT")
    assert str(gone["UID"]) == str(event["UID"]) and int(gone["SEQUENCE"]) > int(event["SEQUENCE"])
    assert str(gone["STATUS"]) == "CANCELLED"


async def test_a_moved_booking_moves_the_teachers_event_and_a_decline_then_removes_it(wb, world, tuesday, smtp_server):
    booking = await services.request_booking(world["teacher"], world["resource"].id, at(tuesday, 9), at(tuesday, 11), 10)
    await services.approve(world["staff"], booking.id)
    await services.reschedule(world["teacher"], booking.id, at(tuesday, 13), at(tuesday, 15))
    outbox = _smtp(wb, smtp_server.url)
    await mail.render_pending(outbox)
    await mail.send_pending(outbox)
    moved = [m for rcpt, m in smtp_server.messages if rcpt == ["sofie@vti.be"]][-1]
    assert moved["Subject"] == "Je reservatie is verplaatst"
    part, cal = _calendar_part(moved)
    [event] = cal.walk("VEVENT")
    assert part.get_param("method") == "REQUEST" and event.decoded("DTSTART") == at(tuesday, 13)
    assert str(event["STATUS"]) == "TENTATIVE"  # back with the owner
    await services.decline(world["staff"], booking.id, "Machine in onderhoud")
    await mail.render_pending(outbox)
    await mail.send_pending(outbox)
    declined = [m for rcpt, m in smtp_server.messages if rcpt == ["sofie@vti.be"]][-1]
    part, cal = _calendar_part(declined)
    assert part.get_param("method") == "CANCEL"


async def test_a_request_that_was_never_confirmed_is_declined_without_a_calendar_part(wb, world, tuesday, smtp_server):
    booking = await services.request_booking(world["teacher"], world["resource"].id, at(tuesday, 9), at(tuesday, 11), 10)
    await services.decline(world["staff"], booking.id, "Volzet")
    outbox = _smtp(wb, smtp_server.url)
    await mail.render_pending(outbox)
    await mail.send_pending(outbox)
    [declined] = [m for rcpt, m in smtp_server.messages if rcpt == ["sofie@vti.be"]]
    assert not [p for p in declined.walk() if p.get_content_type() == "text/calendar"]


async def test_a_confirmed_series_comes_as_one_file_with_every_date_and_one_cancelled_date_leaves_it(
        wb, world, tuesday, smtp_server):
    from booking import recurrence
    from tests.booking.test_structure import _weekly

    await Resource.update({Resource.needs_approval: False}, force=True)
    rule, spans = _weekly(tuesday, 3)
    _series, booked, _skipped = await recurrence.book_series(world["teacher"], world["resource"].id, rule, spans, 10)
    outbox = _smtp(wb, smtp_server.url)
    await mail.render_pending(outbox)
    await mail.send_pending(outbox)
    [confirmed] = [m for rcpt, m in smtp_server.messages if rcpt == ["sofie@vti.be"]]
    part, cal = _calendar_part(confirmed)
    assert part.get_filename() == "werkbank-reeks.ics" and part.get_param("method") is None  # a file, no invitation
    assert str(cal["METHOD"]) == "PUBLISH"
    assert [str(e["UID"]) for e in cal.walk("VEVENT")] == [f"werkbank-booking-{b.id}@testserver.local" for b in booked]
    assert "zet elke datum in je agenda" in confirmed.get_body(("plain",)).get_content()

    await services.cancel(world["teacher"], booked[1].id)
    await mail.render_pending(outbox)
    await mail.send_pending(outbox)
    cancelled = [m for rcpt, m in smtp_server.messages if rcpt == ["sofie@vti.be"]][-1]
    part, cal = _calendar_part(cancelled)
    assert part.get_param("method") == "CANCEL"
    [gone] = cal.walk("VEVENT")
    assert str(gone["UID"]) == f"werkbank-booking-{booked[1].id}@testserver.local"
