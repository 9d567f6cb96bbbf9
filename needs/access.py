"""Who sees which need and who may do what with it (least privilege):

- teachers and school admins: their own school's needs;
- owner staff: needs that are not closed, in the regions where their organisation has a
  facility (or lies), and every need they answered;
- RTC staff: the needs of their region;
- provider staff: the needs of their network's schools;
- platform admins: all."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.services import Actor
from accounts.tables import Membership, Organisation
from inventory.tables import Facility
from needs.tables import Need, NeedOffer

Role = Membership.Role
Status = Need.Status
SCHOOL_ROLES = (Role.teacher, Role.school_admin)


# --- who may see what ------------------------------------------------------------------------

@dataclass(frozen=True)
class Visibility:
    """Which needs an actor sees: `everything`, or any need that meets one of the other sets."""

    everything: bool = False
    schools: frozenset[int] = frozenset()  # all needs of these schools
    networks: frozenset[str] = frozenset()  # all needs of schools of these networks
    regions: frozenset[str] = frozenset()  # all needs in these regions
    open_regions: frozenset[str] = frozenset()  # needs not closed, in these regions
    need_ids: frozenset[int] = frozenset()  # these needs (answered by the actor's organisation)

    @property
    def nothing(self) -> bool:
        return not (self.everything or self.schools or self.networks or self.regions or self.open_regions
                    or self.need_ids)

    def allows(self, need: Need, school: Organisation) -> bool:
        return (self.everything or need.school in self.schools or (bool(school.network) and school.network in self.networks)
                or need.region_code in self.regions or need.id in self.need_ids
                or (need.region_code in self.open_regions and need.status != Status.closed))

    def condition(self):
        """The Piccolo WHERE of the visible needs (None: all)."""
        if self.everything:
            return None
        parts = [Need.id == -1]
        if self.schools:
            parts.append(Need.school.is_in(sorted(self.schools)))
        if self.networks:
            parts.append(Need.school.network.is_in(sorted(self.networks)))
        if self.regions:
            parts.append(Need.region_code.is_in(sorted(self.regions)))
        if self.open_regions:
            parts.append(Need.region_code.is_in(sorted(self.open_regions)) & (Need.status != Status.closed))
        if self.need_ids:
            parts.append(Need.id.is_in(sorted(self.need_ids)))
        condition = parts[0]
        for part in parts[1:]:
            condition = condition | part
        return condition


async def owner_regions(owner_ids: set[int]) -> set[str]:
    """The regions an owner serves: where its active facilities lie, and where it lies itself."""
    if not owner_ids:
        return set()
    ids = sorted(owner_ids)
    rows = await Facility.select(Facility.region_code).where(Facility.owner.is_in(ids) & (Facility.active == True))  # noqa: E712
    own = await Organisation.select(Organisation.region_code).where(Organisation.id.is_in(ids))
    return {row["region_code"] for row in rows + own if row["region_code"]}


async def visibility(actor: Actor | None) -> Visibility:
    if actor is None:
        return Visibility()
    if actor.is_platform_admin:
        return Visibility(everything=True)
    owners = actor.organisation_ids(Role.owner_staff)
    answered: set[int] = set()
    if owners:
        rows = await NeedOffer.select(NeedOffer.need).where(NeedOffer.owner.is_in(sorted(owners)))
        answered = {row["need"] for row in rows}
    return Visibility(
        schools=frozenset(actor.organisation_ids(*SCHOOL_ROLES)),
        networks=frozenset(actor.networks(Role.provider_staff)),
        regions=frozenset(actor.regions(Role.rtc_staff)),
        open_regions=frozenset(await owner_regions(owners)),
        need_ids=frozenset(answered),
    )


def is_school_member(actor: Actor | None, school_id: int) -> bool:
    return actor is not None and school_id in actor.organisation_ids(*SCHOOL_ROLES)


def may_record(actor: Actor | None) -> bool:
    return actor is not None and (actor.has_role(*SCHOOL_ROLES) or actor.is_platform_admin)


def may_answer(actor: Actor | None) -> bool:
    """Owner staff answer needs with their own infrastructure (platform admins for any owner)."""
    return actor is not None and (actor.has_role(Role.owner_staff) or actor.is_platform_admin)


def may_see_needs(actor: Actor | None) -> bool:
    return actor is not None and (actor.is_platform_admin or actor.has_role(*SCHOOL_ROLES, Role.owner_staff,
                                                                           Role.rtc_staff, Role.provider_staff))


def can_close(actor: Actor | None, need: Need) -> bool:
    return need.status != Status.closed and actor is not None and (
        actor.is_platform_admin or is_school_member(actor, need.school))


def can_answer(actor: Actor | None, need: Need) -> bool:
    return need.status != Status.closed and may_answer(actor)
