"""What booking adds to the home pages (through the `home.panels` hook, which accounts offers):
work to act on. A teacher: their coming bookings, requests still waiting for the owner, their
waitlist and a search box; a school admin: the school's bookings of the coming weeks; owner
staff: the requests waiting for them (with how long until they expire), today's and this week's
bookings, and resources without opening hours."""

from __future__ import annotations

from datetime import time, timedelta

from accounts.tables import Membership
from booking import queries
from booking.tables import Booking
from core.i18n import BRUSSELS
from core.uow import UnitOfWork
from inventory.availability import wall_time
from inventory.tables import OpeningHours, Resource

Role = Membership.Role


async def home_panels(uow: UnitOfWork) -> list[dict]:
    actor, moment = uow.actor, uow.now()
    panels: list[dict] = []
    roles = actor.roles
    if Role.teacher in roles or Role.school_admin in roles:
        mine = Role.teacher in roles and Role.school_admin not in roles
        upcoming = await queries.visible_bookings(uow, queries.BookingFilter(
            mine_only=mine, when="upcoming", limit=8))
        school_roles = (Role.teacher, Role.school_admin)
        upcoming = [b for b in upcoming if b["school"] in actor.organisation_ids(*school_roles)]
        horizon = moment + timedelta(weeks=3)
        panels.append({"roles": [r.value for r in school_roles], "template": "booking/_home_school.html",
                       "context": {
                           "upcoming": [b for b in upcoming if b["start"] <= horizon] or upcoming[:3],
                           "waiting": [b for b in upcoming if b["status"] == Booking.Status.requested],
                           "waitlist": await queries.waitlist(uow, mine_only=mine), "mine": mine}})
    if Role.owner_staff in roles or actor.is_platform_admin:
        inbox = await queries.owner_inbox(uow)
        today = moment.astimezone(BRUSSELS).date()
        week_end = wall_time(today + timedelta(days=7 - today.weekday()), time(0))  # next Monday, 00:00
        coming = [b for b in await queries.visible_bookings(uow, queries.BookingFilter(when="upcoming", limit=200))
                  if b["start"] < week_end and b["status"] in ("requested", "approved", "confirmed")]
        owners = sorted(actor.organisation_ids(Role.owner_staff))
        without_hours = []
        if owners:
            with_hours = OpeningHours.select(OpeningHours.resource)
            without_hours = await Resource.select(Resource.id, Resource.name, Resource.facility.name).where(
                Resource.facility.owner.is_in(owners) & (Resource.status == Resource.Status.active)
                & Resource.id.not_in(with_hours)).order_by(Resource.name).limit(20)
        panels.append({"roles": [Role.owner_staff.value, Role.platform_admin.value],
                       "template": "booking/_home_owner.html",
                       "context": {"inbox": inbox[:10], "inbox_total": len(inbox), "now": moment,
                                   "today": [b for b in coming if b["start"].astimezone(BRUSSELS).date() == today],
                                   "week": [b for b in coming if b["start"].astimezone(BRUSSELS).date() != today],
                                   "without_hours": without_hours}})
    return panels
