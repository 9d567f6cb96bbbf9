"""Booking rules and life: request (checked against every rule, never double-booked), approve,
confirm, decline, cancel, expire, complete, no-show, and the waitlist. Every transition has a
`can_*` twin, runs in the unit of work's transaction, writes an audit entry, bumps the
iCalendar SEQUENCE and records a domain event (notifications and the waitlist subscribe)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from accounts.services import Actor
from accounts.tables import Membership, Organisation
from booking import events, rules
from booking.labels import status_label
from booking.tables import HOLDING_STATUSES, Booking, WaitlistEntry
from core import audit
from core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from core.i18n import gettext as _
from core.uow import UnitOfWork
from inventory.tables import Facility, Resource

Role = Membership.Role
Status = Booking.Status
OFFER_HOURS = 24
SCHOOL_ROLES = (Role.teacher, Role.school_admin)
MAX_PURPOSE = 2000


class BookingConflict(Conflict):
    """The time is taken; `alternatives` are the nearest free times of the same length."""

    def __init__(self, message: str, alternatives: list[tuple[datetime, datetime]]):
        from core.i18n import BRUSSELS

        super().__init__(message, alternatives=[
            {"start": a.astimezone(BRUSSELS).isoformat(), "end": b.astimezone(BRUSSELS).isoformat()}
            for a, b in alternatives])
        self.alternatives = alternatives


# --- who may see and do what -----------------------------------------------------------------

@dataclass
class BookingView:
    booking: Booking
    resource: Resource
    facility: Facility
    school: Organisation

    @property
    def owner_id(self) -> int:
        return self.facility.owner


def is_school_member(actor: Actor, booking: Booking) -> bool:
    return booking.school in actor.organisation_ids(*SCHOOL_ROLES)


def is_owner_staff(actor: Actor, owner_id: int) -> bool:
    return owner_id in actor.organisation_ids(Role.owner_staff)


def follows_network(actor: Actor, school: Organisation) -> bool:
    """Provider staff follow the schools of their education network."""
    return bool(school.network) and school.network in actor.networks(Role.provider_staff)


def follows_region(actor: Actor, school: Organisation, facility: Facility) -> bool:
    """RTC staff follow the schools and the infrastructure of their region."""
    regions = actor.regions(Role.rtc_staff)
    return bool(regions) and (school.region_code in regions or facility.region_code in regions)


def can_see(actor: Actor, v: BookingView) -> bool:
    return (actor.is_platform_admin or is_school_member(actor, v.booking) or is_owner_staff(actor, v.owner_id)
            or follows_network(actor, v.school) or follows_region(actor, v.school, v.facility))


def can_decide(actor: Actor, owner_id: int) -> bool:
    return actor.is_platform_admin or is_owner_staff(actor, owner_id)


def can_approve(actor: Actor, booking: Booking, owner_id: int) -> bool:
    return booking.status == Status.requested and not booking.waitlist_offer and can_decide(actor, owner_id)


can_decline = can_approve


def can_confirm(actor: Actor, booking: Booking, owner_id: int) -> bool:
    """approved -> confirmed: the payment arrived (payments confirms as the system) or the owner
    confirms by hand."""
    return booking.status == Status.approved and can_decide(actor, owner_id)


def can_cancel(actor: Actor, booking: Booking, owner_id: int, now: datetime) -> bool:
    if booking.status not in HOLDING_STATUSES or booking.end <= now:
        return False
    return actor.is_platform_admin or is_school_member(actor, booking) or is_owner_staff(actor, owner_id)


def can_reschedule(actor: Actor, booking: Booking, now: datetime) -> bool:
    """The school moves its own booking to another time of the same resource, before it starts
    (a waitlist offer is taken or left, not moved)."""
    return (booking.status in HOLDING_STATUSES and booking.start > now and not booking.waitlist_offer
            and (is_school_member(actor, booking) or actor.is_platform_admin))


def can_complete(actor: Actor, booking: Booking, owner_id: int, now: datetime) -> bool:
    return booking.status in (Status.confirmed, Status.approved) and booking.start <= now and can_decide(actor, owner_id)


can_mark_no_show = can_complete


def can_accept_offer(actor: Actor, booking: Booking, now: datetime) -> bool:
    return (booking.waitlist_offer and booking.status == Status.requested and booking.expires_at is not None
            and booking.expires_at > now and is_school_member(actor, booking))


def _not_found() -> NotFound:
    return NotFound(_("This booking does not exist, or you may not see it."))


async def view(uow: UnitOfWork, booking_id: int) -> BookingView:
    """The booking if the acting user may see it; NotFound otherwise (no hint that it exists)."""
    booking = await Booking.objects().where(Booking.id == booking_id).first()
    if booking is None:
        raise _not_found()
    resource = await Resource.objects().where(Resource.id == booking.resource).first()
    facility = await Facility.objects().where(Facility.id == resource.facility).first()
    school = await Organisation.objects().where(Organisation.id == booking.school).first()
    current = BookingView(booking, resource, facility, school)
    if uow.actor is None or not can_see(uow.actor, current):
        raise _not_found()
    return current


def school_of(actor: Actor, school_id: int | None) -> int:
    schools = sorted(actor.organisation_ids(*SCHOOL_ROLES))
    if school_id is not None:
        if school_id not in schools:
            raise NotAllowed(_("You can only book for your own school."))
        return school_id
    if not schools:
        raise NotAllowed(_("Only teachers and school administrators book; your account belongs to no school."))
    return schools[0]


async def bookable(resource_id: int) -> tuple[Resource, int]:
    """The resource and its owner's id, if it can be booked (the one check and message for a
    missing or retired resource), in one query."""
    row = await Resource.select(Resource.all_columns(), Resource.facility.owner.as_alias("owner_id")).where(
        (Resource.id == resource_id) & (Resource.status == Resource.Status.active)).first()
    if row is None:
        raise NotFound(_("This resource does not exist."))
    owner_id = row.pop("owner_id")
    return Resource(**row), owner_id


async def active_resource(resource_id: int) -> Resource:
    return (await bookable(resource_id))[0]


def _purpose(text: str) -> str:
    purpose = (text or "").strip()
    if len(purpose) > MAX_PURPOSE:
        message = _("Describe the purpose in at most %(n)s characters.", n=MAX_PURPOSE)
        raise ValidationFailed(message, {"purpose": message}, rule="purpose")
    return purpose


def _event(kind: type, booking: Booking, owner_id: int, **extra) -> events.BookingEvent:
    return kind(booking_id=booking.id, resource_id=booking.resource, owner_id=owner_id, school_id=booking.school,
                teacher_id=booking.teacher, series_id=booking.series, **extra)


# --- requesting ------------------------------------------------------------------------------

def _is_exclusion_violation(exc: BaseException) -> bool:
    return getattr(exc, "sqlstate", None) == "23P01" or type(exc).__name__ == "ExclusionViolationError"


def _conflict() -> BookingConflict:
    return BookingConflict(_("This time is already taken. Choose one of the free times nearby, or join the waitlist."),
                           [])


async def request_booking(uow: UnitOfWork, resource_id: int, start: datetime, end: datetime, group_size: int,
                          study_programme: int | None = None, purpose: str = "", *, school_id: int | None = None) -> Booking:
    """Books or requests `resource_id` in [start, end) for the acting user's school, in one write
    transaction. Raises ValidationFailed (422) for a broken rule, BookingConflict (409) with the
    nearest free alternatives for a taken time."""
    actor = uow.actor
    school = school_of(actor, school_id)
    purpose = _purpose(purpose)
    moment = uow.now()
    taking = _Taking(start, end, moment)
    async with taking:
        async with uow.transaction():
            resource, owner_id = await bookable(resource_id)
            taking.resource = resource
            times = await rules.load_times(resource, start, end, now=moment)
            await rules.check_rules(resource, times, start, end, group_size, actor.user.id, at=moment)
            booking = await book_checked(uow, resource, owner_id, times, start, end, group_size, study_programme,
                                         purpose, school)
    return booking


class _Taking:
    """Around a transaction that takes [start, end) of a resource: a conflict found inside it, or
    PostgreSQL's exclusion constraint catching a race the check missed, comes out (after the
    rollback) as a BookingConflict with the nearest free alternatives. Set `resource` once known."""

    def __init__(self, start: datetime, end: datetime, moment: datetime) -> None:
        self.start, self.end, self.moment = start, end, moment
        self.resource: Resource | None = None

    async def __aenter__(self) -> _Taking:
        return self

    async def __aexit__(self, exc_type, exc, traceback) -> bool:
        if exc is None or self.resource is None:
            return False
        if not isinstance(exc, BookingConflict) and not _is_exclusion_violation(exc):
            return False
        message = str(exc) if isinstance(exc, BookingConflict) else str(_conflict())
        raise BookingConflict(message, await rules.alternatives(self.resource, self.start, self.end,
                                                                at=self.moment)) from None


async def book_checked(uow: UnitOfWork, resource: Resource, owner_id: int, times: rules.ResourceTimes,
                       start: datetime, end: datetime, group_size: int, study_programme: int | None, purpose: str,
                       school: int, series_id: int | None = None, *, teacher_id: int | None = None,
                       allocated: bool = False) -> Booking:
    """Inside the caller's transaction, after check_rules: takes [start, end) unless another
    holding booking (buffers included) has it, and adds the new hold to `times`. `allocated`:
    a day an allocation round gave the school, confirmed at once for `teacher_id`."""
    actor, moment = uow.actor, uow.now()
    teacher = teacher_id if teacher_id is not None else actor.user.id
    overdue = times.overdue_in(start, end)
    if overdue:  # requests past their answer time give way now, not at the next expiry run
        await expire(uow, overdue)
        times.drop(set(overdue))
    if rules.overlaps_hold(times, start, end) if allocated else rules.conflicts(times, start, end):
        raise _conflict()
    price_cents, alternative_cents = rules.price(resource, start, end, group_size)
    if allocated:  # the round was the decision; its days are not paid online
        status = Status.confirmed
    elif resource.needs_approval:
        status = Status.requested
    else:  # no approval: confirmed at once, or held (approved) until paid online
        status = Status.approved if await payment_required(uow, resource, price_cents) else Status.confirmed
    booking = Booking(
        resource=resource.id, school=school, teacher=teacher, series=series_id, start=start, end=end,
        hold_end=end + timedelta(minutes=resource.buffer_minutes), status=status, group_size=group_size,
        study_programme=study_programme, purpose=purpose, price_cents=price_cents,
        alternative_cost_cents=alternative_cents,
        payment_method="" if status != Status.confirmed else settled_by(resource, price_cents),
        expires_at=min(moment + timedelta(days=resource.request_expiry_days), start)
        if status == Status.requested else None, created_at=moment, updated_at=moment,
    )
    await booking.save()
    times.add(booking.id, start, end, timedelta(minutes=resource.buffer_minutes))
    await audit.record(actor, {Status.requested: "booking.requested", Status.approved: "booking.awaits_payment"}.get(
                           status, "booking.confirmed"),
                       "booking", booking.id, resource=resource.id, start=start.isoformat(),
                       end=end.isoformat(), group_size=group_size, price_cents=price_cents)
    uow.record(events.BookingRequested(
        booking_id=booking.id, resource_id=resource.id, owner_id=owner_id, school_id=school,
        teacher_id=teacher, series_id=series_id, status=status, allocated=allocated))
    return booking


async def book_allocated(uow: UnitOfWork, resource_id: int, start: datetime, end: datetime, group_size: int,
                         study_programme: int | None, purpose: str, *, school_id: int, teacher_id: int) -> Booking:
    """A day an allocation round gave a school ([start, end): the day's first opening to its last
    closing), booked for the teacher who registered it: confirmed at once (the round is the
    decision, so no approval, notice or advance limit), but only while the resource is active and
    the day meets `rules.check_day` and is not booked (ValidationFailed, BookingConflict). Runs in
    its own savepoint of the caller's transaction, so a day that fails leaves nothing. The caller
    (allocation) checks who may publish."""
    moment = uow.now()
    taking = _Taking(start, end, moment)
    async with taking:
        async with uow.transaction():
            resource, owner_id = await bookable(resource_id)
            taking.resource = resource
            times = await rules.load_times(resource, start, end, now=moment)
            await rules.check_day(resource, times, start, end, group_size, teacher_id, at=moment)
            return await book_checked(uow, resource, owner_id, times, start, end, group_size, study_programme,
                                      _purpose(purpose), school_id, teacher_id=teacher_id, allocated=True)


# --- transitions -----------------------------------------------------------------------------

async def _transition(uow: UnitOfWork, booking_id: int, allowed: Callable[[BookingView], bool], action: str,
                      changes: Callable[[BookingView], dict], refused: str, from_statuses: tuple[str, ...],
                      event: Callable[[BookingView], events.BookingEvent] | None,
                      then: Callable[[BookingView], Awaitable[None]] | None = None,
                      before: Callable[[BookingView], Awaitable[None]] | None = None) -> BookingView:
    """In one transaction: the booking the acting user sees, the check, the change (only if it is
    still in one of `from_statuses`), its audit entry and its event. `before` may read what
    `changes` needs (after the check)."""
    async with uow.transaction():
        current = await view(uow, booking_id)
        if not allowed(current):
            if current.booking.status not in from_statuses:
                raise Conflict(_("This booking is %(status)s; that cannot change any more.",
                                 status=status_label(current.booking.status)))
            raise NotAllowed(refused)
        if before is not None:
            await before(current)
        done = await Booking.update({**changes(current), Booking.updated_at: uow.now(),
                                     Booking.sequence: Booking.sequence + 1}).where(
            (Booking.id == booking_id) & Booking.status.is_in(list(from_statuses))).returning(Booking.id)
        if not done:  # somebody else changed it first
            raise Conflict(_("This booking changed in the meantime; reload the page."))
        current.booking = await Booking.objects().where(Booking.id == booking_id).first()
        await audit.record(uow.actor, action, "booking", booking_id, status=current.booking.status,
                           reason=current.booking.reason or None)
        if then is not None:
            await then(current)
        if event is not None:
            uow.record(event(current))
    return current


def settled_by(resource: Resource, price_cents: int) -> str:
    """How a booking confirmed without waiting for payment is paid: free (no price, or a resource
    its owner offers free of charge) or on invoice (also a pay-online resource while paying
    online is not possible)."""
    return "free" if not price_cents or resource.payment_mode == Resource.PaymentMode.free else "invoice"


async def payment_required(uow: UnitOfWork, resource: Resource, price_cents: int, booking_id: int | None = None) -> bool:
    """Whether a booking waits for payment (status approved) before it is confirmed: the payments
    domain answers through the `booking.payment_required` hook (async, given the resource, the
    price and, for an existing booking, its id); without it nothing is paid online."""
    for hook in uow.app.hooks.get("booking.payment_required"):
        if await hook(uow, resource, price_cents, booking_id):
            return True
    return False


async def approve(uow: UnitOfWork, booking_id: int) -> Booking:
    """requested -> approved (waits for payment) or straight on to confirmed (free, invoiced)."""
    actor, moment = uow.actor, uow.now()
    waits: dict[int, bool] = {}

    async def check(v: BookingView) -> None:
        waits[v.booking.id] = await payment_required(uow, v.resource, v.booking.price_cents, v.booking.id)

    def changes(v: BookingView) -> dict:
        if waits.get(v.booking.id):
            return {Booking.status: Status.approved, Booking.decided_by: actor.user.id, Booking.decided_at: moment,
                    Booking.expires_at: None}
        return {Booking.status: Status.confirmed, Booking.decided_by: actor.user.id, Booking.decided_at: moment,
                Booking.expires_at: None, Booking.payment_method: settled_by(v.resource, v.booking.price_cents)}

    result = await _transition(
        uow, booking_id, lambda v: can_approve(actor, v.booking, v.owner_id), "booking.approved", changes,
        _("Only the owner's staff approve requests."), (Status.requested,),
        lambda v: _event(events.BookingApproved, v.booking, v.owner_id, status=v.booking.status), before=check)
    return result.booking


async def confirm(uow: UnitOfWork, booking_id: int, payment_method: str = "") -> Booking:
    """approved -> confirmed (the payments domain calls this when the payment succeeded)."""
    actor = uow.actor
    result = await _transition(
        uow, booking_id, lambda v: can_confirm(actor, v.booking, v.owner_id), "booking.confirmed",
        lambda v: {Booking.status: Status.confirmed, Booking.payment_method: payment_method or v.booking.payment_method},
        _("Only the owner's staff confirm bookings."), (Status.approved,),
        lambda v: _event(events.BookingConfirmed, v.booking, v.owner_id))
    return result.booking


async def decline(uow: UnitOfWork, booking_id: int, reason: str) -> Booking:
    actor = uow.actor
    reason = (reason or "").strip()
    if not reason:
        message = _("Tell the school why: a reason is required.")
        raise ValidationFailed(message, {"reason": message})
    result = await _transition(
        uow, booking_id, lambda v: can_decline(actor, v.booking, v.owner_id), "booking.declined",
        lambda v: {Booking.status: Status.declined, Booking.decided_by: actor.user.id, Booking.decided_at: uow.now(),
                   Booking.reason: reason[:MAX_PURPOSE], Booking.expires_at: None},
        _("Only the owner's staff decline requests."), (Status.requested,),
        lambda v: _event(events.BookingDeclined, v.booking, v.owner_id, reason=reason[:MAX_PURPOSE]))
    return result.booking


def cancellation_fee(booking: Booking, resource: Resource, at: datetime) -> int:
    """What a late cancellation by the school costs, by the resource's policy. A booking that
    still waits for its payment (approved) has cost nothing, so nothing is kept."""
    if booking.status == Status.approved:
        return 0
    if at <= booking.start - timedelta(hours=resource.free_cancellation_hours):
        return 0
    return booking.price_cents * resource.late_cancellation_percent // 100


def cancelled_by_owner(actor: Actor, v: BookingView) -> bool:
    return (is_owner_staff(actor, v.owner_id) or actor.is_platform_admin) and not is_school_member(actor, v.booking)


async def cancel(uow: UnitOfWork, booking_id: int, reason: str = "", *, part_of_series: bool = False) -> Booking:
    actor, moment = uow.actor, uow.now()
    reason = (reason or "").strip()
    fees: dict[int, int] = {}

    def allowed(v: BookingView) -> bool:
        if not can_cancel(actor, v.booking, v.owner_id, moment):
            return False
        if cancelled_by_owner(actor, v) and not reason:
            message = _("Tell the school why: a reason is required.")
            raise ValidationFailed(message, {"reason": message})
        return True

    def changes(v: BookingView) -> dict:
        fees[v.booking.id] = 0 if cancelled_by_owner(actor, v) else cancellation_fee(v.booking, v.resource, moment)
        return {Booking.status: Status.cancelled, Booking.reason: reason[:MAX_PURPOSE],
                Booking.cancellation_fee_cents: fees[v.booking.id], Booking.expires_at: None}

    result = await _transition(
        uow, booking_id, allowed, "booking.cancelled", changes, _("You may not cancel this booking."), HOLDING_STATUSES,
        lambda v: _event(events.BookingCancelled, v.booking, v.owner_id, by_owner=cancelled_by_owner(actor, v),
                         fee_cents=fees.get(v.booking.id, 0), part_of_series=part_of_series))
    return result.booking


async def reschedule(uow: UnitOfWork, booking_id: int, start: datetime, end: datetime) -> Booking:
    """Moves a booking to [start, end) of the same resource in one transaction: the same rules as
    booking (its own time does not stand in the way), the same id, a new price, its history
    kept (an audit entry with the old and new time). Where the resource needs approval, it goes
    back to the owner as a request; a confirmed booking of a resource without approval stays
    confirmed. Raises ValidationFailed (422), BookingConflict (409, with free times nearby),
    NotAllowed or Conflict (it changed, or can no longer move)."""
    actor, moment = uow.actor, uow.now()
    taking = _Taking(start, end, moment)
    async with taking:
        async with uow.transaction():
            current = await view(uow, booking_id)
            b, resource = current.booking, current.resource
            taking.resource = resource
            if not can_reschedule(actor, b, moment):
                if b.status not in HOLDING_STATUSES or b.start <= moment:
                    raise Conflict(_("This booking is %(status)s; it can no longer move.",
                                     status=status_label(b.status)))
                raise NotAllowed(_("Only the school that booked moves a booking."))
            if resource.status != Resource.Status.active:
                raise Conflict(_("This resource is no longer offered; it takes no new times."))
            if (start, end) == (b.start, b.end):
                raise ValidationFailed(_("Choose another time than the current one."),
                                       {"start": _("Choose another time than the current one.")}, rule="start")
            times = await rules.load_times(resource, start, end, now=moment)
            await rules.check_rules(resource, times, start, end, b.group_size, b.teacher, at=moment)
            overdue = [i for i in times.overdue_in(start, end) if i != b.id]
            if overdue:
                await expire(uow, overdue)
                times.drop(set(overdue))
            if rules.conflicts(times, start, end, ignore={b.id}):
                raise _conflict()
            status = Status.requested if resource.needs_approval else b.status
            price_cents, alternative_cents = rules.price(resource, start, end, b.group_size)
            changes = {
                Booking.start: start, Booking.end: end,
                Booking.hold_end: end + timedelta(minutes=resource.buffer_minutes),
                Booking.status: status, Booking.price_cents: price_cents,
                Booking.alternative_cost_cents: alternative_cents, Booking.reminder_sent_at: None,
                Booking.updated_at: moment, Booking.sequence: Booking.sequence + 1,
            }
            if status == Status.requested:
                changes.update({Booking.expires_at: min(moment + timedelta(days=resource.request_expiry_days), start),
                                Booking.decided_by: None, Booking.decided_at: None, Booking.payment_method: ""})
            done = await Booking.update(changes).where(
                (Booking.id == b.id) & (Booking.status == b.status) & (Booking.start == b.start)).returning(Booking.id)
            if not done:
                raise Conflict(_("This booking changed in the meantime; reload the page."))
            await audit.record(actor, "booking.rescheduled", "booking", b.id, status=status,
                               previous_start=b.start.isoformat(), previous_end=b.end.isoformat(),
                               start=start.isoformat(), end=end.isoformat(), price_cents=price_cents)
            uow.record(_event(events.BookingRescheduled, b, current.owner_id, status=status,
                              previous_start=b.start, previous_end=b.end))
            moved = await Booking.objects().where(Booking.id == b.id).first()
    return moved


async def complete(uow: UnitOfWork, booking_id: int, pupils_attended: int) -> Booking:
    actor, moment = uow.actor, uow.now()

    def allowed(v: BookingView) -> bool:
        if not can_complete(actor, v.booking, v.owner_id, moment):
            return False
        if not 0 < pupils_attended <= max(v.booking.group_size, v.resource.capacity) * 2:
            message = _("Enter how many pupils came (at least one).")
            raise ValidationFailed(message, {"pupils_attended": message})
        return True

    result = await _transition(
        uow, booking_id, allowed, "booking.completed",
        lambda v: {Booking.status: Status.completed, Booking.pupils_attended: pupils_attended},
        _("Only the owner's staff mark a booking as done, once it has begun."), (Status.confirmed, Status.approved),
        lambda v: _event(events.BookingCompleted, v.booking, v.owner_id, pupils_attended=pupils_attended))
    return result.booking


async def mark_no_show(uow: UnitOfWork, booking_id: int) -> Booking:
    actor, moment = uow.actor, uow.now()
    result = await _transition(
        uow, booking_id, lambda v: can_mark_no_show(actor, v.booking, v.owner_id, moment), "booking.no_show",
        lambda v: {Booking.status: Status.no_show, Booking.pupils_attended: 0},
        _("Only the owner's staff mark a booking as done, once it has begun."), (Status.confirmed, Status.approved),
        lambda v: _event(events.BookingNoShow, v.booking, v.owner_id))
    return result.booking


async def expire(uow: UnitOfWork, booking_ids: list[int], from_status: str = Status.requested) -> list[Booking]:
    """Requests whose time to answer has passed (or, from payments, approved bookings left
    unpaid) free their slot, inside the caller's transaction."""
    if not booking_ids:
        return []
    done = await Booking.update({Booking.status: Status.expired, Booking.updated_at: uow.now(),
                                 Booking.sequence: Booking.sequence + 1}).where(
        Booking.id.is_in(list(booking_ids)) & (Booking.status == from_status)).returning(Booking.id)
    ids = [row["id"] for row in done]
    if not ids:
        return []
    rows = await Booking.select(Booking.all_columns(), Booking.resource.facility.owner).where(Booking.id.is_in(ids))
    expired = []
    for row in rows:
        owner_id = row.pop("resource.facility.owner")
        booking = Booking(**row)
        await audit.record(None, "booking.expired", "booking", booking.id, unpaid=from_status == Status.approved or None)
        uow.record(_event(events.BookingExpired, booking, owner_id, waitlist_offer=booking.waitlist_offer,
                          unpaid=from_status == Status.approved))
        expired.append(booking)
    return expired


async def confirm_paid(uow: UnitOfWork, booking_id: int, payment_method: str) -> Booking | None:
    """approved -> confirmed because its payment arrived (the payments domain calls this, as the
    system, inside its transaction). None when the booking no longer waits for payment (it was
    cancelled or expired meanwhile): the caller then refunds."""
    done = await Booking.update({Booking.status: Status.confirmed, Booking.payment_method: payment_method[:12],
                                 Booking.updated_at: uow.now(), Booking.sequence: Booking.sequence + 1}).where(
        (Booking.id == booking_id) & (Booking.status == Status.approved)).returning(Booking.id)
    if not done:
        return None
    row = await Booking.select(Booking.all_columns(), Booking.resource.facility.owner).where(
        Booking.id == booking_id).first()
    owner_id = row.pop("resource.facility.owner")
    booking = Booking(**row)
    await audit.record(None, "booking.confirmed", "booking", booking_id, payment_method=payment_method)
    uow.record(_event(events.BookingConfirmed, booking, owner_id))
    return booking


async def expire_unpaid(uow: UnitOfWork, booking_ids: list[int]) -> list[Booking]:
    """Approved bookings whose payment deadline passed unpaid free their slot (the payments
    domain's deadline job calls this, as the system, inside its transaction)."""
    return await expire(uow, booking_ids, from_status=Status.approved)


# --- the waitlist ----------------------------------------------------------------------------

async def join_waitlist(uow: UnitOfWork, resource_id: int, start: datetime, end: datetime, group_size: int,
                        study_programme: int | None = None, purpose: str = "") -> WaitlistEntry:
    actor, moment = uow.actor, uow.now()
    school = school_of(actor, None)
    purpose = _purpose(purpose)
    async with uow.transaction():
        resource = await active_resource(resource_id)
        times = await rules.load_times(resource, start, end)
        await rules.check_rules(resource, times, start, end, group_size, actor.user.id, at=moment)
        if await WaitlistEntry.exists().where(
                (WaitlistEntry.resource == resource_id) & (WaitlistEntry.teacher == actor.user.id)
                & (WaitlistEntry.start == start) & (WaitlistEntry.status == WaitlistEntry.Status.waiting)):
            raise Conflict(_("You are already on the waitlist for this time."))
        entry = WaitlistEntry(resource=resource_id, school=school, teacher=actor.user.id, start=start, end=end,
                              group_size=group_size, study_programme=study_programme, purpose=purpose,
                              created_at=moment)
        await entry.save()
        await audit.record(actor, "waitlist.joined", "resource", resource_id, start=start.isoformat(),
                           end=end.isoformat())
    return entry


async def leave_waitlist(uow: UnitOfWork, entry_id: int) -> None:
    actor = uow.actor
    async with uow.transaction():
        entry = await WaitlistEntry.objects().where(WaitlistEntry.id == entry_id).first()
        if entry is None or not (entry.school in actor.organisation_ids(*SCHOOL_ROLES) or actor.is_platform_admin):
            raise NotFound(_("This waitlist entry does not exist, or you may not see it."))
        if entry.status != WaitlistEntry.Status.waiting:
            raise Conflict(_("You are no longer waiting for this time."))
        await WaitlistEntry.update({WaitlistEntry.status: WaitlistEntry.Status.cancelled}).where(
            WaitlistEntry.id == entry_id)
        await audit.record(actor, "waitlist.left", "resource", entry.resource, entry=entry_id)


async def offer_freed_time(uow: UnitOfWork, resource_id: int, owner_id: int, start: datetime,
                           end: datetime) -> Booking | None:
    """After a holding booking let go of [start, end): the first school waiting for a time that
    overlaps it and now fits is offered that time, held for OFFER_HOURS (inside the transaction)."""
    moment = uow.now()
    waiting = await WaitlistEntry.objects().where(
        (WaitlistEntry.resource == resource_id) & (WaitlistEntry.status == WaitlistEntry.Status.waiting)
        & (WaitlistEntry.start < end) & (WaitlistEntry.end > start) & (WaitlistEntry.start > moment)
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
            expires_at=min(moment + timedelta(hours=OFFER_HOURS), entry.start), created_at=moment,
            updated_at=moment,
        )
        await booking.save()
        await WaitlistEntry.update({WaitlistEntry.status: WaitlistEntry.Status.offered,
                                    WaitlistEntry.offered_booking: booking.id}).where(WaitlistEntry.id == entry.id)
        await audit.record(None, "waitlist.offered", "booking", booking.id, entry=entry.id)
        uow.record(_event(events.WaitlistOffered, booking, owner_id))
        return booking
    return None


async def accept_offer(uow: UnitOfWork, booking_id: int) -> Booking:
    actor, moment = uow.actor, uow.now()

    def changes(v: BookingView) -> dict:
        if v.resource.needs_approval:
            return {Booking.waitlist_offer: False, Booking.expires_at: min(
                moment + timedelta(days=v.resource.request_expiry_days), v.booking.start)}
        if waits.get(v.booking.id):  # paid online: held until paid
            return {Booking.waitlist_offer: False, Booking.status: Status.approved, Booking.expires_at: None}
        return {Booking.waitlist_offer: False, Booking.status: Status.confirmed, Booking.expires_at: None,
                Booking.payment_method: settled_by(v.resource, v.booking.price_cents)}

    waits: dict[int, bool] = {}

    async def check(v: BookingView) -> None:
        waits[v.booking.id] = (not v.resource.needs_approval
                               and await payment_required(uow, v.resource, v.booking.price_cents, v.booking.id))

    def allowed(v: BookingView) -> bool:
        if not can_accept_offer(actor, v.booking, moment):
            raise Conflict(_("This offer is no longer open."))
        return True

    async def accepted(v: BookingView) -> None:
        await WaitlistEntry.update({WaitlistEntry.status: WaitlistEntry.Status.accepted}).where(
            WaitlistEntry.offered_booking == v.booking.id)

    result = await _transition(
        uow, booking_id, allowed, "waitlist.accepted", changes, "", (Status.requested,),
        lambda v: _event(events.BookingRequested, v.booking, v.owner_id, status=v.booking.status), then=accepted,
        before=check)
    return result.booking


# --- subscribers: what booking itself does when a booking lets go of its time ----------------

async def on_time_freed(uow: UnitOfWork, event: events.BookingEvent) -> None:
    """Declined, cancelled or expired: close a waitlist offer it was, and offer the time to the
    next school waiting."""
    booking = await Booking.objects().where(Booking.id == event.booking_id).first()
    if booking.waitlist_offer:
        status = (WaitlistEntry.Status.expired if isinstance(event, events.BookingExpired)
                  else WaitlistEntry.Status.cancelled)
        await WaitlistEntry.update({WaitlistEntry.status: status}).where(WaitlistEntry.offered_booking == booking.id)
    await offer_freed_time(uow, booking.resource, event.owner_id, booking.start, booking.end)


async def on_rescheduled(uow: UnitOfWork, event: events.BookingRescheduled) -> None:
    """A moved booking frees its old time: offer it to the next school waiting."""
    booking = await Booking.objects().where(Booking.id == event.booking_id).first()
    await offer_freed_time(uow, booking.resource, event.owner_id, event.previous_start, event.previous_end)


# --- time taken outside Werkbank ---------------------------------------------------------------

BUSY_INSERT_CHUNK = 500


async def replace_busy_blocks(uow: UnitOfWork, source: str, resource_ids: list[int],
                              spans: list[tuple[datetime, datetime, str, str]]) -> list[dict]:
    """Inside the caller's transaction: the busy blocks that `source` (an owner's linked
    calendar) put on `resource_ids` become `spans` (start, end, uid, summary), all at once.
    Returns the holding bookings those blocks overlap (the owner sees them as conflicts; nothing
    is cancelled)."""
    from booking.tables import BusyBlock

    await BusyBlock.delete().where(BusyBlock.source == source)
    rows = [BusyBlock(resource=resource_id, start=start, end=end, source=source[:200], uid=uid[:300],
                      summary=summary[:300])
            for resource_id in resource_ids for start, end, uid, summary in spans]
    for first in range(0, len(rows), BUSY_INSERT_CHUNK):
        await BusyBlock.insert(*rows[first:first + BUSY_INSERT_CHUNK])
    if not rows or not resource_ids:
        return []
    low, high = min(s[0] for s in spans), max(s[1] for s in spans)
    holding = await Booking.select(Booking.id, Booking.resource, Booking.start, Booking.end).where(
        Booking.resource.is_in(list(resource_ids)) & Booking.status.is_in(list(HOLDING_STATUSES))
        & (Booking.start < high) & (Booking.end > low) & (Booking.end > uow.now()))
    conflicts = []
    for booking in holding:
        for start, end, uid, summary in spans:
            if start < booking["end"] and booking["start"] < end:
                conflicts.append({**booking, "busy_start": start, "busy_end": end, "uid": uid, "summary": summary})
                break
    return conflicts


# --- jobs ------------------------------------------------------------------------------------

async def expire_due_job(uow: UnitOfWork, batch: int) -> int:
    """Requests past their answer time, oldest first, at most `batch` per run."""
    due = await Booking.select(Booking.id).where(
        (Booking.status == Status.requested) & (Booking.expires_at <= uow.now())
    ).order_by(Booking.expires_at).limit(batch)
    if not due:
        return 0
    async with uow.transaction():
        expired = await expire(uow, [row["id"] for row in due])
    return len(expired)


async def reminders_job(uow: UnitOfWork, batch: int) -> int:
    """Two days before: a reminder to the teacher, once (at most `batch` per run)."""
    moment = uow.now()
    due = await Booking.select(Booking.id).where(
        Booking.status.is_in([Status.confirmed, Status.approved]) & Booking.reminder_sent_at.is_null()
        & (Booking.start > moment) & (Booking.start <= moment + timedelta(days=2))
    ).order_by(Booking.start).limit(batch)
    if not due:
        return 0
    from booking import notifications

    async with uow.transaction():
        done = await Booking.update({Booking.reminder_sent_at: moment}).where(
            Booking.id.is_in([row["id"] for row in due]) & Booking.reminder_sent_at.is_null()).returning(Booking.id)
        await notifications.queue_reminders(uow, [row["id"] for row in done])
    return len(due)
