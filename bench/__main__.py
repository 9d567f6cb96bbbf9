"""Benchmarks, run on demand (`make bench`). Each prints its p50 and p95 next to a baseline
measured in the same run, and the ratio, so machines of other speeds compare alike. They run on
a database with `werkbank demo --scale N` data (default 10: ten times Flanders' real size);
set WERKBANK_DATABASE_URL to run them on PostgreSQL.

- session lookup: recognising a logged-in user (cookie -> user -> roles) against the raw SQL
  that answers the same question;
- search: the teacher's search (distance from the school, radius, category, free window) against
  a hand-written SQL query for the same question with the same indexes."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]


async def _time(func, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        await func()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def report(name: str, measured: list[float], baseline: list[float]) -> None:
    p50, p95 = _percentiles(measured)
    b50, b95 = _percentiles(baseline)
    print(f"{name:<34} p50 {p50:7.3f} ms  p95 {p95:7.3f} ms | baseline p50 {b50:7.3f} ms  p95 {b95:7.3f} ms"
          f" | ratio p50 {p50 / b50:5.2f}  p95 {p95 / b95:5.2f}")


async def bench_session_lookup(engine, rounds: int, scale: int) -> None:
    import demo
    from accounts import services
    from accounts.tables import User
    from core import db

    if True:
        user = await User.objects().where(User.email == demo.LOGINS[0].email).first()
        token = await services.create_session(user)
        token_hash = services.hash_token(token)

        async def werkbank():
            found = await services.user_for_session(token)
            await services.load_actor(found, token)

        async def raw_sql():
            await engine.run_ddl(
                "SELECT u.*, m.role, o.id, o.name, o.kind, o.slug FROM account_session s "
                "JOIN account_user u ON u.id = s.user JOIN membership m ON m.user = u.id "
                "LEFT JOIN organisation o ON o.id = m.organisation "
                f"WHERE s.token_hash = '{token_hash}' AND s.revoked_at IS NULL"
            )

        await _time(werkbank, 20)  # warm up
        await _time(raw_sql, 20)
        report(f"session lookup ({db.engine_kind(engine)}, scale {scale})", await _time(werkbank, rounds),
               await _time(raw_sql, rounds))


async def bench_search(engine, rounds: int, scale: int) -> None:
    import math
    from datetime import datetime, timedelta

    from core import db
    from core.i18n import BRUSSELS
    from inventory.search import SearchQuery, search
    from inventory.tables import Resource
    from regions.geocoding import postal_code_point

    gent = postal_code_point("9000")
    monday = datetime.now(BRUSSELS).date() + timedelta(days=14 - datetime.now(BRUSSELS).weekday())
    start = datetime(monday.year, monday.month, monday.day, 13, 0, tzinfo=BRUSSELS)
    end = start + timedelta(hours=2)
    query = SearchQuery(near=gent, radius_km=60, category="welding", free_from=start, free_to=end)
    count = (await search(query)).total

    lat, lon = gent
    k = math.cos(math.radians(lat))
    d_lat = 60 / 111.2
    d_lon = d_lat / k
    sqlite = db.engine_kind(engine) == "sqlite"
    opens = "13:00:00" if sqlite else start.time()
    closes = "15:00:00" if sqlite else end.time()
    baseline_sql = (
        "SELECT r.id, r.name, f.name, f.latitude, f.longitude FROM resource r "
        "JOIN facility f ON f.id = r.facility JOIN category c ON c.id = r.category "
        "WHERE r.status = 'active' AND c.slug = 'welding' "
        "AND f.latitude BETWEEN {} AND {} AND f.longitude BETWEEN {} AND {} "
        "AND NOT EXISTS (SELECT 1 FROM closure cl WHERE cl.resource = r.id AND cl.starts_at < {} AND cl.ends_at > {}) "
        "AND EXISTS (SELECT 1 FROM opening_hours oh WHERE oh.resource = r.id AND oh.weekday = {} "
        "AND oh.opens <= {} AND oh.closes >= {}) "
        f"ORDER BY (f.latitude - {lat}) * (f.latitude - {lat}) + ((f.longitude - {lon}) * {k}) * ((f.longitude - {lon}) * {k}) "
        "LIMIT 25"
    )
    args = [lat - d_lat, lat + d_lat, lon - d_lon, lon + d_lon, end, start, start.weekday(), opens, closes]

    async def werkbank():
        await search(query)

    async def raw_sql():
        await Resource.raw(baseline_sql, *args)

    await _time(werkbank, 10)
    await _time(raw_sql, 10)
    report(f"search ({db.engine_kind(engine)}, scale {scale}, {count} hits)", await _time(werkbank, rounds),
           await _time(raw_sql, rounds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--scale", type=int, default=10)
    args = parser.parse_args()
    from accounts.tables import User

    User._pbkdf2_iteration_count = 1_000  # demo users are made fast; lookups do not hash
    asyncio.run(run(args.rounds, args.scale))


async def run(rounds: int, scale: int) -> None:
    import demo
    from core import db

    url = os.environ.get("WERKBANK_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    engine = db.engine_from_url(url)
    await db.migrate(engine)
    await db.start(engine)
    try:
        if await demo.database_is_empty():
            await demo.load(scale)
        await bench_session_lookup(engine, rounds, scale)
        await bench_search(engine, rounds, scale)
    finally:
        await db.stop(engine)


if __name__ == "__main__":
    main()
