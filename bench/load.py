"""A bounded load test (`make load`, run by CI): on SQLite and on a throwaway PostgreSQL, a real
`werkbank serve` with the demo data, its in-process worker and a local SMTP server (aiosmtpd);
CLIENTS clients book, search and cancel through the API for SECONDS seconds. Then it checks:
no two holding bookings of a resource overlap (buffers included), every 201 exists in the
database, no request got a 5xx, and the outbox drains. It prints throughput and p50/p95 per
endpoint, the outbox's drain rate, and SQLite's booking p95 next to PostgreSQL's. Exit code 1
when a check fails. Only loopback; every loop is bounded in count and time."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.postgres import PostgresUnavailable, ThrowawayPostgres, free_port  # noqa: E402

BRUSSELS = "Europe/Brussels"
MAX_REQUESTS_PER_CLIENT = 2000  # a bound besides the time


@dataclass
class Result:
    engine: str
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[str, dict[int, int]] = field(default_factory=dict)
    created: list[int] = field(default_factory=list)
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)
    drain: str = ""

    def note(self, endpoint: str, status: int, ms: float) -> None:
        self.latencies.setdefault(endpoint, []).append(ms)
        counts = self.statuses.setdefault(endpoint, {})
        counts[status] = counts.get(status, 0) + 1


def _p(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _prepare(url: str, tokens_wanted: int) -> tuple[list[str], list[int]]:
    """Migrates, loads the demo, and makes API tokens for the demo's teachers (as rows)."""
    from accounts.services import TOKEN_PREFIX, hash_token
    from accounts.tables import ApiToken, Membership
    from core import db
    from inventory.tables import Resource

    engine = db.engine_from_url(url)
    await db.migrate(engine)
    env = {**os.environ, "WERKBANK_DATABASE_URL": url}
    subprocess.run([str(Path(sys.executable).parent / "werkbank"), "demo", "--if-empty"], env=env, cwd=ROOT,
                   check=True, capture_output=True)
    teachers = [r["user"] for r in await Membership.select(Membership.user).where(
        Membership.role == Membership.Role.teacher)]
    tokens = []
    for n in range(tokens_wanted):
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        await ApiToken.insert(ApiToken(user=teachers[n % len(teachers)], name=f"load-{n}", prefix=token[:10],
                                       token_hash=hash_token(token)))
        tokens.append(token)
    resources = [r["id"] for r in await Resource.select(Resource.id).where(Resource.status == "active")]
    return tokens, resources


def _slot(rng: random.Random) -> tuple[str, str]:
    day = date.today() + timedelta(days=rng.randint(3, 40))
    while day.weekday() > 4:
        day += timedelta(days=1)
    hour = rng.randint(8, 13)
    start = datetime(day.year, day.month, day.day, hour, rng.choice((0, 30)))
    return start.isoformat(timespec="minutes"), (start + timedelta(hours=2)).isoformat(timespec="minutes")


async def _client(n: int, base: str, token: str, resources: list[int], until: float, result: Result) -> None:
    rng = random.Random(n)
    mine: list[int] = []
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        for _ in range(MAX_REQUESTS_PER_CLIENT):
            if time.monotonic() >= until:
                return
            roll = rng.random()
            started = time.perf_counter()
            if roll < 0.5:
                start, end = _slot(rng)
                endpoint = "POST /bookings"
                response = await client.post("/api/v1/bookings", json={
                    "resource_id": rng.choice(resources), "start": start, "end": end, "group_size": rng.randint(4, 8)})
                if response.status_code == 201:
                    mine.append(response.json()["id"])
                    result.created.append(response.json()["id"])
            elif roll < 0.85 or not mine:
                start, end = _slot(rng)
                endpoint = "GET /resources?free"
                response = await client.get("/api/v1/resources", params={"free_from": start, "free_to": end})
            else:
                endpoint = "POST /bookings/{id}/cancel"
                response = await client.post(f"/api/v1/bookings/{mine.pop(rng.randrange(len(mine)))}/cancel",
                                              json={"reason": "load test"})
            result.note(endpoint, response.status_code, (time.perf_counter() - started) * 1000)
            if response.status_code >= 500:
                result.failures.append(f"{endpoint}: {response.status_code} {response.text[:200]}")


async def _check(url: str, result: Result) -> None:
    from booking.tables import HOLDING_STATUSES, Booking
    from core import db
    from core.tables import OutboxMessage

    db.bind_engine(db.engine_from_url(url))
    holding = await Booking.select(Booking.id, Booking.resource, Booking.start, Booking.end, Booking.hold_end).where(
        Booking.status.is_in(list(HOLDING_STATUSES))).order_by(Booking.resource).order_by(Booking.start)
    for first, second in zip(holding, holding[1:], strict=False):
        if first["resource"] == second["resource"] and second["start"] < first["hold_end"]:
            result.failures.append(f"bookings {first['id']} and {second['id']} overlap")
    if result.created:
        found = {r["id"] for r in await Booking.select(Booking.id).where(Booking.id.is_in(result.created))}
        missing = set(result.created) - found
        if missing:
            result.failures.append(f"{len(missing)} bookings answered 201 but are not in the database")
    pending = await OutboxMessage.count().where(OutboxMessage.status == "pending")
    started, drained = time.monotonic(), pending
    while pending and time.monotonic() - started < 90:
        await asyncio.sleep(0.5)
        pending = await OutboxMessage.count().where(OutboxMessage.status == "pending")
    seconds = time.monotonic() - started
    if pending:
        result.failures.append(f"{pending} mails still waiting in the outbox after 90 s")
    result.drain = f"{drained} waiting at the end, drained in {seconds:.1f} s" + (
        f" ({drained / seconds:.0f} mails/s)" if drained and seconds > 0.5 else "")


async def run_engine(engine: str, url: str, clients: int, seconds: float, workdir: Path) -> Result:
    from aiosmtpd.controller import Controller

    class Sink:
        count = 0

        async def handle_DATA(self, server, session, envelope):
            Sink.count += 1
            return "250 OK"

    result = Result(engine)
    smtp = Controller(Sink(), hostname="127.0.0.1", port=free_port())
    smtp.start()
    tokens, resources = await _prepare(url, clients)
    port = free_port()
    env = {**os.environ, "WERKBANK_DATABASE_URL": url, "WERKBANK_DATA_DIR": str(workdir / engine),
           "WERKBANK_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}", "WERKBANK_LOG_LEVEL": "WARNING",
           "WERKBANK_SECRET_KEY": "load-test-secret-key-" + "x" * 32}
    log = open(workdir / f"{engine}-server.log", "w")
    server = subprocess.Popen([str(Path(sys.executable).parent / "werkbank"), "serve", "--port", str(port)],
                              env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"werkbank serve did not start: {(workdir / f'{engine}-server.log').read_text()}")
            await asyncio.sleep(0.2)
        started = time.monotonic()
        until = started + seconds
        await asyncio.gather(*(_client(n, base, tokens[n], resources, until, result) for n in range(clients)))
        result.seconds = time.monotonic() - started
        await _check(url, result)
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        smtp.stop()
    return result


def report(results: list[Result]) -> int:
    failed = 0
    for result in results:
        total = sum(len(v) for v in result.latencies.values())
        print(f"\n== {result.engine}: {total} requests in {result.seconds:.1f} s "
              f"({total / max(result.seconds, 0.001):.0f}/s), {len(result.created)} bookings made")
        print(f"   {'endpoint':<28} {'count':>6} {'p50 ms':>8} {'p95 ms':>8}  statuses")
        for endpoint, values in sorted(result.latencies.items()):
            statuses = ", ".join(f"{k}: {v}" for k, v in sorted(result.statuses[endpoint].items()))
            print(f"   {endpoint:<28} {len(values):>6} {statistics.median(values):>8.1f} {_p(values, 0.95):>8.1f}"
                  f"  {statuses}")
        print(f"   outbox: {result.drain}")
        for failure in result.failures[:20]:
            print(f"   FAILED: {failure}")
        failed += bool(result.failures)
    by_engine = {r.engine: r for r in results}
    if "sqlite" in by_engine and "postgresql" in by_engine:
        sqlite = _p(by_engine["sqlite"].latencies.get("POST /bookings", []), 0.95)
        postgres = _p(by_engine["postgresql"].latencies.get("POST /bookings", []), 0.95)
        if postgres:
            print(f"\nbooking p95: SQLite {sqlite:.0f} ms, PostgreSQL {postgres:.0f} ms: "
                  f"{sqlite / postgres:.1f}x (aim: at most 3x)")
    print("\nload test: " + ("FAILED" if failed else "all checks passed"))
    return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=25.0, help="per engine")
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="werkbank-load-"))
    results: list[Result] = []
    postgres = None
    try:
        for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
            if engine == "sqlite":
                url = f"sqlite:///{workdir}/load.sqlite3"
            else:
                url = os.environ.get("WERKBANK_TEST_POSTGRES_URL")
                if not url:
                    try:
                        postgres = ThrowawayPostgres()
                        server_url = postgres.start()
                    except PostgresUnavailable as exc:
                        print(f"!!! PostgreSQL unavailable, its load test is SKIPPED: {exc}")
                        if os.environ.get("WERKBANK_REQUIRE_POSTGRES") == "1":
                            raise SystemExit(1) from exc
                        continue
                    url = server_url.rsplit("/", 1)[0] + "/postgres"
            results.append(asyncio.run(run_engine(engine, url, args.clients, args.seconds, workdir)))
    finally:
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    raise SystemExit(report(results))


if __name__ == "__main__":
    main()
