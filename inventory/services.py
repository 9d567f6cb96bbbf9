"""Inventory rules: owners keep their facilities, resources, opening hours, closures, photos
and qualifications; everyone logged in reads active resources. Services take plain values and
the acting user and raise domain errors."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from PIL import Image, UnidentifiedImageError

from accounts.services import OWNER_KINDS, Actor
from accounts.tables import Membership, Organisation, User
from core import audit
from core.errors import NotAllowed, NotFound, ValidationFailed
from core.i18n import BRUSSELS
from core.i18n import gettext as _
from core.timeutil import parse_local
from core.uow import UnitOfWork
from inventory.fields import FacilityInput, ResourceInput, read_facility, read_resource
from inventory.hours import Interval
from inventory.tables import (
    Category,
    Closure,
    Facility,
    OpeningHours,
    Photo,
    Qualification,
    QualificationGrant,
    Resource,
    ResourceProgramme,
    StudyProgramme,
)

Role = Membership.Role
MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTO_SIDE = 2000
MAX_PHOTO_PIXELS = 25_000_000  # checked in the header, before anything is decoded
PHOTO_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MAX_PHOTOS = 12


def _invalid(errors: dict[str, str]) -> ValidationFailed:
    first = next(iter(errors.values()))
    return ValidationFailed(_("Not saved: %(reason)s", reason=first) if len(errors) == 1
                            else _("Not saved: %(n)s fields need attention.", n=len(errors)), errors)


# --- who may do what -------------------------------------------------------------------------

def can_manage(actor: Actor | None, owner_id: int) -> bool:
    return actor is not None and actor.acts_for(owner_id, Role.owner_staff)


async def owner_organisations(uow: UnitOfWork) -> list[Organisation]:
    actor = uow.actor
    query = Organisation.objects().where(Organisation.kind.is_in(list(OWNER_KINDS))).order_by(Organisation.name)
    if not actor.is_platform_admin:
        ids = list(actor.organisation_ids(Role.owner_staff))
        if not ids:
            return []
        query = query.where(Organisation.id.is_in(ids))
    return await query


async def facility_for_edit(uow: UnitOfWork, facility_id: int) -> Facility:
    actor = uow.actor
    facility = await Facility.objects().where(Facility.id == facility_id).first()
    if facility is None:
        raise NotFound(_("This facility does not exist."))
    if not can_manage(actor, facility.owner):
        raise NotAllowed(_("Only the staff of its owner may change this facility."))
    return facility


async def resource_for_edit(uow: UnitOfWork, resource_id: int) -> Resource:
    actor = uow.actor
    resource = await Resource.objects(Resource.facility).where(Resource.id == resource_id).first()
    if resource is None:
        raise NotFound(_("This resource does not exist."))
    if not can_manage(actor, resource.facility.owner):
        raise NotAllowed(_("Only the staff of its owner may change this resource."))
    return resource


# --- facilities ------------------------------------------------------------------------------

async def list_facilities(uow: UnitOfWork, owner_id: int | None = None) -> list[Facility]:
    owners = [o.id for o in await owner_organisations(uow)]
    if owner_id is not None:
        if owner_id not in owners:
            raise NotAllowed(_("Only the staff of its owner may see this inventory."))
        owners = [owner_id]
    if not owners:
        return []
    return await Facility.objects().where(Facility.owner.is_in(owners)).order_by(Facility.name)


def facility_values(uow: UnitOfWork, data: FacilityInput) -> dict:
    point = uow.app.locator.locate(data.street, data.postal_code, data.municipality)
    return {
        Facility.name: data.name, Facility.description: data.description, Facility.street: data.street,
        Facility.postal_code: data.postal_code, Facility.municipality: data.municipality,
        Facility.region_code: data.region_code, Facility.contact_email: data.contact_email,
        Facility.phone: data.phone, Facility.external_id: data.external_id,
        Facility.latitude: point[0] if point else None, Facility.longitude: point[1] if point else None,
    }


async def save_facility(uow: UnitOfWork, owner_id: int, data: dict[str, str], facility_id: int | None = None) -> Facility:
    actor = uow.actor
    if not can_manage(actor, owner_id):
        raise NotAllowed(_("Only the staff of its owner may change this facility."))
    parsed, errors = read_facility(data)
    if errors:
        raise _invalid(errors)
    values = facility_values(uow, parsed)
    async with uow.transaction():
        if facility_id is None:
            facility = Facility(owner=owner_id, **{column._meta.name: value for column, value in values.items()})
            await facility.save()
            if not facility.external_id:  # every facility has an id the CSV import can match on
                await Facility.update({Facility.external_id: f"F{facility.id}"}).where(Facility.id == facility.id)
            await audit.record(actor, "facility.created", "facility", facility.id, name=parsed.name)
        else:
            facility = await facility_for_edit(uow, facility_id)
            if facility.owner != owner_id:
                raise NotAllowed(_("Only the staff of its owner may change this facility."))
            await Facility.update({**values, Facility.updated_at: uow.now()}).where(Facility.id == facility.id)
            await audit.record(actor, "facility.updated", "facility", facility.id, name=parsed.name)
    return await Facility.objects().where(Facility.id == facility.id).first()


# --- resources -------------------------------------------------------------------------------

async def categories() -> list[Category]:
    return await Category.objects().order_by(Category.position)


async def study_programmes() -> list[StudyProgramme]:
    return await StudyProgramme.objects().order_by(StudyProgramme.finality).order_by(StudyProgramme.name)


async def resolve_references(owner_id: int, parsed: ResourceInput, errors: dict[str, str],
                              by_name: bool = False) -> tuple[int | None, list[int], int | None]:
    category = await Category.select(Category.id).where(
        (Category.slug == parsed.category_slug) | (Category.name_nl == parsed.category_slug)
    ).first()
    if category is None and "category" not in errors:
        errors["category"] = _("Unknown category %(value)s.", value=parsed.category_slug)
    programme_ids = []
    if parsed.programme_slugs:
        rows = await StudyProgramme.select(StudyProgramme.id, StudyProgramme.slug, StudyProgramme.name).where(
            StudyProgramme.slug.is_in(parsed.programme_slugs) | StudyProgramme.name.is_in(parsed.programme_slugs)
        )
        known = {r["slug"] for r in rows} | {r["name"] for r in rows}
        unknown = [p for p in parsed.programme_slugs if p not in known]
        if unknown:
            errors["study_programmes"] = _("Unknown study programme: %(value)s.", value=", ".join(unknown))
        programme_ids = sorted({r["id"] for r in rows})
    qualification_id = None
    if parsed.qualification:
        query = Qualification.select(Qualification.id).where(Qualification.owner == owner_id)
        if by_name:
            query = query.where(Qualification.name == parsed.qualification)
        elif parsed.qualification.isdigit() and len(parsed.qualification) < 10:
            query = query.where(Qualification.id == int(parsed.qualification))
        else:
            query = query.where(Qualification.name == parsed.qualification)
        row = await query.first()
        if row is None:
            errors["qualification"] = _("Unknown qualification %(value)s; create it under Qualifications first.",
                                        value=parsed.qualification)
        else:
            qualification_id = row["id"]
    return (category["id"] if category else None), programme_ids, qualification_id


async def write_week(resource_id: int, week: dict[int, list[Interval]]) -> None:
    await OpeningHours.delete().where(OpeningHours.resource == resource_id)
    rows = [OpeningHours(resource=resource_id, weekday=day, opens=a, closes=b)
            for day, spans in sorted(week.items()) for a, b in spans]
    if rows:
        await OpeningHours.insert(*rows)


async def write_programmes(resource_id: int, programme_ids: list[int]) -> None:
    await ResourceProgramme.delete().where(ResourceProgramme.resource == resource_id)
    if programme_ids:
        await ResourceProgramme.insert(*[ResourceProgramme(resource=resource_id, programme=p) for p in programme_ids])


def payment_modes(uow: UnitOfWork) -> list[dict]:
    """How a resource's price may be paid: the payments domain says (`inventory.payment_modes`,
    with why a mode is not offered); without it, on invoice or free."""
    for hook in uow.app.hooks.get("inventory.payment_modes"):
        return hook(uow.settings)
    return [{"value": "invoice", "label": _("On invoice (the owner invoices the school)"), "why": ""},
            {"value": "free", "label": _("Free (never charged)"), "why": ""}]


async def save_resource(uow: UnitOfWork, facility_id: int, data: dict[str, str], *, programmes: list[str] | None = None,
                        resource_id: int | None = None, week_from_days: bool = False) -> Resource:
    """Creates a resource in that facility, or changes one. Raises ValidationFailed with a
    message per field, NotAllowed for another owner's facility."""
    actor = uow.actor
    facility = await facility_for_edit(uow, facility_id)
    parsed, errors = read_resource(data, programmes, week_from_days=week_from_days)
    refused = {mode["value"]: mode["why"] for mode in payment_modes(uow) if mode["why"]}
    if parsed.values.get("payment_mode") in refused and parsed.values.get("price_cents"):
        errors["payment_mode"] = refused[parsed.values["payment_mode"]]
    category_id, programme_ids, qualification_id = await resolve_references(facility.owner, parsed, errors)
    if errors:
        raise _invalid(errors)
    values = {**parsed.values, "category": category_id, "required_qualification": qualification_id}
    async with uow.transaction():
        if resource_id is None:
            resource = Resource(facility=facility.id, **values)
            await resource.save()
            if not resource.external_id:
                await Resource.update({Resource.external_id: f"R{resource.id}"}).where(Resource.id == resource.id)
            action = "resource.created"
        else:
            resource = await resource_for_edit(uow, resource_id)
            if resource.facility.id != facility.id:
                # moving to another facility: it must be the same owner's
                if resource.facility.owner != facility.owner:
                    raise NotAllowed(_("Only the staff of its owner may change this resource."))
            await Resource.update({**{getattr(Resource, k): v for k, v in values.items()},
                                   Resource.facility: facility.id, Resource.updated_at: uow.now()}).where(
                Resource.id == resource.id)
            action = "resource.updated"
        await write_programmes(resource.id, programme_ids)
        if parsed.week is not None:
            await write_week(resource.id, parsed.week)
        await audit.record(actor, action, "resource", resource.id, **{k: v for k, v in values.items() if k != "description"})
    return await Resource.objects().where(Resource.id == resource.id).first()


async def set_status(uow: UnitOfWork, resource_id: int, status: str) -> Resource:
    actor = uow.actor
    resource = await resource_for_edit(uow, resource_id)
    status = Resource.Status(status).value
    async with uow.transaction():
        await Resource.update({Resource.status: status, Resource.updated_at: uow.now()}).where(Resource.id == resource.id)
        await audit.record(actor, "resource.retired" if status == "retired" else "resource.reopened", "resource", resource.id)
    return await Resource.objects().where(Resource.id == resource_id).first()


# --- closures --------------------------------------------------------------------------------

async def add_closure(uow: UnitOfWork, resource_id: int, starts: str, ends: str, reason: str) -> Closure:
    actor = uow.actor
    resource = await resource_for_edit(uow, resource_id)
    starts_at = parse_local(starts, "starts_at")
    ends_at = parse_local(ends, "ends_at")
    if ends_at <= starts_at:
        message = _("The end of a closure must come after its start.")
        raise ValidationFailed(message, {"ends_at": message})
    if ends_at - starts_at > timedelta(days=366):
        message = _("A closure lasts at most a year; retire the resource instead.")
        raise ValidationFailed(message, {"ends_at": message})
    async with uow.transaction():
        closure = Closure(resource=resource.id, starts_at=starts_at, ends_at=ends_at, reason=(reason or "").strip()[:200])
        await closure.save()
        await audit.record(actor, "closure.added", "resource", resource.id, starts_at=starts_at.isoformat(),
                           ends_at=ends_at.isoformat(), reason=closure.reason)
    return closure


async def delete_closure(uow: UnitOfWork, closure_id: int) -> int:
    actor = uow.actor
    closure = await Closure.objects().where(Closure.id == closure_id).first()
    if closure is None:
        raise NotFound(_("This closure does not exist."))
    resource = await resource_for_edit(uow, closure.resource)
    async with uow.transaction():
        await Closure.delete().where(Closure.id == closure.id)
        await audit.record(actor, "closure.removed", "resource", resource.id, starts_at=closure.starts_at.isoformat())
    return resource.id


async def closures(resource_id: int, since: datetime | None = None) -> list[Closure]:
    query = Closure.objects().where(Closure.resource == resource_id).order_by(Closure.starts_at)
    if since is not None:
        query = query.where(Closure.ends_at > since)
    return await query


# --- photos ----------------------------------------------------------------------------------

def _clean_image(content: bytes) -> tuple[bytes, str, int, int]:
    """Checks by content that this is a JPEG, PNG or WebP image of sensible size, and writes it
    again without its metadata (no GPS positions of the workshop leave with it)."""
    if len(content) > MAX_PHOTO_BYTES:
        raise ValidationFailed(_("A photo may be at most %(mb)s MB.", mb=MAX_PHOTO_BYTES // (1024 * 1024)))
    try:
        with Image.open(io.BytesIO(content)) as probe:  # reads the header only
            if probe.width * probe.height > MAX_PHOTO_PIXELS:
                raise ValidationFailed(_("A photo may have at most %(mp)s megapixels; make it smaller first.",
                                         mp=MAX_PHOTO_PIXELS // 1_000_000))
            probe.verify()
        with Image.open(io.BytesIO(content)) as image:
            kind = image.format
            if kind not in PHOTO_TYPES:
                raise ValidationFailed(_("Only JPEG, PNG or WebP photos are accepted."))
            image.load()
            if max(image.size) > MAX_PHOTO_SIDE:
                image.thumbnail((MAX_PHOTO_SIDE, MAX_PHOTO_SIDE))
            if kind == "JPEG" and image.mode not in ("RGB", "L"):
                image = image.convert("RGB")
            out = io.BytesIO()
            image.save(out, format=kind, **({"quality": 88} if kind in ("JPEG", "WEBP") else {}))
            return out.getvalue(), PHOTO_TYPES[kind], image.width, image.height
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise ValidationFailed(_("This file is not an image that Werkbank can show (JPEG, PNG or WebP).")) from None


async def add_photo(uow: UnitOfWork, resource_id: int, content: bytes, caption: str = "") -> Photo:
    actor = uow.actor
    resource = await resource_for_edit(uow, resource_id)
    if not content:
        raise ValidationFailed(_("Choose a photo to upload."))
    if await Photo.count().where(Photo.resource == resource.id) >= MAX_PHOTOS:
        raise ValidationFailed(_("A resource has at most %(n)s photos.", n=MAX_PHOTOS))
    # decoding and re-encoding take up to a second of CPU: in a thread, not on the event loop
    data, content_type, width, height = await asyncio.to_thread(_clean_image, content)
    async with uow.transaction():
        photo = Photo(resource=resource.id, content=data, content_type=content_type, width=width, height=height,
                      size=len(data), caption=(caption or "").strip()[:200])
        await photo.save()
        await audit.record(actor, "photo.added", "resource", resource.id, photo=photo.id)
    return photo


async def delete_photo(uow: UnitOfWork, photo_id: int) -> int:
    actor = uow.actor
    row = await Photo.select(Photo.id, Photo.resource).where(Photo.id == photo_id).first()
    if row is None:
        raise NotFound(_("This photo does not exist."))
    resource = await resource_for_edit(uow, row["resource"])
    async with uow.transaction():
        await Photo.delete().where(Photo.id == photo_id)
        await audit.record(actor, "photo.removed", "resource", resource.id, photo=photo_id)
    return resource.id


async def photo(photo_id: int) -> Photo | None:
    return await Photo.objects().where(Photo.id == photo_id).first()


# --- qualifications --------------------------------------------------------------------------

async def qualifications(uow: UnitOfWork, owner_id: int) -> list[Qualification]:
    actor = uow.actor
    if not can_manage(actor, owner_id):
        raise NotAllowed(_("Only the staff of its owner may see this inventory."))
    return await Qualification.objects().where(Qualification.owner == owner_id).order_by(Qualification.name)


async def create_qualification(uow: UnitOfWork, owner_id: int, name: str, description: str = "") -> Qualification:
    actor = uow.actor
    if not can_manage(actor, owner_id):
        raise NotAllowed(_("Only the staff of its owner may see this inventory."))
    name = (name or "").strip()
    if not name or len(name) > 150:
        message = _("Give the qualification a name of at most %(n)s characters.", n=150)
        raise ValidationFailed(message, {"name": message})
    if await Qualification.exists().where((Qualification.owner == owner_id) & (Qualification.name == name)):
        message = _("A qualification with this name exists already.")
        raise ValidationFailed(message, {"name": message})
    async with uow.transaction():
        row = Qualification(owner=owner_id, name=name, description=(description or "").strip()[:2000])
        await row.save()
        await audit.record(actor, "qualification.created", "qualification", row.id, name=name)
    return row


async def _qualification_for_edit(uow: UnitOfWork, qualification_id: int) -> Qualification:
    actor = uow.actor
    row = await Qualification.objects().where(Qualification.id == qualification_id).first()
    if row is None:
        raise NotFound(_("This qualification does not exist."))
    if not can_manage(actor, row.owner):
        raise NotAllowed(_("Only the staff of its owner may see this inventory."))
    return row


async def grant_qualification(uow: UnitOfWork, qualification_id: int, teacher_email: str,
                              expires_on: str = "") -> QualificationGrant:
    actor = uow.actor
    qualification = await _qualification_for_edit(uow, qualification_id)
    email = (teacher_email or "").strip().lower()
    teacher = await User.objects().where(User.email == email).first()
    is_teacher = teacher is not None and await Membership.exists().where(
        (Membership.user == teacher.id) & (Membership.role.is_in([Role.teacher, Role.school_admin])))
    if not is_teacher:
        message = _("No teacher on Werkbank has the e-mail address %(email)s.", email=email)
        raise ValidationFailed(message, {"teacher_email": message})
    expiry = None
    if (expires_on or "").strip():
        try:
            expiry = date.fromisoformat(expires_on.strip())
        except ValueError:
            message = _("Enter the expiry date as 2027-06-30.")
            raise ValidationFailed(message, {"expires_on": message}) from None
        if expiry < uow.now().astimezone(BRUSSELS).date():
            message = _("The expiry date lies in the past.")
            raise ValidationFailed(message, {"expires_on": message})
    async with uow.transaction():
        await QualificationGrant.update({QualificationGrant.withdrawn_at: uow.now()}).where(
            (QualificationGrant.qualification == qualification.id) & (QualificationGrant.teacher == teacher.id)
            & QualificationGrant.withdrawn_at.is_null())
        grant = QualificationGrant(qualification=qualification.id, teacher=teacher.id, expires_on=expiry,
                                   granted_by=actor.user.id)
        await grant.save()
        await audit.record(actor, "qualification.granted", "qualification", qualification.id, teacher=email,
                           expires_on=expiry.isoformat() if expiry else None)
    return grant


async def withdraw_grant(uow: UnitOfWork, grant_id: int) -> None:
    actor = uow.actor
    grant = await QualificationGrant.objects().where(QualificationGrant.id == grant_id).first()
    if grant is None:
        raise NotFound(_("This qualification does not exist."))
    await _qualification_for_edit(uow, grant.qualification)
    async with uow.transaction():
        await QualificationGrant.update({QualificationGrant.withdrawn_at: uow.now()}).where(QualificationGrant.id == grant_id)
        await audit.record(actor, "qualification.withdrawn", "qualification", grant.qualification, grant=grant_id)


async def grants(qualification_ids: list[int]) -> list[dict]:
    if not qualification_ids:
        return []
    return await QualificationGrant.select(
        QualificationGrant.id, QualificationGrant.qualification, QualificationGrant.expires_on,
        QualificationGrant.granted_at, QualificationGrant.teacher.email, QualificationGrant.teacher.first_name,
        QualificationGrant.teacher.last_name,
    ).where(QualificationGrant.qualification.is_in(qualification_ids) & QualificationGrant.withdrawn_at.is_null()
            ).order_by(QualificationGrant.teacher.last_name)


async def is_qualified(user_id: int, qualification_id: int, on: date) -> bool:
    """Whether the teacher holds that qualification, valid on that day (Step 3 asks this)."""
    rows = await QualificationGrant.select(QualificationGrant.expires_on).where(
        (QualificationGrant.qualification == qualification_id) & (QualificationGrant.teacher == user_id)
        & QualificationGrant.withdrawn_at.is_null())
    return any(row["expires_on"] is None or row["expires_on"] >= on for row in rows)


# --- reading a resource ----------------------------------------------------------------------

@dataclass
class ResourceDetail:
    resource: Resource
    facility: Facility
    owner: Organisation
    category: Category
    programmes: list[StudyProgramme]
    week: dict[int, list[Interval]]
    closures: list[Closure]
    photo_ids: list[int]
    qualification: Qualification | None
    can_manage: bool = False
    extra: dict = field(default_factory=dict)


async def resource_detail(uow: UnitOfWork, resource_id: int) -> ResourceDetail:
    actor = uow.actor
    resource = await Resource.objects().where(Resource.id == resource_id).first()
    if resource is None:
        raise NotFound(_("This resource does not exist."))
    facility = await Facility.objects().where(Facility.id == resource.facility).first()
    manage = can_manage(actor, facility.owner)
    if resource.status != Resource.Status.active.value and not manage:
        raise NotFound(_("This resource does not exist."))
    owner = await Organisation.objects().where(Organisation.id == facility.owner).first()
    category = await Category.objects().where(Category.id == resource.category).first()
    programme_ids = [r["programme"] for r in await ResourceProgramme.select(ResourceProgramme.programme).where(
        ResourceProgramme.resource == resource.id)]
    programmes = await StudyProgramme.objects().where(StudyProgramme.id.is_in(programme_ids)).order_by(
        StudyProgramme.name) if programme_ids else []
    week: dict[int, list[Interval]] = {}
    for row in await OpeningHours.objects().where(OpeningHours.resource == resource.id).order_by(OpeningHours.opens):
        week.setdefault(row.weekday, []).append((row.opens, row.closes))
    qualification = None
    if resource.required_qualification:
        qualification = await Qualification.objects().where(Qualification.id == resource.required_qualification).first()
    photo_ids = [r["id"] for r in await Photo.select(Photo.id).where(Photo.resource == resource.id).order_by(Photo.id)]
    return ResourceDetail(resource=resource, facility=facility, owner=owner, category=category, programmes=programmes,
                          week=week, closures=await closures(resource.id, since=uow.now()), photo_ids=photo_ids,
                          qualification=qualification, can_manage=manage)


async def inventory_overview(uow: UnitOfWork, owner_id: int) -> list[tuple[Facility, list[dict]]]:
    """The owner's facilities, each with its resources (for the inventory page)."""
    facilities = await list_facilities(uow, owner_id)
    if not facilities:
        return []
    rows = await Resource.select(
        Resource.id, Resource.name, Resource.kind, Resource.status, Resource.capacity, Resource.price_model,
        Resource.price_cents, Resource.facility, Resource.category.name_nl, Resource.category.name_en,
    ).where(Resource.facility.is_in([f.id for f in facilities])).order_by(Resource.name)
    by_facility: dict[int, list[dict]] = {}
    for row in rows:
        by_facility.setdefault(row["facility"], []).append(row)
    return [(f, by_facility.get(f.id, [])) for f in facilities]
