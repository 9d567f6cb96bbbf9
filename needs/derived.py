"""Needs that nobody typed but the data shows, computed on request and never stored, always
marked derived ("afgeleid"):

- searches that found nothing free (inventory's SearchRecord, anonymous: only filters, region
  and hour), over the last year;
- registrations of published allocation rounds that got fewer days than they asked for
  (allocation's `round_registration`, its days against its `round_allocation` rows), read
  only, with plain SQL.

And the needs table per region and category: demand (recorded needs, searches, waitlists, unmet
round days) next to supply (resources open to schools and their free hours), gaps marked.

Who sees what: derived demand is counted per region and category, never per searcher. RTC staff
see their region; owner staff the regions they serve; provider staff and platform admins every
region; school members only their own school's unmet round registrations."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone

from piccolo.query.functions.aggregate import Count, Sum

from accounts.services import Actor
from accounts.tables import Membership
from booking.tables import HOLDING_STATUSES
from core.i18n import BRUSSELS
from core.uow import UnitOfWork
from inventory.availability import wall_time
from needs import services
from needs.tables import Need
from regions.geography import REGIONS

Role = Membership.Role
SEARCH_DAYS = 365
WEEKS = 8
WAITING = ("waiting", "offered")  # waitlist entries still waiting for their time


@dataclass
class DerivedNeed:
    source: str  # "search" or "round"
    category: str  # slug
    category_name_nl: str
    category_name_en: str
    programme: str  # slug, or ""
    region_code: str
    count: int  # searches, or registrations
    unmet_days: int = 0  # rounds: days asked and not allocated
    pupils: int = 0  # rounds: the groups' pupils
    programme_name: str = ""
    derived: bool = True


def regions_for(actor: Actor | None, owner_regions: set[str]) -> set[str] | None:
    """The regions whose aggregated demand the actor sees (None: all; empty: none)."""
    if actor is None:
        return set()
    if actor.is_platform_admin or actor.has_role(Role.provider_staff):
        return None
    return set(actor.regions(Role.rtc_staff)) | owner_regions


def _codes(regions: set[str]) -> str:
    return ", ".join(f"'{code}'" for code in sorted(regions) if code.isalnum()) or "NULL"


async def from_searches(uow: UnitOfWork, regions: set[str] | None) -> list[DerivedNeed]:
    since = uow.now() - timedelta(days=SEARCH_DAYS)
    where = "" if regions is None else f" AND sr.region_code IN ({_codes(regions)})"
    rows = await Need.raw(
        "SELECT sr.category, COALESCE(c.name_nl, sr.category) AS name_nl, COALESCE(c.name_en, sr.category) AS name_en, "
        "sr.study_programme, p.name AS programme_name, sr.region_code, COUNT(*) AS n FROM search_record sr "
        "LEFT JOIN category c ON c.slug = sr.category LEFT JOIN study_programme p ON p.slug = sr.study_programme "
        "WHERE sr.searched_at >= {} AND sr.category <> ''" + where
        + " GROUP BY sr.category, c.name_nl, c.name_en, sr.study_programme, p.name, sr.region_code "
          "ORDER BY sr.region_code, sr.category, sr.study_programme", since)
    return [DerivedNeed("search", row["category"], row["name_nl"], row["name_en"], row["study_programme"] or "",
                        row["region_code"] or "", int(row["n"]), programme_name=row["programme_name"] or "")
            for row in rows]


async def from_rounds(uow: UnitOfWork, regions: set[str] | None, schools: set[int] | None = None) -> list[DerivedNeed]:
    """Active registrations of published rounds that got fewer days than asked, per category,
    programme and the school's region."""
    conditions = []
    if regions is not None:
        conditions.append(f"s.region_code IN ({_codes(regions)})")
    if schools is not None:
        conditions.append(f"rr.school IN ({', '.join(str(int(i)) for i in sorted(schools)) or 'NULL'})")
    extra = "".join(f" AND {c}" for c in conditions)
    rows = await Need.raw(
        "SELECT c.slug AS category, c.name_nl, c.name_en, COALESCE(p.slug, '') AS programme, "
        "COALESCE(p.name, '') AS programme_name, s.region_code, "
        "rr.days, rr.group_size, (SELECT COUNT(*) FROM round_allocation ra WHERE ra.registration = rr.id) AS got "
        "FROM round_registration rr JOIN allocation_round ar ON ar.id = rr.allocation_round "
        "JOIN organisation s ON s.id = rr.school LEFT JOIN resource r ON r.id = rr.resource "
        "JOIN category c ON c.id = COALESCE(rr.category, r.category) "
        "LEFT JOIN study_programme p ON p.id = rr.study_programme "
        "WHERE ar.status = 'published' AND rr.status = 'active'" + extra + " ORDER BY rr.id")
    grouped: dict[tuple, DerivedNeed] = {}
    for row in rows:
        missing = int(row["days"]) - int(row["got"])
        if missing <= 0:
            continue
        key = (row["category"], row["programme"], row["region_code"] or "")
        item = grouped.get(key)
        if item is None:
            item = grouped[key] = DerivedNeed("round", row["category"], row["name_nl"], row["name_en"], row["programme"],
                                              row["region_code"] or "", 0, programme_name=row["programme_name"])
        item.count += 1
        item.unmet_days += missing
        item.pupils += int(row["group_size"])
    return sorted(grouped.values(), key=lambda d: (d.region_code, d.category, d.programme))


async def derived_needs(uow: UnitOfWork) -> list[DerivedNeed]:
    """The derived needs the acting user may see."""
    actor = uow.actor
    if actor is None:
        return []
    owner_regions = await services.owner_regions(actor.organisation_ids(Role.owner_staff))
    regions = regions_for(actor, owner_regions)
    found: list[DerivedNeed] = []
    if regions is None or regions:
        found += await from_searches(uow, regions)
        found += await from_rounds(uow, regions)
    elif actor.has_role(*services.SCHOOL_ROLES):
        found += await from_rounds(uow, None, set(actor.organisation_ids(*services.SCHOOL_ROLES)))
    return found


# --- demand next to supply -------------------------------------------------------------------

@dataclass
class OverviewRow:
    region_code: str
    category: str  # slug
    category_name_nl: str
    category_name_en: str
    needs: int = 0  # recorded needs, not closed
    pupils: int = 0  # their pupils
    searches: int = 0
    waitlist: int = 0
    round_days: int = 0  # days asked in published rounds and not allocated
    resources: int = 0  # open to schools
    free_hours: int = 0  # in the next WEEKS weeks, roughly (closures and owners' calendars left out)

    @property
    def demand(self) -> int:
        return self.needs + self.searches + self.waitlist + (1 if self.round_days else 0)

    @property
    def gap(self) -> bool:
        """Demand without free supply in the region."""
        return self.demand > 0 and self.free_hours == 0

    @property
    def region_name(self) -> str:
        region = REGIONS.get(self.region_code)
        return region.name if region else self.region_code


@dataclass
class Overview:
    rows: list[OverviewRow] = field(default_factory=list)
    weeks: int = WEEKS

    @property
    def gaps(self) -> int:
        return sum(1 for row in self.rows if row.gap)


async def overview(uow: UnitOfWork, region: str | None = None, category: str | None = None) -> Overview:
    """Demand next to supply per region and category, for those who answer needs and follow
    regions (not for schools: they get an empty overview)."""
    actor = uow.actor
    if actor is None:
        return Overview()
    owner_regions = await services.owner_regions(actor.organisation_ids(Role.owner_staff))
    regions = regions_for(actor, owner_regions)
    if regions is not None and not regions:
        return Overview()
    if region:
        regions = {region} if regions is None or region in regions else set()
        if not regions:
            return Overview()
    rows: dict[tuple[str, str], OverviewRow] = {}
    names: dict[str, tuple[str, str]] = {}

    def row_for(region_code: str, slug: str, name_nl: str, name_en: str) -> OverviewRow:
        names.setdefault(slug, (name_nl, name_en))
        key = (region_code or "", slug)
        if key not in rows:
            rows[key] = OverviewRow(region_code or "", slug, *names[slug])
        return rows[key]

    def wanted(region_code: str, slug: str) -> bool:
        return (regions is None or region_code in regions) and (not category or slug == category)

    for need in await _recorded(regions):  # counted region-wide: the overview names no school
        if wanted(need["region_code"], need["slug"]):
            item = row_for(need["region_code"], need["slug"], need["name_nl"], need["name_en"])
            item.needs += int(need["n"])
            item.pupils += int(need["pupils"] or 0)
    for d in await from_searches(uow, regions):
        if wanted(d.region_code, d.category):
            row_for(d.region_code, d.category, d.category_name_nl, d.category_name_en).searches += d.count
    for d in await from_rounds(uow, regions):
        if wanted(d.region_code, d.category):
            row_for(d.region_code, d.category, d.category_name_nl, d.category_name_en).round_days += d.unmet_days
    for w in await _waitlist(uow, regions):
        if wanted(w["region_code"], w["slug"]):
            row_for(w["region_code"], w["slug"], w["name_nl"], w["name_en"]).waitlist += int(w["n"])
    for s in await _supply(uow, regions):
        if wanted(s["region_code"], s["slug"]):
            item = row_for(s["region_code"], s["slug"], s["name_nl"], s["name_en"])
            item.resources += s["resources"]
            item.free_hours += s["free_minutes"] // 60
    ordered = sorted(rows.values(), key=lambda r: (not r.gap, r.region_code, -r.demand, r.category))
    return Overview(ordered, WEEKS)


async def _recorded(regions: set[str] | None) -> list[dict]:
    """Needs not closed, per region and category, with their pupils: one grouped query."""
    query = Need.select(Need.region_code, Need.category.slug.as_alias("slug"), Need.category.name_nl.as_alias("name_nl"),
                        Need.category.name_en.as_alias("name_en"), Count(Need.id).as_alias("n"),
                        Sum(Need.pupils).as_alias("pupils")).where(Need.status != Need.Status.closed)
    if regions is not None:
        query = query.where(Need.region_code.is_in(sorted(regions) or [""]))
    return await query.group_by(Need.region_code, Need.category.slug, Need.category.name_nl, Need.category.name_en)


async def _waitlist(uow: UnitOfWork, regions: set[str] | None) -> list[dict]:
    where = "" if regions is None else f" AND f.region_code IN ({_codes(regions)})"
    return await Need.raw(
        "SELECT f.region_code, c.slug, c.name_nl, c.name_en, COUNT(*) AS n FROM waitlist_entry w "
        "JOIN resource r ON r.id = w.resource JOIN facility f ON f.id = r.facility JOIN category c ON c.id = r.category "
        f"WHERE w.status IN ({', '.join(repr(s) for s in WAITING)}) AND w.\"start\" >= {{}}" + where
        + " GROUP BY f.region_code, c.slug, c.name_nl, c.name_en ORDER BY f.region_code, c.slug", uow.now())


async def _supply(uow: UnitOfWork, regions: set[str] | None) -> list[dict]:
    """Resources open to schools per region and category, and their free minutes in the next
    WEEKS weeks: opening hours (wall times, each day turned into UTC) minus the time holding
    bookings take, in three queries."""
    where = "" if regions is None else f" AND f.region_code IN ({_codes(regions)})"
    resources = await Need.raw(
        "SELECT r.id, f.region_code, c.slug, c.name_nl, c.name_en FROM resource r JOIN facility f ON f.id = r.facility "
        "JOIN organisation o ON o.id = f.owner JOIN category c ON c.id = r.category "
        "WHERE r.status = 'active' AND f.active = {} AND o.active = {} "
        "AND EXISTS (SELECT 1 FROM opening_hours oh WHERE oh.resource = r.id)" + where + " ORDER BY r.id", True, True)
    if not resources:
        return []
    ids = ", ".join(str(int(row["id"])) for row in resources)
    start = uow.now()
    end = start + timedelta(weeks=WEEKS)
    open_minutes: dict[int, int] = defaultdict(int)
    hours = await Need.raw("SELECT resource, weekday, CAST(opens AS TEXT) AS o, CAST(closes AS TEXT) AS x "
                           f"FROM opening_hours WHERE resource IN ({ids}) ORDER BY resource, weekday, opens")
    first = start.astimezone(BRUSSELS).date()
    days = [first + timedelta(days=n) for n in range(WEEKS * 7 + 1)]
    for h in hours:
        opens, closes = time.fromisoformat(h["o"]), time.fromisoformat(h["x"])
        for day in days:
            if day.weekday() != h["weekday"]:
                continue
            a, b = max(wall_time(day, opens), start), min(wall_time(day, closes), end)
            if b > a:
                open_minutes[h["resource"]] += int((b - a).total_seconds() // 60)
    held = await Need.raw(
        "SELECT resource, \"start\", \"end\" FROM booking "
        f"WHERE resource IN ({ids}) AND status IN ({', '.join(repr(s) for s in HOLDING_STATUSES)}) "
        "AND \"start\" < {} AND \"end\" > {} ORDER BY resource", end, start)
    for b in held:
        a, z = max(_aware(b["start"]), start), min(_aware(b["end"]), end)
        if z > a:
            open_minutes[b["resource"]] -= int((z - a).total_seconds() // 60)
    grouped: dict[tuple[str, str], dict] = {}
    for row in resources:
        key = (row["region_code"] or "", row["slug"])
        item = grouped.setdefault(key, {"region_code": key[0], "slug": row["slug"], "name_nl": row["name_nl"],
                                        "name_en": row["name_en"], "resources": 0, "free_minutes": 0})
        item["resources"] += 1
        item["free_minutes"] += max(0, open_minutes.get(row["id"], 0))
    return list(grouped.values())


def _aware(value) -> datetime:
    """A timestamp from raw SQL (SQLite gives text) as an aware UTC datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
