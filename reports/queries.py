"""The report's figures, each from a grouped SQL query (GROUP BY in the database, never a loop
over bookings in Python); both engines, through Piccolo's raw queries. Opening hours are grouped
by their wall times and turned into minutes per day in Brussels here (a few rows, whatever the
number of resources), so that daylight saving time counts right.

Which bookings count where:
- a booking belongs to the period when it starts in it, and to a region when its school or the
  infrastructure lies there; the filters are the school's network, the owner organisation, the
  resource's funding and category, and the booking's study programme;
- supply (and the open time utilisation is measured against) is the infrastructure in the region
  that schools can book now: active resource, facility and owner, with opening hours.

Cost: about eight grouped passes over the period's bookings (each joined to resource, facility,
owner, school, category and programme). At ten times Flanders' size (~100,000 bookings a year,
`python -m bench reports`) a year for all regions takes ~3 s on PostgreSQL and ~7 s on SQLite on
a 2-core machine, a province about half. The next step, when that matters: a table of daily
aggregates per resource, school and programme kept by a job, so a year reads thousands of rows."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from booking.tables import Booking
from core.i18n import BRUSSELS
from inventory.availability import wall_time
from reports.sql import Sql, all_of, duration_seconds, literal_list

Status = Booking.Status
BOOKED = ("requested", "approved", "confirmed", "completed", "no_show")  # time taken by a school
AGREED = ("approved", "confirmed", "completed")  # agreed, going ahead or done
UNMET = ("declined", "expired")
WAITING = ("waiting", "offered", "expired")  # waitlist entries that did not (yet) get their time
NOT_CROSSING = ("own_school", "same_network")


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def total(expr: str) -> str:
    return f"CAST(COALESCE(SUM({expr}), 0) AS BIGINT)"


@dataclass(frozen=True)
class Where:
    """The period, the region (as postal codes) and the filters, as the queries use them."""

    engine: str  # sqlite or postgres
    start: datetime
    end: datetime
    postal: frozenset[str] | None = None  # None: every region
    provinces: frozenset[str] | None = None  # search records without a postal code: these provinces (None: all)
    network: str = ""
    owner: str = ""
    funding: str = ""
    category: str = ""
    programme: str = ""
    owner_ids: frozenset[int] | None = None  # owner staff: only this infrastructure

    @property
    def searches_apply(self) -> bool:
        """Search records know category, programme and region only."""
        return not (self.network or self.owner or self.funding or self.owner_ids is not None)


PUPILS = "COALESCE(b.pupils_attended, b.group_size)"
PAID = "CASE WHEN b.payment_method = 'free' THEN 0 ELSE b.price_cents END"
SAVINGS = f"(b.alternative_cost_cents - {PAID})"
KNOWN = "b.alternative_cost_cents > 0"  # savings need an alternative cost; without one the booking is left out
BOUNDARY = ("CASE WHEN o.kind = 'school' AND o.id = s.id THEN 'own_school' "
            "WHEN o.kind = 'school' AND o.network = s.network THEN 'same_network' "
            "WHEN o.kind = 'school' THEN 'other_network' ELSE r.funding END")


def _joins(alias: str, table: str) -> str:
    return (f"FROM {table} {alias} JOIN resource r ON r.id = {alias}.resource JOIN facility f ON f.id = r.facility "
            f"JOIN organisation o ON o.id = f.owner JOIN organisation s ON s.id = {alias}.school "
            f"JOIN category c ON c.id = r.category LEFT JOIN study_programme p ON p.id = {alias}.study_programme ")


def _infrastructure(w: Where) -> list[Sql | str]:
    conditions: list[Sql | str] = []
    if w.owner:
        conditions.append(Sql("o.slug = {}", (w.owner,)))
    if w.funding:
        conditions.append(Sql("r.funding = {}", (w.funding,)))
    if w.category:
        conditions.append(Sql("c.slug = {}", (w.category,)))
    if w.owner_ids is not None:
        conditions.append(f"o.id IN ({', '.join(str(int(i)) for i in sorted(w.owner_ids)) or 'NULL'})")
    return conditions


def _visits(w: Where, alias: str = "b", *, period: bool = True) -> Sql:
    """The WHERE of bookings (or waitlist entries) in the period, region and filters."""
    conditions: list[Sql | str] = [Sql(f'{alias}."start" >= {{}}', (w.start,)), Sql(f'{alias}."start" < {{}}', (w.end,))
                                   ] if period else []
    if w.postal is not None:
        codes = literal_list(w.postal)
        conditions.append(f"f.postal_code IN ({codes}) OR s.postal_code IN ({codes})")
    if w.network:
        conditions.append(Sql("s.network = {}", (w.network,)))
    if w.programme:
        conditions.append(Sql("p.slug = {}", (w.programme,)))
    return all_of(conditions + _infrastructure(w))


def _open(w: Where) -> Sql:
    """The WHERE of the infrastructure open to schools in the region (and filters)."""
    conditions: list[Sql | str] = [
        Sql("r.status = 'active' AND f.active = {} AND o.active = {}", (True, True)),
        "EXISTS (SELECT 1 FROM opening_hours oh0 WHERE oh0.resource = r.id)",
    ]
    if w.postal is not None:
        conditions.append(f"f.postal_code IN ({literal_list(w.postal)})")
    if w.programme:
        conditions.append(Sql("EXISTS (SELECT 1 FROM resource_programme rp JOIN study_programme sp ON sp.id = rp.programme "
                              "WHERE rp.resource = r.id AND sp.slug = {})", (w.programme,)))
    return all_of(conditions + _infrastructure(w))


async def _rows(query: Sql) -> list[dict]:
    return await Booking.raw(query.text, *query.args)


# --- supply ------------------------------------------------------------------------------------

SUPPLY_FROM = "FROM resource r JOIN facility f ON f.id = r.facility JOIN organisation o ON o.id = f.owner " \
              "JOIN category c ON c.id = r.category "


async def supply_counts(w: Where) -> dict[str, list[dict]]:
    where = Sql("WHERE ") + _open(w)
    found = {}
    found["total"] = await _rows(Sql("SELECT COUNT(*) AS resources, COUNT(DISTINCT f.id) AS facilities " + SUPPLY_FROM)
                                 + where)
    found["funding"] = await _rows(Sql("SELECT r.funding AS key, COUNT(*) AS resources, COUNT(DISTINCT f.id) AS facilities "
                                       + SUPPLY_FROM) + where + " GROUP BY r.funding")
    found["category"] = await _rows(Sql("SELECT c.slug AS key, c.name_nl, c.name_en, c.position, COUNT(*) AS resources, "
                                        "COUNT(DISTINCT f.id) AS facilities " + SUPPLY_FROM) + where
                                    + " GROUP BY c.slug, c.name_nl, c.name_en, c.position")
    return found


def _as_time(value) -> time:
    return value if isinstance(value, time) else time.fromisoformat(str(value))


def _days(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


@functools.lru_cache(maxsize=4096)
def _weekday_minutes(first: date, last: date, weekday: int, opens: time, closes: time) -> int:
    """Real minutes between `opens` and `closes` on every `weekday` of [first, last] (wall times in
    Brussels: an hour more or less on the nights the clocks change, when the hours span them)."""
    seconds = 0
    for day in _days(first, last):
        if day.weekday() == weekday:
            seconds += max(0, (wall_time(day, closes) - wall_time(day, opens)).total_seconds())
    return int(seconds // 60)


async def open_minutes(w: Where, first: date, last: date) -> list[dict]:
    """Open minutes in the period per (category, funding), minus closures: opening hours grouped by
    their wall times (SQL), then closures of the few resources that have one in the period."""
    where = Sql("WHERE ") + _open(w)
    grouped = await _rows(Sql("SELECT c.slug AS category, r.funding, oh.weekday, oh.opens, oh.closes, COUNT(*) AS n "
                              "FROM opening_hours oh JOIN resource r ON r.id = oh.resource "
                              "JOIN facility f ON f.id = r.facility JOIN organisation o ON o.id = f.owner "
                              "JOIN category c ON c.id = r.category ") + where
                          + " GROUP BY c.slug, r.funding, oh.weekday, oh.opens, oh.closes")
    minutes: dict[tuple[str, str], list[int]] = {}
    for row in grouped:
        n = _weekday_minutes(first, last, int(row["weekday"]), _as_time(row["opens"]), _as_time(row["closes"]))
        minutes.setdefault((row["category"], row["funding"]), [0, 0])[0] += n * int(row["n"])
    closures = await _rows(Sql("SELECT cl.resource, c.slug AS category, r.funding, cl.starts_at, cl.ends_at " + SUPPLY_FROM
                               + "JOIN closure cl ON cl.resource = r.id WHERE ") + _open(w)
                           + Sql(" AND cl.starts_at < {} AND cl.ends_at > {}", (w.end, w.start)))
    if closures:
        ids = sorted({int(row["resource"]) for row in closures})
        hours: dict[int, list[tuple[int, time, time]]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            for row in await _rows(Sql("SELECT resource, weekday, opens, closes FROM opening_hours WHERE resource IN ("
                                       + ", ".join(str(i) for i in chunk) + ")")):
                hours.setdefault(int(row["resource"]), []).append(
                    (int(row["weekday"]), _as_time(row["opens"]), _as_time(row["closes"])))
        spans: dict[int, list[tuple[datetime, datetime]]] = {}
        keys: dict[int, tuple[str, str]] = {}
        for row in closures:
            rid = int(row["resource"])
            keys[rid] = (row["category"], row["funding"])
            spans.setdefault(rid, []).append((max(_aware(row["starts_at"]), w.start), min(_aware(row["ends_at"]), w.end)))
        for rid, closed in spans.items():
            lost = _closed_minutes(_merge(closed), hours.get(rid, []))
            minutes.setdefault(keys[rid], [0, 0])[1] += lost
    return [{"category": k[0], "funding": k[1], "open": v[0] - v[1], "closed": v[1]} for k, v in minutes.items()]


def _aware(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=BRUSSELS)


def _merge(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        elif a < b:
            merged.append((a, b))
    return merged


def _closed_minutes(closed: list[tuple[datetime, datetime]], hours: list[tuple[int, time, time]]) -> int:
    """Opening-hour minutes that fall inside the (merged) closures."""
    seconds = 0.0
    for a, b in closed:
        for day in _days(a.astimezone(BRUSSELS).date(), b.astimezone(BRUSSELS).date()):
            for weekday, opens, closes in hours:
                if weekday == day.weekday():
                    lo, hi = max(a, wall_time(day, opens)), min(b, wall_time(day, closes))
                    if hi > lo:
                        seconds += (hi - lo).total_seconds()
    return int(seconds // 60)


# --- bookings ----------------------------------------------------------------------------------

async def booking_facts(w: Where) -> list[dict]:
    """One grouped pass over the period's bookings for use, collaboration and declined or expired
    requests: per status, category, region of the infrastructure and boundary (whose
    infrastructure), the count, booked seconds (of which on the resources counted in supply) and
    pupils. The supply resources are an uncorrelated IN (computed once), not a subquery per
    booking (a joined derived table made SQLite five times slower)."""
    dur = duration_seconds(w.engine, 'b."start"', 'b."end"')
    supply = Sql("b.resource IN (SELECT r.id " + SUPPLY_FROM + "WHERE ") + _open(w) + ")"
    query = (Sql(f"SELECT b.status, c.slug AS category, c.name_nl, c.name_en, c.position, f.region_code AS region, "
                 f"{BOUNDARY} AS boundary, COUNT(*) AS n, {total(dur)} AS secs, CAST(COALESCE(SUM(CASE WHEN ")
             + supply + f" THEN {dur} ELSE 0 END), 0) AS BIGINT) AS supply_secs, {total(PUPILS)} AS pupils "
             + _joins("b", "booking") + "WHERE " + _visits(w) + " GROUP BY 1, 2, 3, 4, 5, 6, 7")
    return await _rows(query)


def _school_year(w: Where, first_year: int, last_year: int) -> Sql:
    """The school year (its first calendar year) a booking's start falls in: 1 September,
    midnight in Brussels."""
    text, args = "CASE", []
    for year in range(last_year, first_year, -1):
        text += ' WHEN b."start" >= {} THEN ' + str(year)
        args.append(wall_time(date(year, 9, 1), time(0)))
    return Sql(text + f" ELSE {first_year} END", tuple(args)) if args else Sql(str(first_year))


async def reach_by_network(w: Where) -> list[dict]:
    return await _rows(Sql(f"SELECT s.network AS key, COUNT(DISTINCT s.id) AS schools, COUNT(*) AS n, {total(PUPILS)} AS pupils "
                           + _joins("b", "booking") + "WHERE b.status = 'completed' AND ") + _visits(w)
                       + " GROUP BY s.network")


def _bill_join(w: Where, first: date, last: date) -> Sql:
    first_year = first.year if first.month >= 9 else first.year - 1
    last_year = last.year if last.month >= 9 else last.year - 1
    return (Sql("LEFT JOIN school_bill sb ON sb.school = b.school AND sb.programme = p.slug AND sb.school_year = ")
            + _school_year(w, first_year, last_year) + " ")


async def money_by_programme(w: Where) -> list[dict]:
    """Per study programme, completed bookings: all of them (reach), and those with a known
    alternative cost (money: what it would have cost, what the school paid)."""
    known = f"CASE WHEN {KNOWN} THEN 1 ELSE 0 END"
    query = (Sql(f"SELECT p.slug AS key, p.name, COUNT(*) AS n, {total(PUPILS)} AS pupils, COUNT(DISTINCT s.id) AS schools, "
                 f"{total(known)} AS known, {total(f'CASE WHEN {KNOWN} THEN {PUPILS} ELSE 0 END')} AS known_pupils, "
                 f"{total(f'CASE WHEN {KNOWN} THEN b.alternative_cost_cents ELSE 0 END')} AS alternative, "
                 f"{total(f'CASE WHEN {KNOWN} THEN {PAID} ELSE 0 END')} AS paid "
                 + _joins("b", "booking") + "WHERE b.status = 'completed' AND ") + _visits(w) + " GROUP BY p.slug, p.name")
    return await _rows(query)


async def bill_by_programme(w: Where, first: date, last: date) -> list[dict]:
    """Per study programme, against the school bill: for each school, programme and school year
    with a recorded bill, the savings of its completed bookings (with a known alternative cost)
    and the pupils concerned (the largest group that came: a group that comes ten times is still
    one group of pupils, billed once a year), times the bill per pupil."""
    inner = (Sql(f"SELECT p.slug AS key, b.school AS school, sb.school_year, sb.cents_per_pupil AS bill, "
                 f"MAX({PUPILS}) AS pupils, {total(SAVINGS)} AS savings " + _joins("b", "booking"))
             + _bill_join(w, first, last).replace_first("LEFT JOIN", "JOIN")
             + f"WHERE b.status = 'completed' AND {KNOWN} AND " + _visits(w)
             + " GROUP BY p.slug, b.school, sb.school_year, sb.cents_per_pupil")
    return await _rows(Sql("SELECT x.key, CAST(SUM(x.pupils) AS BIGINT) AS pupils, CAST(SUM(x.savings) AS BIGINT) AS savings, "
                           "CAST(SUM(x.pupils * x.bill) AS BIGINT) AS bill FROM (") + inner + ") x GROUP BY x.key")


async def money_schools(w: Where, first: date, last: date) -> dict:
    query = (Sql("SELECT COUNT(DISTINCT s.id) AS schools, COUNT(DISTINCT CASE WHEN sb.id IS NOT NULL THEN s.id END) AS with_bill "
                 + _joins("b", "booking")) + _bill_join(w, first, last) + "WHERE b.status = 'completed' AND " + _visits(w))
    rows = await _rows(query)
    return rows[0] if rows else {"schools": 0, "with_bill": 0}


async def schools(w: Where, networks: frozenset[str] | None, limit: int = 100) -> list[dict]:
    """The schools reached, most bookings first (only those of `networks` when given)."""
    only = Sql("")
    if networks is not None:
        only = Sql(f" AND s.network IN ({', '.join('{}' for _ in networks) or 'NULL'})", tuple(sorted(networks)))
    return await _rows(Sql(f"SELECT s.id, s.name, s.network, COUNT(*) AS n, {total(PUPILS)} AS pupils, "
                           f"{total(f'CASE WHEN {KNOWN} THEN {SAVINGS} ELSE 0 END')} AS savings " + _joins("b", "booking")
                           + "WHERE b.status = 'completed' AND ")
                       + _visits(w) + only + f" GROUP BY s.id, s.name, s.network ORDER BY COUNT(*) DESC, s.name LIMIT {int(limit)}")


async def pairs(w: Where, limit: int = 25) -> tuple[list[dict], int]:
    dur = duration_seconds(w.engine, 'b."start"', 'b."end"')
    where = Sql(f"WHERE b.status IN ({_in(AGREED)}) AND ") + _visits(w)
    group = " GROUP BY s.id, s.name, s.network, o.id, o.name, o.kind, o.network"
    rows = await _rows(Sql("SELECT s.name AS school, s.network AS school_network, o.name AS owner, o.kind AS owner_kind, "
                           f"o.network AS owner_network, CASE WHEN o.id = s.id THEN 1 ELSE 0 END AS own, COUNT(*) AS n, "
                           f"{total(PUPILS)} AS pupils, {total(dur)} AS secs, COUNT(*) OVER () AS pair_count "
                           + _joins("b", "booking")) + where + group
                       + f" ORDER BY COUNT(*) DESC, {total(dur)} DESC, s.name, o.name LIMIT {int(limit)}")
    return rows, int(rows[0]["pair_count"]) if rows else 0  # every pair counted before the LIMIT


async def unmet_waitlist(w: Where) -> list[dict]:
    return await _rows(Sql("SELECT c.slug AS category, c.name_nl, c.name_en, f.region_code AS region, COUNT(*) AS n "
                           + _joins("b", "waitlist_entry") + f"WHERE b.status IN ({_in(WAITING)}) AND ") + _visits(w)
                       + " GROUP BY c.slug, c.name_nl, c.name_en, f.region_code")


# A published round's registration: the resource it named, or the round's first resource of its
# category, and the days it asked and did not get booked; by the round's first day.
ROUND_SHORTFALLS = (
    "(SELECT g.id, g.school, g.study_programme, COALESCE(g.resource, (SELECT MIN(rr.resource) FROM round_resource rr "
    "JOIN resource r2 ON r2.id = rr.resource WHERE rr.allocation_round = g.allocation_round "
    "AND r2.category = g.category)) AS resource, g.days - (SELECT COUNT(*) FROM round_allocation ra "
    "WHERE ra.registration = g.id AND ra.booking IS NOT NULL) AS short "
    "FROM round_registration g JOIN allocation_round ar ON ar.id = g.allocation_round "
    "WHERE ar.status = 'published' AND g.status = 'active' AND ar.period_start >= {} AND ar.period_start < {})")


async def unmet_rounds(w: Where) -> list[dict]:
    """Days asked in published allocation rounds whose period starts in the report's period and
    not booked (not granted, or not bookable when published), by category and region."""
    first, end = w.start.astimezone(BRUSSELS).date(), w.end.astimezone(BRUSSELS).date()
    source = Sql(_joins("b", ROUND_SHORTFALLS), (first, end))
    return await _rows(Sql("SELECT c.slug AS category, c.name_nl, c.name_en, f.region_code AS region, "
                           f"{total('b.short')} AS n ") + source + "WHERE b.short > 0 AND "
                       + _visits(w, period=False) + " GROUP BY c.slug, c.name_nl, c.name_en, f.region_code")


async def unmet_searches(w: Where) -> list[dict]:
    conditions: list[Sql | str] = [Sql("sr.free_from >= {}", (w.start,)), Sql("sr.free_from < {}", (w.end,))]
    if w.category:
        conditions.append(Sql("sr.category = {}", (w.category,)))
    if w.programme:
        conditions.append(Sql("sr.study_programme = {}", (w.programme,)))
    if w.postal is not None:
        typed = f"sr.postal_code IN ({literal_list(w.postal)})"
        if w.provinces:
            provinces = ", ".join(f"'{code}'" for code in sorted(w.provinces) if code.isalnum())
            typed += f" OR (sr.postal_code = '' AND sr.region_code IN ({provinces}))"
        conditions.append(typed)
    return await _rows(Sql("SELECT sr.category, c.name_nl, c.name_en, sr.region_code AS region, COUNT(*) AS n, "
                           f"{total('sr.matched')} AS matched FROM search_record sr LEFT JOIN category c ON c.slug = sr.category "
                           "WHERE ") + all_of(conditions) + " GROUP BY sr.category, c.name_nl, c.name_en, sr.region_code")


async def trend(w: Where, quarters: list[tuple[datetime, datetime]]) -> list[dict]:
    """Per quarter (index into `quarters`, by the booking's start): the trend figures."""
    dur = duration_seconds(w.engine, 'b."start"', 'b."end"')
    text, args = "CASE", []
    for index in range(len(quarters) - 1, 0, -1):
        text += ' WHEN b."start" >= {} THEN ' + str(index)
        args.append(quarters[index][0])
    quarter = Sql(text + " ELSE 0 END", tuple(args)) if args else Sql("0")
    booked, agreed, unmet = _in(BOOKED), _in(AGREED), _in(UNMET)
    crossing = f"b.status IN ({agreed}) AND ({BOUNDARY}) NOT IN ({_in(NOT_CROSSING)})"
    query = (Sql("SELECT ") + quarter + " AS q, "
             f"COUNT(CASE WHEN b.status IN ({booked}) THEN 1 END) AS n, "
             f"{total(f'CASE WHEN b.status IN ({booked}) THEN {dur} ELSE 0 END')} AS secs, "
             "COUNT(CASE WHEN b.status = 'completed' THEN 1 END) AS completed, "
             f"{total(f'CASE WHEN b.status = {chr(39)}completed{chr(39)} THEN {PUPILS} ELSE 0 END')} AS pupils, "
             "COUNT(DISTINCT CASE WHEN b.status = 'completed' THEN s.id END) AS schools, "
             f"{total(f'CASE WHEN b.status = {chr(39)}completed{chr(39)} AND {KNOWN} THEN {SAVINGS} ELSE 0 END')} AS savings, "
             f"COUNT(CASE WHEN {crossing} THEN 1 END) AS crossing, "
             f"COUNT(CASE WHEN b.status IN ({unmet}) THEN 1 END) AS unmet "
             + _joins("b", "booking") + "WHERE " + _visits(w) + " GROUP BY 1")  # the quarter (its parameters once)
    return await _rows(query)
