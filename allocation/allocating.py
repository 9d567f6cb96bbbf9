"""After registration: staff allocate the round (the pure `allocation.allocate`, with a recorded
seed), adjust it by hand within the same rules, and publish it: every allocated day becomes a
confirmed booking through booking's services, each in its own savepoint, and every school and
owner is mailed what it got (RoundPublished). Each step locks the round's row and checks its
status under the lock, so two of them never cross."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

from allocation import loading
from allocation.allocate import Caps, Request, Supply, allocate
from allocation.events import RoundPublished
from allocation.inputs import week_key
from allocation.loading import as_list
from allocation.services import RoundResourceRow, Status, managed_round, round_resources, state_word, today
from allocation.supply import day_span
from allocation.tables import AllocationRound, Registration, RoundAllocation
from booking import services as booking
from booking.services import BookingConflict
from core import audit
from core.errors import Conflict, NotFound, ValidationFailed
from core.i18n import format_date
from core.i18n import gettext as _
from core.uow import UnitOfWork

BY_HAND = "by_hand"  # a shortfall made by adjusting by hand (the allocation's own reasons are allocate.Reason)
GONE = "resource_gone"  # the registration's resources were all retired before the allocation
MAX_SEED = 2**63 - 1

def _caps(rnd: AllocationRound, resources: list[RoundResourceRow]) -> Caps:
    return Caps(per_school=rnd.max_days_per_school, per_group=rnd.max_days_per_group,
                per_group_resource=rnd.max_days_per_resource,
                resource_overrides={r.id: r.max_days_per_group for r in resources if r.max_days_per_group is not None})


def candidates_of(registration: Registration, resources: list[RoundResourceRow]) -> tuple[int, ...]:
    """The round's resources a registration names: its resource, or those of its category."""
    if registration.resource is not None:
        return tuple(r.id for r in resources if r.id == registration.resource)
    return tuple(r.id for r in resources if r.category == registration.category)


def group_key(registration: Registration) -> str:
    """Who is in one place a day and shares the caps per group: the named pupil group of a school;
    a registration without a group name is a group of its own."""
    return registration.pupil_group.casefold() or f"#{registration.id}"


def as_request(registration: Registration, resources: list[RoundResourceRow]) -> Request:
    weekdays, weeks = as_list(registration.weekdays), as_list(registration.weeks)
    return Request(id=registration.id, school_id=registration.school, group=group_key(registration),
                   resource_ids=candidates_of(registration, resources), days=registration.days,
                   preference=registration.preference, group_size=registration.group_size,
                   weekdays=frozenset(weekdays) if weekdays else None,
                   weeks=frozenset(week_key(w) for w in weeks) if weeks else None)


async def active_registrations(round_id: int) -> list[Registration]:
    return await Registration.objects().where(
        (Registration.allocation_round == round_id) & (Registration.status == Registration.Status.active)
    ).order_by(Registration.id)


async def allocate_round(uow: UnitOfWork, round_id: int, seed: int | None = None) -> AllocationRound:
    """Computes (or computes again, before publishing) the round's allocation once registration
    has closed. `seed` replays an earlier draw; without it a new seed is drawn and recorded."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED):
        message = _("The seed is a whole number from 0 to %(n)s.", n=MAX_SEED)
        raise ValidationFailed(message, {"seed": message}, rule="seed")
    async with uow.transaction():
        rnd = await managed_round(uow, round_id)
        if rnd.status in (Status.published, Status.cancelled):
            raise Conflict(_("This round is %(state)s; it cannot be allocated again.", state=state_word(rnd.status)))
        if today(uow) <= rnd.registration_closes:
            raise Conflict(_("Registration is open until %(day)s; allocate after it closes.",
                             day=format_date(rnd.registration_closes)))
        moment = uow.now()
        # the row lock: a second allocation or a publish waits here, then sees what this one did
        locked = await AllocationRound.update({AllocationRound.updated_at: moment}).where(
            (AllocationRound.id == round_id) & AllocationRound.status.is_in([Status.open, Status.allocated])
        ).returning(AllocationRound.id)
        if not locked:
            raise Conflict(_("This round changed in the meantime; reload the page."))
        resources = await round_resources(round_id)
        active = await active_registrations(round_id)
        registrations = [r for r in active if candidates_of(r, resources)]
        free = await loading.free_days_of(rnd, [r.id for r in resources], after=today(uow))
        supply = [Supply(r.id, free[r.id], r.capacity) for r in resources]
        earlier = await loading.history(rnd)
        seed = secrets.randbelow(2**31) if seed is None else seed
        result = allocate([as_request(r, resources) for r in registrations], supply, _caps(rnd, resources),
                          earlier, seed)
        await RoundAllocation.delete().where(RoundAllocation.allocation_round == round_id)
        by_id = {r.id: r for r in registrations}
        if result.granted:
            await RoundAllocation.insert(*[RoundAllocation(
                allocation_round=round_id, registration=g.request_id, school=by_id[g.request_id].school,
                resource=g.resource_id, day=g.day, pass_number=g.pass_number, sequence=g.sequence, by_hand=False,
                created_at=moment) for g in result.granted])
        await Registration.update({Registration.unmet_reason: ""}).where(Registration.allocation_round == round_id)
        for unmet in result.unmet:
            await Registration.update({Registration.unmet_reason: unmet.reason.value}).where(
                Registration.id == unmet.request_id)
        gone = [r.id for r in active if not candidates_of(r, resources)]
        if gone:
            await Registration.update({Registration.unmet_reason: GONE}).where(Registration.id.is_in(gone))
        await AllocationRound.update({
            AllocationRound.status: Status.allocated, AllocationRound.seed: seed,
            AllocationRound.draw: list(result.draw), AllocationRound.priority: list(result.priority),
            AllocationRound.history: {str(k): v for k, v in earlier.items() if k in set(result.draw)},
            AllocationRound.allocated_at: moment, AllocationRound.allocated_by: uow.actor.user.id,
        }).where(AllocationRound.id == round_id)
        await audit.record(uow.actor, "round.allocated", "allocation_round", round_id, seed=seed,
                           granted=len(result.granted), unmet=len(result.unmet))
        return await AllocationRound.objects().where(AllocationRound.id == round_id).first()


# --- adjusting by hand -----------------------------------------------------------------------

async def _adjustable(uow: UnitOfWork, round_id: int) -> AllocationRound:
    """Inside the caller's transaction: the round, its row locked while it is allocated and not
    published (a publish in flight finishes first, and then this is refused)."""
    rnd = await managed_round(uow, round_id)
    locked = await AllocationRound.update({AllocationRound.updated_at: uow.now()}).where(
        (AllocationRound.id == round_id) & (AllocationRound.status == Status.allocated)).returning(AllocationRound.id)
    if not locked:
        raise Conflict(_("Only an allocated round that is not yet published can be adjusted."))
    return rnd


async def _short_reason(registration_id: int) -> None:
    """After a change by hand: a registration that now has fewer days than asked and no reason
    from the allocation is short 'by hand'; one that has all it asked has no reason."""
    registration = await Registration.objects().where(Registration.id == registration_id).first()
    got = await RoundAllocation.count().where(RoundAllocation.registration == registration_id)
    reason = "" if got >= registration.days else (registration.unmet_reason or BY_HAND)
    await Registration.update({Registration.unmet_reason: reason}).where(Registration.id == registration_id)


async def remove_allocation(uow: UnitOfWork, round_id: int, allocation_id: int) -> None:
    async with uow.transaction():
        await _adjustable(uow, round_id)
        row = await RoundAllocation.objects().where(
            (RoundAllocation.id == allocation_id) & (RoundAllocation.allocation_round == round_id)).first()
        if row is None:
            raise NotFound(_("This allocated day does not exist."))
        await RoundAllocation.delete().where(RoundAllocation.id == allocation_id)
        await Registration.update({Registration.unmet_reason: BY_HAND}).where(
            Registration.id == row.registration)
        await audit.record(uow.actor, "round.day_removed", "allocation_round", round_id, registration=row.registration,
                           resource=row.resource, day=row.day.isoformat())


async def add_allocation(uow: UnitOfWork, round_id: int, registration_id: int, resource_id: int,
                         day: date) -> RoundAllocation:
    """A day given by hand, within the same rules as the allocation: a free day of a resource the
    registration names, on a weekday and week it accepts, the group not elsewhere that day, no
    more days than asked, and no cap passed."""
    async with uow.transaction():
        rnd = await _adjustable(uow, round_id)
        registration = await Registration.objects().where(
            (Registration.id == registration_id) & (Registration.allocation_round == round_id)
            & (Registration.status == Registration.Status.active)).first()
        if registration is None:
            raise NotFound(_("This registration does not exist, or was withdrawn."))
        resources = await round_resources(round_id)
        _refuse_unless(resource_id in candidates_of(registration, resources), "resource_id",
                       _("This registration does not ask for that resource."))
        resource = next(r for r in resources if r.id == resource_id)
        _refuse_unless(registration.group_size <= resource.capacity, "resource_id",
                       _("The group does not fit in that resource."))
        request = as_request(registration, resources)
        _refuse_unless((request.weekdays is None or day.weekday() in request.weekdays)
                       and (request.weeks is None or day.isocalendar()[:2] in request.weeks), "day",
                       _("The school cannot come on that day (its weekdays or weeks)."))
        _refuse_unless(day > today(uow), "day", _("That day has passed."))
        free = (await loading.free_days_of(rnd, [resource_id], after=today(uow)))[resource_id]
        _refuse_unless(day in free, "day", _("The resource is not free for the whole day then."))
        taken = await RoundAllocation.select(
            RoundAllocation.registration, RoundAllocation.resource, RoundAllocation.day,
            RoundAllocation.registration.school.as_alias("school"),
            RoundAllocation.registration.pupil_group.as_alias("pupil_group"),
        ).where(RoundAllocation.allocation_round == round_id)
        key = group_key(registration)
        _refuse_unless(not any(t["resource"] == resource_id and t["day"] == day for t in taken), "day",
                       _("That day of the resource is already allocated in this round."))
        group = [t for t in taken if t["school"] == registration.school
                 and (t["pupil_group"].casefold() or f"#{t['registration']}") == key]
        _refuse_unless(not any(t["day"] == day for t in group), "day", _("The pupil group has a day elsewhere then."))
        mine = sum(1 for t in taken if t["registration"] == registration.id)
        _refuse_unless(mine < registration.days, "day", _("The registration already has all the days it asked."))
        caps = _caps(rnd, resources)
        school_days = sum(1 for t in taken if t["school"] == registration.school)
        _refuse_unless(caps.per_school is None or school_days < caps.per_school, "day",
                       _("The school has reached the round's cap of days."))
        _refuse_unless(caps.per_group is None or len(group) < caps.per_group, "day",
                       _("The pupil group has reached the round's cap of days."))
        limit = caps.group_resource_limit(resource_id)
        _refuse_unless(limit is None or sum(1 for t in group if t["resource"] == resource_id) < limit, "day",
                       _("The pupil group has reached the cap of days for this resource."))
        last = await RoundAllocation.select(RoundAllocation.sequence).where(
            RoundAllocation.allocation_round == round_id).order_by(RoundAllocation.sequence, ascending=False).first()
        sequence = (last["sequence"] if last else 0) + 1
        row = RoundAllocation(allocation_round=round_id, registration=registration.id, school=registration.school,
                              resource=resource_id, day=day, pass_number=0, sequence=sequence, by_hand=True,
                              created_at=uow.now())
        await row.save()
        await _short_reason(registration.id)
        await audit.record(uow.actor, "round.day_added", "allocation_round", round_id, registration=registration.id,
                           resource=resource_id, day=day.isoformat())
    return row


def _refuse_unless(condition: bool, field: str, message: str) -> None:
    if not condition:
        raise ValidationFailed(message, {field: message}, rule="adjustment")


# --- publishing ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Published:
    booked: int  # days booked
    problems: int  # days that could not be booked (taken or closed since the allocation)


async def publish_round(uow: UnitOfWork, round_id: int) -> Published:
    """Turns every allocated day into a confirmed booking (from the day's first opening to its
    last closing, for the teacher who registered), each in its own savepoint: a day that was
    taken, closed or passed since the allocation is kept with its problem and the rest is booked.
    Then the schools and owners are mailed (RoundPublished). A second publish is refused."""
    async with uow.transaction():
        rnd = await managed_round(uow, round_id)
        if rnd.status != Status.allocated:
            raise Conflict(_("Only an allocated round can be published.") if rnd.status == Status.open
                           else _("This round is %(state)s.", state=state_word(rnd.status)))
        moment = uow.now()
        done = await AllocationRound.update({
            AllocationRound.status: Status.published, AllocationRound.published_at: moment,
            AllocationRound.published_by: uow.actor.user.id, AllocationRound.updated_at: moment,
        }).where((AllocationRound.id == round_id) & (AllocationRound.status == Status.allocated)).returning(
            AllocationRound.id)
        if not done:
            raise Conflict(_("This round changed in the meantime; reload the page."))
        rows = await RoundAllocation.objects().where(RoundAllocation.allocation_round == round_id).order_by(
            RoundAllocation.day).order_by(RoundAllocation.resource).order_by(RoundAllocation.id)
        registrations = {r.id: r for r in await Registration.objects().where(
            Registration.allocation_round == round_id)}
        week = await loading.opening_hours(sorted({row.resource for row in rows}))
        booked = problems = 0
        for row in rows:
            registration = registrations[row.registration]
            booking_id, problem = await _book_day(uow, rnd, row, registration, week.get(row.resource, {}))
            await RoundAllocation.update({RoundAllocation.booking: booking_id, RoundAllocation.problem: problem}).where(
                RoundAllocation.id == row.id)
            booked, problems = booked + (booking_id is not None), problems + (booking_id is None)
        await audit.record(uow.actor, "round.published", "allocation_round", round_id, booked=booked, problems=problems)
        uow.record(RoundPublished(round_id=round_id))
    return Published(booked, problems)


async def _book_day(uow: UnitOfWork, rnd: AllocationRound, row: RoundAllocation, registration: Registration,
                    week: dict) -> tuple[int | None, str]:
    span = day_span(row.day, week)
    if span is None:
        return None, _("The resource is no longer open on that day.")
    purpose = " · ".join(part for part in (rnd.name, registration.pupil_group) if part)
    try:
        made = await booking.book_allocated(
            uow, row.resource, *span, registration.group_size, registration.study_programme, purpose,
            school_id=registration.school, teacher_id=registration.teacher)
    except (ValidationFailed, BookingConflict, NotFound) as exc:
        return None, str(exc)
    return made.id, ""
