"""What booking adds to the home pages (through the `home.panels` hook, which accounts offers):
work to act on. A teacher: their coming bookings, requests still waiting for the owner, their
waitlist and a search box; a school admin: the school's bookings of the coming weeks and the
school's people (with a way to invite or manage them); owner staff: the requests waiting for
them (with how long until they expire), today's and this week's bookings, and resources without
opening hours; provider and RTC staff: this quarter's counts of their network or region
(booking/home_regions.py)."""

from __future__ import annotations

from datetime import time, timedelta

from accounts import people
from accounts.tables import Membership
from booking import home_regions, queries
from booking.tables import Booking
from core.i18n import BRUSSELS
from core.uow import UnitOfWork
from inventory.availability import wall_time
from inventory.tables import Facility, OpeningHours, Resource

Role = Membership.Role


async def home_panels(uow: UnitOfWork) -> list[dict]:
    actor, moment = uow.actor, uow.now()
    panels: list[dict] = []
    roles = actor.roles
    if Role.teacher in roles or Role.school_admin in roles:
        mine = Role.teacher in roles and Role.school_admin not in roles
        school_roles = (Role.teacher, Role.school_admin)
        # Asked of the school's bookings directly: a filter after a limit lost bookings (and
        # undercounted the requests waiting) when the user also sees others' bookings.
        ahead = Booking.school.is_in(sorted(actor.organisation_ids(*school_roles))) & (Booking.end > moment)
        if mine:
            ahead &= Booking.teacher == actor.user.id

        def school_coming():  # a new query each time: piccolo's where() and limit() change the query they are called on
            return Booking.select(*queries.LIST_COLUMNS).where(
                ahead & (Booking.status != Booking.Status.cancelled)).order_by(Booking.start).order_by(Booking.id)

        upcoming = (await school_coming().where(Booking.start <= moment + timedelta(weeks=3)).limit(25)
                    or await school_coming().limit(3))
        waiting = await Booking.select(*queries.LIST_COLUMNS).where(  # for the owner's answer, not waitlist offers
            ahead & (Booking.status == Booking.Status.requested) & (Booking.waitlist_offer == False)  # noqa: E712
        ).order_by(Booking.start)
        panels.append({"roles": [r.value for r in school_roles], "template": "booking/_home_school.html",
                       "context": {"upcoming": upcoming, "waiting": waiting,
                                   "waitlist": await queries.waitlist(uow, mine_only=mine), "mine": mine}})
    if Role.school_admin in roles:
        schools = sorted(actor.organisation_ids(Role.school_admin))
        panels.append({"roles": [Role.school_admin.value], "template": "booking/_home_people.html",
                       "context": {"schools": [await people.people(uow, school) for school in schools]}})
    if Role.owner_staff in roles or actor.is_platform_admin:
        inbox = await queries.owner_inbox(uow)
        today = moment.astimezone(BRUSSELS).date()
        week_end = wall_time(today + timedelta(days=7 - today.weekday()), time(0))  # next Monday, 00:00
        coming = [b for b in await queries.visible_bookings(uow, queries.BookingFilter(when="upcoming", limit=200))
                  if b["start"] < week_end and b["status"] in ("requested", "approved", "confirmed")]
        owners = sorted(actor.organisation_ids(Role.owner_staff))
        without_hours, facilities = [], []
        if owners:
            facilities = await Facility.select(Facility.id, Facility.name).where(
                Facility.owner.is_in(owners) & (Facility.active == True)).order_by(Facility.name)  # noqa: E712
            with_hours = OpeningHours.select(OpeningHours.resource)
            without_hours = await Resource.select(Resource.id, Resource.name, Resource.facility.name).where(
                Resource.facility.owner.is_in(owners) & (Resource.status == Resource.Status.active)
                & Resource.id.not_in(with_hours)).order_by(Resource.name).limit(20)
        panels.append({"roles": [Role.owner_staff.value, Role.platform_admin.value],
                       "template": "booking/_home_owner.html",
                       "context": {"inbox": inbox[:10], "inbox_total": len(inbox), "now": moment,
                                   "today": [b for b in coming if b["start"].astimezone(BRUSSELS).date() == today],
                                   "week": [b for b in coming if b["start"].astimezone(BRUSSELS).date() != today],
                                   "without_hours": without_hours, "facilities": facilities}})
    panels += await home_regions.region_panels(uow)
    return panels
