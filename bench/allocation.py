"""Allocation benchmark, run on demand (`python -m bench.allocation [--rounds N]`); never part of
the pytest suite, no database. It builds one realistic round for a term (1 September to 19
December 2025, without the autumn holiday and 11 November): 60 resources in 12 categories of 5
(open Monday to Friday 08:00-16:30, some shut on Wednesdays or Fridays, some closed a week for
maintenance, about a quarter of their days already booked), 300 schools with 1-6 requests each
(about 1,000 in all; 1-10 days each, half of them on given weekdays, some in given weeks, four
in ten for any resource of a category), the VDAB caps (10 days per pupil group, 5 on a forklift)
and earlier rounds' history, and measures:

1. `allocation.allocate.allocate` on that round (pure Python, greedy passes, least-demand day);
2. against a naive first-come-first-served allocation of the same round (registration order,
   earliest fitting day, the same caps): what a spreadsheet would do, and the cheapest honest
   baseline for the same job. The ratio says what the fairness costs in time;

and prints what the fairness buys: days granted, schools that asked and got nothing, schools
that got nothing while another got two or more. Deriving the supply from opening hours,
closures and bookings (`allocation.supply.free_days`) is timed on its own line.

Timings are printed, never asserted. Everything is in memory; the round is the same every run
(a fixed seed)."""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime

from allocation.allocate import Allocation, Caps, Request, Supply, allocate
from allocation.supply import BRUSSELS, free_days, school_days
from bench.__main__ import _percentiles, report

TERM = (date(2025, 9, 1), date(2025, 12, 19))
HOLIDAYS = [date(2025, 10, 27) + timedelta(days=i) for i in range(5)] + [date(2025, 11, 11)]
CATEGORIES = ("lassen", "cnc", "elektrische-installaties", "heftruck", "procesoperator", "koeltechniek",
              "autotechniek", "ruwbouw", "hout", "grootkeuken", "netwerken", "mechatronica")
PER_CATEGORY = 5
SCHOOLS = 300
FORKLIFT_CAP = 5
GROUPS = ("5A", "6A", "6B", "7A", "7B")


@dataclass(frozen=True)
class Round:
    requests: list[Request]
    supply: list[Supply]
    caps: Caps
    history: dict[int, int]
    seed: int


# --- the round -------------------------------------------------------------------------------

def build_round(seed: int = 2025) -> tuple[Round, list[tuple[dict, list]]]:
    """The round, and per resource the opening hours and blocked intervals its supply came from."""
    rng = random.Random(seed)
    term = school_days(*TERM, skip=HOLIDAYS)
    weeks = sorted({day.isocalendar()[:2] for day in term})
    raw: list[tuple[dict, list]] = []
    supply: list[Supply] = []
    by_category: dict[str, list[int]] = defaultdict(list)
    forklifts: list[int] = []
    for index in range(len(CATEGORIES) * PER_CATEGORY):
        resource_id = index + 1
        category = CATEGORIES[index // PER_CATEGORY]
        by_category[category].append(resource_id)
        if category == "heftruck":
            forklifts.append(resource_id)
        shut = {2} if rng.random() < 0.2 else {4} if rng.random() < 0.1 else set()
        opening = {d: [(dtime(8, 0), dtime(16, 30))] for d in range(5) if d not in shut}
        blocked: list[tuple[datetime, datetime]] = []
        if rng.random() < 0.3:  # a week of maintenance
            monday = rng.choice(term) - timedelta(days=rng.choice(term).weekday())
            blocked.append((datetime.combine(monday, dtime(0, 0), BRUSSELS),
                            datetime.combine(monday + timedelta(days=5), dtime(0, 0), BRUSSELS)))
        for day in term:  # existing bookings: two hours on about a quarter of the days
            if rng.random() < 0.25:
                start = datetime.combine(day, dtime(rng.choice((8, 10, 13)), 0), BRUSSELS)
                blocked.append((start, start + timedelta(hours=2)))
        raw.append((opening, blocked))
        supply.append(Supply(resource_id, free_days(term, opening, blocked), capacity=rng.choice((14, 16, 16, 20, 24))))

    requests: list[Request] = []
    history: dict[int, int] = {}
    for school in range(1, SCHOOLS + 1):
        history[school] = rng.choice((0, 0, 0, 2, 5, 8, 10, 15, 20, 30))
        count = rng.choices((1, 2, 3, 4, 5, 6), weights=(15, 20, 25, 20, 12, 8))[0]
        for preference in range(1, count + 1):
            category = rng.choice(CATEGORIES)
            if rng.random() < 0.4:  # any resource of the category, in the school's order
                named = tuple(rng.sample(by_category[category], k=PER_CATEGORY))
            else:
                named = (rng.choice(by_category[category]),)
            weekdays = frozenset(rng.sample(range(5), k=rng.choice((2, 3)))) if rng.random() < 0.5 else None
            chosen_weeks = None
            if rng.random() < 0.15:
                first = rng.randrange(len(weeks) - 6)
                chosen_weeks = frozenset(weeks[first:first + rng.choice((4, 5, 6))])
            requests.append(Request(
                id=len(requests) + 1, school_id=school, group=rng.choice(GROUPS), resource_ids=named,
                days=rng.choices((1, 2, 3, 4, 5, 10), weights=(20, 25, 20, 10, 15, 10))[0],
                preference=preference, group_size=rng.choice((6, 8, 10, 12, 12, 14, 14, 16, 18)), weekdays=weekdays,
                weeks=chosen_weeks))
    caps = Caps(per_school=40, per_group=10, resource_overrides=dict.fromkeys(forklifts, FORKLIFT_CAP))
    return Round(requests, supply, caps, history, seed), raw


# --- the baseline ----------------------------------------------------------------------------

def first_come_first_served(r: Round) -> list[tuple[int, int, date]]:
    """Registration order, each request takes the earliest fitting free days at once, within the
    same caps and one place a day per group: (request, resource, day) granted."""
    free = {s.resource_id: sorted(set(s.days)) for s in r.supply}
    capacity = {s.resource_id: s.capacity for s in r.supply}
    taken: set[tuple[int, date]] = set()
    school_days_: Counter = Counter()
    group_days: Counter = Counter()
    group_resource: Counter = Counter()
    group_dates: dict[tuple[int, str], set[date]] = defaultdict(set)
    caps = r.caps
    granted = []
    for q in sorted(r.requests, key=lambda q: q.id):
        group = (q.school_id, q.group)
        candidates = sorted((day, position, resource) for position, resource in enumerate(q.resource_ids)
                            if resource in free and (capacity[resource] is None or q.group_size <= capacity[resource])
                            for day in free[resource])
        got = 0
        for day, _, resource in candidates:
            if got == q.days:
                break
            if caps.per_school is not None and school_days_[q.school_id] >= caps.per_school:
                break
            if caps.per_group is not None and group_days[group] >= caps.per_group:
                break
            limit = caps.group_resource_limit(resource)
            if ((resource, day) in taken or day in group_dates[group]
                    or (limit is not None and group_resource[(*group, resource)] >= limit)
                    or (q.weekdays is not None and day.weekday() not in q.weekdays)
                    or (q.weeks is not None and day.isocalendar()[:2] not in q.weeks)):
                continue
            taken.add((resource, day))
            school_days_[q.school_id] += 1
            group_days[group] += 1
            group_resource[(*group, resource)] += 1
            group_dates[group].add(day)
            granted.append((q.id, resource, day))
            got += 1
    return granted


# --- measuring -------------------------------------------------------------------------------

def timed(func: Callable[[], object], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def outcome(r: Round, grants: list[tuple[int, int]]) -> str:
    """(request, school) per granted day -> what the schools got."""
    asked = {q.school_id for q in r.requests}
    per_school = Counter(school for _, school in grants)
    per_request = Counter(request for request, _ in grants)
    empty = [s for s in asked if per_school[s] == 0]
    two_or_more = sum(1 for s in asked if per_school[s] >= 2)
    served = sum(1 for q in r.requests if per_request[q.id] == q.days)
    counts = sorted(per_school[s] for s in asked)
    low_history = [s for s in asked if r.history.get(s, 0) == 0]
    low_empty = sum(1 for s in low_history if per_school[s] == 0)
    return (f"{len(grants)} days granted, {served}/{len(r.requests)} requests in full, schools with nothing"
            f" {len(empty)}/{len(asked)} (while {two_or_more} got two or more), of them with no history"
            f" {low_empty}/{len(low_history)}; days per school min {counts[0]}, median {statistics.median(counts):g},"
            f" max {counts[-1]}")


def main(rounds: int = 20) -> None:
    r, raw = build_round()
    term = school_days(*TERM, skip=HOLIDAYS)
    supply_days = sum(len(s.days) for s in r.supply)
    asked_days = sum(q.days for q in r.requests)
    print(f"allocation round: {len(r.requests)} requests from {SCHOOLS} schools ({asked_days} days asked),"
          f" {len(r.supply)} resources, {len(term)} school days, {supply_days} free resource-days;"
          f" caps per group {r.caps.per_group}, per school {r.caps.per_school}, forklift {FORKLIFT_CAP}")

    def fair() -> Allocation:
        return allocate(r.requests, r.supply, r.caps, r.history, r.seed)

    def naive() -> list[tuple[int, int, date]]:
        return first_come_first_served(r)

    def derive() -> None:
        for opening, blocked in raw:
            free_days(term, opening, blocked)

    fair(), naive(), derive()  # warm up
    measured, baseline = [], []
    for _ in range(rounds):  # alternate, so drift hits both alike
        measured += timed(fair, 1)
        baseline += timed(naive, 1)
    report("allocate vs first-come-first-served", measured, baseline)
    d50, d95 = _percentiles(timed(derive, rounds))
    print(f"{'supply of 60 resources (free_days)':<34} p50 {d50:7.3f} ms  p95 {d95:7.3f} ms | no baseline: it is a"
          " fraction of the allocation")

    result = fair()
    school_of = {q.id: q.school_id for q in r.requests}
    print(f"  fair ({result.passes} passes): " + outcome(r, [(g.request_id, g.school_id) for g in result.granted]))
    print("  first come, first served: " + outcome(r, [(request, school_of[request]) for request, _, _ in naive()]))
    reasons = Counter(str(u.reason) for u in result.unmet)
    print("  fair, days short by reason: " + ", ".join(
        f"{reason} {sum(u.days_short for u in result.unmet if str(u.reason) == reason)} ({count} requests)"
        for reason, count in reasons.most_common()))
    print(f"Timings over {rounds} rounds each, alternating, in one process; the baseline grants in registration"
          " order with the same caps and rules but no passes, no history and no draw.")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20, help="timed runs of each")
    main(parser.parse_args().rounds)
