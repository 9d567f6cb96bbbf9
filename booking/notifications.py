"""Mails about bookings, one template each, in the recipient's language. Subscribers to the
booking events queue them inside the change's transaction (one query for the recipients, one
INSERT for the mails); the outbox job renders them after commit with `load_mail_context`. A
series is one mail for the owner and one for the teacher, not one per date; so is a partial
cancellation of a series."""

from __future__ import annotations

from booking import events
from booking.tables import Booking
from core.i18n import lazy_gettext as _l
from core.mail import Mail, queue
from core.uow import UnitOfWork
from inventory.tables import Facility, Resource

TEACHER, OWNER = "teacher", "owner"


class _Subject:
    """A lazy subject with values, formatted in the recipient's language."""

    def __init__(self, message, **values):
        self.message, self.values = message, values

    def __str__(self) -> str:
        return str(self.message) % self.values


async def _recipients(owner_id: int, teacher_id: int, resource_id: int) -> tuple[list[dict], dict | None, str]:
    """In one query: the owner's active staff, the teacher, and the resource's name."""
    rows = await Booking.raw(
        "SELECT u.id, u.email, u.language, m.role, m.organisation, r.name AS resource_name "
        "FROM membership m JOIN account_user u ON u.id = m.\"user\" JOIN resource r ON r.id = {} "
        "WHERE u.active = {} AND ((m.organisation = {} AND m.role = 'owner_staff') OR u.id = {})",
        resource_id, True, owner_id, teacher_id)
    staff, teacher, seen = [], None, set()
    for row in rows:
        if row["id"] == teacher_id and teacher is None:
            teacher = row
        if row["organisation"] == owner_id and row["role"] == "owner_staff" and row["id"] not in seen:
            seen.add(row["id"])
            staff.append(row)
    resource_name = rows[0]["resource_name"] if rows else ""
    return staff, teacher, resource_name


def _mail(person: dict, subject, template: str, **context) -> Mail:
    return Mail(person["email"], subject, template, person["language"] or "nl", context, loader="booking")


async def _send(uow: UnitOfWork, event, *, owner: tuple | None = None, teacher: tuple | None = None,
                **context) -> None:
    """`owner`/`teacher`: (subject, template) for that side, or None."""
    staff, person, resource_name = await _recipients(event.owner_id, event.teacher_id, event.resource_id)
    mails = []
    if owner is not None:
        subject, template = owner
        mails += [_mail(p, _Subject(subject, resource=resource_name), template, audience=OWNER, **context)
                  for p in staff]
    if teacher is not None and person is not None:
        subject, template = teacher
        mails.append(_mail(person, _Subject(subject, resource=resource_name), template, audience=TEACHER, **context))
    await queue(uow, mails)


async def on_requested(uow: UnitOfWork, event: events.BookingRequested) -> None:
    if event.series_id is not None or event.allocated:
        return  # the series sends one mail (on_series_requested); a published round one per school and owner
    confirmed = event.status == Booking.Status.confirmed
    held = event.status != Booking.Status.requested  # confirmed, or approved until paid (payments mails the teacher)
    owner_subject = _l("New booking for %(resource)s") if held else _l("New request for %(resource)s")
    await _send(uow, event, owner=(owner_subject, "booking/mail/requested.txt"),
                teacher=(_l("Your booking is confirmed"), "booking/mail/approved.txt") if confirmed else None,
                booking_id=event.booking_id, invite="REQUEST" if confirmed else "")


async def on_approved(uow: UnitOfWork, event: events.BookingApproved) -> None:
    if event.status == Booking.Status.confirmed:  # an approved one that waits for payment: payments tells
        await _send(uow, event, teacher=(_l("Your booking is confirmed"), "booking/mail/approved.txt"),
                    booking_id=event.booking_id, invite="REQUEST")


async def on_confirmed(uow: UnitOfWork, event: events.BookingConfirmed) -> None:
    await _send(uow, event, teacher=(_l("Your booking is confirmed"), "booking/mail/approved.txt"),
                booking_id=event.booking_id, invite="REQUEST")


async def on_declined(uow: UnitOfWork, event: events.BookingDeclined) -> None:
    await _send(uow, event, teacher=(_l("Your request was declined"), "booking/mail/declined.txt"),
                booking_id=event.booking_id, invite="CANCEL")  # a moved booking was in the calendar already


async def on_expired(uow: UnitOfWork, event: events.BookingExpired) -> None:
    if event.unpaid:
        await _send(uow, event, teacher=(_l("Your booking expired: it was not paid in time"),
                                         "booking/mail/expired_unpaid.txt"), booking_id=event.booking_id, invite="CANCEL")
    elif not event.waitlist_offer:
        await _send(uow, event, teacher=(_l("Your request expired"), "booking/mail/expired.txt"),
                    booking_id=event.booking_id, invite="CANCEL")


async def on_cancelled(uow: UnitOfWork, event: events.BookingCancelled) -> None:
    if event.part_of_series:
        return  # one mail for the whole cancellation (on_series_cancelled)
    await _send(uow, event, teacher=(_l("Your booking is cancelled"), "booking/mail/cancelled.txt"),
                owner=None if event.by_owner else (_l("Booking cancelled: %(resource)s"),
                                                   "booking/mail/cancelled_owner.txt"),
                booking_id=event.booking_id, by_owner=event.by_owner, invite="CANCEL")


async def on_rescheduled(uow: UnitOfWork, event: events.BookingRescheduled) -> None:
    """The owner hears of the new time; the teacher gets it too, with an invitation that moves the
    event already in their calendar (same UID, higher SEQUENCE; tentative while it waits)."""
    await _send(uow, event, owner=(_l("Booking moved: %(resource)s") if event.status != Booking.Status.requested
                                   else _l("Moved booking to approve: %(resource)s"), "booking/mail/rescheduled_owner.txt"),
                teacher=(_l("Your booking is moved"), "booking/mail/rescheduled.txt"),
                booking_id=event.booking_id, previous_start=event.previous_start.isoformat(),
                previous_end=event.previous_end.isoformat(), invite="REQUEST")


async def on_waitlist_offer(uow: UnitOfWork, event: events.WaitlistOffered) -> None:
    await _send(uow, event, teacher=(_l("A place came free for you"), "booking/mail/waitlist_offer.txt"),
                booking_id=event.booking_id)


async def on_series_requested(uow: UnitOfWork, event: events.SeriesRequested) -> None:
    confirmed = event.status == Booking.Status.confirmed
    owner_subject = (_l("New series of bookings for %(resource)s") if confirmed
                     else _l("New series of requests for %(resource)s"))
    await _send(uow, event, owner=(owner_subject, "booking/mail/series_requested.txt"),
                teacher=(_l("Your series is confirmed"), "booking/mail/series_confirmed.txt") if confirmed else None,
                booking_ids=list(event.booking_ids), invite="PUBLISH" if confirmed else "")


async def on_series_cancelled(uow: UnitOfWork, event: events.SeriesCancelled) -> None:
    await _send(uow, event, teacher=(_l("Dates of your series are cancelled"), "booking/mail/series_cancelled.txt"),
                owner=None if event.by_owner else (_l("Dates cancelled: %(resource)s"),
                                                   "booking/mail/series_cancelled_owner.txt"),
                booking_ids=list(event.booking_ids), by_owner=event.by_owner)


async def queue_reminders(uow: UnitOfWork, booking_ids: list[int]) -> None:
    if not booking_ids:
        return
    rows = await Booking.select(Booking.id, Booking.teacher.email, Booking.teacher.language).where(
        Booking.id.is_in(booking_ids) & (Booking.teacher.active == True))  # noqa: E712
    await queue(uow, [Mail(row["teacher.email"], _l("Reminder: your booking in two days"), "booking/mail/reminder.txt",
                           row["teacher.language"] or "nl", {"booking_id": row["id"], "audience": TEACHER},
                           loader="booking") for row in rows])


def subscribe(app) -> None:
    for event_type, handler in (
        (events.BookingRequested, on_requested), (events.BookingApproved, on_approved),
        (events.BookingConfirmed, on_confirmed), (events.BookingDeclined, on_declined),
        (events.BookingExpired, on_expired), (events.BookingCancelled, on_cancelled),
        (events.WaitlistOffered, on_waitlist_offer), (events.BookingRescheduled, on_rescheduled),
        (events.SeriesRequested, on_series_requested),
        (events.SeriesCancelled, on_series_cancelled),
    ):
        app.subscribe(event_type, handler)


# --- rendering, after commit -----------------------------------------------------------------

async def load_mail_context(uow: UnitOfWork, data: dict) -> dict:
    """What the booking mail templates show, read when the outbox renders them."""
    from accounts.tables import User

    ids = data.get("booking_ids") or [data["booking_id"]]
    bookings = await Booking.objects().where(Booking.id.is_in(ids)).order_by(Booking.start)
    if not bookings:
        raise LookupError(f"bookings {ids} are gone")
    first = bookings[0]
    resource = await Resource.objects().where(Resource.id == first.resource).first()
    facility = await Facility.objects().where(Facility.id == resource.facility).first()
    teacher = await User.objects().where(User.id == first.teacher).first()
    base = uow.settings.base_url
    return {
        "booking": first, "bookings": bookings, "resource": resource, "facility": facility, "teacher": teacher,
        "link": f"{base}/bookings/{first.id}", "inbox": f"{base}/bookings/inbox",
        "bookings_link": f"{base}/bookings", "by_owner": data.get("by_owner", False),
        "previous_start": data.get("previous_start"), "previous_end": data.get("previous_end"),
        "_calendar": await _invitation(uow, [b.id for b in bookings], data)
        if data.get("invite") and data.get("audience") == TEACHER else b"",
    }


async def _invitation(uow: UnitOfWork, booking_ids: list[int], data: dict) -> bytes:
    """METHOD:REQUEST (it is in your calendar) or METHOD:CANCEL, the organizer the platform's
    mailbox and the attendee the teacher, with the booking's UID and SEQUENCE, so that a later
    mail updates or removes the same event. A series: METHOD:PUBLISH with every date (an
    invitation holds one event; the dates keep their own UIDs, so a later cancellation of one
    date removes just that one)."""
    from email.utils import parseaddr

    from booking import ical
    from core.tables import AuditEntry

    method = data["invite"]
    organizer = parseaddr(uow.settings.mail_from)[1] or "noreply@werkbank.local"
    if method == "PUBLISH":
        rows = await Booking.select(*ical.EVENT_COLUMNS).where(Booking.id.is_in(booking_ids)).order_by(Booking.start)
        return ical.calendar_bytes([ical.event(ical.event_data(dict(row)), uow.settings.base_url) for row in rows],
                                   method=method)
    booking_id = booking_ids[0]
    if method == "CANCEL":  # only what was put in the teacher's calendar before is taken out again
        invited = await AuditEntry.count().where(
            (AuditEntry.object_type == "booking") & (AuditEntry.object_id == str(booking_id))
            & AuditEntry.action.is_in(["booking.confirmed", "booking.approved", "booking.rescheduled"]))
        if not invited:
            return b""
    rows = await Booking.select(*ical.EVENT_COLUMNS).where(Booking.id == booking_id)
    item = ical.event_data(dict(rows[0]))
    if method == "CANCEL":
        item.booking.status = Booking.Status.cancelled
    return ical.calendar_bytes([ical.event(item, uow.settings.base_url, organizer=organizer, attendee=True)],
                               method=method)
