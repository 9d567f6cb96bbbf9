"""A round's life: opened by RTC or owner staff; schools register, change and withdraw while
the window is open (registering reserves nothing); after closing, staff allocate (the pure
`allocation.allocate`, with a recorded seed), adjust by hand within the same rules, and publish:
every allocated day becomes a confirmed booking through booking's services, each in its own
savepoint, and every school and owner is mailed what it got. Each change is one transaction
with its audit entry."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date

from accounts.tables import Organisation
from allocation import access, loading
from allocation.allocate import Caps, Request, Supply, allocate
from allocation.events import RoundPublished
from allocation.inputs import RegistrationInput, RoundInput, week_key, week_of
from allocation.tables import AllocationRound, Registration, RoundAllocation, RoundResource
from booking import services as booking
from booking.services import BookingConflict
from core import audit
from core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from core.i18n import BRUSSELS, format_date
from core.i18n import gettext as _
from core.uow import UnitOfWork
from inventory.tables import Resource, StudyProgramme

Role = access.Role
Status = AllocationRound.Status
BY_HAND = "by_hand"  # a shortfall made by adjusting by hand (the allocation's own reasons are allocate.Reason)
MAX_SEED = 2**63 - 1


def _not_found() -> NotFound:
    return NotFound(_("This allocation round does not exist, or you may not see it."))


def today(uow: UnitOfWork) -> date:
    return uow.now().astimezone(BRUSSELS).date()


def as_list(value) -> list:
    return json.loads(value or "[]") if isinstance(value, str) else list(value or [])


async def get_round(uow: UnitOfWork, round_id: int) -> AllocationRound:
    """Any logged-in user sees a round (its window, caps and totals; registrations are filtered
    by the views)."""
    if uow.actor is None:
        raise _not_found()
    rnd = await AllocationRound.objects().where(AllocationRound.id == round_id).first()
    if rnd is None:
        raise _not_found()
    return rnd


async def managed_round(uow: UnitOfWork, round_id: int) -> AllocationRound:
    rnd = await get_round(uow, round_id)
    if not access.can_manage(uow.actor, rnd):
        raise NotAllowed(_("Only the staff who run this round may do that."))
    return rnd


@dataclass(frozen=True)
class RoundResourceRow:
    id: int
    name: str
    category: int
    capacity: int
    owner: int
    region_code: str
    facility_name: str
    max_days_per_group: int | None


async def round_resources(round_id: int) -> list[RoundResourceRow]:
    rows = await RoundResource.select(
        RoundResource.resource.id.as_alias("id"), RoundResource.resource.name.as_alias("name"),
        RoundResource.resource.category.as_alias("category"), RoundResource.resource.capacity.as_alias("capacity"),
        RoundResource.resource.facility.owner.as_alias("owner"),
        RoundResource.resource.facility.region_code.as_alias("region_code"),
        RoundResource.resource.facility.name.as_alias("facility_name"), RoundResource.max_days_per_group,
    ).where(RoundResource.allocation_round == round_id).order_by(RoundResource.resource.name).order_by(
        RoundResource.resource.id)
    return [RoundResourceRow(**row) for row in rows]


# --- opening a round -------------------------------------------------------------------------

async def open_round(uow: UnitOfWork, data: RoundInput) -> AllocationRound:
    """A new round for `data.resource_ids`, run by the actor's RTC (resources in its region) or
    owner organisation (its own resources)."""
    actor = uow.actor
    if not access.may_organise(actor):
        raise NotAllowed(_("Allocation rounds are opened by RTC staff, or by the owner of the resources."))
    async with uow.transaction():
        resources = await Resource.select(
            Resource.id, Resource.status, Resource.facility.owner.as_alias("owner"),
            Resource.facility.region_code.as_alias("region_code")).where(Resource.id.is_in(list(data.resource_ids)))
        found = {row["id"]: row for row in resources if row["status"] == Resource.Status.active}
        missing = [str(i) for i in data.resource_ids if i not in found]
        if missing:
            message = _("These resources do not exist or are not open: %(ids)s.", ids=", ".join(missing))
            raise ValidationFailed(message, {"resource_ids": message}, rule="resource_ids")
        organiser = await _organiser(uow, data.organiser_id, list(found.values()))
        if data.eligible_programmes:
            known = {row["id"] for row in await StudyProgramme.select(StudyProgramme.id).where(
                StudyProgramme.id.is_in(list(data.eligible_programmes)))}
            if known != set(data.eligible_programmes):
                message = _("Choose study programmes from the list.")
                raise ValidationFailed(message, {"eligible_programmes": message}, rule="eligible_programmes")
        moment = uow.now()
        rnd = AllocationRound(
            name=data.name, organiser=organiser.id,
            region_code=organiser.region_code if organiser.kind == Organisation.Kind.rtc else "",
            note=data.note, registration_opens=data.registration_opens, registration_closes=data.registration_closes,
            period_start=data.period_start, period_end=data.period_end, announce_on=data.announce_on,
            excluded_days=[day.isoformat() for day in data.excluded_days],
            eligible_programmes=list(data.eligible_programmes), eligible_years=list(data.eligible_years),
            max_days_per_school=data.max_days_per_school, max_days_per_group=data.max_days_per_group,
            max_days_per_resource=data.max_days_per_resource, status=Status.open, created_by=actor.user.id,
            created_at=moment, updated_at=moment)
        await rnd.save()
        caps = dict(data.resource_caps)
        await RoundResource.insert(*[RoundResource(allocation_round=rnd.id, resource=resource_id,
                                                   max_days_per_group=caps.get(resource_id))
                                     for resource_id in data.resource_ids])
        await audit.record(actor, "round.opened", "allocation_round", rnd.id, name=data.name,
                           resources=list(data.resource_ids), organiser=organiser.id)
    return rnd


async def _organiser(uow: UnitOfWork, organiser_id: int | None, resources: list[dict]) -> Organisation:
    """The organisation that runs the round: an RTC of the actor whose region holds every
    resource, or an owner of the actor that owns them all (platform admins: any such one)."""
    actor = uow.actor
    owners = {row["owner"] for row in resources}
    regions = {row["region_code"] for row in resources}
    if actor.is_platform_admin:
        candidates = set() if organiser_id is None else {organiser_id}
        if organiser_id is None and len(owners) == 1:
            candidates = set(owners)
    else:
        candidates = actor.organisation_ids(Role.rtc_staff) | actor.organisation_ids(Role.owner_staff)
        if organiser_id is not None:
            candidates &= {organiser_id}
    rows = await Organisation.objects().where(Organisation.id.is_in(sorted(candidates) or [-1])).order_by(
        Organisation.id)
    for org in rows:
        is_rtc = org.kind == Organisation.Kind.rtc and (actor.is_platform_admin or
                                                         org.id in actor.organisation_ids(Role.rtc_staff))
        if is_rtc and org.region_code and regions == {org.region_code}:
            return org
        is_owner = actor.is_platform_admin or org.id in actor.organisation_ids(Role.owner_staff)
        if is_owner and owners == {org.id}:
            return org
    message = _("You can open a round only for resources in your RTC's region, or for your own organisation's "
                "resources.")
    raise NotAllowed(message)


async def cancel_round(uow: UnitOfWork, round_id: int) -> AllocationRound:
    """A round that is not published can be cancelled (nothing was booked)."""
    async with uow.transaction():
        rnd = await managed_round(uow, round_id)
        done = await AllocationRound.update({AllocationRound.status: Status.cancelled,
                                             AllocationRound.updated_at: uow.now()}).where(
            (AllocationRound.id == round_id) & AllocationRound.status.is_in([Status.open, Status.allocated])
        ).returning(AllocationRound.id)
        if not done:
            raise Conflict(_("A published or cancelled round cannot be cancelled."))
        await audit.record(uow.actor, "round.cancelled", "allocation_round", round_id)
        rnd.status = Status.cancelled
    return rnd


# --- registering -----------------------------------------------------------------------------

def window_state(rnd: AllocationRound, day: date) -> str:
    """not_yet, open, closed (waiting for the allocation), allocated, published, cancelled."""
    if rnd.status != Status.open:
        return str(rnd.status.value if hasattr(rnd.status, "value") else rnd.status)
    if day < rnd.registration_opens:
        return "not_yet"
    return "open" if day <= rnd.registration_closes else "closed"


def _check_window(uow: UnitOfWork, rnd: AllocationRound) -> None:
    state = window_state(rnd, today(uow))
    if state == "not_yet":
        raise Conflict(_("Registration opens on %(day)s.", day=format_date(rnd.registration_opens)))
    if state != "open":
        raise Conflict(_("Registration for this round is closed."))


async def _school(uow: UnitOfWork, rnd: AllocationRound, school_id: int | None) -> Organisation:
    school_id = booking.school_of(uow.actor, school_id)
    school = await Organisation.objects().where(Organisation.id == school_id).first()
    if school is None or not access.may_register_school(rnd, school):
        raise NotAllowed(_("This round is for the schools of the RTC's region."))
    return school


async def _check_registration(rnd: AllocationRound, data: RegistrationInput) -> list[RoundResourceRow]:
    """The round's resources the registration names, after checking it against the round."""
    resources = await round_resources(rnd.id)
    if data.resource_id is not None:
        fitting = [r for r in resources if r.id == data.resource_id]
        if not fitting:
            message = _("Choose a resource of this round.")
            raise ValidationFailed(message, {"resource_id": message}, rule="resource_id")
    else:
        fitting = [r for r in resources if r.category == data.category_id]
        if not fitting:
            message = _("Choose a category of this round.")
            raise ValidationFailed(message, {"category_id": message}, rule="category_id")
    errors: dict[str, str] = {}
    largest = max(r.capacity for r in fitting)
    if data.group_size > largest:
        errors["group_size"] = _("At most %(n)s pupils fit; split the group.", n=largest)
    period_days = len(loading.candidate_days(rnd))
    if data.days > period_days:
        errors["days"] = _("The period has %(n)s school days.", n=period_days)
    programmes = as_list(rnd.eligible_programmes)
    if programmes and data.study_programme not in programmes:
        errors["study_programme"] = _("This round is for other study programmes.")
    elif data.study_programme is not None and not await StudyProgramme.exists().where(
            StudyProgramme.id == data.study_programme):
        errors["study_programme"] = _("Choose a study programme from the list.")
    years = as_list(rnd.eligible_years)
    if years and data.school_year not in years:
        errors["school_year"] = _("This round is for pupils of year %(years)s.", years=", ".join(map(str, years)))
    period_weeks = {week_of(day) for day in loading.candidate_days(rnd)}
    if data.weeks and not set(data.weeks) & period_weeks:
        errors["weeks"] = _("Choose weeks in the round's period.")
    if errors:
        raise ValidationFailed(_("Check the fields marked in red."), errors, rule="registration")
    return fitting


async def _check_duplicate(rnd: AllocationRound, school_id: int, data: RegistrationInput, ignore: int | None) -> None:
    query = Registration.select(Registration.id, Registration.pupil_group).where(
        (Registration.allocation_round == rnd.id) & (Registration.school == school_id)
        & (Registration.status == Registration.Status.active)
        & ((Registration.resource == data.resource_id) if data.resource_id is not None
           else (Registration.category == data.category_id)))
    for row in await query:
        if row["id"] != ignore and row["pupil_group"].casefold() == data.pupil_group.casefold():
            message = _("This pupil group is already registered for it; change that registration instead.")
            raise ValidationFailed(message, {"pupil_group": message}, rule="duplicate")


async def register(uow: UnitOfWork, round_id: int, data: RegistrationInput, *, school_id: int | None = None) -> Registration:
    """A school's request while the window is open. Reserves nothing."""
    async with uow.transaction():
        rnd = await get_round(uow, round_id)
        school = await _school(uow, rnd, school_id)
        _check_window(uow, rnd)
        await _check_registration(rnd, data)
        await _check_duplicate(rnd, school.id, data, None)
        moment = uow.now()
        registration = Registration(
            allocation_round=rnd.id, school=school.id, teacher=uow.actor.user.id, **_values(data),
            status=Registration.Status.active, created_at=moment, updated_at=moment)
        await registration.save()
        await audit.record(uow.actor, "round.registered", "round_registration", registration.id, round=rnd.id,
                           school=school.id, days=data.days, resource=data.resource_id, category=data.category_id)
    return registration


def _values(data: RegistrationInput) -> dict:
    return {"pupil_group": data.pupil_group, "resource": data.resource_id, "category": data.category_id,
            "days": data.days, "group_size": data.group_size, "study_programme": data.study_programme,
            "school_year": data.school_year, "weekdays": list(data.weekdays), "weeks": list(data.weeks),
            "preference": data.preference, "note": data.note}


def registration_values(registration: Registration) -> dict:
    """A registration as the raw values RegistrationInput reads (to merge a change into)."""
    return {"pupil_group": registration.pupil_group, "resource_id": registration.resource,
            "category_id": registration.category if registration.resource is None else None,
            "days": registration.days, "group_size": registration.group_size,
            "study_programme": registration.study_programme, "school_year": registration.school_year,
            "weekdays": as_list(registration.weekdays), "weeks": as_list(registration.weeks),
            "preference": registration.preference, "note": registration.note}


async def own_registration(uow: UnitOfWork, round_id: int, registration_id: int) -> Registration:
    """A registration of the actor's school in this round (NotFound for any other)."""
    registration = await Registration.objects().where(
        (Registration.id == registration_id) & (Registration.allocation_round == round_id)).first()
    if registration is None or registration.school not in access.school_ids(uow.actor):
        raise NotFound(_("This registration does not exist, or you may not see it."))
    return registration


async def change_registration(uow: UnitOfWork, round_id: int, registration_id: int,
                              data: RegistrationInput) -> Registration:
    async with uow.transaction():
        rnd = await get_round(uow, round_id)
        registration = await own_registration(uow, round_id, registration_id)
        if registration.status != Registration.Status.active:
            raise Conflict(_("This registration was withdrawn."))
        _check_window(uow, rnd)
        await _check_registration(rnd, data)
        await _check_duplicate(rnd, registration.school, data, registration.id)
        values = _values(data)
        await Registration.update({**{getattr(Registration, k): v for k, v in values.items()},
                                   Registration.updated_at: uow.now()}).where(Registration.id == registration.id)
        await audit.record(uow.actor, "round.registration_changed", "round_registration", registration.id,
                           **{k: v for k, v in values.items() if k != "note"})
        return await Registration.objects().where(Registration.id == registration.id).first()


async def withdraw_registration(uow: UnitOfWork, round_id: int, registration_id: int) -> Registration:
    async with uow.transaction():
        rnd = await get_round(uow, round_id)
        registration = await own_registration(uow, round_id, registration_id)
        if registration.status != Registration.Status.active:
            raise Conflict(_("This registration was withdrawn."))
        _check_window(uow, rnd)
        await Registration.update({Registration.status: Registration.Status.withdrawn,
                                   Registration.updated_at: uow.now()}).where(Registration.id == registration.id)
        await audit.record(uow.actor, "round.registration_withdrawn", "round_registration", registration.id)
        registration.status = Registration.Status.withdrawn
    return registration


# --- allocating ------------------------------------------------------------------------------

def _caps(rnd: AllocationRound, resources: list[RoundResourceRow]) -> Caps:
    return Caps(per_school=rnd.max_days_per_school, per_group=rnd.max_days_per_group,
                per_group_resource=rnd.max_days_per_resource,
                resource_overrides={r.id: r.max_days_per_group for r in resources if r.max_days_per_group is not None})


def candidates_of(registration: Registration, resources: list[RoundResourceRow]) -> tuple[int, ...]:
    """The round's resources a registration names: its resource, or those of its category."""
    if registration.resource is not None:
        return tuple(r.id for r in resources if r.id == registration.resource)
    return tuple(r.id for r in resources if r.category == registration.category)


def as_request(registration: Registration, resources: list[RoundResourceRow]) -> Request:
    weekdays, weeks = as_list(registration.weekdays), as_list(registration.weeks)
    return Request(id=registration.id, school_id=registration.school, group=registration.pupil_group.casefold(),
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
            raise Conflict(_("This round is %(state)s; it cannot be allocated again.", state=_state_word(rnd.status)))
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
        registrations = [r for r in await active_registrations(round_id) if candidates_of(r, resources)]
        free = await loading.free_days_of(rnd, [r.id for r in resources])
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
        await AllocationRound.update({
            AllocationRound.status: Status.allocated, AllocationRound.seed: seed,
            AllocationRound.draw: list(result.draw), AllocationRound.priority: list(result.priority),
            AllocationRound.history: {str(k): v for k, v in earlier.items() if k in set(result.draw)},
            AllocationRound.allocated_at: moment, AllocationRound.allocated_by: uow.actor.user.id,
        }).where(AllocationRound.id == round_id)
        await audit.record(uow.actor, "round.allocated", "allocation_round", round_id, seed=seed,
                           granted=len(result.granted), unmet=len(result.unmet))
        return await AllocationRound.objects().where(AllocationRound.id == round_id).first()


def _state_word(status: str) -> str:
    from allocation.labels import round_status_label

    return round_status_label(status)


# --- adjusting by hand -----------------------------------------------------------------------

async def _adjustable(uow: UnitOfWork, round_id: int) -> AllocationRound:
    rnd = await managed_round(uow, round_id)
    if rnd.status != Status.allocated:
        raise Conflict(_("Only an allocated round that is not yet published can be adjusted."))
    await AllocationRound.update({AllocationRound.updated_at: uow.now()}).where(AllocationRound.id == round_id)
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
        free = (await loading.free_days_of(rnd, [resource_id]))[resource_id]
        _refuse_unless(day in free, "day", _("The resource is not free for the whole day then."))
        taken = await RoundAllocation.select(
            RoundAllocation.registration, RoundAllocation.resource, RoundAllocation.day,
            RoundAllocation.registration.school.as_alias("school"),
            RoundAllocation.registration.pupil_group.as_alias("pupil_group"),
        ).where(RoundAllocation.allocation_round == round_id)
        _refuse_unless(not any(t["resource"] == resource_id and t["day"] == day for t in taken), "day",
                       _("That day of the resource is already allocated in this round."))
        group = [t for t in taken if t["school"] == registration.school
                 and t["pupil_group"].casefold() == registration.pupil_group.casefold()]
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
    """Turns every allocated day into confirmed bookings (one per opening interval of the day,
    for the teacher who registered), each day in its own savepoint: a day that was taken or
    closed since the allocation is kept with its problem and the rest is booked. Then the
    schools and owners are mailed (RoundPublished). A second publish is refused."""
    async with uow.transaction():
        rnd = await managed_round(uow, round_id)
        if rnd.status != Status.allocated:
            raise Conflict(_("Only an allocated round can be published.") if rnd.status == Status.open
                           else _("This round is %(state)s.", state=_state_word(rnd.status)))
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
    spans = loading.windows(week, row.day)
    if not spans:
        return None, _("The resource is no longer open on that day.")
    purpose = f"{rnd.name} · {registration.pupil_group}"
    try:
        async with uow.transaction():  # the whole day, or nothing of it
            first = None
            for start, end in spans:
                made = await booking.book_allocated(
                    uow, row.resource, start, end, registration.group_size, registration.study_programme, purpose,
                    school_id=registration.school, teacher_id=registration.teacher)
                first = first or made.id
            return first, ""
    except (ValidationFailed, BookingConflict, NotFound) as exc:
        return None, str(exc)
