"""What each role sees on its home page: real figures from the database, per role held."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from piccolo.query.functions.aggregate import Count

from accounts.services import OWNER_KINDS, Actor, RoleGrant
from accounts.tables import Membership, Organisation, User
from core.tables import OutboxMessage

Role = Membership.Role
Kind = Organisation.Kind


@dataclass
class HomeSection:
    grant: RoleGrant
    organisation: Organisation | None = None
    members: list[dict] = field(default_factory=list)
    schools: list[Organisation] = field(default_factory=list)
    owners: list[Organisation] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)


async def _members(organisation_id: int) -> list[dict]:
    return await Membership.select(
        Membership.user.first_name, Membership.user.last_name, Membership.user.email, Membership.role
    ).where(Membership.organisation == organisation_id).order_by(Membership.user.last_name)


async def home_sections(actor: Actor) -> list[HomeSection]:
    sections = []
    for grant in actor.grants:
        section = HomeSection(grant=grant)
        if grant.organisation_id:
            section.organisation = await Organisation.objects().where(Organisation.id == grant.organisation_id).first()
        org = section.organisation
        if grant.role == Role.owner_staff and org:  # a school admin's people: booking's home panel
            section.members = await _members(org.id)
        elif grant.role == Role.provider_staff and org:
            section.schools = await Organisation.objects().where(
                (Organisation.kind == Kind.school) & (Organisation.network == org.network)
            ).order_by(Organisation.region_code).order_by(Organisation.name)
            section.figures["pupils"] = sum(s.pupil_count for s in section.schools)
        elif grant.role == Role.rtc_staff and org:
            in_region = Organisation.objects().where(Organisation.region_code == org.region_code)
            section.schools = await in_region.where(Organisation.kind == Kind.school).order_by(Organisation.name)
            section.owners = await Organisation.objects().where(
                (Organisation.region_code == org.region_code)
                & Organisation.kind.is_in(list(OWNER_KINDS))
            ).order_by(Organisation.name)
            networks: dict[str, int] = {}
            for school in section.schools:
                networks[school.network] = networks.get(school.network, 0) + 1
            section.figures["networks"] = networks
        elif grant.role == Role.platform_admin:
            rows = await Organisation.select(Organisation.kind, Count(Organisation.id, alias="n")).group_by(Organisation.kind)
            section.figures["organisations"] = {row["kind"]: row["n"] for row in rows}
            section.figures["users"] = await User.count()
            section.figures["mail_pending"] = await OutboxMessage.count().where(
                OutboxMessage.status == OutboxMessage.Status.pending
            )
            section.figures["mail_failed"] = await OutboxMessage.count().where(
                OutboxMessage.status == OutboxMessage.Status.failed
            )
        sections.append(section)
    return sections
