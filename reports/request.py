"""What a report is asked for: a period, regions and filters, read from a form, the API's query
or the command line, each value checked (a Dutch message per field, never a 500)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from accounts.tables import Organisation
from core.errors import ValidationFailed
from core.i18n import BRUSSELS
from core.i18n import gettext as _
from inventory.availability import wall_time
from inventory.tables import Resource

MAX_DAYS = 5 * 366 + 1  # five school years at most
MAX_REGIONS = 20
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")
REGION = re.compile(r"[A-Z0-9][A-Z0-9-]{1,11}")


@dataclass(frozen=True)
class ReportRequest:
    """A period of Brussels days [first, last] (both included) and the filters."""

    first: date
    last: date
    regions: tuple[str, ...] = ()
    network: str = ""
    owner: str = ""  # an owner organisation's slug
    funding: str = ""
    category: str = ""  # a category's slug
    programme: str = ""  # a study programme's slug

    @property
    def start(self) -> datetime:
        """The first moment of the period (UTC): midnight in Brussels on the first day."""
        return wall_time(self.first, time(0))

    @property
    def end(self) -> datetime:
        """The moment after the period: midnight in Brussels after the last day."""
        return wall_time(self.last + timedelta(days=1), time(0))

    def query(self) -> list[tuple[str, str]]:
        """As query parameters (for links to the exports and the page)."""
        pairs = [("from", self.first.isoformat()), ("to", self.last.isoformat())]
        pairs += [("region", code) for code in self.regions]
        for name in ("network", "owner", "funding", "category", "programme"):
            if getattr(self, name):
                pairs.append((name, getattr(self, name)))
        return pairs


def school_year_start(day: date) -> date:
    return date(day.year if day.month >= 9 else day.year - 1, 9, 1)


def default_period(today: date) -> tuple[date, date]:
    """The school year so far: 1 September up to the end of the current quarter (in July and
    August: the school year that ends on 31 August)."""
    first = school_year_start(today)
    quarter_first_month = 3 * ((today.month - 1) // 3) + 1
    following = date(today.year + 1, 1, 1) if quarter_first_month == 10 else date(today.year, quarter_first_month + 3, 1)
    return first, min(following - timedelta(days=1), date(first.year + 1, 8, 31))


def _values(params: Mapping, name: str) -> list[str]:
    """Every value of a parameter: repeated (`region=VAN&region=VOV`) or comma-separated."""
    raw = params.getall(name, []) if hasattr(params, "getall") else params.get(name)
    if raw is None:
        return []
    if isinstance(raw, str):
        raw = [raw]
    found: list[str] = []
    for item in raw:
        for part in str(item).split(","):
            if part.strip():
                found.append(part.strip())
    return found


def _one(params: Mapping, name: str) -> str:
    values = _values(params, name)
    return values[0] if values else ""


def _date(text: str, name: str, errors: dict[str, str]) -> date | None:
    text = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
        match = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
        if match:
            return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        pass
    errors[name] = _("Give a date as 2026-09-01 or 1/9/2026.")
    return None


def parse(params: Mapping, today: date) -> ReportRequest:
    """A report request from query parameters: `from`, `to` (dates), `region` (repeated or
    comma-separated codes), `network`, `owner` (slug), `funding`, `category`, `programme`
    (`study_programme` too). Missing dates: the school year so far. Unknown codes are refused here
    only by their shape; that they exist is checked against the database by the service."""
    errors: dict[str, str] = {}
    default_first, default_last = default_period(today)
    raw_from, raw_to = _one(params, "from"), _one(params, "to")
    first = _date(raw_from, "from", errors) if raw_from else default_first
    last = _date(raw_to, "to", errors) if raw_to else default_last
    if first and last and "from" not in errors and "to" not in errors:
        if last < first:
            errors["to"] = _("The period ends before it starts.")
        elif (last - first).days + 1 > MAX_DAYS:
            errors["to"] = _("A report covers at most five years.")
        elif first.year < 2000 or last.year > 2100:
            errors["from"] = _("Choose a period between 2000 and 2100.")
    regions: list[str] = []
    for code in _values(params, "region"):
        code = code.upper()
        if not REGION.fullmatch(code):
            errors["region"] = _("Unknown region: %(code)s.", code=code[:20])
        elif code not in regions:
            regions.append(code)
    if len(regions) > MAX_REGIONS:
        errors["region"] = _("Choose at most %(n)s regions.", n=MAX_REGIONS)
    network = _one(params, "network")
    if network and network not in Organisation.Network._value2member_map_:
        errors["network"] = _("Unknown network: %(value)s.", value=network[:20])
    funding = _one(params, "funding")
    if funding and funding not in Resource.Funding._value2member_map_:
        errors["funding"] = _("Unknown funding type: %(value)s.", value=funding[:20])
    slugs = {}
    for name, aliases in (("owner", ("owner",)), ("category", ("category",)),
                          ("programme", ("programme", "study_programme"))):
        value = next((v for alias in aliases if (v := _one(params, alias))), "")
        if value and not SLUG.fullmatch(value):
            errors[name] = _("Unknown value: %(value)s.", value=value[:40])
        slugs[name] = value
    if errors:
        raise ValidationFailed(_("Check the marked fields."), errors)
    return ReportRequest(first=first, last=last, regions=tuple(regions), network=network, funding=funding, **slugs)


def today_in_brussels(now: datetime) -> date:
    return now.astimezone(BRUSSELS).date()
