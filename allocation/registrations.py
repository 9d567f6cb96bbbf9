"""Registering in a round: a teacher or school admin of a school the round is for registers,
changes and withdraws requests while the window is open. Registering reserves nothing. Each of
these first takes the round's row lock with its status still open, so a registration and the
allocation that closes the round never cross (PostgreSQL), and two registrations of one school
are checked against each other one after the other."""

from __future__ import annotations

from accounts.tables import Organisation
from allocation import access, loading
from allocation.inputs import RegistrationInput, week_of
from allocation.loading import as_list
from allocation.services import RoundResourceRow, get_round, round_resources, today, window_state
from allocation.tables import AllocationRound, Registration
from booking import services as booking
from core import audit
from core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from core.i18n import format_date
from core.i18n import gettext as _
from core.uow import UnitOfWork
from inventory.tables import StudyProgramme


def _check_window(uow: UnitOfWork, rnd: AllocationRound) -> None:
    state = window_state(rnd, today(uow))
    if state == "not_yet":
        raise Conflict(_("Registration opens on %(day)s.", day=format_date(rnd.registration_opens)))
    if state != "open":
        raise Conflict(_("Registration for this round is closed."))


async def _school(uow: UnitOfWork, rnd: AllocationRound, school_id: int | None) -> Organisation:
    """The school registering: the one asked for (one of the actor's), else the actor's first
    school the round is for."""
    if school_id is not None:
        booking.school_of(uow.actor, school_id)  # one of the actor's schools, or NotAllowed
        wanted = [school_id]
    else:
        wanted = sorted(uow.actor.organisation_ids(*access.SCHOOL_ROLES))
        if not wanted:
            booking.school_of(uow.actor, None)  # the message for an account without a school
    schools = await Organisation.objects().where(Organisation.id.is_in(wanted)).order_by(Organisation.id)
    for school in schools:
        if access.may_register_school(rnd, school):
            return school
    raise NotAllowed(_("This round is for the schools of the RTC's region."))


async def _lock_open(uow: UnitOfWork, round_id: int) -> AllocationRound:
    """Inside the caller's transaction: the round, its row locked while it is still open."""
    rnd = await get_round(uow, round_id)
    locked = await AllocationRound.raw(
        "UPDATE allocation_round SET status = status WHERE id = {} AND status = 'open' RETURNING id", round_id)
    if not locked:
        raise Conflict(_("Registration for this round is closed."))
    return rnd


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
    if not data.pupil_group:  # an unnamed group is a group of its own
        return
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
        rnd = await _lock_open(uow, round_id)
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
        rnd = await _lock_open(uow, round_id)
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
        rnd = await _lock_open(uow, round_id)
        registration = await own_registration(uow, round_id, registration_id)
        if registration.status != Registration.Status.active:
            raise Conflict(_("This registration was withdrawn."))
        _check_window(uow, rnd)
        await Registration.update({Registration.status: Registration.Status.withdrawn,
                                   Registration.updated_at: uow.now()}).where(Registration.id == registration.id)
        await audit.record(uow.actor, "round.registration_withdrawn", "round_registration", registration.id)
        registration.status = Registration.Status.withdrawn
    return registration
