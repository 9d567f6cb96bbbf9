"""Who may do what with a round. RTC staff run rounds for resources in their region, owner staff
for their own resources, platform admins for any. Teachers and school admins register for their
own school (in an RTC's round: a school of that region) and see only their school's
registrations and days; everyone logged in sees a round's window, caps and totals."""

from __future__ import annotations

from accounts.services import Actor
from accounts.tables import Membership, Organisation
from allocation.tables import AllocationRound

Role = Membership.Role
SCHOOL_ROLES = (Role.teacher, Role.school_admin)
ORGANISER_ROLES = (Role.rtc_staff, Role.owner_staff, Role.platform_admin)


def may_organise(actor: Actor | None) -> bool:
    return actor is not None and actor.has_role(*ORGANISER_ROLES)


def can_manage(actor: Actor | None, rnd: AllocationRound) -> bool:
    """Allocate, adjust, publish, cancel and see every registration."""
    if actor is None:
        return False
    if actor.is_platform_admin:
        return True
    role = Role.rtc_staff if rnd.region_code else Role.owner_staff
    return rnd.organiser in actor.organisation_ids(role)


def school_ids(actor: Actor | None) -> list[int]:
    return sorted(actor.organisation_ids(*SCHOOL_ROLES)) if actor is not None else []


def may_register_school(rnd: AllocationRound, school: Organisation) -> bool:
    """An RTC's round is for the schools of its region; an owner's for every school."""
    return school.kind == Organisation.Kind.school and (not rnd.region_code or school.region_code == rnd.region_code)
