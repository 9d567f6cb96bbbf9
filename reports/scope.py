"""Who sees which report. Provider staff: every region, schools named only when they belong to
their own network (others are counted, not named). RTC staff: their own region (a custom region
is cut to it). Owner staff: the same report over their own organisation's infrastructure, with
the schools that use it named. Platform admins: everything. Others: no report."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.services import Actor
from accounts.tables import Membership
from core.errors import NotAllowed
from core.i18n import gettext as _

Role = Membership.Role


@dataclass(frozen=True)
class Scope:
    kind: str  # platform, provider, rtc, owner
    regions: frozenset[str] = frozenset()  # rtc: the regions the figures are cut to
    owner_ids: frozenset[int] = frozenset()  # owner: the organisations whose infrastructure counts
    named_networks: frozenset[str] | None = None  # provider: only these networks' schools are named

    def names_school(self, network: str) -> bool:
        return self.named_networks is None or network in self.named_networks


REPORT_ROLES = (Role.platform_admin, Role.provider_staff, Role.rtc_staff, Role.owner_staff)


def may_see_reports(actor: Actor | None) -> bool:
    return actor is not None and actor.has_role(*REPORT_ROLES)


def scope_for(actor: Actor | None) -> Scope:
    """The widest view the actor's roles give, in this order: platform admin, provider staff,
    RTC staff, owner staff."""
    if actor is None or not may_see_reports(actor):
        raise NotAllowed(_("Regional reports are for education providers, RTCs and infrastructure owners."))
    if actor.is_platform_admin:
        return Scope("platform")
    if actor.has_role(Role.provider_staff):
        return Scope("provider", named_networks=frozenset(actor.networks(Role.provider_staff)))
    if actor.has_role(Role.rtc_staff):
        regions = frozenset(actor.regions(Role.rtc_staff))
        if not regions:
            raise NotAllowed(_("Your RTC has no region; ask a platform admin."))
        return Scope("rtc", regions=regions)
    return Scope("owner", owner_ids=frozenset(actor.organisation_ids(Role.owner_staff)))
