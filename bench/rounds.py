"""A whole allocation round through the services and a database, run on demand
(`python -m bench rounds`; `WERKBANK_DATABASE_URL=postgresql://...` for PostgreSQL); never part of
the pytest suite. The round is bench/allocation.py's (60 resources in 12 categories, their opening
hours, maintenance weeks and existing bookings; 300 schools with about 1,000 registrations; the
VDAB caps), moved to the next term and written into a fresh database as rows: resources,
schools with a teacher each, the round and its registrations. Then it times:

1. `allocation.allocating.allocate_round` (read the supply from opening hours, closures and
   bookings, build the requests, allocate, write every allocated day), against the pure
   `allocation.allocate.allocate` on the same round in memory: the ratio is what the database adds;
2. `publish_round` once (every allocated day a confirmed booking through booking's guard, each in
   its own savepoint, and the mails queued), against allocating: the ratio says what booking the
   days costs next to deciding them.

Timings are printed, never asserted."""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta

from allocation.allocate import allocate
from bench.allocation import HOLIDAYS, TERM, build_round
from bench.booking import _drop_database, _fresh_database
from core.i18n import BRUSSELS

BENCH_DB = "werkbank_bench_rounds"


def _shift(today: date) -> timedelta:
    """Whole weeks that move the bench's term to start at least five weeks from today."""
    return timedelta(weeks=((today + timedelta(days=35) - TERM[0]).days // 7) + 1)


async def _write_round(moment: datetime) -> tuple[int, int]:
    """The bench's round as rows; returns (round id, a user who runs it)."""
    from accounts.tables import Membership, Organisation, User
    from allocation.tables import AllocationRound, Registration, RoundResource
    from booking.tables import Booking
    from inventory.tables import Category, Closure, Facility, OpeningHours, Resource

    shift = _shift(moment.astimezone(BRUSSELS).date())
    bench_round, raw = build_round()
    rtc = Organisation(name="RTC Bench", slug="rtc-bench", kind="rtc", region_code="VOV")
    owner = Organisation(name="Bench-opleidingscentrum", slug="bench-owner", kind="training_centre", region_code="VOV")
    await Organisation.insert(rtc, owner)
    staff = User(username="rtc@bench.be", email="rtc@bench.be", password="x" * 20, active=True)
    await staff.save()
    await Membership.insert(Membership(user=staff.id, organisation=rtc.id, role="rtc_staff"))
    facility = Facility(owner=owner.id, name="Benchcampus", postal_code="9000", region_code="VOV")
    await facility.save()
    category = (await Category.select(Category.id).first())["id"]
    resources = {}
    for supply, (opening, blocked) in zip(bench_round.supply, raw, strict=True):
        resource = Resource(facility=facility.id, name=f"Bench {supply.resource_id}", category=category,
                            capacity=supply.capacity or 24)
        await resource.save()
        resources[supply.resource_id] = resource.id
        await OpeningHours.insert(*[OpeningHours(resource=resource.id, weekday=d, opens=a, closes=b)
                                    for d, spans in opening.items() for a, b in spans])
        closures = [Closure(resource=resource.id, starts_at=a + shift, ends_at=b + shift)
                    for a, b in blocked if b - a > timedelta(hours=2)]
        if closures:
            await Closure.insert(*closures)
    schools, teachers = {}, {}
    for school_id in sorted({q.school_id for q in bench_round.requests}):
        school = Organisation(name=f"Benchschool {school_id}", slug=f"bench-school-{school_id}", kind="school",
                              region_code="VOV")
        await school.save()
        teacher = User(username=f"t{school_id}@bench.be", email=f"t{school_id}@bench.be", password="x" * 20, active=True)
        await teacher.save()
        await Membership.insert(Membership(user=teacher.id, organisation=school.id, role="teacher"))
        schools[school_id], teachers[school_id] = school.id, teacher.id
    first_school = next(iter(schools.values()))
    bookings = [Booking(resource=resources[s.resource_id], school=first_school, teacher=teachers[1], start=a + shift,
                        end=b + shift, hold_end=b + shift, status="confirmed", group_size=4)
                for s, (_opening, blocked) in zip(bench_round.supply, raw, strict=True)
                for a, b in blocked if b - a <= timedelta(hours=2)]
    for start in range(0, len(bookings), 500):
        await Booking.insert(*bookings[start:start + 500])
    rnd = AllocationRound(name="Bench", organiser=rtc.id, region_code="VOV",
                          registration_opens=TERM[0] + shift - timedelta(days=60),
                          registration_closes=moment.astimezone(BRUSSELS).date() - timedelta(days=1),
                          period_start=TERM[0] + shift, period_end=TERM[1] + shift,
                          announce_on=TERM[0] + shift - timedelta(days=7),
                          excluded_days=[(day + shift).isoformat() for day in HOLIDAYS],
                          max_days_per_school=bench_round.caps.per_school, max_days_per_group=bench_round.caps.per_group)
    await rnd.save()
    overrides = bench_round.caps.resource_overrides
    await RoundResource.insert(*[RoundResource(allocation_round=rnd.id, resource=resources[s.resource_id],
                                               max_days_per_group=overrides.get(s.resource_id))
                                 for s in bench_round.supply])
    rows = [Registration(allocation_round=rnd.id, school=schools[q.school_id], teacher=teachers[q.school_id],
                         pupil_group=q.group, resource=resources[q.resource_ids[0]], days=q.days,
                         group_size=min(q.group_size, 24), preference=q.preference,
                         weekdays=sorted(q.weekdays or ()), status="active") for q in bench_round.requests]
    for start in range(0, len(rows), 500):
        await Registration.insert(*rows[start:start + 500])
    return rnd.id, staff.id


async def bench(wb, engine_kind: str, rounds: int) -> None:
    from accounts.services import load_actor
    from accounts.tables import User
    from allocation import allocating

    moment = wb.clock.now()
    round_id, staff_id = await _write_round(moment)
    actor = await load_actor(await User.objects().where(User.id == staff_id).first())
    bench_round, _raw = build_round()

    async def service() -> float:
        started = time.perf_counter()
        async with wb.unit_of_work(actor) as uow:
            await allocating.allocate_round(uow, round_id, seed=bench_round.seed)
        return time.perf_counter() - started

    def pure() -> float:
        started = time.perf_counter()
        allocate(bench_round.requests, bench_round.supply, bench_round.caps, bench_round.history, bench_round.seed)
        return time.perf_counter() - started

    measured = [await service() for _ in range(rounds)]
    baseline = [pure() for _ in range(rounds)]
    from allocation.tables import RoundAllocation

    days = await RoundAllocation.count().where(RoundAllocation.allocation_round == round_id)
    service_p50, pure_p50 = statistics.median(measured), statistics.median(baseline)
    print(f"Allocation round ({engine_kind}): 60 resources, 300 schools, {len(bench_round.requests)} registrations, "
          f"{days} days allocated")
    print(f"  allocate_round (database)   p50 {service_p50 * 1000:8.0f} ms")
    print(f"  allocate (pure, in memory)  p50 {pure_p50 * 1000:8.0f} ms   ratio {service_p50 / pure_p50:.1f}x")
    started = time.perf_counter()
    async with wb.unit_of_work(actor) as uow:
        published = await allocating.publish_round(uow, round_id)
    publish = time.perf_counter() - started
    print(f"  publish_round (once)            {publish * 1000:8.0f} ms   ratio {publish / service_p50:.1f}x allocating; "
          f"{published.booked} days booked, {published.problems} kept with a problem, "
          f"{publish / max(published.booked, 1) * 1000:.1f} ms a day")


async def run(rounds: int) -> None:
    from app import build_werkbank
    from core import db
    from core.settings import Settings

    server = os.environ.get("WERKBANK_DATABASE_URL", "")
    postgres = server.startswith(("postgresql://", "postgres://"))
    scratch = None if postgres else tempfile.mkdtemp(prefix="werkbank-bench-rounds-")
    url = await _fresh_database(server, BENCH_DB) if postgres else f"sqlite:///{scratch}/bench.sqlite3"
    engine = db.engine_from_url(url)
    try:
        await db.migrate(engine)
        await db.start(engine)
        try:
            wb = build_werkbank(Settings(environment="test", database_url=url, secret_key="b" * 40,
                                         in_process_worker=False), engine)
            await bench(wb, db.engine_kind(engine), rounds)
        finally:
            await db.stop(engine)
    finally:
        if postgres:
            await _drop_database(server, BENCH_DB)
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


def main(rounds: int = 5) -> None:
    asyncio.run(run(rounds))


if __name__ == "__main__":
    main()
