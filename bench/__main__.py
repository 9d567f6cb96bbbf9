"""Benchmarks, run on demand (`make bench`). Each prints its p50 and p95 next to a baseline
measured in the same run, and the ratio, so machines of other speeds compare alike.

Now: the per-request cost of recognising a logged-in user (session cookie -> user -> roles),
against the raw SQL that answers the same question, on a database with `werkbank demo --scale`
data. Use WERKBANK_DATABASE_URL to run it on PostgreSQL."""

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


async def bench_session_lookup(rounds: int, scale: int) -> None:
    import demo
    from accounts import services
    from accounts.tables import User
    from core import db

    url = os.environ.get("WERKBANK_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    engine = db.engine_from_url(url)
    await db.migrate(engine)
    await db.start(engine)
    try:
        if await db.database_is_empty():
            await demo.load(scale)
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
    finally:
        await db.stop(engine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--scale", type=int, default=10)
    args = parser.parse_args()
    from accounts.tables import User

    User._pbkdf2_iteration_count = 1_000  # demo users are made fast; lookups do not hash
    asyncio.run(bench_session_lookup(args.rounds, args.scale))


if __name__ == "__main__":
    main()
