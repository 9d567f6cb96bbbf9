"""Reading a facility or resource from text fields (a form or a CSV row), with a Dutch message
per field. One reader serves the web form, the CSV import and the API, so each rule lives once."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.i18n import gettext as _
from core.money import parse_euro
from inventory.hours import HoursError, Interval, parse_intervals, parse_week
from inventory.tables import Resource
from regions.geography import UnknownPostalCode, locate

TRUE_WORDS = {"1", "ja", "j", "yes", "y", "true", "waar", "on", "x"}
FALSE_WORDS = {"0", "nee", "n", "no", "false", "onwaar", "off", ""}


@dataclass
class Reader:
    """Collects values and per-field errors while reading."""

    data: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)

    def text(self, name: str, max_length: int, required: bool = False) -> str:
        value = (self.data.get(name) or "").strip()
        if required and not value:
            self.errors[name] = _("This field is required.")
        elif len(value) > max_length:
            self.errors[name] = _("At most %(n)s characters.", n=max_length)
        return value[:max_length]

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        raw = (self.data.get(name) or "").strip()
        if raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            self.errors[name] = _("Enter a whole number.")
            return default
        if not low <= value <= high:
            self.errors[name] = _("Enter a number from %(low)s to %(high)s.", low=low, high=high)
            return default
        return value

    def boolean(self, name: str, default: bool) -> bool:
        if name not in self.data:
            return default
        raw = (self.data.get(name) or "").strip().lower()
        if raw in TRUE_WORDS:
            return True
        if raw in FALSE_WORDS:
            return False
        self.errors[name] = _("Enter yes or no.")
        return default

    def choice(self, name: str, enum, default) -> str:
        raw = (self.data.get(name) or "").strip()
        if raw == "":
            return default.value
        try:
            return enum(raw).value
        except ValueError:
            self.errors[name] = _("Choose one of: %(choices)s.", choices=", ".join(e.value for e in enum))
            return default.value

    def money(self, name: str) -> int:
        """Euro as people type it ('12,50', '1.234,50', '€ 40', '12.5') -> cents."""
        cents = parse_euro(self.data.get(name))
        if cents is None:
            self.errors[name] = _("Enter an amount in euro, like 12,50.")
            return 0
        return cents


@dataclass
class FacilityInput:
    name: str
    description: str
    street: str
    postal_code: str
    municipality: str
    region_code: str
    contact_email: str
    phone: str
    external_id: str


def read_facility(data: dict[str, str]) -> tuple[FacilityInput, dict[str, str]]:
    r = Reader(data)
    postal_code = r.text("postal_code", 4, required=True)
    municipality = r.text("municipality", 100)
    region_code = ""
    if postal_code and "postal_code" not in r.errors:
        try:
            area = locate(postal_code)
        except UnknownPostalCode:
            r.errors["postal_code"] = _("%(code)s is not a Belgian postal code.", code=postal_code)
        else:
            if area.region is None:
                r.errors["postal_code"] = _("Werkbank covers Flanders and Brussels; %(code)s lies outside.", code=postal_code)
            else:
                region_code = area.region.code
                if not municipality or municipality not in area.municipalities:
                    municipality = area.municipality
    email = r.text("contact_email", 320)
    if email and "@" not in email:
        r.errors["contact_email"] = _("Enter a valid e-mail address.")
    return FacilityInput(
        name=r.text("name", 200, required=True),
        description=r.text("description", 5000),
        street=r.text("street", 200),
        postal_code=postal_code,
        municipality=municipality,
        region_code=region_code,
        contact_email=email,
        phone=r.text("phone", 40),
        external_id=r.text("external_id", 80),
    ), r.errors


@dataclass
class ResourceInput:
    values: dict  # column name -> value, ready for the Resource table
    category_slug: str
    programme_slugs: list[str]
    qualification: str  # an id (form) or a name (CSV); empty for none
    week: dict[int, list[Interval]] | None  # None: leave the opening hours as they are


def read_resource(data: dict[str, str], programmes: list[str] | None = None,
                  week_from_days: bool = False) -> tuple[ResourceInput, dict[str, str]]:
    """`programmes`: the chosen programme slugs (a form's multi-select); otherwise read from
    `study_programmes` separated by ';'. Opening hours come from `hours_0`..`hours_6` (the form)
    or from `opening_hours` ('ma-vr 08:00-16:00')."""
    r = Reader(data)
    values = {
        "name": r.text("name", 200, required=True),
        "kind": r.choice("kind", Resource.Kind, Resource.Kind.machine),
        "description": r.text("description", 10000),
        "capacity": r.integer("capacity", 12, 1, 500),
        "accessories": r.text("accessories", 2000),
        "needs_approval": r.boolean("needs_approval", True),
        "min_notice_hours": r.integer("min_notice_hours", 48, 0, 24 * 365),
        "max_advance_days": r.integer("max_advance_days", 180, 1, 730),
        "min_duration_minutes": r.integer("min_duration_minutes", 60, 15, 24 * 60 * 14),
        "max_duration_minutes": r.integer("max_duration_minutes", 480, 15, 24 * 60 * 14),
        "default_duration_minutes": r.integer("default_duration_minutes", 0, 15, 24 * 60 * 14),
        "buffer_minutes": r.integer("buffer_minutes", 0, 0, 24 * 60),
        "request_expiry_days": r.integer("request_expiry_days", 5, 1, 60),
        "free_cancellation_hours": r.integer("free_cancellation_hours", 72, 0, 24 * 90),
        "late_cancellation_percent": r.integer("late_cancellation_percent", 50, 0, 100),
        "price_model": r.choice("price_model", Resource.PriceModel, Resource.PriceModel.free),
        "price_cents": r.money("price"),
        "payment_mode": r.choice("payment_mode", Resource.PaymentMode, Resource.PaymentMode.invoice),
        "instructor_fee_cents": r.money("instructor_fee"),
        "funding": r.choice("funding", Resource.Funding, Resource.Funding.sector),
        "alternative_cost_cents": r.money("alternative_cost"),
        "alternative_cost_unit": r.choice("alternative_cost_unit", Resource.CostUnit, Resource.CostUnit.per_hour),
        "alternative_cost_source": r.text("alternative_cost_source", 1000),
        "external_id": r.text("external_id", 80),
    }
    if values["min_duration_minutes"] > values["max_duration_minutes"]:
        r.errors["max_duration_minutes"] = _("The longest booking cannot be shorter than the shortest.")
    elif not values["default_duration_minutes"]:  # not given: two hours, within the bounds
        values["default_duration_minutes"] = min(max(120, values["min_duration_minutes"]), values["max_duration_minutes"])
    elif not values["min_duration_minutes"] <= values["default_duration_minutes"] <= values["max_duration_minutes"]:
        r.errors["default_duration_minutes"] = _("The usual booking lies between the shortest and the longest.")
    if values["price_model"] == Resource.PriceModel.free.value:
        values["price_cents"] = 0
    elif values["price_cents"] == 0 and "price" not in r.errors:
        r.errors["price"] = _("Enter the price, or choose 'free for schools'.")
    if values["alternative_cost_cents"] and not values["alternative_cost_source"]:
        r.errors["alternative_cost_source"] = _("Say where the alternative cost comes from: the savings report relies on it.")
    category = r.text("category", 60, required=True)
    if programmes is None:
        programmes = [p.strip() for p in (data.get("study_programmes") or "").split(";") if p.strip()]
    week = None
    try:
        if week_from_days:
            week = {day: parse_intervals(data.get(f"hours_{day}", "")) for day in range(7)}
            week = {day: spans for day, spans in week.items() if spans}
        elif "opening_hours" in data:
            week = parse_week(data.get("opening_hours") or "")
    except HoursError as exc:
        r.errors["opening_hours"] = str(exc)
    return ResourceInput(values=values, category_slug=category, programme_slugs=programmes,
                         qualification=(data.get("qualification") or "").strip(), week=week), r.errors
