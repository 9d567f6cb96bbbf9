"""Rounds: who runs them, reading one, opening and cancelling one, and the state of its window.
Registering is in `allocation.registrations`, allocating, adjusting and publishing in
`allocation.allocating`. Each change is one transaction with its audit entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from accounts.tables import Organisation
from allocation import access
from allocation.inputs import RoundInput
from allocation.labels import round_status_label
from allocation.tables import AllocationRound, RoundResource
from core import audit
from core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from core.i18n import BRUSSELS
from core.i18n import gettext as _
from core.uow import UnitOfWork
from inventory.tables import Resource, StudyProgramme

Role = access.Role
Status = AllocationRound.Status


def _not_found() -> NotFound:
    return NotFound(_("This allocation round does not exist, or you may not see it."))


def today(uow: UnitOfWork) -> date:
    return uow.now().astimezone(BRUSSELS).date()


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
    """The round's resources that are still offered (a retired one drops out of registering,
    allocating and publishing)."""
    rows = await RoundResource.select(
        RoundResource.resource.id.as_alias("id"), RoundResource.resource.name.as_alias("name"),
        RoundResource.resource.category.as_alias("category"), RoundResource.resource.capacity.as_alias("capacity"),
        RoundResource.resource.facility.owner.as_alias("owner"),
        RoundResource.resource.facility.region_code.as_alias("region_code"),
        RoundResource.resource.facility.name.as_alias("facility_name"), RoundResource.max_days_per_group,
    ).where((RoundResource.allocation_round == round_id) & (RoundResource.resource.status == Resource.Status.active)
            ).order_by(RoundResource.resource.name).order_by(RoundResource.resource.id)
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


def state_word(status: str) -> str:
    return round_status_label(status)


def window_state(rnd: AllocationRound, day: date) -> str:
    """not_yet, open, closed (waiting for the allocation), allocated, published, cancelled."""
    if rnd.status != Status.open:
        return str(rnd.status.value if hasattr(rnd.status, "value") else rnd.status)
    if day < rnd.registration_opens:
        return "not_yet"
    return "open" if day <= rnd.registration_closes else "closed"
