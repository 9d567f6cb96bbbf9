"""The regional sharing report for the acting user: their scope (reports.scope), the period,
regions and filters checked against the database, then the grouped queries of reports.queries
turned into a Report (reports.model)."""

from __future__ import annotations

from datetime import date, time, timedelta

from accounts.labels import kind_label, network_label
from accounts.services import OWNER_KINDS
from accounts.tables import Organisation
from booking.labels import status_label
from booking.tables import Booking
from core.errors import NotAllowed, NotFound, ValidationFailed
from core.i18n import BRUSSELS
from core.i18n import gettext as _
from core.uow import UnitOfWork
from inventory.availability import wall_time
from inventory.labels import funding_label
from inventory.tables import Category, Facility, Resource, StudyProgramme
from regions import custom
from regions.geography import REGIONS, region_name
from reports import queries
from reports.model import (
    BoundaryRow,
    Collaboration,
    Money,
    MoneyRow,
    PairRow,
    QuarterRow,
    Reach,
    ReachRow,
    RegionInfo,
    Report,
    SchoolRow,
    StatusRow,
    Supply,
    SupplyRow,
    Unmet,
    UnmetRow,
    Use,
    UseRow,
    per,
    share,
)
from reports.request import ReportRequest
from reports.scope import Scope, scope_for

BOUNDARY_ORDER = ("sector", "government", "company", "other_network", "school", "same_network", "own_school")


def boundary_label(key: str) -> str:
    return {
        "sector": _("Sector infrastructure"),
        "government": _("Government-funded infrastructure"),
        "company": _("Company infrastructure"),
        "other_network": _("A school of another network"),
        "school": _("School infrastructure of another organisation"),
        "same_network": _("A school of the same network"),
        "own_school": _("Its own school"),
    }.get(key, key)


def scope_label(scope: Scope) -> str:
    if scope.kind == "provider":
        return _("Schools of your network by name, those of other networks counted.")
    if scope.kind == "rtc":
        return _("Your region: %(regions)s.", regions=", ".join(region_name(code) for code in sorted(scope.regions)))
    if scope.kind == "owner":
        return _("Your own infrastructure and the schools that use it.")
    return _("Everything (platform admin).")


def quarters_of(first: date, last: date) -> list[tuple[date, date]]:
    """The calendar quarters that overlap [first, last], cut to it."""
    found = []
    start = date(first.year, 3 * ((first.month - 1) // 3) + 1, 1)
    while start <= last:
        following = date(start.year + 1, 1, 1) if start.month == 10 else date(start.year, start.month + 3, 1)
        found.append((max(start, first), min(following - timedelta(days=1), last)))
        start = following
    return found


async def _regions(scope: Scope, request: ReportRequest) -> tuple[list[RegionInfo], frozenset[str] | None,
                                                                   frozenset[str] | None]:
    """The regions shown, the postal codes they cover (None: no limit) and the provinces whose
    search records without a postal code count (None: all)."""
    chosen = list(request.regions) or (sorted(scope.regions) if scope.kind == "rtc" else [])
    allowed: set[str] | None = None
    if scope.kind == "rtc":
        allowed = set()
        for code in scope.regions:
            allowed |= await custom.postal_codes(code)
    infos: list[RegionInfo] = []
    postal: set[str] | None = None
    provinces: set[str] = set()
    choices = {c.code: c for c in await custom.choices()}
    for code in chosen:
        if code not in choices:
            message = _("Unknown region: %(code)s.", code=code)
            raise ValidationFailed(message, {"region": message})
        if scope.kind == "rtc" and code in REGIONS and code not in scope.regions:
            raise NotAllowed(_("You see the figures of your own region: %(regions)s.",
                               regions=", ".join(region_name(r) for r in sorted(scope.regions))))
        try:
            codes = await custom.postal_codes(code)
        except NotFound as exc:  # removed meanwhile
            raise ValidationFailed(str(exc), {"region": str(exc)}) from exc
        cut = allowed is not None and not codes <= allowed
        infos.append(RegionInfo(code=code, name=choices[code].name, custom=choices[code].custom, cut_to_scope=cut))
        postal = (postal or set()) | codes
        if code in REGIONS and (scope.kind != "rtc" or code in scope.regions):
            provinces.add(code)
    if allowed is not None:
        postal = (postal if postal is not None else set(allowed)) & allowed
    if postal is None:
        return infos, None, None
    return infos, frozenset(postal), frozenset(provinces)


def owns_infrastructure():
    """Owner organisations, and schools that open a facility of their own."""
    return Organisation.kind.is_in(list(OWNER_KINDS)) | Organisation.id.is_in(Facility.select(Facility.owner))


def owner_name(scope: Scope, row: dict) -> str:
    """An owner's name; a school that owns infrastructure is named like any school (provider
    staff: only their own network's)."""
    if row["kind"] == Organisation.Kind.school and not scope.names_school(row["network"]):
        return anonymous_school(row["network"])
    return row["name"]


def anonymous_school(network: str) -> str:
    return _("A school of %(network)s", network=network_label(network) or _("no network"))


async def _filters(request: ReportRequest, scope: Scope) -> dict[str, dict[str, str]]:
    """Each filter chosen with its label; an unknown owner, category or programme is refused."""
    filters: dict[str, dict[str, str]] = {}
    errors: dict[str, str] = {}
    if request.network:
        filters["network"] = {"value": request.network, "label": network_label(request.network)}
    if request.funding:
        filters["funding"] = {"value": request.funding, "label": funding_label(request.funding)}
    if request.owner:
        row = await Organisation.select(Organisation.name, Organisation.kind, Organisation.network).where(
            (Organisation.slug == request.owner) & owns_infrastructure()).first()
        if row is None:
            errors["owner"] = _("There is no infrastructure owner %(value)s.", value=request.owner)
        elif row["kind"] == Organisation.Kind.school and not scope.names_school(row["network"]):
            raise NotAllowed(_("You see the schools of other networks counted, not one by one."))
        else:
            filters["owner"] = {"value": request.owner, "label": row["name"]}
    if request.category:
        row = await Category.select(Category.name_nl, Category.name_en).where(Category.slug == request.category).first()
        if row is None:
            errors["category"] = _("Unknown category: %(value)s.", value=request.category)
        else:
            filters["category"] = {"value": request.category, "label": _category(row)}
    if request.programme:
        row = await StudyProgramme.select(StudyProgramme.name).where(StudyProgramme.slug == request.programme).first()
        if row is None:
            errors["programme"] = _("Unknown study programme: %(value)s.", value=request.programme)
        else:
            filters["programme"] = {"value": request.programme, "label": row["name"]}
    if errors:
        raise ValidationFailed(_("Check the marked fields."), errors)
    return filters


def _category(row: dict) -> str:
    from inventory.labels import category_name

    return category_name(row) if row.get("name_nl") else (row.get("category") or row.get("key") or "")


def _minutes(seconds) -> int:
    return int(seconds or 0) // 60


async def regional_report(uow: UnitOfWork, request: ReportRequest) -> Report:
    scope = scope_for(uow.actor)
    infos, postal, provinces = await _regions(scope, request)
    filters = await _filters(request, scope)
    engine = Booking._meta.db.engine_type
    where = queries.Where(
        engine="postgres" if engine == "postgres" else "sqlite", start=request.start, end=request.end,
        postal=postal, provinces=provinces, network=request.network, owner=request.owner, funding=request.funding,
        category=request.category, programme=request.programme,
        owner_ids=scope.owner_ids if scope.kind == "owner" else None)
    supply = await _supply(where, request)
    facts = await queries.booking_facts(where)
    use = await _use(facts, supply)
    programmes = await queries.money_by_programme(where)
    reach = await _reach(where, scope, programmes)
    money = await _money(where, request, programmes)
    collaboration = await _collaboration(where, scope, facts)
    unmet = await _unmet(where, facts)
    quarters = await _quarters(where, request)
    return Report(first=request.first, last=request.last, regions=infos, filters=filters, scope=scope.kind,
                  scope_label=scope_label(scope), supply=supply, use=use, reach=reach, collaboration=collaboration,
                  money=money, unmet=unmet, quarters=quarters,
                  generated_at=uow.now().astimezone(BRUSSELS).isoformat(timespec="seconds"))


async def _supply(where: queries.Where, request: ReportRequest) -> Supply:
    counts = await queries.supply_counts(where)
    opened = await queries.open_minutes(where, request.first, request.last)
    supply = Supply()
    if counts["total"]:
        supply.resources = int(counts["total"][0]["resources"] or 0)
        supply.facilities = int(counts["total"][0]["facilities"] or 0)
    open_by_funding: dict[str, int] = {}
    open_by_category: dict[str, int] = {}
    for row in opened:
        open_by_funding[row["funding"]] = open_by_funding.get(row["funding"], 0) + row["open"]
        open_by_category[row["category"]] = open_by_category.get(row["category"], 0) + row["open"]
        supply.open_minutes += row["open"]
        supply.closed_minutes += row["closed"]
    funding = {row["key"]: row for row in counts["funding"]}
    for key in Resource.Funding:
        row = funding.get(key.value)
        if row or open_by_funding.get(key.value):
            supply.by_funding.append(SupplyRow(key=key.value, label=funding_label(key.value),
                                               facilities=int(row["facilities"]) if row else 0,
                                               resources=int(row["resources"]) if row else 0,
                                               open_minutes=open_by_funding.get(key.value, 0)))
    for row in sorted(counts["category"], key=lambda r: (r["position"], r["key"])):
        supply.by_category.append(SupplyRow(key=row["key"], label=_category(row), facilities=int(row["facilities"]),
                                            resources=int(row["resources"]), open_minutes=open_by_category.get(row["key"], 0)))
    return supply


def _sum(facts: list[dict], statuses: tuple[str, ...], key: str) -> dict[str, dict]:
    """The booking facts of some statuses summed per `key` (status, category or boundary)."""
    found: dict[str, dict] = {}
    for row in facts:
        if row["status"] in statuses:
            into = found.setdefault(row[key], {"n": 0, "secs": 0, "supply_secs": 0, "pupils": 0, "row": row})
            for name in ("n", "secs", "supply_secs", "pupils"):
                into[name] += int(row[name] or 0)
    return found


async def _use(facts: list[dict], supply: Supply) -> Use:
    use = Use(open_minutes=supply.open_minutes)
    rows = _sum(facts, tuple(s.value for s in Booking.Status), "status")
    for status in Booking.Status:
        row = rows.get(status.value)
        if row is None:
            continue
        item = StatusRow(key=status.value, label=status_label(status.value), bookings=row["n"], minutes=_minutes(row["secs"]))
        use.by_status.append(item)
        if status.value in queries.BOOKED:
            use.bookings += item.bookings
            use.minutes += item.minutes
    open_by_category = {row.key: row.open_minutes for row in supply.by_category}
    rows = _sum(facts, queries.BOOKED, "category")
    positions = {row["slug"]: row["position"] for row in await Category.select(Category.slug, Category.position)}
    for key in sorted(set(rows) | set(open_by_category), key=lambda k: (positions.get(k, 0), k)):  # open, not booked: 0 %
        row = rows.get(key)
        item = UseRow(key=key, label=_category(row["row"]) if row else next(r.label for r in supply.by_category if r.key == key),
                      bookings=row["n"] if row else 0, minutes=_minutes(row["secs"]) if row else 0,
                      supply_minutes=_minutes(row["supply_secs"]) if row else 0, open_minutes=open_by_category.get(key, 0))
        item.utilisation = share(item.supply_minutes, item.open_minutes)
        use.by_category.append(item)
        use.supply_minutes += item.supply_minutes
    use.utilisation = share(use.supply_minutes, use.open_minutes)
    return use


async def _reach(where: queries.Where, scope: Scope, programmes: list[dict]) -> Reach:
    reach = Reach()
    for row in sorted(await queries.reach_by_network(where), key=lambda r: network_label(r["key"]) or "~"):
        item = ReachRow(key=row["key"], label=network_label(row["key"]) or _("No network"), schools=int(row["schools"]),
                        bookings=int(row["n"]), pupils=int(row["pupils"]))
        reach.by_network.append(item)
        reach.bookings += item.bookings
        reach.pupils += item.pupils
        reach.schools += item.schools
        if not scope.names_school(row["key"]):
            reach.schools_not_named += item.schools
    for row in sorted(programmes, key=lambda r: (r["key"] is None, r["name"] or "")):
        reach.programmes.append(ReachRow(key=row["key"] or "", label=row["name"] or _("No study programme given"),
                                         schools=int(row["schools"]), bookings=int(row["n"]), pupils=int(row["pupils"])))
    for row in await queries.schools(where, scope.named_networks):
        reach.schools_named.append(SchoolRow(name=row["name"], network=row["network"], network_label=network_label(row["network"]),
                                             bookings=int(row["n"]), pupils=int(row["pupils"]),
                                             savings_cents=int(row["savings"])))
    return reach


async def _money(where: queries.Where, request: ReportRequest, programmes: list[dict]) -> Money:
    money = Money()
    bills = {row["key"]: row for row in await queries.bill_by_programme(where, request.first, request.last)}
    for row in sorted(programmes, key=lambda r: (r["key"] is None, r["name"] or "")):
        money.without_alternative += int(row["n"]) - int(row["known"])
        if not int(row["known"]):
            continue
        bill = bills.get(row["key"]) or {"pupils": 0, "savings": 0, "bill": 0}
        item = MoneyRow(key=row["key"] or "", label=row["name"] or _("No study programme given"), bookings=int(row["known"]),
                        pupils=int(row["known_pupils"]), alternative_cents=int(row["alternative"]),
                        paid_cents=int(row["paid"]), bill_pupils=int(bill["pupils"] or 0),
                        bill_savings_cents=int(bill["savings"] or 0), bill_cents=int(bill["bill"] or 0))
        item.savings_cents = item.alternative_cents - item.paid_cents
        item.savings_per_pupil_cents = per(item.savings_cents, item.pupils)
        item.bill_per_pupil_cents = per(item.bill_cents, item.bill_pupils)
        item.bill_share = share(item.bill_savings_cents, item.bill_cents)
        money.by_programme.append(item)
        for name in ("bookings", "pupils", "alternative_cents", "paid_cents", "savings_cents", "bill_pupils",
                     "bill_savings_cents", "bill_cents"):
            setattr(money, name, getattr(money, name) + getattr(item, name))
    money.savings_per_pupil_cents = per(money.savings_cents, money.pupils)
    money.bill_share = share(money.bill_savings_cents, money.bill_cents)
    counted = await queries.money_schools(where, request.first, request.last)
    money.schools, money.schools_with_bill = int(counted["schools"] or 0), int(counted["with_bill"] or 0)
    return money


def _boundary_crossing(key: str) -> bool:
    return key not in queries.NOT_CROSSING


async def _collaboration(where: queries.Where, scope: Scope, facts: list[dict]) -> Collaboration:
    result = Collaboration()
    rows = _sum(facts, queries.AGREED, "boundary")
    for key in BOUNDARY_ORDER:
        row = rows.get(key)
        if row is None:
            continue
        item = BoundaryRow(key=key, label=boundary_label(key), crossing=_boundary_crossing(key), bookings=row["n"],
                           pupils=row["pupils"], minutes=_minutes(row["secs"]))
        result.by_boundary.append(item)
        result.bookings += item.bookings
        if item.crossing:
            result.crossing += item.bookings
    result.crossing_share = share(result.crossing, result.bookings)
    pairs, result.pair_count = await queries.pairs(where)
    for row in pairs:
        crossing = row["owner_kind"] != "school" or (row["owner_network"] != row["school_network"] and not row["own"])
        school = row["school"] if scope.names_school(row["school_network"]) else anonymous_school(row["school_network"])
        owner = owner_name(scope, {"name": row["owner"], "kind": row["owner_kind"], "network": row["owner_network"]})
        result.pairs.append(PairRow(school=school, school_network=row["school_network"] or "",
                                    school_network_label=network_label(row["school_network"]), owner=owner,
                                    owner_kind=row["owner_kind"], owner_kind_label=kind_label(row["owner_kind"]),
                                    crossing=crossing, bookings=int(row["n"]),
                                    pupils=int(row["pupils"]), minutes=_minutes(row["secs"])))
    return result


async def _unmet(where: queries.Where, facts: list[dict]) -> Unmet:
    unmet = Unmet(searches_counted=where.searches_apply)
    cells: dict[tuple[str, str], UnmetRow] = {}

    def cell(row: dict) -> UnmetRow:
        key = (row["category"] or "", row["region"] or "")
        if key not in cells:
            cells[key] = UnmetRow(category=key[0], category_label=_category(row) or _("Any category"), region=key[1],
                                  region_label=region_name(key[1]) or _("Unknown region"))
        return cells[key]

    for row in facts:
        if row["status"] not in queries.UNMET:
            continue
        item = cell(row)
        if row["status"] == "declined":
            item.declined += int(row["n"])
            unmet.declined += int(row["n"])
        else:
            item.expired += int(row["n"])
            unmet.expired += int(row["n"])
    for row in await queries.unmet_waitlist(where):
        cell(row).waitlist += int(row["n"])
        unmet.waitlist += int(row["n"])
    if where.searches_apply:
        for row in await queries.unmet_searches(where):
            item = cell(row)
            item.searches += int(row["n"])
            item.searches_matched += int(row["matched"])
            unmet.searches += int(row["n"])
            unmet.searches_matched += int(row["matched"])
    for row in await queries.unmet_rounds(where):
        cell(row).round_days += int(row["n"])
        unmet.round_days += int(row["n"])
    unmet.rows = sorted(cells.values(), key=lambda r: (-(r.declined + r.expired + r.waitlist + r.searches + r.round_days),
                                                       r.category_label, r.region_label))
    return unmet


async def _quarters(where: queries.Where, request: ReportRequest) -> list[QuarterRow]:
    spans = quarters_of(request.first, request.last)
    bounds = [(wall_time(a, time(0)), wall_time(b + timedelta(days=1), time(0))) for a, b in spans]
    rows = {int(row["q"]): row for row in await queries.trend(where, bounds)}
    found = []
    for index, (a, b) in enumerate(spans):
        number = (a.month - 1) // 3 + 1
        item = QuarterRow(key=f"{a.year}-Q{number}", label=_("Q%(q)s %(year)s", q=number, year=a.year), first=a, last=b)
        row = rows.get(index)
        if row:
            item.bookings, item.minutes, item.completed = int(row["n"]), _minutes(row["secs"]), int(row["completed"])
            item.pupils, item.schools, item.savings_cents = int(row["pupils"]), int(row["schools"]), int(row["savings"])
            item.crossing, item.unmet = int(row["crossing"]), int(row["unmet"])
        found.append(item)
    return found
