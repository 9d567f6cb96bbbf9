"""The fair allocation of one round: a pure function from requests, supply, caps, earlier rounds
and a seed to the days granted and the days not granted, with the reason why.

Pure means: frozen dataclasses in, frozen dataclasses out, no database, no clock, no I/O, no
global state, and the only randomness a `random.Random(seed)` made here. The same input (in any
order) and the same seed give the same `Allocation`, on any machine and Python version: the draw
uses only `Random.random()` after seeding with an int, the one part of `random` that Python
promises never to change.

Words
-----
- a *slot* is one resource on one day (`Supply.days`: the caller has already removed every day
  the resource is closed, not open, booked or busy, see `allocation.supply.free_days`); a slot is
  granted at most once, and never a day that is not in the supply;
- a *pupil group* is `(school_id, group)`: group names are the school's own; a group is in one
  place a day, so it never gets two slots on the same date;
- a request *fits* a slot when the slot's resource is one it names, holds its group
  (`group_size <= capacity`), and the day is on one of its weekdays and in one of its ISO weeks;
- a request is *feasible* on a slot when it fits, the slot is still free, the group has no day
  on that date yet, the request still wants days, and no cap would be passed by one more day.

Caps (`Caps`, each `None` for no cap)
-------------------------------------
- `per_school`: days one school gets in the round, over all its groups and requests;
- `per_group`: days one pupil group gets in the round (the VDAB rule: 10);
- `per_group_resource`: days of one resource one pupil group gets in the round, with
  `resource_overrides` for single resources (the VDAB forklift workshop: 5). A cap per resource
  *in total* is not a cap but supply: give the resource fewer days.

The algorithm (greedy, in passes)
---------------------------------
1. The draw: every school that asked gets a number from `Random(seed).random()`, in ascending
   school id order; sorting by it gives `draw`. The priority order `priority` is the draw sorted
   (stably) by days received in earlier rounds, ascending: less history first, the draw breaks
   ties. A recorded draw can be passed back in (`draw=`) to replay a round without the seed.
2. Pass 1, 2, ...: the schools take turns in priority order, the same order every pass. On its
   turn a school gets at most one day: for its most preferred request (lowest `preference`, then
   lowest id) that is feasible on some slot. The day chosen is, among the feasible slots, the one
   with the least competing demand (the number of live requests that still fit it and have not
   found it taken, busy or capped), then the earliest date, then the resource the school listed
   first. A school that gets nothing on its turn is done: supply only shrinks and caps only
   tighten, so nothing could become feasible for it later.
3. Passes repeat until no school got a day in a pass.

Guarantees (each checked by the property tests in tests/allocation/test_allocate.py)
-----------------------------------------------------------------------------------
G1 Validity: a slot is granted at most once; every grant is a supply day of a resource the
   request names that holds the group, on an accepted weekday and week; a group has at most one
   grant per date; no cap is passed; no request gets more days than it asked.
G2 Priority: a school with fewer days in earlier rounds is never after one with more in
   `priority`; equal history is ordered by the seeded draw.
G3 Passes (one day each before anyone's next): the grants are numbered in the order made; a
   school's k-th day has `pass_number == k`, and every grant of pass k comes after every grant
   of pass k-1. So no school gets a second day while a school that asked could still get a first
   one: if a school ends with n days and still wanted more, then no slot that was free at the end,
   or was granted in a later pass, or in the same pass to a school after it, would have been
   feasible for any of its unserved requests (checked literally for n = 0 and, by replaying the
   grants, for every n).
G4 Preference: when a school gets a day for a request, none of its more preferred requests that
   still wanted days was feasible at that moment.
G5 Reproducible: same input and seed (or same recorded draw), same result, whatever the order
   of the input lists.

Not guaranteed (on purpose, or because it would cost an optimal matching)
-------------------------------------------------------------------------
- Not a maximum or optimal matching: a greedy pick can still take the only day another school
  could use. The least-demand rule makes this rarer, not impossible; the demand count is a
  heuristic (it ignores caps and the group's taken dates of the other requests until they look).
- Priority is per turn, not per total: a school first in the order gets its day first in every
  pass (no serpentine order), and a school with much history still gets one day per pass when
  supply suffices; history only decides who goes first when demand exceeds supply.
- Fairness is between schools, not between the groups of one school or between requests of
  different size: a school's days go to its preferences in order.
- No eligibility checks (programme, round window): registration checks those before this runs.

Cost: building the slot lists is O(requests x fitting slots); every turn scans the scanned
request's remaining slots and drops for good those taken, busy or capped, so the whole run is
about O(requests x slots per request x days asked). 300 schools, 60 resources and a term take
well under a second (bench/allocation.py)."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

__all__ = ["Allocation", "Caps", "Grant", "Reason", "Request", "Supply", "Unmet", "allocate", "draw_order", "priority_order"]


class Reason(StrEnum):
    """Why a request got fewer days than it asked (the last barrier it met)."""

    TOO_LARGE = "too_large"  # no named resource in the round holds the group
    NO_FITTING_DAY = "no_fitting_day"  # the supply has no (more) day that fits, apart from the ones it got
    CAP_SCHOOL = "cap_school"  # the school reached `per_school`
    CAP_GROUP = "cap_group"  # the pupil group reached `per_group`
    CAP_RESOURCE = "cap_resource"  # the group reached the per-resource cap on (some of) its resources
    SUPPLY_TAKEN = "supply_taken"  # the fitting days went to others (or to the school's own other requests)
    GROUP_BUSY = "group_busy"  # the fitting free days were days the group already had elsewhere


@dataclass(frozen=True, slots=True)
class Supply:
    """The whole days a resource can give to this round, and how many pupils it holds (`None`:
    not limited). The caller derives the days from opening hours, closures, existing bookings
    and busy blocks; nothing else is ever granted."""

    resource_id: int
    days: tuple[date, ...]
    capacity: int | None = None


@dataclass(frozen=True, slots=True)
class Request:
    """A school's registration: `days` days for pupil group `group`, on one of `resource_ids`
    (one resource, or the candidates of a category, in the school's order of liking), on
    `weekdays` (0 = Monday; `None`: any) in ISO `weeks` ((year, week); `None`: any).
    `preference` 1 is the school's most wanted request; ties go to the lower id."""

    id: int
    school_id: int
    group: str
    resource_ids: tuple[int, ...]
    days: int
    preference: int = 1
    group_size: int = 0
    weekdays: frozenset[int] | None = None
    weeks: frozenset[tuple[int, int]] | None = None


@dataclass(frozen=True)
class Caps:
    """The round's caps (see the module docstring); `None` means no cap. Not hashable (the
    overrides are a mapping), which nothing needs."""

    per_school: int | None = None
    per_group: int | None = None
    per_group_resource: int | None = None
    resource_overrides: Mapping[int, int] = field(default_factory=dict)

    def group_resource_limit(self, resource_id: int) -> int | None:
        """Days of this resource one pupil group may get in the round."""
        return self.resource_overrides.get(resource_id, self.per_group_resource)


@dataclass(frozen=True, slots=True)
class Grant:
    """One day granted; `sequence` numbers the grants 1, 2, ... in the order they were made."""

    request_id: int
    school_id: int
    group: str
    resource_id: int
    day: date
    pass_number: int
    sequence: int


@dataclass(frozen=True, slots=True)
class Unmet:
    """A request that got `days_short` days fewer than it asked, and why."""

    request_id: int
    school_id: int
    days_short: int
    reason: Reason


@dataclass(frozen=True, slots=True)
class Allocation:
    """The result and what explains it: the seed, the seeded draw of schools, the priority order
    the passes used (history, then the draw), the grants in the order made, the shortfalls."""

    seed: int
    draw: tuple[int, ...]
    priority: tuple[int, ...]
    granted: tuple[Grant, ...]
    unmet: tuple[Unmet, ...]
    passes: int

    def days_for(self, school_id: int) -> int:
        return sum(1 for grant in self.granted if grant.school_id == school_id)


# --- the draw --------------------------------------------------------------------------------

def draw_order(school_ids: Iterable[int], seed: int) -> tuple[int, ...]:
    """The seeded draw: one `random()` per school in ascending id order, sorted by it. Only
    `Random.random()` is used because it is the one stream Python keeps the same across versions
    (`shuffle` and `randrange` have changed before)."""
    rng = random.Random(seed)
    keys = {school: rng.random() for school in sorted(set(school_ids))}
    return tuple(sorted(keys, key=lambda school: (keys[school], school)))


def priority_order(draw: Sequence[int], history: Mapping[int, int]) -> tuple[int, ...]:
    """Less history first; the draw orders schools with equal history (a stable sort)."""
    return tuple(sorted(draw, key=lambda school: history.get(school, 0)))


# --- the allocation --------------------------------------------------------------------------

def allocate(requests: Iterable[Request], supply: Iterable[Supply], caps: Caps, history: Mapping[int, int],
             seed: int, *, draw: Sequence[int] | None = None) -> Allocation:
    """Share the supply out over the requests (the module docstring says how and what holds).
    `history`: days each school received in earlier rounds (missing: 0). `draw`: a recorded draw
    to replay instead of drawing from `seed` (it must name exactly the schools that asked).
    Raises ValueError on malformed input (duplicate ids, days < 1, negative caps, ...)."""
    return _Allocator(list(requests), list(supply), caps, history, seed, draw).run()


class _Allocator:
    """One run's state. Slots are small ints so the hot loop touches lists, not dicts of dates."""

    def __init__(self, requests: list[Request], supply: list[Supply], caps: Caps, history: Mapping[int, int],
                 seed: int, draw: Sequence[int] | None) -> None:
        _validate(requests, supply, caps)
        self.caps, self.seed = caps, seed
        self.requests = sorted(requests, key=lambda r: r.id)
        schools = {r.school_id for r in self.requests}
        if draw is None:
            self.draw = draw_order(schools, seed)
        else:
            self.draw = tuple(draw)
            if len(self.draw) != len(schools) or set(self.draw) != schools:
                raise ValueError("the recorded draw must list each school that asked exactly once")
        self.priority = priority_order(self.draw, history)

        # The slot table: one int per (resource, day) of the supply.
        self.slot_resource: list[int] = []
        self.slot_day: list[date] = []
        slots_of: dict[int, list[int]] = {}
        capacity: dict[int, int | None] = {}
        for offer in sorted(supply, key=lambda s: s.resource_id):
            capacity[offer.resource_id] = offer.capacity
            ids = slots_of[offer.resource_id] = []
            for day in sorted(set(offer.days)):
                ids.append(len(self.slot_day))
                self.slot_resource.append(offer.resource_id)
                self.slot_day.append(day)
        self.taken = [False] * len(self.slot_day)
        self.demand = [0] * len(self.slot_day)
        week_of = [day.isocalendar()[:2] for day in self.slot_day]

        # Each request's fitting slots, by date and then the school's order of its resources.
        self.remaining: dict[int, int] = {}
        self.slots: dict[int, list[int]] = {}
        self.dropped: dict[int, set[Reason]] = {}
        self.reason: dict[int, Reason] = {}
        live: dict[int, list[Request]] = {school: [] for school in schools}
        for request in self.requests:
            self.remaining[request.id] = request.days
            self.dropped[request.id] = set()
            named = list(dict.fromkeys(request.resource_ids))
            offered = [r for r in named if r in slots_of]
            holding = [r for r in offered if capacity[r] is None or request.group_size <= capacity[r]]
            fitting: list[tuple[date, int, int]] = []
            for position, resource in enumerate(holding):
                for slot in slots_of[resource]:
                    if request.weekdays is not None and self.slot_day[slot].weekday() not in request.weekdays:
                        continue
                    if request.weeks is not None and week_of[slot] not in request.weeks:
                        continue
                    fitting.append((self.slot_day[slot], position, slot))
            fitting.sort()
            self.slots[request.id] = [slot for _, _, slot in fitting]
            if offered and not holding:
                self.reason[request.id] = Reason.TOO_LARGE
            elif not fitting:
                self.reason[request.id] = Reason.NO_FITTING_DAY
            else:
                for slot in self.slots[request.id]:
                    self.demand[slot] += 1
                live[request.school_id].append(request)
        for queue in live.values():
            queue.sort(key=lambda r: (r.preference, r.id))
        self.live = live

        self.school_days: dict[int, int] = dict.fromkeys(schools, 0)
        self.group_days: dict[tuple[int, str], int] = {}
        self.group_dates: dict[tuple[int, str], set[date]] = {}
        self.group_resource_days: dict[tuple[int, str, int], int] = {}
        self.granted: list[Grant] = []

    def run(self) -> Allocation:
        active = [school for school in self.priority if self.live[school]]
        pass_number = 0
        while active:
            pass_number += 1
            next_pass = []
            for school in active:
                if self.turn(school, pass_number) and self.live[school]:
                    next_pass.append(school)
            active = next_pass
        unmet = []
        for request in self.requests:
            short = self.remaining[request.id]
            if short:
                unmet.append(Unmet(request.id, request.school_id, short, self.reason[request.id]))
        passes = self.granted[-1].pass_number if self.granted else 0
        return Allocation(self.seed, self.draw, self.priority, tuple(self.granted), tuple(unmet), passes)

    def turn(self, school: int, pass_number: int) -> bool:
        """The school's turn: one day for its most preferred feasible request, or nothing (then the
        requests that turned out infeasible are closed with their reason)."""
        caps = self.caps
        queue = self.live[school]
        if caps.per_school is not None and self.school_days[school] >= caps.per_school:
            for request in queue:
                self.close(request, Reason.CAP_SCHOOL)
            queue.clear()
            return False
        for index, request in enumerate(list(queue)):
            group = (school, request.group)
            if caps.per_group is not None and self.group_days.get(group, 0) >= caps.per_group:
                self.close(request, Reason.CAP_GROUP)
                continue
            slot = self.pick(request, group)
            if slot is None:
                self.close(request, self.why(request))
                continue
            del queue[:index]  # the ones before it were closed just now
            self.grant(request, group, slot, pass_number)
            if self.remaining[request.id] == 0:
                queue.remove(request)
                self.close(request, None)
            return True
        queue.clear()
        return False

    def pick(self, request: Request, group: tuple[int, str]) -> int | None:
        """The feasible slot with the least demand, earliest first on a tie. Slots found taken,
        on a date the group already has, or on a resource the group has reached its cap on, can
        never come back: they are dropped from the request's list for good."""
        slots = self.slots[request.id]
        busy = self.group_dates.get(group, ())
        kept: list[int] = []
        best, best_demand = None, 0
        dropped = self.dropped[request.id]
        for slot in slots:
            if self.taken[slot]:
                dropped.add(Reason.SUPPLY_TAKEN)
                continue
            if self.slot_day[slot] in busy:
                dropped.add(Reason.GROUP_BUSY)
                self.demand[slot] -= 1
                continue
            resource = self.slot_resource[slot]
            limit = self.caps.group_resource_limit(resource)
            if limit is not None and self.group_resource_days.get((*group, resource), 0) >= limit:
                dropped.add(Reason.CAP_RESOURCE)
                self.demand[slot] -= 1
                continue
            kept.append(slot)
            if best is None or self.demand[slot] < best_demand:
                best, best_demand = slot, self.demand[slot]
        self.slots[request.id] = kept
        return best

    def why(self, request: Request) -> Reason:
        """The reason for a request that found no feasible slot: a reached resource cap explains
        most, then days taken by others, then the group's own other days, and when none of these
        took a slot from it, it simply asked more days than fitted."""
        dropped = self.dropped[request.id]
        for reason in (Reason.CAP_RESOURCE, Reason.SUPPLY_TAKEN, Reason.GROUP_BUSY):
            if reason in dropped:
                return reason
        return Reason.NO_FITTING_DAY  # it got every fitting day there was and wanted more

    def grant(self, request: Request, group: tuple[int, str], slot: int, pass_number: int) -> None:
        resource, day = self.slot_resource[slot], self.slot_day[slot]
        self.taken[slot] = True
        self.slots[request.id].remove(slot)
        self.demand[slot] -= 1
        self.remaining[request.id] -= 1
        self.school_days[request.school_id] += 1
        self.group_days[group] = self.group_days.get(group, 0) + 1
        self.group_dates.setdefault(group, set()).add(day)
        key = (*group, resource)
        self.group_resource_days[key] = self.group_resource_days.get(key, 0) + 1
        self.granted.append(Grant(request.id, request.school_id, request.group, resource, day, pass_number,
                                  len(self.granted) + 1))

    def close(self, request: Request, reason: Reason | None) -> None:
        """The request leaves the competition: its slots no longer count as demand."""
        for slot in self.slots[request.id]:
            self.demand[slot] -= 1
        self.slots[request.id] = []
        if reason is not None:
            self.reason[request.id] = reason


def _validate(requests: list[Request], supply: list[Supply], caps: Caps) -> None:
    ids = [r.id for r in requests]
    if len(set(ids)) != len(ids):
        raise ValueError("request ids must be unique")
    resources = [s.resource_id for s in supply]
    if len(set(resources)) != len(resources):
        raise ValueError("each resource may appear once in the supply")
    for s in supply:
        if s.capacity is not None and s.capacity < 0:
            raise ValueError(f"resource {s.resource_id}: capacity must not be negative")
    for r in requests:
        if r.days < 1:
            raise ValueError(f"request {r.id}: days must be at least 1")
        if not r.resource_ids:
            raise ValueError(f"request {r.id}: names no resource")
        if r.group_size < 0:
            raise ValueError(f"request {r.id}: group size must not be negative")
        if r.weekdays is not None and not r.weekdays <= frozenset(range(7)):
            raise ValueError(f"request {r.id}: weekdays are 0 (Monday) to 6")
    limits = [caps.per_school, caps.per_group, caps.per_group_resource, *caps.resource_overrides.values()]
    if any(limit is not None and limit < 0 for limit in limits):
        raise ValueError("caps must not be negative")
