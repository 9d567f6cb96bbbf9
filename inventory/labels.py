"""Translated labels of the inventory's choices and a price as people read it."""

from core.i18n import format_money, get_language
from core.i18n import gettext as _
from core.i18n import lazy_gettext as _l
from inventory.tables import Resource

KIND_LABELS = {
    Resource.Kind.workshop: _l("Workshop"),
    Resource.Kind.lab: _l("Lab"),
    Resource.Kind.machine: _l("Machine"),
    Resource.Kind.equipment: _l("Equipment"),
}
PRICE_MODEL_LABELS = {
    Resource.PriceModel.free: _l("Free for schools"),
    Resource.PriceModel.per_hour: _l("Per hour"),
    Resource.PriceModel.per_half_day: _l("Per half day"),
    Resource.PriceModel.per_day: _l("Per day"),
    Resource.PriceModel.per_pupil: _l("Per pupil"),
}
FUNDING_LABELS = {
    Resource.Funding.sector: _l("Sector"),
    Resource.Funding.government: _l("Government-subsidised"),
    Resource.Funding.company: _l("Company"),
    Resource.Funding.school: _l("School"),
}
COST_UNIT_LABELS = {
    Resource.CostUnit.per_hour: _l("per hour"),
    Resource.CostUnit.per_session: _l("per session"),
}
WEEKDAYS = [_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"), _l("Saturday"), _l("Sunday")]


def kind_label(value) -> str:
    return str(KIND_LABELS[Resource.Kind(value)])


def price_model_label(value) -> str:
    return str(PRICE_MODEL_LABELS[Resource.PriceModel(value)])


def funding_label(value) -> str:
    return str(FUNDING_LABELS[Resource.Funding(value)])


def cost_unit_label(value) -> str:
    return str(COST_UNIT_LABELS[Resource.CostUnit(value)])


def price_text(model: str, cents: int) -> str:
    """'Gratis voor scholen', '€ 25,00 per uur', ..."""
    model = Resource.PriceModel(model)
    if model == Resource.PriceModel.free or not cents:
        return str(PRICE_MODEL_LABELS[Resource.PriceModel.free])
    unit = {
        Resource.PriceModel.per_hour: _("per hour"),
        Resource.PriceModel.per_half_day: _("per half day"),
        Resource.PriceModel.per_day: _("per day"),
        Resource.PriceModel.per_pupil: _("per pupil"),
    }[model]
    return f"{format_money(cents)} {unit}"


def category_name(row) -> str:
    """The category's name in the language of the moment (a row or a dict)."""
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    return get("name_en") if get_language() == "en" else get("name_nl")

CELL_LABELS = {
    "free": _l("free"),
    "short": _l("free, too short to start"),
    "taken": _l("taken"),
    "closure": _l("closure"),
    "closed": _l("closed"),
    "notice": _l("too soon"),
    "ahead": _l("too far ahead"),
    "past": _l("past"),
    "booking": _l("booked"),
    "busy": _l("owner's calendar"),
}


def cell_label(state: str) -> str:
    return str(CELL_LABELS.get(state, state))
