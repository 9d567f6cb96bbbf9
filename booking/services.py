"""Booking rules and life: request (checked against every rule, never double-booked), approve,
decline, cancel, expire, complete, no-show, and the waitlist. Every transition has a `can_*`
twin, writes an audit entry, bumps the iCalendar SEQUENCE and queues its mails."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from accounts.services import Actor
from accounts.tables import Membership, Organisation
from booking import notifications, rules
from booking.availability import HOLDING
from booking.labels import status_label
from booking.tables import Booking, WaitlistEntry
from core import audit
from core.db import atomic
from core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from core.i18n import gettext as _
from core.timeutil import now
from inventory.tables import Facility, Resource

Role = Membership.Role
Status = Booking.Status
OFFER_HOURS = 24
SCHOOL_ROLES = (Role.teacher, Role.school_admin)

# The base URL for links in mails; app.py and the command line set it from the settings.
settings_base_url = {"value": "http://127.0.0.1:8000"}


def _base() -> str:
    return settings_base_url["value"]


class BookingConflict(Conflict):
    """The time is taken; `alternatives` are the nearest free times of the same length."""

    def __init__(self, message: str, alternatives: list[tuple[datetime, datetime]]):
        super().__init__(message, alternatives=[{"start": a.isoformat(), "end": b.isoformat()} for a, b in alternatives])
        self.alternatives = alternatives


# --- who may see and do what -----------------------------------------------------------------

@dataclass
class BookingView:
    booking: Booking
    resource: Resource
    facility: Facility
    school: Organisation


def is_school_member(actor: Actor, booking: Booking) -> bool:
    return booking.school in actor.organisation_ids(*SCHOOL_ROLES)


def is_owner_staff(actor: Actor, owner_id: int) -> bool:
    return owner_id in actor.organisation_ids(Role.owner_staff)


def can_see(actor: Actor, booking: Booking, owner_id: int) -> bool:
    return actor.is_platform_admin or is_school_member(actor, booking) or is_owner_staff(actor, owner_id)


def can_approve(actor: Actor, booking: Booking, owner_id: int) -> bool:
    return booking.status == Status.requested and not booking.waitlist_offer and (
        actor.is_platform_admin or is_owner_staff(actor, owner_id))


can_decline = can_approve


def can_cancel(actor: Actor, booking: Booking, owner_id: int) -> bool:
    if booking.status not in HOLDING or booking.end <= now():
        return False
    return actor.is_platform_admin or is_school_member(actor, booking) or is_owner_staff(actor, owner_id)


def can_complete(actor: Actor, booking: Booking, owner_id: int) -> bool:
    return booking.status in (Status.confirmed, Status.approved) and booking.start <= now() and (
        actor.is_platform_admin or is_owner_staff(actor, owner_id))


can_mark_no_show = can_complete


def can_accept_offer(actor: Actor, booking: Booking) -> bool:
    return booking.waitlist_offer and booking.status == Status.requested and booking.expires_at > now() and (
        is_school_member(actor, booking))


async def view(actor: Actor, booking_id: int) -> BookingView:
    """The booking if the actor may see it; NotFound otherwise (no hint that it exists)."""
    booking = await Booking.objects().where(Booking.id == booking_id).first()
    if booking is None:
        raise NotFound(_("This booking does not exist, or you may not see it."))
    resource = await Resource.objects().where(Resource.id == booking.resource).first()
    facility = await Facility.objects().where(Facility.id == resource.facility).first()
    if not can_see(actor, booking, facility.owner):
        raise NotFound(_("This booking does not exist, or you may not see it."))
    school = await Organisation.objects().where(Organisation.id == booking.school).first()
    return BookingView(booking, resource, facility, school)


async def _school_of(actor: Actor, school_id: int | None) -> int:
    schools = sorted(actor.organisation_ids(*SCHOOL_ROLES))
    if school_id is not None:
        if school_id not in schools:
            raise NotAllowed(_("You can only book for your own school."))
        return school_id
    if not schools:
        raise NotAllowed(_("Only teachers and school administrators book; your account belongs to no school."))
    return schools[0]


# --- requesting ------------------------------------------------------------------------------

async def _active_resource(resource_id: int) -> Resource:
    resource = await Resource.objects().where(Resource.id == resource_id).first()
    if resource is None or resource.status != Resource.Status.active:
        raise NotFound(_("This resource does not exist."))
    return resource


async def expire_due(resource_id: int | None = None) -> list[Booking]:
    """Requests whose time to answer has passed free their slot (run inside the caller's
    transaction when booking, and by the worker)."""
    query = Booking.objects().where((Booking.status == Status.requested) & (Booking.expires_at <= now()))
    if resource_id is not None:
        query = query.where(Booking.resource == resource_id)
    expired = []
    for booking in await query:
        done = await Booking.update({Booking.status: Status.expired, Booking.updated_at: now(),
                                     Booking.sequence: booking.sequence + 1}).where(
            (Booking.id == booking.id) & (Booking.status == Status.requested)).returning(Booking.id)
        if not done:
            continue
        booking.status = Status.expired
        await audit.record(None, "booking.expired", "booking", booking.id)
        if booking.waitlist_offer:
            await WaitlistEntry.update({WaitlistEntry.status: WaitlistEntry.Status.expired}).where(
                WaitlistEntry.offered_booking == booking.id)
        else:
            await notifications.notify_booking_expired(booking, _base())
        expired.append(booking)
    for booking in expired:
        await offer_freed_time(booking.resource, booking.start, booking.end)
    return expired


def _is_exclusion_violation(exc: Exception) -> bool:
    return getattr(exc, "sqlstate", None) == "23P01" or type(exc).__name__ == "ExclusionViolationError"


async def request_booking(actor: Actor, resource_id: int, start: datetime, end: datetime, group_size: int,
                          study_programme: int | None = None, purpose: str = "", *, school_id: int | None = None,
                          series_id: int | None = None) -> Booking:
    """Books or requests `resource_id` in [start, end) for the actor's school. Raises
    ValidationFailed (422) for a broken rule, BookingConflict (409) with the nearest free
    alternatives for a taken time."""
    school = await _school_of(actor, school_id)
    resource = await _active_resource(resource_id)
    purpose = (purpose or "").strip()
    if len(purpose) > 2000:
        raise ValidationFailed(_("Describe the purpose in at most %(n)s characters.", n=2000))
    await rules.check_rules(resource, start, end, group_size, actor.user.id)
    price_cents, alternative_cents = rules.price(resource, start, end, group_size)
    status = Status.requested if resource.needs_approval else Status.confirmed
    moment = now()
    try:
        async with atomic():
            await expire_due(resource.id)
            times = await rules.load_times(resource, start, end)
            if rules.conflicts(times, start, end):
                raise _conflict()
            booking = Booking(
                resource=resource.id, school=school, teacher=actor.user.id, series=series_id, start=start, end=end,
                hold_end=end + timedelta(minutes=resource.buffer_minutes), status=status, group_size=group_size,
                study_programme=study_programme, purpose=purpose, price_cents=price_cents,
                alternative_cost_cents=alternative_cents,
                payment_method="" if status == Status.requested else ("free" if not price_cents else "invoice"),
                expires_at=min(moment + timedelta(days=resource.request_expiry_days), start)
                if status == Status.requested else None,
            )
            await booking.save()
            await audit.record(actor, "booking.requested" if status == Status.requested else "booking.confirmed",
                               "booking", booking.id, resource=resource.id, start=start.isoformat(),
                               end=end.isoformat(), group_size=group_size, price_cents=price_cents)
            await notifications.notify_booking_requested(booking, _base())
            if status == Status.confirmed:
                await notifications.notify_booking_approved(booking, _base())
    except BookingConflict as exc:
        raise BookingConflict(str(exc), await rules.alternatives(resource, start, end)) from None
    except Exception as exc:
        if _is_exclusion_violation(exc):  # PostgreSQL's last guard caught a race
            raise BookingConflict(str(_conflict()), await rules.alternatives(resource, start, end)) from None
        raise
    return booking


def _conflict() -> BookingConflict:
    return BookingConflict(_("This time is already taken. Choose one of the free times nearby, or join the waitlist."),
                           [])


# --- transitions -----------------------------------------------------------------------------

async def _transition(actor: Actor, current: BookingView, allowed, action: str, changes: dict, message: str,
                      from_statuses: tuple[str, ...], then=None) -> BookingView:
    """Applies `changes` to the booking the actor sees (`view`) if it is still in one of
    `from_statuses`, in one transaction with its audit entry and what `then(booking)` queues
    (mails, waitlist offers)."""
    booking_id = current.booking.id
    if not allowed(current):
        if current.booking.status not in from_statuses:
            raise Conflict(_("This booking is %(status)s; that cannot change any more.",
                             status=status_label(current.booking.status)))
        raise NotAllowed(message)
    async with atomic():
        done = await Booking.update({**changes, Booking.updated_at: now(), Booking.sequence: Booking.sequence + 1}).where(
            (Booking.id == booking_id) & Booking.status.is_in(list(from_statuses))).returning(Booking.id)
        if not done:  # somebody else changed it first
            raise Conflict(_("This booking changed in the meantime; reload the page."))
        booking = await Booking.objects().where(Booking.id == booking_id).first()
        await audit.record(actor, action, "booking", booking_id, status=booking.status,
                           reason=booking.reason or None)
        if then is not None:
            await then(booking)
        current.booking = booking
    return current


async def approve(actor: Actor, booking_id: int) -> Booking:
    """requested -> approved -> confirmed (free, or to be invoiced; Step 5 puts payment between)."""
    moment = now()
    current = await view(actor, booking_id)
    payment = "free" if not current.booking.price_cents else "invoice"
    result = await _transition(
        actor, current, lambda c: can_approve(actor, c.booking, c.facility.owner), "booking.approved",
        {Booking.status: Status.confirmed, Booking.decided_by: actor.user.id, Booking.decided_at: moment,
         Booking.expires_at: None, Booking.payment_method: payment},
        _("Only the owner's staff approve requests."), (Status.requested,),
        then=lambda booking: notifications.notify_booking_approved(booking, _base()))
    return result.booking


async def decline(actor: Actor, booking_id: int, reason: str) -> Booking:
    reason = (reason or "").strip()
    if not reason:
        message = _("Tell the school why: a reason is required.")
        raise ValidationFailed(message, {"reason": message})
    result = await _transition(
        actor, await view(actor, booking_id), lambda c: can_decline(actor, c.booking, c.facility.owner), "booking.declined",
        {Booking.status: Status.declined, Booking.decided_by: actor.user.id, Booking.decided_at: now(),
         Booking.reason: reason[:2000], Booking.expires_at: None},
        _("Only the owner's staff decline requests."), (Status.requested,), then=_declined)
    return result.booking


async def _declined(booking: Booking) -> None:
    await notifications.notify_booking_declined(booking, _base())
    await offer_freed_time(booking.resource, booking.start, booking.end)


def cancellation_fee(booking: Booking, resource: Resource, at: datetime) -> int:
    """What a late cancellation by the school costs, by the resource's policy."""
    if at <= booking.start - timedelta(hours=resource.free_cancellation_hours):
        return 0
    return booking.price_cents * resource.late_cancellation_percent // 100


async def cancel(actor: Actor, booking_id: int, reason: str = "") -> Booking:
    current = await view(actor, booking_id)
    by_owner = is_owner_staff(actor, current.facility.owner) and not is_school_member(actor, current.booking)
    reason = (reason or "").strip()
    if by_owner and not reason:
        message = _("Tell the school why: a reason is required.")
        raise ValidationFailed(message, {"reason": message})
    fee = 0 if by_owner else cancellation_fee(current.booking, current.resource, now())
    result = await _transition(
        actor, current, lambda c: can_cancel(actor, c.booking, c.facility.owner), "booking.cancelled",
        {Booking.status: Status.cancelled, Booking.reason: reason[:2000], Booking.cancellation_fee_cents: fee,
         Booking.expires_at: None},
        _("You may not cancel this booking."), HOLDING, then=lambda booking: _cancelled(booking, by_owner))
    return result.booking


async def _cancelled(booking: Booking, by_owner: bool) -> None:
    if booking.waitlist_offer:
        await WaitlistEntry.update({WaitlistEntry.status: WaitlistEntry.Status.cancelled}).where(
            WaitlistEntry.offered_booking == booking.id)
    await notifications.notify_booking_cancelled(booking, _base(), by_owner=by_owner)
    await offer_freed_time(booking.resource, booking.start, booking.end)


async def complete(actor: Actor, booking_id: int, pupils_attended: int) -> Booking:
    current = await view(actor, booking_id)
    if not 0 < pupils_attended <= max(current.booking.group_size, current.resource.capacity) * 2:
        message = _("Enter how many pupils came (at least one).")
        raise ValidationFailed(message, {"pupils_attended": message})
    result = await _transition(
        actor, current, lambda c: can_complete(actor, c.booking, c.facility.owner), "booking.completed",
        {Booking.status: Status.completed, Booking.pupils_attended: pupils_attended},
        _("Only the owner's staff mark a booking as done, once it has begun."), (Status.confirmed, Status.approved))
    return result.booking


async def mark_no_show(actor: Actor, booking_id: int) -> Booking:
    result = await _transition(
        actor, await view(actor, booking_id), lambda c: can_mark_no_show(actor, c.booking, c.facility.owner), "booking.no_show",
        {Booking.status: Status.no_show, Booking.pupils_attended: 0},
        _("Only the owner's staff mark a booking as done, once it has begun."), (Status.confirmed, Status.approved))
    return result.booking


# --- the waitlist ----------------------------------------------------------------------------

async def join_waitlist(actor: Actor, resource_id: int, start: datetime, end: datetime, group_size: int,
                        study_programme: int | None = None, purpose: str = "") -> WaitlistEntry:
    school = await _school_of(actor, None)
    resource = await _active_resource(resource_id)
    await rules.check_rules(resource, start, end, group_size, actor.user.id)
    if await WaitlistEntry.exists().where(
            (WaitlistEntry.resource == resource_id) & (WaitlistEntry.teacher == actor.user.id)
            & (WaitlistEntry.start == start) & (WaitlistEntry.status == WaitlistEntry.Status.waiting)):
        raise Conflict(_("You are already on the waitlist for this time."))
    async with atomic():
        entry = WaitlistEntry(resource=resource_id, school=school, teacher=actor.user.id, start=start, end=end,
                              group_size=group_size, study_programme=study_programme, purpose=(purpose or "")[:2000])
        await entry.save()
        await audit.record(actor, "waitlist.joined", "resource", resource_id, start=start.isoformat(), end=end.isoformat())
    return entry


async def offer_freed_time(resource_id: int, start: datetime, end: datetime) -> Booking | None:
    """After a holding booking let go of [start, end): the first school waiting for a time that
    overlaps it and now fits is offered that time, held for OFFER_HOURS (call inside a transaction)."""
    waiting = await WaitlistEntry.objects().where(
        (WaitlistEntry.resource == resource_id) & (WaitlistEntry.status == WaitlistEntry.Status.waiting)
        & (WaitlistEntry.start < end) & (WaitlistEntry.end > start) & (WaitlistEntry.start > now())
    ).order_by(WaitlistEntry.created_at).order_by(WaitlistEntry.id)
    if not waiting:
        return None
    resource = await Resource.objects().where(Resource.id == resource_id).first()
    for entry in waiting:
        times = await rules.load_times(resource, entry.start, entry.end)
        if rules.conflicts(times, entry.start, entry.end):
            continue
        price_cents, alternative_cents = rules.price(resource, entry.start, entry.end, entry.group_size)
        booking = Booking(
            resource=resource_id, school=entry.school, teacher=entry.teacher, start=entry.start, end=entry.end,
            hold_end=entry.end + timedelta(minutes=resource.buffer_minutes), status=Status.requested,
            group_size=entry.group_size, study_programme=entry.study_programme, purpose=entry.purpose,
            price_cents=price_cents, alternative_cost_cents=alternative_cents, waitlist_offer=True,
            expires_at=min(now() + timedelta(hours=OFFER_HOURS), entry.start),
        )
        await booking.save()
        await WaitlistEntry.update({WaitlistEntry.status: WaitlistEntry.Status.offered,
                                    WaitlistEntry.offered_booking: booking.id}).where(WaitlistEntry.id == entry.id)
        await audit.record(None, "waitlist.offered", "booking", booking.id, entry=entry.id)
        await notifications.notify_waitlist_offer(booking, _base())
        return booking
    return None


async def accept_offer(actor: Actor, booking_id: int) -> Booking:
    current = await view(actor, booking_id)
    if not can_accept_offer(actor, current.booking):
        raise Conflict(_("This offer is no longer open."))
    needs_approval = current.resource.needs_approval
    changes = {Booking.waitlist_offer: False}
    if needs_approval:
        changes[Booking.expires_at] = min(now() + timedelta(days=current.resource.request_expiry_days),
                                          current.booking.start)
    else:
        changes.update({Booking.status: Status.confirmed, Booking.expires_at: None,
                        Booking.payment_method: "free" if not current.booking.price_cents else "invoice"})
    async def accepted(booking: Booking) -> None:
        await WaitlistEntry.update({WaitlistEntry.status: WaitlistEntry.Status.accepted}).where(
            WaitlistEntry.offered_booking == booking.id)
        await notifications.notify_booking_requested(booking, _base())
        if not needs_approval:
            await notifications.notify_booking_approved(booking, _base())

    result = await _transition(actor, current, lambda c: True, "waitlist.accepted", changes, "",
                               (Status.requested,), then=accepted)
    return result.booking


# --- jobs ------------------------------------------------------------------------------------

async def send_reminders() -> int:
    """Two days before: a reminder to the teacher, once."""
    moment = now()
    due = await Booking.objects().where(
        Booking.status.is_in([Status.confirmed, Status.approved]) & Booking.reminder_sent_at.is_null()
        & (Booking.start > moment) & (Booking.start <= moment + timedelta(days=2)))
    for booking in due:
        async with atomic():
            done = await Booking.update({Booking.reminder_sent_at: moment}).where(
                (Booking.id == booking.id) & Booking.reminder_sent_at.is_null()).returning(Booking.id)
            if done:
                await notifications.notify_booking_reminder(booking, _base())
    return len(due)


async def run_jobs() -> None:
    async with atomic():
        await expire_due()
    await send_reminders()


# --- reading ---------------------------------------------------------------------------------

async def school_bookings(actor: Actor, *, mine_only: bool = False, when: str = "upcoming",
                          status: str | None = None, limit: int = 200) -> list[dict]:
    schools = list(actor.organisation_ids(*SCHOOL_ROLES))
    if not schools:
        return []
    query = Booking.select(
        Booking.id, Booking.start, Booking.end, Booking.status, Booking.group_size, Booking.price_cents,
        Booking.waitlist_offer, Booking.resource.name, Booking.resource.facility.name,
        Booking.resource.facility.municipality, Booking.teacher.first_name, Booking.teacher.last_name,
    ).where(Booking.school.is_in(schools))
    if mine_only:
        query = query.where(Booking.teacher == actor.user.id)
    moment = now()
    if when == "past":
        query = query.where(Booking.end <= moment).order_by(Booking.start, ascending=False)
    else:
        query = query.where(Booking.end > moment).order_by(Booking.start)
    if status:
        query = query.where(Booking.status == status)
    return await query.limit(limit)


async def owner_inbox(actor: Actor) -> list[dict]:
    owners = list(actor.organisation_ids(Role.owner_staff))
    if actor.is_platform_admin and not owners:
        owners = [r["id"] for r in await Organisation.select(Organisation.id).where(
            Organisation.kind.is_in(["sector_fund", "training_centre", "company", "government"]))]
    if not owners:
        return []
    return await Booking.select(
        Booking.id, Booking.start, Booking.end, Booking.status, Booking.group_size, Booking.purpose,
        Booking.expires_at, Booking.price_cents, Booking.resource.name, Booking.school.name,
        Booking.teacher.first_name, Booking.teacher.last_name, Booking.teacher.email,
    ).where((Booking.status == Status.requested) & (Booking.waitlist_offer == False)  # noqa: E712
            & Booking.resource.facility.owner.is_in(owners)).order_by(Booking.start)


async def calendar(actor: Actor, *, facility_id: int | None = None, resource_id: int | None = None,
                   start: datetime, end: datetime) -> list[dict]:
    """Holding and past bookings in [start, end) of a facility or resource the actor owns."""
    if resource_id is not None:
        resource = await Resource.objects().where(Resource.id == resource_id).first()
        facility_id = resource.facility if resource else None
    facility = await Facility.objects().where(Facility.id == facility_id).first() if facility_id else None
    if facility is None:
        raise NotFound(_("This facility does not exist."))
    if not (actor.is_platform_admin or is_owner_staff(actor, facility.owner)):
        raise NotAllowed(_("Only the staff of its owner may see this calendar."))
    query = Booking.select(
        Booking.id, Booking.start, Booking.end, Booking.status, Booking.group_size, Booking.resource,
        Booking.resource.name, Booking.school.name,
    ).where((Booking.start < end) & (Booking.end > start)
            & Booking.status.is_in([*HOLDING, Status.completed, Status.no_show])).order_by(Booking.start)
    if resource_id is not None:
        query = query.where(Booking.resource == resource_id)
    else:
        query = query.where(Booking.resource.facility == facility_id)
    return await query
