"""Mails about bookings, one template each, in the recipient's language, through the outbox
(queued in the transaction of the change, sent after commit)."""

from __future__ import annotations

from accounts.tables import Membership, User
from booking.tables import Booking
from core.i18n import lazy_gettext as _l
from core.mail import queue_mail
from inventory.tables import Facility, Resource


async def _context(booking: Booking) -> dict:
    resource = await Resource.objects().where(Resource.id == booking.resource).first()
    facility = await Facility.objects().where(Facility.id == resource.facility).first()
    teacher = await User.objects().where(User.id == booking.teacher).first()
    return {"booking": booking, "resource": resource, "facility": facility, "teacher": teacher}


async def _owner_staff(owner_id: int) -> list[User]:
    ids = [r["user"] for r in await Membership.select(Membership.user).where(
        (Membership.organisation == owner_id) & (Membership.role == Membership.Role.owner_staff))]
    return await User.objects().where(User.id.is_in(ids) & (User.active == True)) if ids else []  # noqa: E712


async def _to_teacher(booking: Booking, subject, template: str, base_url: str, **extra) -> None:
    context = await _context(booking)
    teacher = context["teacher"]
    await queue_mail(teacher.email, subject, template, language=teacher.language,
                     link=f"{base_url}/bookings/{booking.id}", **context, **extra)


async def notify_booking_requested(booking: Booking, base_url: str) -> None:
    """To the owner's staff: a request waits for them (or, without approval, a booking came in)."""
    context = await _context(booking)
    subject = _l("New request for %(resource)s") if booking.status == "requested" else _l("New booking for %(resource)s")
    for person in await _owner_staff(context["facility"].owner):
        await queue_mail(person.email, _LazyFormat(subject, resource=context["resource"].name),
                         "booking/mail/requested.txt", language=person.language,
                         link=f"{base_url}/bookings/{booking.id}", inbox=f"{base_url}/bookings/inbox", **context)


async def notify_booking_approved(booking: Booking, base_url: str) -> None:
    await _to_teacher(booking, _l("Your booking is confirmed"), "booking/mail/approved.txt", base_url)


async def notify_booking_declined(booking: Booking, base_url: str) -> None:
    await _to_teacher(booking, _l("Your request was declined"), "booking/mail/declined.txt", base_url)


async def notify_booking_expired(booking: Booking, base_url: str) -> None:
    await _to_teacher(booking, _l("Your request expired"), "booking/mail/expired.txt", base_url)


async def notify_booking_cancelled(booking: Booking, base_url: str, by_owner: bool) -> None:
    await _to_teacher(booking, _l("Your booking is cancelled"), "booking/mail/cancelled.txt", base_url,
                      by_owner=by_owner)
    if not by_owner:
        context = await _context(booking)
        for person in await _owner_staff(context["facility"].owner):
            await queue_mail(person.email, _LazyFormat(_l("Booking cancelled: %(resource)s"),
                                                       resource=context["resource"].name),
                             "booking/mail/cancelled_owner.txt", language=person.language,
                             link=f"{base_url}/bookings/{booking.id}", **context)


async def notify_booking_reminder(booking: Booking, base_url: str) -> None:
    await _to_teacher(booking, _l("Reminder: your booking in two days"), "booking/mail/reminder.txt", base_url)


async def notify_waitlist_offer(booking: Booking, base_url: str) -> None:
    await _to_teacher(booking, _l("A place came free for you"), "booking/mail/waitlist_offer.txt", base_url)


class _LazyFormat:
    """A lazy subject with values, formatted in the recipient's language."""

    def __init__(self, message, **values):
        self.message, self.values = message, values

    def __str__(self) -> str:
        return str(self.message) % self.values
