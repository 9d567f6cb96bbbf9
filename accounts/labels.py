"""Translated labels for the account enums (shown to people; the enum values are stored)."""

from accounts.tables import Membership, Organisation
from core.i18n import lazy_gettext as _l

ROLE_LABELS = {
    Membership.Role.teacher: _l("Teacher"),
    Membership.Role.school_admin: _l("School administrator"),
    Membership.Role.owner_staff: _l("Infrastructure owner"),
    Membership.Role.provider_staff: _l("Education provider"),
    Membership.Role.rtc_staff: _l("RTC staff"),
    Membership.Role.platform_admin: _l("Platform admin"),
}

KIND_LABELS = {
    Organisation.Kind.school: _l("School"),
    Organisation.Kind.sector_fund: _l("Sector fund"),
    Organisation.Kind.training_centre: _l("Training centre"),
    Organisation.Kind.company: _l("Company"),
    Organisation.Kind.government: _l("Government"),
    Organisation.Kind.provider: _l("Education provider"),
    Organisation.Kind.rtc: _l("Regional Technological Centre"),
}

# Network names are proper names: the same in every language.
NETWORK_LABELS = {
    Organisation.Network.none: "",
    Organisation.Network.katholiek: "Katholiek Onderwijs Vlaanderen",
    Organisation.Network.go: "GO!",
    Organisation.Network.ovsg: "OVSG",
    Organisation.Network.pov: "POV",
    Organisation.Network.oko: "OKO",
}


def role_label(role) -> str:
    return str(ROLE_LABELS[Membership.Role(role)])


def kind_label(kind) -> str:
    return str(KIND_LABELS[Organisation.Kind(kind)])


def network_label(network) -> str:
    return NETWORK_LABELS[Organisation.Network(network or "")]
