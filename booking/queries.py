"""Reading bookings: the one answer to "which bookings may I see" (the bookings API and "Mijn
reservaties" alike), the owner's inbox, a facility's or resource's calendar, the waitlist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from accounts.services import OWNER_KINDS, Actor
from accounts.tables import Membership, Organisation
from booking.services import SCHOOL_ROLES, is_owner_staff
from booking.tables import HOLDING_STATUSES, Booking, WaitlistEntry
from core.errors import NotAllowed, NotFound
from core.i18n import gettext as _
from core.uow import UnitOfWork
from inventory.tables import Facility, Resource

Role = Membership.Role
Status = Booking.Status

LIST_COLUMNS = (
    Booking.id, Booking.start, Booking.end, Booking.status, Booking.group_size, Booking.price_cents,
    Booking.alternative_cost_cents, Booking.cancellation_fee_cents, Booking.expires_at, Booking.series,
    Booking.waitlist_offer, Booking.resource, Booking.school, Booking.teacher, Booking.resource.name,
    Booking.resource.facility.name, Booking.resource.facility.municipality, Booking.school.name,
    Booking.teacher.first_name, Booking.teacher.last_name, Booking.study_programme.name,
)


@dataclass
class BookingFilter:
    mine_only: bool = False
    when: str = "all"  # upcoming, past or all
    status: str | None = None
    resource_id: int | None = None
    limit: int = 200
    offset: int = 0


def visibility(actor: Actor):
    """The where clause of the bookings `actor` may see, None for all, False for none:
    - a school's teachers and admins: their school's;
    - owner staff: every booking of their organisation's resources, in every status;
    - provider staff: those of the schools of their network;
    - RTC staff: those of schools and of infrastructure in their region;
    - platform admins: all."""
    if actor.is_platform_admin:
        return None
    clauses = []
    schools = sorted(actor.organisation_ids(*SCHOOL_ROLES))
    if schools:
        clauses.append(Booking.school.is_in(schools))
    owners = sorted(actor.organisation_ids(Role.owner_staff))
    if owners:
        clauses.append(Booking.resource.facility.owner.is_in(owners))
    networks = sorted(actor.networks(Role.provider_staff))
    if networks:
        clauses.append(Booking.school.network.is_in(networks))
    regions = sorted(actor.regions(Role.rtc_staff))
    if regions:
        clauses.append(Booking.school.region_code.is_in(regions))
        clauses.append(Booking.resource.facility.region_code.is_in(regions))
    if not clauses:
        return False
    where = clauses[0]
    for clause in clauses[1:]:
        where = where | clause
    return where


async def visible_bookings(uow: UnitOfWork, filters: BookingFilter | None = None) -> list[dict]:
    filters = filters or BookingFilter()
    where = visibility(uow.actor)
    if where is False:
        return []
    query = Booking.select(*LIST_COLUMNS)
    if where is not None:
        query = query.where(where)
    if filters.mine_only:
        query = query.where(Booking.teacher == uow.actor.user.id)
    moment = uow.now()
    if filters.when == "past":
        query = query.where(Booking.end <= moment).order_by(Booking.start, ascending=False)
    elif filters.when == "upcoming":
        query = query.where(Booking.end > moment).order_by(Booking.start)
    else:
        query = query.order_by(Booking.start)
    if filters.status:
        query = query.where(Booking.status == filters.status)
    if filters.resource_id:
        query = query.where(Booking.resource == filters.resource_id)
    return await query.order_by(Booking.id).limit(max(1, min(filters.limit, 500))).offset(max(0, filters.offset))


async def owner_inbox(uow: UnitOfWork) -> list[dict]:
    """Requests waiting for the acting owner staff's answer (platform admins: everyone's)."""
    actor = uow.actor
    owners = sorted(actor.organisation_ids(Role.owner_staff))
    if actor.is_platform_admin and not owners:
        owners = [r["id"] for r in await Organisation.select(Organisation.id).where(
            Organisation.kind.is_in(list(OWNER_KINDS)))]
    if not owners:
        return []
    return await Booking.select(
        Booking.id, Booking.start, Booking.end, Booking.status, Booking.group_size, Booking.purpose,
        Booking.expires_at, Booking.price_cents, Booking.resource.name, Booking.school.name,
        Booking.teacher.first_name, Booking.teacher.last_name, Booking.teacher.email,
    ).where((Booking.status == Status.requested) & (Booking.waitlist_offer == False)  # noqa: E712
            & Booking.resource.facility.owner.is_in(owners)).order_by(Booking.start)


async def calendar(uow: UnitOfWork, *, facility_id: int | None = None, resource_id: int | None = None,
                   start: datetime, end: datetime) -> list[dict]:
    """Holding and past bookings in [start, end) of a facility or resource the actor owns."""
    actor = uow.actor
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
            & Booking.status.is_in([*HOLDING_STATUSES, Status.completed, Status.no_show])).order_by(Booking.start)
    if resource_id is not None:
        query = query.where(Booking.resource == resource_id)
    else:
        query = query.where(Booking.resource.facility == facility_id)
    return await query


async def waitlist(uow: UnitOfWork, *, mine_only: bool = False) -> list[dict]:
    """The acting user's school's waitlist entries that still wait (or were offered a time)."""
    actor = uow.actor
    schools = sorted(actor.organisation_ids(*SCHOOL_ROLES))
    if not schools:
        return []
    query = WaitlistEntry.select(
        WaitlistEntry.id, WaitlistEntry.start, WaitlistEntry.end, WaitlistEntry.status, WaitlistEntry.group_size,
        WaitlistEntry.offered_booking, WaitlistEntry.resource, WaitlistEntry.resource.name,
        WaitlistEntry.teacher.first_name, WaitlistEntry.teacher.last_name,
    ).where(WaitlistEntry.school.is_in(schools) & WaitlistEntry.status.is_in(
        [WaitlistEntry.Status.waiting, WaitlistEntry.Status.offered]) & (WaitlistEntry.end > uow.now()))
    if mine_only:
        query = query.where(WaitlistEntry.teacher == actor.user.id)
    return await query.order_by(WaitlistEntry.start)
