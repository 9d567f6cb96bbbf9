"""Benchmarks, run on demand (`make bench`). Each prints its p50 and p95 next to a baseline
measured in the same run, and the ratio, so machines of other speeds compare alike. They run on
a database with `werkbank demo --scale N` data (default 10: ten times Flanders' real size);
set WERKBANK_DATABASE_URL to run them on PostgreSQL.

- session lookup: recognising a logged-in user (cookie -> user -> roles) against the raw SQL
  that answers the same question;
- search: the teacher's search (distance from the school, radius, category, free window) against
  a hand-written SQL query for the same question with the same indexes;
- booking (`python -m bench booking`, see bench/booking.py): statements per booking, create
  latency against a raw guarded insert, and a week's availability, on SQLite and PostgreSQL.

- calendars (`python -m bench calendars`, see bench/calendars.py): a resource's feed with 2,000
  bookings against bare icalendar, and its 304 path against a bare Litestar endpoint.

- reports (`python -m bench reports`, see bench/reports.py): the regional report over a year of
  bookings (about 100,000 at scale 10), for all regions and for one province, against one
  hand-written GROUP BY of its main figures.

- allocation (`python -m bench allocation`, see bench/allocation.py): a fair allocation round of
  300 schools and 60 resources over a term, against first-come-first-served of the same round.

- rounds (`python -m bench rounds`, see bench/rounds.py): the same round through the services and
  a database: allocating (against the pure allocation) and publishing (against allocating).

`python -m bench` runs all of them, `python -m bench demo` the first two, `python -m bench booking`,
`python -m bench calendars`, `python -m bench reports`, `python -m bench allocation` and
`python -m bench rounds` one each."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
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


async def bench_session_lookup(wb, engine, rounds: int, scale: int) -> None:
    import demo
    from accounts import services
    from accounts.tables import User
    from core import db

    if True:
        user = await User.objects().where(User.email == demo.LOGINS[0].email).first()
        token = await services.create_session(wb.unit_of_work(), user)
        token_hash = services.hash_token(token)

        async def werkbank():  # as a request does: one unit of work, one connection
            async with wb.unit_of_work(read_only=True) as uow:
                found = await services.user_for_session(uow, token)
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


async def bench_search(wb, engine, rounds: int, scale: int) -> None:
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
    count = (await search(wb.unit_of_work(), query)).total

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
        async with wb.unit_of_work(read_only=True) as uow:
            await search(uow, query)

    async def raw_sql():
        await Resource.raw(baseline_sql, *args)

    await _time(werkbank, 10)
    await _time(raw_sql, 10)
    report(f"search ({db.engine_kind(engine)}, scale {scale}, {count} hits)", await _time(werkbank, rounds),
           await _time(raw_sql, rounds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("which", nargs="?", default="all", choices=["all", "demo", "booking", "calendars", "reports", "allocation",
                                                                   "rounds"])
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds (demo: 300, booking: 200, reports: 20)")
    parser.add_argument("--scale", type=int, default=10, help="demo data scale (reports: 10,000 bookings a year each)")
    parser.add_argument("--count", type=int, default=20, help="booking: bookings whose statements are counted")
    parser.add_argument("--engines", default="sqlite,postgresql", help="booking: sqlite, postgresql or both")
    parser.add_argument("--verbose", action="store_true", help="booking: print the statements of one booking")
    args = parser.parse_args()
    failed = False
    if args.which in ("all", "demo"):
        from accounts.tables import User

        User._pbkdf2_iteration_count = 1_000  # demo users are made fast; lookups do not hash
        if args.which == "demo":
            asyncio.run(run(args.rounds or 300, args.scale))
        else:
            try:  # one failing benchmark does not keep the booking one from running
                asyncio.run(run(args.rounds or 300, args.scale))
            except Exception:  # noqa: BLE001
                import traceback

                traceback.print_exc()
                failed = True
    if args.which in ("all", "booking"):
        from bench import booking

        engines = tuple(e.strip() for e in args.engines.split(",") if e.strip())
        unknown = set(engines) - {"sqlite", "postgresql"}
        if unknown:
            parser.error(f"unknown engine(s): {', '.join(sorted(unknown))}")
        booking.main(rounds=args.rounds or 200, count=args.count, engines=engines, verbose=args.verbose)
    if args.which in ("all", "calendars"):
        from bench import calendars

        calendars.main(rounds=args.rounds or 200)
    if args.which in ("all", "reports"):
        from bench import reports

        reports.main(rounds=args.rounds or 20, scale=args.scale)
    if args.which in ("all", "allocation"):
        from bench import allocation

        allocation.main(rounds=args.rounds or 20)
    if args.which in ("all", "rounds"):
        from bench import rounds

        rounds.main(rounds=args.rounds or 5)
    if failed:
        raise SystemExit(1)


async def run(rounds: int, scale: int) -> None:
    import demo
    from core import db

    scratch = None if os.environ.get("WERKBANK_DATABASE_URL") else tempfile.mkdtemp(prefix="werkbank-bench-demo-")
    url = os.environ.get("WERKBANK_DATABASE_URL") or f"sqlite:///{scratch}/bench.sqlite3"
    engine = db.engine_from_url(url)
    try:
        await db.migrate(engine)
        await db.start(engine)
        try:
            from app import build_werkbank
            from core.settings import Settings

            wb = build_werkbank(Settings(environment="test", database_url=url, secret_key="b" * 40,
                                         in_process_worker=False), engine)
            if await demo.database_is_empty():
                await demo.load(wb, scale)
            await bench_session_lookup(wb, engine, rounds, scale)
            await bench_search(wb, engine, rounds, scale)
        finally:
            await db.stop(engine)
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
