"""Needs: a school records what it lacks; owner staff answer with an offer (the school is
mailed); the school closes a need. Who sees which need: needs.access (least privilege).

Services take plain values and the unit of work and raise domain errors (core.errors)."""

from __future__ import annotations

from dataclasses import dataclass, field

from piccolo.query.functions.aggregate import Count

from accounts.services import Actor
from accounts.tables import Membership, Organisation
from core import audit
from core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from core.i18n import gettext as _
from core.i18n import lazy_gettext as _l
from core.uow import Event, UnitOfWork
from inventory.tables import Category, Resource, StudyProgramme
from needs.access import (  # noqa: F401  (the rules live in needs.access; pages ask them here too)
    SCHOOL_ROLES,
    Visibility,
    can_answer,
    can_close,
    is_school_member,
    may_answer,
    may_record,
    may_see_needs,
    owner_regions,
    visibility,
)
from needs.tables import Need, NeedOffer
from regions.geography import REGIONS

Role = Membership.Role
Status = Need.Status
Reason = Need.Reason
MAX_PUPILS = 2000
MAX_DAYS = 366
MAX_NOTE = 2000
MAX_EQUIPMENT = 200
MAX_MESSAGE = 2000

REASON_LABELS = {
    Reason.outdated: _l("What we have is outdated"),
    Reason.missing: _l("We do not have it"),
    Reason.too_expensive: _l("Too expensive to buy or maintain"),
}
STATUS_LABELS = {
    Status.open: _l("open"),
    Status.answered: _l("answered"),
    Status.closed: _l("closed"),
}


def reason_label(value: str) -> str:
    return str(REASON_LABELS.get(value, value))


def need_status_label(value: str) -> str:
    return str(STATUS_LABELS.get(value, value))


@dataclass(frozen=True)
class NeedAnswered(Event):
    """An owner answered a need with an offer: the school hears of it."""

    need_id: int
    offer_id: int
    school_id: int
    recorded_by: int | None


def _not_found() -> NotFound:
    return NotFound(_("This need does not exist, or you may not see it."))


def _invalid(errors: dict[str, str]) -> ValidationFailed:
    first = next(iter(errors.values()))
    return ValidationFailed(first if len(errors) == 1 else _("Some fields need attention."), errors, rule="need")


# --- recording -------------------------------------------------------------------------------

def _whole(value, name: str, low: int, high: int, errors: dict[str, str], label: str) -> int | None:
    text = str(value if value is not None else "").strip()
    try:
        number = int(text)
    except ValueError:
        errors[name] = _("Give %(what)s as a whole number.", what=label)
        return None
    if not low <= number <= high:
        errors[name] = _("Give %(what)s between %(low)s and %(high)s.", what=label, low=low, high=high)
        return None
    return number


@dataclass
class NeedInput:
    """A need as typed: slugs and text, as the form and the API send them."""

    category: str = ""
    pupils: int | str | None = None
    days_per_year: int | str | None = None
    reason: str = ""
    study_programme: str | None = None
    region: str | None = None
    equipment: str = ""
    note: str = ""
    school_id: int | None = None


def _school_for(actor: Actor, school_id: int | None) -> int:
    schools = sorted(actor.organisation_ids(*SCHOOL_ROLES))
    if school_id is not None:
        if school_id not in schools and not actor.is_platform_admin:
            raise NotAllowed(_("You can only record needs for your own school."))
        return school_id
    if not schools:
        raise NotAllowed(_("Only teachers and school administrators record needs; your account belongs to no school."))
    return schools[0]


async def record_need(uow: UnitOfWork, data: NeedInput) -> Need:
    """A school's need, recorded by a teacher or school admin of that school. Raises
    ValidationFailed (422) with a message per field."""
    actor = uow.actor
    if not may_record(actor):
        raise NotAllowed(_("Only teachers and school administrators record needs."))
    school_id = _school_for(actor, data.school_id)
    errors: dict[str, str] = {}
    category = None
    if not (data.category or "").strip():
        errors["category"] = _("Choose a category.")
    else:
        category = await Category.objects().where(Category.slug == data.category.strip()).first()
        if category is None:
            errors["category"] = _("Unknown category: %(value)s.", value=data.category.strip()[:80])
    programme_id = None
    if (data.study_programme or "").strip():
        row = await StudyProgramme.select(StudyProgramme.id).where(
            StudyProgramme.slug == data.study_programme.strip()).first()
        if row is None:
            errors["study_programme"] = _("Unknown study programme: %(value)s.", value=data.study_programme.strip()[:80])
        else:
            programme_id = row["id"]
    pupils = _whole(data.pupils, "pupils", 1, MAX_PUPILS, errors, _("the number of pupils"))
    days = _whole(data.days_per_year, "days_per_year", 1, MAX_DAYS, errors, _("the number of days a year"))
    if data.reason not in Reason._value2member_map_:
        errors["reason"] = _("Choose why: outdated, missing or too expensive to maintain.")
    school = await Organisation.objects().where(Organisation.id == school_id).first()
    if school is None:
        raise NotFound(_("This school does not exist."))
    region = (data.region or "").strip().upper() or school.region_code
    if region and region not in REGIONS:
        errors["region"] = _("Unknown region: %(value)s.", value=region[:12])
    equipment, note = (data.equipment or "").strip(), (data.note or "").strip()
    if len(equipment) > MAX_EQUIPMENT:
        errors["equipment"] = _("Describe the equipment in at most %(n)s characters.", n=MAX_EQUIPMENT)
    if len(note) > MAX_NOTE:
        errors["note"] = _("Write at most %(n)s characters.", n=MAX_NOTE)
    if errors:
        raise _invalid(errors)
    moment = uow.now()
    async with uow.transaction():
        need = Need(school=school_id, recorded_by=actor.user.id, category=category.id, equipment=equipment,
                    study_programme=programme_id, pupils=pupils, days_per_year=days, region_code=region or "",
                    reason=data.reason, note=note, status=Status.open, created_at=moment, updated_at=moment)
        await need.save()
        await audit.record(actor, "need.recorded", "need", need.id, school=school_id, category=category.slug,
                           pupils=pupils, days_per_year=days, reason=data.reason)
    return need


# --- reading ---------------------------------------------------------------------------------

LIST_COLUMNS = (
    Need.all_columns(),
    Need.school.name.as_alias("school_name"), Need.school.municipality.as_alias("school_municipality"),
    Need.school.postal_code.as_alias("school_postal_code"), Need.school.network.as_alias("school_network"),
    Need.school.latitude.as_alias("school_latitude"), Need.school.longitude.as_alias("school_longitude"),
    Need.category.slug.as_alias("category_slug"), Need.category.name_nl.as_alias("category_name_nl"),
    Need.category.name_en.as_alias("category_name_en"),
    Need.study_programme.slug.as_alias("programme_slug"), Need.study_programme.name.as_alias("programme_name"),
)


@dataclass
class NeedFilter:
    status: str | None = None  # one status, or None for all
    region: str | None = None
    category: str | None = None  # a slug
    school_id: int | None = None
    limit: int = 200
    offset: int = 0


async def list_needs(uow: UnitOfWork, filters: NeedFilter | None = None) -> list[dict]:
    """The needs the acting user may see, newest first, with names (one query, plus one for the
    counts of offers)."""
    filters = filters or NeedFilter()
    seen = await visibility(uow.actor)
    if seen.nothing:
        return []
    query = Need.select(*LIST_COLUMNS)
    condition = seen.condition()
    if condition is not None:
        query = query.where(condition)
    if filters.status:
        query = query.where(Need.status == filters.status)
    if filters.region:
        query = query.where(Need.region_code == filters.region)
    if filters.category:
        query = query.where(Need.category.slug == filters.category)
    if filters.school_id is not None:
        query = query.where(Need.school == filters.school_id)
    rows = await query.order_by(Need.created_at, ascending=False).order_by(Need.id, ascending=False).limit(
        filters.limit).offset(filters.offset)
    counts = await offer_counts([row["id"] for row in rows])
    for row in rows:
        row["offers"] = counts.get(row["id"], 0)
        row["derived"] = False
    return rows


async def offer_counts(need_ids: list[int]) -> dict[int, int]:
    if not need_ids:
        return {}
    rows = await NeedOffer.select(NeedOffer.need, Count(NeedOffer.id).as_alias("n")).where(
        NeedOffer.need.is_in(need_ids)).group_by(NeedOffer.need)
    return {row["need"]: int(row["n"]) for row in rows}


@dataclass
class NeedView:
    need: Need
    school: Organisation
    category: Category
    programme: StudyProgramme | None
    offers: list[dict] = field(default_factory=list)


OFFER_COLUMNS = (
    NeedOffer.all_columns(), NeedOffer.owner.name.as_alias("owner_name"),
    NeedOffer.resource.name.as_alias("resource_name"), NeedOffer.resource.status.as_alias("resource_status"),
    NeedOffer.resource.facility.name.as_alias("facility_name"),
    NeedOffer.resource.facility.municipality.as_alias("facility_municipality"),
    NeedOffer.made_by.first_name.as_alias("made_by_first_name"), NeedOffer.made_by.last_name.as_alias("made_by_last_name"),
)


async def offers_of(need_id: int) -> list[dict]:
    return await NeedOffer.select(*OFFER_COLUMNS).where(NeedOffer.need == need_id).order_by(
        NeedOffer.created_at).order_by(NeedOffer.id)


async def view(uow: UnitOfWork, need_id: int) -> NeedView:
    """The need if the acting user may see it; NotFound otherwise (no hint that it exists)."""
    need = await Need.objects().where(Need.id == need_id).first()
    if need is None or uow.actor is None:
        raise _not_found()
    school = await Organisation.objects().where(Organisation.id == need.school).first()
    if not (await visibility(uow.actor)).allows(need, school):
        raise _not_found()
    category = await Category.objects().where(Category.id == need.category).first()
    programme = (await StudyProgramme.objects().where(StudyProgramme.id == need.study_programme).first()
                 if need.study_programme else None)
    return NeedView(need, school, category, programme, await offers_of(need.id))


# --- answering and closing -------------------------------------------------------------------

async def answer_need(uow: UnitOfWork, need_id: int, message: str, resource_id: int | None = None,
                      owner_id: int | None = None) -> NeedOffer:
    """An owner's offer for a need, with one of its own resources or none. The need becomes
    answered; the school is mailed (after commit, through the outbox)."""
    actor = uow.actor
    text = (message or "").strip()
    errors: dict[str, str] = {}
    if not text:
        errors["message"] = _("Write what you can offer, for example when the workshop is free for schools.")
    elif len(text) > MAX_MESSAGE:
        errors["message"] = _("Write at most %(n)s characters.", n=MAX_MESSAGE)
    async with uow.transaction():
        current = await view(uow, need_id)
        if not may_answer(actor):
            raise NotAllowed(_("Only the staff of an owner answer needs with an offer."))
        if current.need.status == Status.closed:
            raise Conflict(_("This need is closed; it cannot be answered any more."))
        own = actor.organisation_ids(Role.owner_staff)
        resource = None
        if resource_id is not None:
            row = await Resource.select(Resource.id, Resource.status, Resource.facility.owner.as_alias("owner_id")).where(
                Resource.id == resource_id).first()
            if row is None or row["status"] != Resource.Status.active:
                errors["resource"] = _("This resource does not exist or is no longer offered.")
            elif row["owner_id"] not in own and not actor.is_platform_admin:
                raise NotAllowed(_("You can only offer your own organisation's infrastructure."))
            else:
                resource = row
        if errors:
            raise _invalid(errors)
        if resource is not None:
            owner = resource["owner_id"]
        elif owner_id is not None:
            if owner_id not in own and not actor.is_platform_admin:
                raise NotAllowed(_("You can only answer for your own organisation."))
            owner = owner_id
        elif own:
            owner = sorted(own)[0]
        else:
            message = _("Choose the resource you offer.")
            raise ValidationFailed(message, {"resource": message}, rule="need")
        moment = uow.now()
        offer = NeedOffer(need=need_id, owner=owner, resource=resource["id"] if resource else None, message=text,
                          made_by=actor.user.id, created_at=moment)
        await offer.save()
        if current.need.status == Status.open:
            await Need.update({Need.status: Status.answered, Need.updated_at: moment}).where(
                (Need.id == need_id) & (Need.status == Status.open))
        await audit.record(actor, "need.answered", "need", need_id, offer=offer.id, owner=owner,
                           resource=offer.resource)
        uow.record(NeedAnswered(need_id=need_id, offer_id=offer.id, school_id=current.need.school,
                                recorded_by=current.need.recorded_by))
    return offer


async def close_need(uow: UnitOfWork, need_id: int) -> Need:
    """The school closes its need (met, or no longer needed)."""
    async with uow.transaction():
        current = await view(uow, need_id)
        if current.need.status == Status.closed:
            raise Conflict(_("This need is already closed."))
        if not can_close(uow.actor, current.need):
            raise NotAllowed(_("Only the school that recorded this need can close it."))
        await Need.update({Need.status: Status.closed, Need.updated_at: uow.now()}).where(Need.id == need_id)
        await audit.record(uow.actor, "need.closed", "need", need_id)
        current.need.status = Status.closed
    return current.need


async def own_resources(uow: UnitOfWork, category_id: int | None = None) -> list[dict]:
    """The acting owner staff's active resources (of a category), to offer."""
    actor = uow.actor
    if actor is None:
        return []
    query = Resource.select(Resource.id, Resource.name, Resource.facility.name.as_alias("facility_name"),
                            Resource.category).where(Resource.status == Resource.Status.active)
    if not actor.is_platform_admin:
        owners = sorted(actor.organisation_ids(Role.owner_staff))
        if not owners:
            return []
        query = query.where(Resource.facility.owner.is_in(owners))
    if category_id is not None:
        query = query.where(Resource.category == category_id)
    return await query.order_by(Resource.name).order_by(Resource.id).limit(500)


async def school_recipients(school_id: int, recorded_by: int | None) -> list[dict]:
    """Who hears of an offer: the teacher who recorded the need and the school's admins
    (active users, each once)."""
    rows = await Membership.select(Membership.user.id.as_alias("id"), Membership.user.email.as_alias("email"),
                                   Membership.user.language.as_alias("language"), Membership.role).where(
        (Membership.organisation == school_id) & (Membership.user.active == True)  # noqa: E712
        & ((Membership.role == Role.school_admin) | (Membership.user == (recorded_by or -1)))
    ).order_by(Membership.user.id)
    seen, people = set(), []
    for row in rows:
        if row["id"] not in seen:
            seen.add(row["id"])
            people.append(row)
    return people

