"""A booking as an iCalendar event (RFC 5545): for feeds, invitations in mails, the single-event
download and write-back to an owner's CalDAV calendar. Times are written in Europe/Brussels with
its VTIMEZONE (a weekly booking never shifts an hour at DST); the UID is stable per booking and
SEQUENCE rises with every change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlparse

from icalendar import Calendar, Event, vCalAddress, vText

from booking.tables import Booking
from core.i18n import BRUSSELS
from core.i18n import gettext as _

PRODID = "-//Werkbank//Werkbank//NL"
UID_PREFIX = "werkbank-booking-"
STATUS = {
    "requested": "TENTATIVE", "approved": "TENTATIVE", "confirmed": "CONFIRMED", "completed": "CONFIRMED",
    "no_show": "CONFIRMED", "declined": "CANCELLED", "cancelled": "CANCELLED", "expired": "CANCELLED",
}


@dataclass
class EventData:
    """What an event of a booking shows (read in one query by the callers)."""

    booking: Booking
    resource_name: str
    facility_name: str
    street: str
    postal_code: str
    municipality: str
    latitude: float | None
    longitude: float | None
    school_name: str
    programme: str = ""
    teacher_name: str = ""
    teacher_email: str = ""


EVENT_COLUMNS = (
    Booking.all_columns(), Booking.resource.name.as_alias("resource_name"),
    Booking.resource.facility.name.as_alias("facility_name"), Booking.resource.facility.street.as_alias("street"),
    Booking.resource.facility.postal_code.as_alias("postal_code"),
    Booking.resource.facility.municipality.as_alias("municipality"),
    Booking.resource.facility.latitude.as_alias("latitude"), Booking.resource.facility.longitude.as_alias("longitude"),
    Booking.school.name.as_alias("school_name"), Booking.study_programme.name.as_alias("programme"),
    Booking.teacher.first_name.as_alias("first_name"), Booking.teacher.last_name.as_alias("last_name"),
    Booking.teacher.email.as_alias("teacher_email"),
)
EXTRA = ("resource_name", "facility_name", "street", "postal_code", "municipality", "latitude", "longitude",
         "school_name", "programme", "first_name", "last_name", "teacher_email")


def event_data(row: dict) -> EventData:
    extra = {name: row.pop(name) for name in EXTRA}
    return EventData(
        booking=Booking(**row), resource_name=extra["resource_name"], facility_name=extra["facility_name"],
        street=extra["street"] or "", postal_code=extra["postal_code"] or "", municipality=extra["municipality"] or "",
        latitude=extra["latitude"], longitude=extra["longitude"], school_name=extra["school_name"] or "",
        programme=extra["programme"] or "",
        teacher_name=f'{extra["first_name"] or ""} {extra["last_name"] or ""}'.strip(),
        teacher_email=extra["teacher_email"] or "")



def uid(booking_id: int, base_url: str) -> str:
    host = urlparse(base_url).hostname or "werkbank"
    return f"{UID_PREFIX}{booking_id}@{host}"


# Europe/Brussels by the EU rules in force since 1996 (as Outlook, Google and Apple write it).
BRUSSELS_VTIMEZONE = (
    b"BEGIN:VTIMEZONE\r\nTZID:Europe/Brussels\r\nX-LIC-LOCATION:Europe/Brussels\r\n"
    b"BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\n"
    b"RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n"
    b"BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\n"
    b"RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
)


def event(data: EventData, base_url: str, *, organizer: str = "", attendee: bool = False,
          schedule_agent_client: bool = False) -> Event:
    """The booking as a VEVENT. `organizer`/`attendee`: for invitations by mail. With
    `schedule_agent_client` (write-back to an owner's CalDAV calendar) organizer and attendee are
    marked SCHEDULE-AGENT=CLIENT, so the server sends no invitations of its own."""
    b = data.booking
    item = Event()
    item.add("uid", uid(b.id, base_url))
    item.add("dtstamp", _utc(b.updated_at or b.created_at))
    if b.created_at:
        item.add("created", _utc(b.created_at))
    if b.updated_at:
        item.add("last-modified", _utc(b.updated_at))
    item.add("sequence", b.sequence or 0)
    item.add("dtstart", b.start.astimezone(BRUSSELS))
    item.add("dtend", b.end.astimezone(BRUSSELS))
    status = STATUS.get(b.status, "CONFIRMED")
    item.add("status", status)
    title = f"{data.resource_name} · {data.school_name}"
    if status == "TENTATIVE":
        title += f" ({_('requested')})"
    item.add("summary", title)
    address = ", ".join(part for part in (data.facility_name, data.street,
                                          f"{data.postal_code} {data.municipality}".strip()) if part)
    item.add("location", address)
    if data.latitude is not None and data.longitude is not None:
        item.add("geo", (data.latitude, data.longitude))
    link = f"{base_url}/bookings/{b.id}"
    lines = [f"{_('Group')}: {b.group_size} {_('pupils')}"]
    if data.programme:
        lines.append(f"{_('Study programme')}: {data.programme}")
    if b.purpose:
        lines.append(f"{_('Purpose')}: {b.purpose}")
    lines.append(link)
    item.add("description", "\n".join(lines))
    item.add("url", link)
    item.add("transp", "TRANSPARENT" if status == "CANCELLED" else "OPAQUE")
    if schedule_agent_client:
        organizer, attendee = organizer or "noreply@werkbank.local", True
    if organizer:
        address_ = vCalAddress(f"mailto:{organizer}")
        address_.params["CN"] = vText("Werkbank")
        if schedule_agent_client:
            address_.params["SCHEDULE-AGENT"] = vText("CLIENT")
        item.add("organizer", address_)
    if attendee and data.teacher_email:
        person = vCalAddress(f"mailto:{data.teacher_email}")
        person.params.update({"CN": vText(data.teacher_name or data.teacher_email), "ROLE": vText("REQ-PARTICIPANT"),
                              "PARTSTAT": vText("ACCEPTED"), "RSVP": vText("FALSE")})
        if schedule_agent_client:
            person.params["SCHEDULE-AGENT"] = vText("CLIENT")
        item.add("attendee", person)
    return item


def calendar_bytes(events: list[Event], *, name: str = "", method: str = "") -> bytes:
    """A VCALENDAR with the Brussels VTIMEZONE and `events`, CRLF line ends and folded lines."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
        cal.add("name", name)
    cal.add("x-wr-timezone", "Europe/Brussels")
    cal.add("refresh-interval;value=duration", "PT1H")
    cal.add("x-published-ttl", "PT1H")
    head, tail = cal.to_ical().split(b"END:VCALENDAR", 1)
    body = b"".join(item.to_ical() for item in events)
    return head + BRUSSELS_VTIMEZONE + body + b"END:VCALENDAR" + tail


def _utc(moment: datetime | None) -> datetime:
    moment = moment or datetime.now(timezone.utc)
    return moment.astimezone(timezone.utc)
