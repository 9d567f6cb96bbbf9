"""Booking benchmark, run on demand (`python -m bench booking`, also part of `make bench`); never
part of the pytest suite. On SQLite (a file in a temp dir) and on PostgreSQL (a throwaway
PostgreSQL cluster from tests/postgres.py, or the server of WERKBANK_TEST_POSTGRES_URL or a
postgresql:// WERKBANK_DATABASE_URL, in a database of its own that it drops afterwards) it builds
a small world with Piccolo tables (an owner with a facility and a resource open weekdays
08:00-16:30 and one staff member, a school with a teacher, an API token), runs the app in-process
(`create_app` + httpx.ASGITransport, with its startup hooks) and measures:

1. statements per booking: the SQL statements the database sees per POST /api/v1/bookings
   (target: at most 12). PostgreSQL: the server's own log (log_statement=all, one
   `statement:`/`execute` line per statement or simple-query round trip, between two marker
   queries); cross-checked by asyncpg's query logger on the app's connections. SQLite: sqlite3's
   trace callback on every connection the app opens. BEGIN/COMMIT/SAVEPOINT, asyncpg's pool reset
   on release and Piccolo's per-query `PRAGMA foreign_keys = 1` are all counted (and broken out);
2. create latency: p50/p95 of POST /api/v1/bookings next to a raw guarded insert in the same run
   on the same engine (one transaction: an overlap SELECT on `booking` and an INSERT; SQLite:
   BEGIN IMMEDIATE through aiosqlite, PostgreSQL: asyncpg, each on one open connection), and the
   ratio (aim: at most 3x on PostgreSQL, 4x on SQLite);
3. a week's availability: p50/p95 of GET /api/v1/resources/{id}/availability for one week with
   bookings in it, SQLite next to PostgreSQL (aim: SQLite not slower).

Ratios are printed, never asserted. Loops are bounded, everything is in-process or on loopback,
and temp dirs and the cluster are removed at the end (also on Ctrl-C or SIGTERM)."""

from __future__ import annotations

import asyncio
import collections
import hashlib
import math
import os
import re
import secrets
import shutil
import signal
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from datetime import time as dtime
from pathlib import Path
from urllib.parse import urlparse, urlunparse
from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")
TARGET_STATEMENTS = 12
AIM_RATIO = {"sqlite": 4.0, "postgresql": 3.0}
REQUEST_TIMEOUT = 60.0  # seconds; nothing waits longer than this
BENCH_DB = "werkbank_bench_booking"
MARKER_APP = "werkbank-bench-marker"
HOLDING = ("requested", "approved", "confirmed")
SLOT_HOURS = (8, 9, 10, 11, 12, 13, 14, 15)  # one-hour bookings inside 08:00-16:30
AVAILABILITY_SLOTS = ((9, 11), (13, 15))  # the availability week: two bookings a weekday


# --- small helpers ---------------------------------------------------------------------------

def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, math.ceil(len(ordered) * 0.95) - 1)]


def classify(sql: str) -> str:
    text = sql.strip().lstrip("(").upper()
    if text.startswith("--"):
        return "trigger"
    if "PG_ADVISORY_UNLOCK_ALL" in text or text.startswith(("RESET ALL", "CLOSE ALL", "UNLISTEN")):
        return "pool reset"
    word = (text.split(None, 1) or [""])[0].rstrip(";")
    return {
        "SELECT": "select", "WITH": "select", "INSERT": "insert", "UPDATE": "update", "DELETE": "delete",
        "BEGIN": "begin/commit", "COMMIT": "begin/commit", "END": "begin/commit", "ROLLBACK": "begin/commit",
        "SAVEPOINT": "savepoint", "RELEASE": "savepoint", "PRAGMA": "pragma",
    }.get(word, "other")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def with_database(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(path=f"/{name}"))


class Slots:
    """Distinct one-hour weekday slots (Brussels wall time), from `first_monday` on."""

    def __init__(self, first_monday: date) -> None:
        self._iter = self._generate(first_monday)

    @staticmethod
    def _generate(monday: date):
        day = monday
        while True:
            if day.weekday() < 5:
                for hour in SLOT_HOURS:
                    start = datetime.combine(day, dtime(hour, 0), BRUSSELS)
                    yield start, start + timedelta(hours=1)
            day += timedelta(days=1)

    def next(self) -> tuple[datetime, datetime]:
        return next(self._iter)


def wall(moment: datetime) -> str:
    return moment.astimezone(BRUSSELS).strftime("%Y-%m-%dT%H:%M")


# --- statement counting ----------------------------------------------------------------------

class SqliteTrace:
    """sqlite3's trace callback on every connection the counting engine opens (the callback runs
    in aiosqlite's worker threads, hence the lock)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.recording = False
        self.statements: list[str] = []

    def record(self, sql: str) -> None:
        if self.recording:
            with self.lock:
                self.statements.append(sql)

    def take(self) -> list[str]:
        with self.lock:
            taken, self.statements = self.statements, []
        return taken


SQLITE_TRACE = SqliteTrace()


class TracedSqliteConnection(sqlite3.Connection):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.set_trace_callback(SQLITE_TRACE.record)


class AsyncpgLog:
    """asyncpg's query logger on every connection of the counting engine (its callbacks run with
    loop.call_soon, so `take` yields to the loop first)."""

    def __init__(self) -> None:
        self.recording = False
        self.statements: list[str] = []

    def record(self, logged) -> None:
        if self.recording:
            self.statements.append(logged.query)

    async def take(self) -> list[str]:
        for _ in range(3):
            await asyncio.sleep(0)
        taken, self.statements = self.statements, []
        return taken


ASYNCPG_LOG = AsyncpgLog()


def counting_connection_class():
    import asyncpg

    class CountingConnection(asyncpg.Connection):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.add_query_logger(ASYNCPG_LOG.record)

    return CountingConnection


LOG_LINE = re.compile(r"app=(?P<app>.*?) db=(?P<db>\S*): LOG:  (?:statement|execute [^:]*): (?P<sql>.*)$")


class ServerLog:
    """PostgreSQL's own statement log (log_statement=all) of the throwaway cluster, read between
    marker queries sent on a connection of its own."""

    def __init__(self, path: Path, server_url: str, database: str) -> None:
        self.path, self.server_url, self.database = path, server_url, database
        self.connection = None
        self.counter = 0

    async def enable(self) -> None:
        import asyncpg

        admin = await asyncpg.connect(self.server_url)
        try:
            await admin.execute("ALTER SYSTEM SET log_statement = 'all'")
            await admin.execute("ALTER SYSTEM SET log_line_prefix = '%m [%p] app=%a db=%d: '")
            await admin.execute("SELECT pg_reload_conf()")
        finally:
            await admin.close()
        await asyncio.sleep(0.3)
        self.connection = await asyncpg.connect(with_database(self.server_url, self.database),
                                                server_settings={"application_name": MARKER_APP})

    async def disable(self) -> None:
        import asyncpg

        if self.connection is not None:
            await self.connection.close()
            self.connection = None
        admin = await asyncpg.connect(self.server_url)
        try:
            await admin.execute("ALTER SYSTEM RESET log_statement")
            await admin.execute("ALTER SYSTEM RESET log_line_prefix")
            await admin.execute("SELECT pg_reload_conf()")
        finally:
            await admin.close()
        await asyncio.sleep(0.3)

    async def mark(self) -> str:
        self.counter += 1
        marker = f"werkbank-bench-mark-{self.counter}"
        await self.connection.execute(f"SELECT '{marker}'")
        return marker

    def between(self, first: str, second: str) -> list[str]:
        statements, inside = [], False
        with open(self.path, encoding="utf-8", errors="replace") as log:
            for line in log:
                found = LOG_LINE.search(line)
                if not found:
                    continue
                if found["app"] == MARKER_APP:
                    if first in found["sql"]:
                        inside = True
                    elif second in found["sql"]:
                        return statements
                    continue
                if inside and found["db"] == self.database:
                    statements.append(found["sql"])
        raise RuntimeError(f"marker {second} not found in {self.path}")


# --- results ---------------------------------------------------------------------------------

@dataclass
class Counted:
    method: str
    per_request: list[int] = field(default_factory=list)
    kinds: list[collections.Counter] = field(default_factory=list)

    def add(self, statements: list[str]) -> None:
        self.per_request.append(len(statements))
        self.kinds.append(collections.Counter(classify(s) for s in statements))

    def breakdown(self) -> str:
        total: collections.Counter = collections.Counter()
        for kinds in self.kinds:
            total.update(kinds)
        n = max(1, len(self.kinds))
        return ", ".join(f"{kind} {count / n:.3g}" for kind, count in total.most_common())

    def without(self, kind: str) -> list[int]:
        return [total - kinds.get(kind, 0) for total, kinds in zip(self.per_request, self.kinds, strict=True)]


@dataclass
class EngineResult:
    kind: str
    where: str
    counts: list[Counted] = field(default_factory=list)
    availability_count: Counted | None = None
    create: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    availability: list[float] = field(default_factory=list)
    availability_bookings: int = 0
    total_bookings: int = 0
    error: str = ""
    sample: list[str] = field(default_factory=list)


# --- the world -------------------------------------------------------------------------------

@dataclass
class World:
    resource_id: int
    school_id: int
    teacher_id: int
    token: str
    monday: date  # the availability week starts here; other bookings follow it


async def load_world() -> World:
    """With Piccolo tables on the bound engine (no service functions)."""
    from accounts.tables import ApiToken, Membership, Organisation, User
    from inventory.tables import Category, Facility, OpeningHours, Resource

    owner = Organisation(name="Opleidingscentrum Bench", slug="bench-owner", kind="sector_fund", network="",
                         street="Technologiepark 40", postal_code="9052", municipality="Gent", region_code="VOV",
                         latitude=51.01, longitude=3.71)
    school = Organisation(name="Bench Technisch Instituut", slug="bench-school", kind="school", network="go",
                          street="Ottergemsesteenweg 120", postal_code="9000", municipality="Gent",
                          region_code="VOV", latitude=51.05, longitude=3.72, pupil_count=600)
    await owner.save()
    await school.save()
    password = User.hash_password("bench-password-not-used", iterations=1_000)
    teacher = User(username="leerkracht@bench.werkbank.be", email="leerkracht@bench.werkbank.be", password=password,
                   first_name="Bench", last_name="Leerkracht", active=True, admin=False, superuser=False)
    staff = User(username="eigenaar@bench.werkbank.be", email="eigenaar@bench.werkbank.be", password=password,
                 first_name="Bench", last_name="Eigenaar", active=True, admin=False, superuser=False)
    await teacher.save()
    await staff.save()
    await Membership.insert(Membership(user=teacher.id, organisation=school.id, role="teacher"),
                            Membership(user=staff.id, organisation=owner.id, role="owner_staff"))

    category = await Category.objects().where(Category.slug == "cnc").first()
    if category is None:
        category = Category(slug="cnc", name_nl="CNC-verspaning", name_en="CNC machining")
        await category.save()
    facility = Facility(owner=owner.id, name="Campus Bench", street="Technologiepark 40", postal_code="9052",
                        municipality="Gent", region_code="VOV", latitude=51.01, longitude=3.71)
    await facility.save()
    resource = Resource(facility=facility.id, name="CNC-draaibank", kind="machine", category=category.id,
                        capacity=12, needs_approval=True, min_notice_hours=24, max_advance_days=365,
                        min_duration_minutes=60, max_duration_minutes=240, buffer_minutes=0,
                        price_model="per_hour", price_cents=3500, funding="sector", alternative_cost_cents=9000,
                        alternative_cost_unit="per_hour", alternative_cost_source="Offertes 2025")
    await resource.save()
    await OpeningHours.insert(*[OpeningHours(resource=resource.id, weekday=d, opens=dtime(8, 0), closes=dtime(16, 30))
                                for d in range(5)])
    token = "wb_" + secrets.token_urlsafe(32)
    await ApiToken.insert(ApiToken(user=teacher.id, name="bench", prefix=token[:10], token_hash=token_hash(token)))

    today = datetime.now(BRUSSELS).date()
    monday = today + timedelta(days=7 - today.weekday())
    if monday - today < timedelta(days=3):  # keep well clear of the 24-hour notice
        monday += timedelta(days=7)
    return World(resource.id, school.id, teacher.id, token, monday)


# --- the app in-process ----------------------------------------------------------------------

class InProcessApp:
    def __init__(self, settings, engine, world: World) -> None:
        self.settings, self.engine, self.world = settings, engine, world
        self.app = None
        self.client = None

    async def __aenter__(self) -> InProcessApp:
        import httpx

        from app import create_app

        self.app = create_app(self.settings, engine=self.engine)
        for hook in self.app.on_startup:
            await hook(self.app)
        transport = httpx.ASGITransport(app=self.app, client=("127.0.0.1", 50000))
        self.client = httpx.AsyncClient(transport=transport, base_url="http://testserver.local",
                                        headers={"Authorization": f"Bearer {self.world.token}"},
                                        timeout=REQUEST_TIMEOUT)
        return self

    async def __aexit__(self, *exc) -> None:
        try:
            if self.client is not None:
                await self.client.aclose()
        finally:
            for hook in self.app.on_shutdown:
                await hook(self.app)

    async def book(self, start: datetime, end: datetime) -> None:
        body = {"resource_id": self.world.resource_id, "start": wall(start), "end": wall(end), "group_size": 6}
        response = await asyncio.wait_for(self.client.post("/api/v1/bookings", json=body), REQUEST_TIMEOUT)
        if response.status_code != 201:
            raise RuntimeError(f"POST /api/v1/bookings {body} answered {response.status_code}: {response.text[:500]}")

    def availability_path(self) -> str:
        monday = self.world.monday
        return (f"/api/v1/resources/{self.world.resource_id}/availability"
                f"?from={monday.isoformat()}T00:00&to={(monday + timedelta(days=7)).isoformat()}T00:00")

    async def availability(self) -> None:
        response = await asyncio.wait_for(self.client.get(self.availability_path()), REQUEST_TIMEOUT)
        if response.status_code != 200:
            raise RuntimeError(f"GET availability answered {response.status_code}: {response.text[:500]}")


# --- raw guarded insert baselines --------------------------------------------------------------

INSERT_COLUMNS = ('"resource", "school", "teacher", "start", "end", "hold_end", "status", "group_size", "purpose", '
                  '"price_cents", "alternative_cost_cents", "cancellation_fee_cents", "payment_method", '
                  '"expires_at", "waitlist_offer", "reason", "sequence", "created_at", "updated_at"')


def insert_values(world: World, start: datetime, end: datetime) -> list:
    moment = datetime.now(timezone.utc)
    start, end = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
    return [world.resource_id, world.school_id, world.teacher_id, start, end, end, "requested", 6, "",
            3500, 9000, 0, "", min(moment + timedelta(days=5), start), False, "", 0, moment, moment]


class SqliteBaseline:
    def __init__(self, path: str, world: World) -> None:
        self.path, self.world = path, world
        self.connection = None

    async def __aenter__(self) -> SqliteBaseline:
        import aiosqlite

        # piccolo.engine.sqlite registered its datetime adapter (UTC, str()) process-wide.
        self.connection = await aiosqlite.connect(self.path, isolation_level=None, timeout=30)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.connection.close()

    async def insert(self, start: datetime, end: datetime) -> None:
        values = insert_values(self.world, start, end)
        utc_start, utc_end = values[3], values[5]
        connection = self.connection
        await connection.execute("BEGIN IMMEDIATE")
        try:
            cursor = await connection.execute(
                'SELECT 1 FROM "booking" WHERE "resource" = ? AND "status" IN (?, ?, ?) AND "start" < ? '
                'AND "hold_end" > ? LIMIT 1', [self.world.resource_id, *HOLDING, utc_end, utc_start])
            if await cursor.fetchone() is not None:
                raise RuntimeError("baseline slot is taken")
            await cursor.close()
            cursor = await connection.execute(
                f'INSERT INTO "booking" ({INSERT_COLUMNS}) VALUES ({", ".join("?" * len(values))}) RETURNING "id"',
                values)
            await cursor.fetchone()
            await cursor.close()
            await connection.execute("COMMIT")
        except BaseException:
            await connection.execute("ROLLBACK")
            raise


class PostgresBaseline:
    def __init__(self, url: str, world: World) -> None:
        self.url, self.world = url, world
        self.connection = None

    async def __aenter__(self) -> PostgresBaseline:
        import asyncpg

        self.connection = await asyncpg.connect(self.url)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.connection.close()

    async def insert(self, start: datetime, end: datetime) -> None:
        values = insert_values(self.world, start, end)
        connection = self.connection
        async with connection.transaction():
            taken = await connection.fetchval(
                'SELECT 1 FROM "booking" WHERE "resource" = $1 AND "status" = ANY($2::varchar[]) AND "start" < $3 '
                'AND "hold_end" > $4 LIMIT 1', self.world.resource_id, list(HOLDING), values[5], values[3])
            if taken is not None:
                raise RuntimeError("baseline slot is taken")
            params = ", ".join(f"${i}" for i in range(1, len(values) + 1))
            await connection.fetchval(f'INSERT INTO "booking" ({INSERT_COLUMNS}) VALUES ({params}) RETURNING "id"',
                                      *values)


# --- one engine --------------------------------------------------------------------------------

@dataclass
class Target:
    kind: str
    url: str  # the bench database
    where: str
    server_url: str = ""  # PostgreSQL: a database on the same server with rights to create ours
    server_log: Path | None = None
    sqlite_path: str = ""


def make_settings(url: str, data_dir: Path):
    from core.settings import Settings

    return Settings(environment="test", database_url=url, secret_key="bench-secret-key-" + "x" * 40,
                    base_url="http://testserver.local", data_dir=data_dir, mail_dir=data_dir / "mail",
                    in_process_worker=False, log_level="WARNING")


async def timed(func, *args) -> float:
    start = time.perf_counter()
    await func(*args)
    return (time.perf_counter() - start) * 1000


async def bench_engine(target: Target, data_dir: Path, count: int, rounds: int, warmup: int) -> EngineResult:
    from core import db

    result = EngineResult(target.kind, target.where)
    engine = db.engine_from_url(target.url)
    await db.migrate(engine)
    await db.start(engine)
    try:
        world = await load_world()
    finally:
        await db.stop(engine)
    settings = make_settings(target.url, data_dir)
    # the availability week holds two bookings a weekday; every other booking comes after it
    slots = Slots(world.monday + timedelta(days=7))

    # 1. statements per booking, on an engine whose connections are watched
    counting = db.engine_from_url(target.url)
    if target.kind == "sqlite":
        counting.connection_kwargs["factory"] = TracedSqliteConnection
    else:
        counting.config["connection_class"] = counting_connection_class()
    server_log = ServerLog(target.server_log, target.server_url, BENCH_DB) if target.server_log else None
    async with InProcessApp(settings, counting, world) as app:
        for day in range(5):
            for first, last in AVAILABILITY_SLOTS:
                start = datetime.combine(world.monday + timedelta(days=day), dtime(first, 0), BRUSSELS)
                await app.book(start, start.replace(hour=last))
                result.availability_bookings += 1
        for _ in range(3):  # warm-up: caches, the token's last_used_at
            await app.book(*slots.next())
        if target.kind == "sqlite":
            counted = Counted("sqlite3 trace callback (every statement SQLite runs)")
            result.counts.append(counted)
            for _ in range(count):
                SQLITE_TRACE.take()
                SQLITE_TRACE.recording = True
                await app.book(*slots.next())
                SQLITE_TRACE.recording = False
                statements = SQLITE_TRACE.take()
                counted.add(statements)
                result.sample = result.sample or statements
            SQLITE_TRACE.recording = True
            await app.availability()
            SQLITE_TRACE.recording = False
            result.availability_count = Counted("sqlite3 trace")
            result.availability_count.add(SQLITE_TRACE.take())
        else:
            client = Counted("asyncpg query logger (app connections)")
            logged = Counted("server log, log_statement=all") if server_log else None
            result.counts += [c for c in (logged, client) if c is not None]
            if server_log:
                await server_log.enable()
            try:
                marks = []
                for _ in range(count):
                    await ASYNCPG_LOG.take()
                    first = await server_log.mark() if server_log else ""
                    ASYNCPG_LOG.recording = True
                    await app.book(*slots.next())
                    ASYNCPG_LOG.recording = False
                    statements = await ASYNCPG_LOG.take()
                    client.add(statements)
                    if server_log:
                        marks.append((first, await server_log.mark()))
                    else:
                        result.sample = result.sample or statements
                ASYNCPG_LOG.recording = True
                first = await server_log.mark() if server_log else ""
                await app.availability()
                second = await server_log.mark() if server_log else ""
                ASYNCPG_LOG.recording = False
                result.availability_count = Counted("asyncpg")
                result.availability_count.add(await ASYNCPG_LOG.take())
                if server_log:
                    for first_mark, second_mark in marks:
                        statements = server_log.between(first_mark, second_mark)
                        logged.add(statements)
                        result.sample = result.sample or statements
                    result.availability_count = Counted("server log")
                    result.availability_count.add(server_log.between(first, second))
            finally:
                if server_log:
                    await server_log.disable()

    # 2. and 3. latency, on a plain engine (nothing watching)
    plain = db.engine_from_url(target.url)
    baseline_cls = SqliteBaseline if target.kind == "sqlite" else PostgresBaseline
    async with InProcessApp(settings, plain, world) as app, \
            baseline_cls(target.sqlite_path or target.url, world) as baseline:
        for _ in range(warmup):
            await app.book(*slots.next())
            await baseline.insert(*slots.next())
        for _ in range(rounds):  # alternate, so both see the same machine and the same table
            result.create.append(await timed(app.book, *slots.next()))
            result.baseline.append(await timed(baseline.insert, *slots.next()))
        for _ in range(warmup):
            await app.availability()
        for _ in range(rounds):
            result.availability.append(await timed(app.availability))
    from booking.tables import Booking

    db.bind_engine(plain)
    result.total_bookings = await Booking.count()
    return result


# --- engines: where they come from and how they go away ----------------------------------------

class Resources:
    """What the run made, removed in `close` (also after Ctrl-C or SIGTERM)."""

    def __init__(self) -> None:
        self.dirs: list[Path] = []
        self.server = None
        self.drop: tuple[str, str] | None = None  # (server url, database) made on a server of the user's

    def tempdir(self, prefix: str) -> Path:
        path = Path(tempfile.mkdtemp(prefix=prefix))
        self.dirs.append(path)
        return path

    def close(self) -> None:
        if self.drop:
            server_url, name = self.drop
            try:
                asyncio.run(_drop_database(server_url, name))
            except Exception as exc:  # noqa: BLE001
                print(f"!!! could not drop database {name}: {exc}", file=sys.stderr)
        if self.server is not None:
            self.server.stop()
        for path in self.dirs:
            shutil.rmtree(path, ignore_errors=True)


async def _fresh_database(server_url: str, name: str) -> str:
    import asyncpg

    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return with_database(server_url, name)


async def _drop_database(server_url: str, name: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def postgres_target(resources: Resources) -> Target:
    external = os.environ.get("WERKBANK_TEST_POSTGRES_URL") or ""
    source = "WERKBANK_TEST_POSTGRES_URL"
    if not external and os.environ.get("WERKBANK_DATABASE_URL", "").startswith(("postgresql://", "postgres://")):
        external, source = os.environ["WERKBANK_DATABASE_URL"], "WERKBANK_DATABASE_URL"
    if external:
        url = asyncio.run(_fresh_database(external, BENCH_DB))
        resources.drop = (external, BENCH_DB)
        return Target("postgresql", url, f"{source} server, database {BENCH_DB} (dropped after)", server_url=external)
    from tests.postgres import ThrowawayPostgres

    server = ThrowawayPostgres()
    resources.server = server
    server_url = server.start()
    version = asyncio.run(_server_version(server_url))
    url = asyncio.run(_fresh_database(server_url, BENCH_DB))
    return Target("postgresql", url, f"throwaway PostgreSQL {version} on 127.0.0.1:{server.port}",
                  server_url=server_url, server_log=server.root / "server.log")


async def _server_version(url: str) -> str:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchval("SHOW server_version")
    finally:
        await connection.close()


# --- output -----------------------------------------------------------------------------------

def _fmt_counts(values: list[int]) -> str:
    low, high = min(values), max(values)
    median = statistics.median(values)
    spread = "" if low == high else f" ({low}-{high})"
    return f"{median:g}{spread}"


def render(results: list[EngineResult], count: int, rounds: int) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # pragma: no cover - rich is a dependency
        Console = None

    rows_statements = []
    for r in results:
        if r.error:
            rows_statements.append([r.kind, "-", "-", "-", f"[failed] {r.error}"])
            continue
        for counted in r.counts:
            verdict = "within" if statistics.median(counted.per_request) <= TARGET_STATEMENTS else "over"
            extra = ""
            if any(k.get("pragma") for k in counted.kinds):
                extra = f"; without PRAGMA {_fmt_counts(counted.without('pragma'))}"
            rows_statements.append([r.kind, counted.method, _fmt_counts(counted.per_request) + extra,
                                    f"<= {TARGET_STATEMENTS} ({verdict})", counted.breakdown()])
        if r.availability_count:
            rows_statements.append([r.kind, f"  GET availability (1 week), {r.availability_count.method}",
                                    _fmt_counts(r.availability_count.per_request), "",
                                    r.availability_count.breakdown()])

    rows_create = []
    for r in results:
        if r.error or not r.create:
            continue
        p50, p95 = percentiles(r.create)
        b50, b95 = percentiles(r.baseline)
        aim = AIM_RATIO[r.kind]
        rows_create.append([r.kind, f"{p50:.2f}", f"{p95:.2f}", f"{b50:.2f}", f"{b95:.2f}",
                            f"{p50 / b50:.1f}x", f"{p95 / b95:.1f}x",
                            f"<= {aim:g}x ({'within' if p50 / b50 <= aim else 'over'})"])

    avail = {r.kind: percentiles(r.availability) for r in results if not r.error and r.availability}
    rows_avail = [[kind, f"{p50:.2f}", f"{p95:.2f}"] for kind, (p50, p95) in avail.items()]
    ratio_line = ""
    if "sqlite" in avail and "postgresql" in avail:
        (s50, s95), (p50, p95) = avail["sqlite"], avail["postgresql"]
        ratio_line = (f"SQLite / PostgreSQL: p50 {s50 / p50:.2f}x, p95 {s95 / p95:.2f}x "
                      f"(aim <= 1: {'SQLite not slower' if s50 <= p50 else 'SQLite slower'} at p50)")

    wheres = "; ".join(f"{r.kind}: {r.where}" for r in results if r.where)
    notes = [
        f"Engines: {wheres}.",
        f"Statements: {count} bookings counted per engine, after warm-up (shown: median, (min-max) if they differ;"
        " breakdown: mean per booking). Everything the database executes is counted: the token/user lookup,"
        " BEGIN/COMMIT/SAVEPOINT, asyncpg's pool reset on every release (one simple-query round trip: "
        "pg_advisory_unlock_all; CLOSE ALL; UNLISTEN *; RESET ALL, counted once) and, on SQLite, Piccolo's"
        " `PRAGMA foreign_keys = 1` on each new connection and before each query in a transaction."
        " PostgreSQL's server log shows one line per statement executed (simple query or extended-protocol"
        " execute; Parse/Describe of asyncpg's prepared statements are not statements and are not logged).",
        f"Latency: {rounds} rounds each, in-process (httpx.ASGITransport, no network), app and raw baseline"
        " alternating. Raw baseline: one transaction with an overlap SELECT on booking and an INSERT,"
        " on one open connection (SQLite: aiosqlite, BEGIN IMMEDIATE; PostgreSQL: asyncpg). The throwaway"
        " cluster runs with fsync=off and synchronous_commit=off (tests/postgres.py); SQLite is in WAL mode with"
        " its default synchronous=FULL. Statement counting runs on its own app instance before the timed runs.",
    ]

    if Console is None:
        print("Statements per POST /api/v1/bookings")
        for row in rows_statements:
            print("  " + " | ".join(row))
        print("Create latency (ms): engine | app p50 | app p95 | raw p50 | raw p95 | ratio p50 | ratio p95 | aim")
        for row in rows_create:
            print("  " + " | ".join(row))
        print("Availability, one week (ms): engine | p50 | p95")
        for row in rows_avail:
            print("  " + " | ".join(row))
        if ratio_line:
            print("  " + ratio_line)
        for note in notes:
            print(note)
        return

    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 150)
    table = Table(title="Statements per POST /api/v1/bookings", title_justify="left")
    for column in ("engine", "counted by", "per booking", "target", "breakdown"):
        table.add_column(column, overflow="fold")
    for row in rows_statements:
        table.add_row(*row)
    console.print(table)
    table = Table(title="Create latency, ms: POST /api/v1/bookings vs raw guarded insert", title_justify="left")
    for column in ("engine", "app p50", "app p95", "raw p50", "raw p95", "ratio p50", "ratio p95", "aim"):
        table.add_column(column, justify="right" if column != "engine" else "left")
    for row in rows_create:
        table.add_row(*row)
    console.print(table)
    bookings_in_week = next((r.availability_bookings for r in results if r.availability_bookings), 0)
    total = max((r.total_bookings for r in results), default=0)
    console.print(f"[italic]A week's availability, ms: GET /api/v1/resources/{{id}}/availability?from=&to= (one week,"
                  f" {bookings_in_week} bookings in it, {total} in the booking table)[/italic]", highlight=False)
    table = Table()
    for column in ("engine", "p50", "p95"):
        table.add_column(column, justify="right" if column != "engine" else "left")
    for row in rows_avail:
        table.add_row(*row)
    console.print(table)
    if ratio_line:
        console.print(ratio_line)
    for note in notes:
        console.print(note, style="dim", highlight=False)


# --- entry point ----------------------------------------------------------------------------

def _sigterm(signum, frame):  # run the cleanup on SIGTERM as on Ctrl-C
    raise KeyboardInterrupt


def main(rounds: int = 200, count: int = 20, engines: tuple[str, ...] = ("sqlite", "postgresql"),
         warmup: int = 20, verbose: bool = False) -> None:
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per in-process request otherwise
    previous = signal.signal(signal.SIGTERM, _sigterm)
    resources = Resources()
    results: list[EngineResult] = []
    try:
        for kind in engines:
            print(f"booking bench: {kind} ...", file=sys.stderr, flush=True)
            data_dir = resources.tempdir(f"werkbank-bench-{kind}-")
            try:
                if kind == "sqlite":
                    path = str(data_dir / "bench.sqlite3")
                    target = Target("sqlite", f"sqlite:///{path}", f"file in {data_dir}", sqlite_path=path)
                else:
                    target = postgres_target(resources)
                result = asyncio.run(bench_engine(target, data_dir, count, rounds, warmup))
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # noqa: BLE001 - report it and go on with the other engine
                import traceback

                traceback.print_exc()
                result = EngineResult(kind, "", error=f"{type(exc).__name__}: {exc}"[:300])
            results.append(result)
            if verbose and result.sample:
                print(f"--- {kind}: statements of one booking ---", file=sys.stderr)
                for statement in result.sample:
                    print("   ", statement[:200].replace("\n", " "), file=sys.stderr)
    finally:
        resources.close()
        signal.signal(signal.SIGTERM, previous)
    render(results, count, rounds)
