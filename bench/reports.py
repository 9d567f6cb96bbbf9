"""Regional report benchmark, run on demand (`python -m bench reports`, also part of `make bench`);
never part of the pytest suite. On SQLite (a file in a temp dir) by default, on PostgreSQL when
WERKBANK_DATABASE_URL points at one (in a database of its own on that server, dropped after), it
loads `werkbank demo --scale N` and adds a year of bookings (about 10,000 per copy of the demo:
100,000 at the default scale 10, ten times Flanders' real size), then measures, each next to a
baseline in the same run:

1. the regional report (`reports.services.regional_report`) for the past twelve months over all
   regions, as a platform admin: every section (supply, use, reach, money against the school
   bill, collaboration, unmet demand, the quarters), about fifteen grouped queries;
2. the same for one province (East Flanders: bookings of its schools or on its infrastructure);

against the raw SQL aggregate of the main figures (one hand-written GROUP BY: bookings and
minutes per status, completed bookings, pupils and savings, per quarter, and for the province the
joins that find it), through the same Piccolo raw path. The ratio says what the whole report
costs next to its core figure; both also say whether they agree on those figures.

The added bookings lie in the past twelve months on the weekdays the demo left free (Monday to
Thursday, the demo's two half-day slots, never on a day the demo booked that resource: no two
overlap), past statuses only (completed, no-show, cancelled, declined, expired), a study
programme the resource serves, a school of the region mostly. They go in with one bulk statement
(sqlite3 `executemany`, asyncpg `COPY`): the point is the report, not the load. PostgreSQL is
ANALYZEd after the load, as autovacuum would; SQLite is left as the app leaves it.

Timings are printed, never asserted."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime

from bench.__main__ import _time, report
from core.i18n import BRUSSELS

PER_COPY = 10_000  # bookings a year per copy of the demo
PROVINCE = "VOV"
BENCH_DB = "werkbank_bench_reports"
SLOTS = ((dtime(8, 30), dtime(12, 0)), (dtime(13, 0), dtime(15, 30)))  # the demo's half days
PAST = (("completed", 0.78), ("no_show", 0.82), ("cancelled", 0.90), ("declined", 0.95), ("expired", 1.0))
COLUMNS = ("resource", "school", "teacher", "start", "end", "hold_end", "status", "group_size", "study_programme",
           "price_cents", "alternative_cost_cents", "payment_method", "decided_at", "pupils_attended", "created_at",
           "updated_at")


@dataclass
class Loaded:
    added: int
    total: int
    seconds: float


def _status(dice: random.Random) -> str:
    """A past booking's status, in the demo's mix."""
    roll = dice.random()
    return next(status for status, upto in PAST if roll < upto)


async def year_of_bookings(target: int, today: date, seed: int = 20261201) -> list[tuple]:
    """About `target` bookings in the twelve months before `today` (less what the demo already has
    there), as rows in COLUMNS order, on resource-days the demo left free."""
    from accounts.tables import Membership, Organisation
    from booking import rules
    from booking.tables import Booking
    from inventory.tables import Facility, Resource, ResourceProgramme

    dice = random.Random(seed)
    first = today - timedelta(days=365)
    taken = {(row["resource"], row["start"].astimezone(BRUSSELS).date())
             for row in await Booking.select(Booking.resource, Booking.start)}
    existing = sum(1 for _resource, day in taken if first <= day < today)
    resources = await Resource.objects().order_by(Resource.id)
    region_of = {row["id"]: row["region_code"] for row in await Facility.select(Facility.id, Facility.region_code)}
    schools = {row["id"]: row["region_code"] for row in await Organisation.select(Organisation.id, Organisation.region_code)
               .where(Organisation.kind == "school").order_by(Organisation.id)}
    by_region: dict[str, list[int]] = {}
    for school, region in schools.items():
        by_region.setdefault(region, []).append(school)
    teachers = {row["organisation"]: row["user"] for row in await Membership.select(Membership.organisation, Membership.user)
                .where(Membership.role == "teacher").order_by(Membership.id)}
    served: dict[int, list[int]] = {}
    for row in await ResourceProgramme.select(ResourceProgramme.resource, ResourceProgramme.programme).order_by(
            ResourceProgramme.id):
        served.setdefault(row["resource"], []).append(row["programme"])
    days = [first + timedelta(days=n) for n in range((today - first).days) if (first + timedelta(days=n)).weekday() < 4]
    free = sum(1 for r in resources for day in days if (r.id, day) not in taken) * len(SLOTS)
    chance = min(1.0, max(0, target - existing) / max(1, free))
    everyone = sorted(schools)
    rows: list[tuple] = []
    for resource in resources:
        nearby = by_region.get(region_of[resource.facility]) or everyone
        programmes = served.get(resource.id, [])
        for day in days:
            if (resource.id, day) in taken:
                continue
            for opens, closes in SLOTS:
                if dice.random() >= chance:
                    continue
                start = datetime.combine(day, opens, BRUSSELS)
                end = datetime.combine(day, closes, BRUSSELS)
                school = dice.choice(nearby if dice.random() < 0.8 else everyone)
                group = dice.randint(max(1, resource.capacity // 2), resource.capacity)
                price_cents, alternative = rules.price(resource, start, end, group)
                status = _status(dice)
                created = start - timedelta(days=dice.randint(8, 40))
                decided = created + timedelta(days=dice.randint(1, 4))
                done = status in ("completed", "no_show")
                rows.append((
                    resource.id, school, teachers[school], start, end, end + timedelta(minutes=resource.buffer_minutes),
                    status, group, dice.choice(programmes) if programmes and dice.random() < 0.9 else None,
                    price_cents, alternative, ("free" if not price_cents else "invoice") if done else "",
                    decided if status != "expired" else None,
                    max(1, group - dice.randint(0, 2)) if status == "completed" else None, created, decided,
                ))
    return rows


async def insert_sqlite(path: str, rows: list[tuple]) -> None:
    """One executemany in one transaction (sqlite3 adapts aware datetimes as Piccolo does: UTC text)."""
    def write() -> None:
        connection = sqlite3.connect(path, timeout=60)
        try:
            with connection:
                columns = ", ".join(f'"{c}"' for c in COLUMNS)
                connection.executemany(f"INSERT INTO booking ({columns}) VALUES ({', '.join('?' for _ in COLUMNS)})", rows)
        finally:
            connection.close()

    await asyncio.to_thread(write)


async def insert_postgres(url: str, rows: list[tuple]) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.copy_records_to_table("booking", records=rows, columns=list(COLUMNS))
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


def _quarter_case(bounds: list[datetime]) -> str:
    """The quarter (index into `bounds`) a booking's start falls in; `bounds` are the quarters'
    first moments, their parameters taken in this order."""
    text = "CASE"
    for index in range(len(bounds) - 1, 0, -1):
        text += f' WHEN b."start" >= {{}} THEN {index}'
    return text + " ELSE 0 END"


def baseline_sql(engine: str, province: bool) -> str:
    """The hand-written aggregate: per quarter and status, bookings, seconds, and for completed
    ones pupils and savings (the alternative cost less what was paid)."""
    if engine == "postgresql":
        seconds = 'EXTRACT(EPOCH FROM b."end" - b."start")'
    else:
        seconds = "(strftime('%s', b.\"end\") - strftime('%s', b.\"start\"))"
    joins = ("JOIN resource r ON r.id = b.resource JOIN facility f ON f.id = r.facility "
             "JOIN organisation s ON s.id = b.school " if province else "")
    where = " AND (f.region_code = {} OR s.region_code = {})" if province else ""
    return ("SELECT {quarter} AS q, b.status, COUNT(*) AS n, CAST(SUM(" + seconds + ") AS BIGINT) AS secs, "
            "CAST(SUM(CASE WHEN b.status = 'completed' THEN COALESCE(b.pupils_attended, b.group_size) ELSE 0 END) AS BIGINT) "
            "AS pupils, CAST(SUM(CASE WHEN b.status = 'completed' THEN b.alternative_cost_cents - CASE WHEN "
            "b.payment_method = 'free' THEN 0 ELSE b.price_cents END ELSE 0 END) AS BIGINT) AS savings "
            "FROM booking b " + joins + 'WHERE b."start" >= {} AND b."start" < {}' + where + " GROUP BY 1, 2")


def _agree(result, rows: list[dict]) -> str:
    """Whether the report and the baseline give the same bookings and minutes per status, and
    completed bookings, pupils and savings per quarter."""
    by_status: dict[str, list[int]] = {}  # status -> [bookings, seconds]
    completed: dict[int, list[int]] = {}  # quarter -> [bookings, pupils, savings]
    for row in rows:
        item = by_status.setdefault(row["status"], [0, 0])
        item[0] += int(row["n"])
        item[1] += int(row["secs"])
        if row["status"] == "completed":
            completed[int(row["q"])] = [int(row["n"]), int(row["pupils"]), int(row["savings"])]
    ours = {status: (n, seconds // 60) for status, (n, seconds) in by_status.items()}  # minutes as the report floors them
    theirs = {row.key: (row.bookings, row.minutes) for row in result.use.by_status}
    trend = {index: [q.completed, q.pupils, q.savings_cents] for index, q in enumerate(result.quarters) if q.completed}
    problems = []
    if ours != theirs:
        problems.append(f"per status {theirs} vs {ours}")
    if trend != completed:
        problems.append(f"per quarter {trend} vs {completed}")
    return "same figures" if not problems else "DIFFERENT: " + "; ".join(problems)


async def bench(wb, engine_kind: str, rounds: int, scale: int) -> None:
    from accounts.services import system_actor
    from booking.tables import Booking
    from inventory.availability import wall_time
    from reports.request import ReportRequest
    from reports.services import quarters_of, regional_report

    today = datetime.now(BRUSSELS).date()
    request = ReportRequest(first=today - timedelta(days=364), last=today)
    province = ReportRequest(first=request.first, last=request.last, regions=(PROVINCE,))
    bounds = [wall_time(a, dtime(0)) for a, _b in quarters_of(request.first, request.last)]
    args = [*reversed(bounds[1:]), request.start, request.end]
    plain_sql = baseline_sql(engine_kind, province=False).replace("{quarter}", _quarter_case(bounds))
    province_sql = baseline_sql(engine_kind, province=True).replace("{quarter}", _quarter_case(bounds))

    async def werkbank_all():
        async with wb.unit_of_work(system_actor(), read_only=True) as uow:
            return await regional_report(uow, request)

    async def werkbank_province():
        async with wb.unit_of_work(system_actor(), read_only=True) as uow:
            return await regional_report(uow, province)

    async def raw_all():
        return await Booking.raw(plain_sql, *args)

    async def raw_province():
        return await Booking.raw(province_sql, *args, PROVINCE, PROVINCE)

    in_year = await Booking.count().where((Booking.start >= request.start) & (Booking.start < request.end))
    print(f"Regional report, {request.first} to {request.last} ({in_year} bookings in it), as a platform admin "
          f"({engine_kind}, scale {scale}):")
    print(f"  all regions: {_agree(await werkbank_all(), await raw_all())}; "
          f"{PROVINCE}: {_agree(await werkbank_province(), await raw_province())}")
    await _time(werkbank_all, 2)
    await _time(raw_all, 2)
    report(f"report, all regions ({rounds} rounds)", await _time(werkbank_all, rounds), await _time(raw_all, rounds))
    report(f"report, {PROVINCE} ({rounds} rounds)", await _time(werkbank_province, rounds), await _time(raw_province, rounds))


async def run(rounds: int, scale: int) -> None:
    import demo
    from accounts.tables import User
    from app import build_werkbank
    from bench.booking import _drop_database, _fresh_database
    from booking.tables import Booking
    from core import db
    from core.settings import Settings

    User._pbkdf2_iteration_count = 1_000  # demo users are made fast; the report does not hash
    server = os.environ.get("WERKBANK_DATABASE_URL", "")
    postgres = server.startswith(("postgresql://", "postgres://"))
    scratch = None if postgres else tempfile.mkdtemp(prefix="werkbank-bench-reports-")
    url = await _fresh_database(server, BENCH_DB) if postgres else f"sqlite:///{scratch}/bench.sqlite3"
    engine = db.engine_from_url(url)
    try:
        await db.migrate(engine)
        await db.start(engine)
        try:
            wb = build_werkbank(Settings(environment="test", database_url=url, secret_key="b" * 40,
                                         in_process_worker=False), engine)
            started = time.perf_counter()
            await demo.load(wb, scale)
            demo_seconds = time.perf_counter() - started
            rows = await year_of_bookings(PER_COPY * scale, datetime.now(BRUSSELS).date())
            if postgres:
                await insert_postgres(url, rows)
            else:
                await insert_sqlite(f"{scratch}/bench.sqlite3", rows)
            total = await Booking.count()
            print(f"Loaded demo scale {scale} in {demo_seconds:.1f} s, then {len(rows)} bookings of the past year in "
                  f"{time.perf_counter() - started - demo_seconds:.1f} s ({total} bookings in all).")
            await bench(wb, db.engine_kind(engine), rounds, scale)
        finally:
            await db.stop(engine)
    finally:
        if postgres:
            await _drop_database(server, BENCH_DB)
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


def main(rounds: int = 20, scale: int = 10) -> None:
    asyncio.run(run(rounds, scale))
