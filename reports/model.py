"""The regional sharing report as plain values: what the page, the JSON API, CSV, XLSX and the
command line all show. Money in euro cents, time in minutes, shares as percentages (one decimal,
None where there is nothing to divide by)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal


def share(part: int, whole: int) -> float | None:
    """part / whole as a percentage rounded half up to one decimal; None when whole is 0."""
    if not whole:
        return None
    return float((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def per(cents: int, count: int) -> int | None:
    """cents / count rounded half up (away from zero) to a cent; None when count is 0."""
    if not count:
        return None
    return int((Decimal(cents) / Decimal(count)).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


@dataclass
class Named:
    key: str
    label: str


@dataclass
class SupplyRow(Named):
    facilities: int = 0
    resources: int = 0
    open_minutes: int = 0


@dataclass
class Supply:
    facilities: int = 0
    resources: int = 0
    open_minutes: int = 0
    closed_minutes: int = 0  # opening hours lost to closures (already taken off open_minutes)
    by_funding: list[SupplyRow] = field(default_factory=list)
    by_category: list[SupplyRow] = field(default_factory=list)


@dataclass
class StatusRow(Named):
    bookings: int = 0
    minutes: int = 0


@dataclass
class UseRow(Named):
    bookings: int = 0
    minutes: int = 0
    supply_minutes: int = 0  # of which on the resources counted in supply
    open_minutes: int = 0
    utilisation: float | None = None


@dataclass
class Use:
    bookings: int = 0  # asked for, agreed or used: requested, approved, confirmed, completed, no-show
    minutes: int = 0
    supply_minutes: int = 0
    open_minutes: int = 0
    utilisation: float | None = None
    by_status: list[StatusRow] = field(default_factory=list)
    by_category: list[UseRow] = field(default_factory=list)


@dataclass
class ReachRow(Named):
    schools: int = 0
    bookings: int = 0
    pupils: int = 0


@dataclass
class SchoolRow:
    name: str
    network: str
    network_label: str
    bookings: int = 0
    pupils: int = 0
    savings_cents: int = 0


@dataclass
class Reach:
    bookings: int = 0  # completed
    pupils: int = 0
    schools: int = 0
    by_network: list[ReachRow] = field(default_factory=list)
    programmes: list[ReachRow] = field(default_factory=list)
    schools_named: list[SchoolRow] = field(default_factory=list)
    schools_not_named: int = 0  # reached, but of another network than the viewer's


@dataclass
class BoundaryRow(Named):
    crossing: bool = False
    bookings: int = 0
    pupils: int = 0
    minutes: int = 0


@dataclass
class PairRow:
    school: str  # its name, or "A school of <network>" where the viewer may not see names
    school_network: str
    school_network_label: str
    owner: str
    owner_kind: str
    owner_kind_label: str
    crossing: bool
    bookings: int = 0
    pupils: int = 0
    minutes: int = 0


@dataclass
class Collaboration:
    bookings: int = 0  # agreed or done: approved, confirmed, completed
    crossing: int = 0
    crossing_share: float | None = None
    by_boundary: list[BoundaryRow] = field(default_factory=list)
    pairs: list[PairRow] = field(default_factory=list)
    pair_count: int = 0  # all pairs (the list shows the largest)


@dataclass
class MoneyRow(Named):
    bookings: int = 0
    pupils: int = 0
    alternative_cents: int = 0
    paid_cents: int = 0
    savings_cents: int = 0
    savings_per_pupil_cents: int | None = None
    bill_pupils: int = 0  # per school, programme and year with a recorded bill: the largest group that came
    bill_savings_cents: int = 0
    bill_cents: int = 0  # those pupils times the bill per pupil
    bill_per_pupil_cents: int | None = None
    bill_share: float | None = None


@dataclass
class Money:
    bookings: int = 0  # completed, with a known alternative cost
    without_alternative: int = 0  # completed, but no alternative cost known: left out
    pupils: int = 0
    alternative_cents: int = 0
    paid_cents: int = 0
    savings_cents: int = 0
    savings_per_pupil_cents: int | None = None
    bill_pupils: int = 0
    bill_savings_cents: int = 0
    bill_cents: int = 0
    bill_share: float | None = None
    schools: int = 0  # schools with completed bookings
    schools_with_bill: int = 0  # of which recorded a bill that applies
    by_programme: list[MoneyRow] = field(default_factory=list)


@dataclass
class UnmetRow:
    category: str
    category_label: str
    region: str
    region_label: str
    declined: int = 0
    expired: int = 0
    waitlist: int = 0
    searches: int = 0
    searches_matched: int = 0
    round_days: int = 0


@dataclass
class Unmet:
    declined: int = 0
    expired: int = 0
    waitlist: int = 0
    searches: int = 0
    searches_matched: int = 0  # resources that fitted those searches but were taken
    round_days: int = 0  # days asked in published allocation rounds and not booked
    searches_counted: bool = True  # False when a filter searches do not record was chosen
    rows: list[UnmetRow] = field(default_factory=list)


@dataclass
class QuarterRow:
    key: str  # 2026-Q3
    label: str
    first: date
    last: date
    bookings: int = 0
    minutes: int = 0
    completed: int = 0
    pupils: int = 0
    schools: int = 0
    savings_cents: int = 0
    crossing: int = 0
    unmet: int = 0  # declined and expired


@dataclass
class RegionInfo:
    code: str
    name: str
    custom: bool
    cut_to_scope: bool = False


@dataclass
class Report:
    first: date
    last: date
    regions: list[RegionInfo]
    filters: dict[str, dict[str, str]]  # name -> {"value", "label"}
    scope: str
    scope_label: str
    supply: Supply
    use: Use
    reach: Reach
    collaboration: Collaboration
    money: Money
    unmet: Unmet
    quarters: list[QuarterRow]
    generated_at: str = ""

    def to_dict(self) -> dict:
        def convert(value):
            if isinstance(value, date):
                return value.isoformat()
            if isinstance(value, list):
                return [convert(v) for v in value]
            if isinstance(value, dict):
                return {k: convert(v) for k, v in value.items()}
            return value

        return convert(dataclasses.asdict(self))
