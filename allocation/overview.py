"""A round as its page and the API show it: window and caps, demand against supply per resource
and region, the registrations the actor may see (staff: all; a school: its own) and, once
allocated, who got which days and why days were not granted. Read in a handful of queries."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date

from accounts.tables import Organisation
from allocation import access, loading
from allocation.allocating import candidates_of
from allocation.labels import reason_label, round_status_label
from allocation.loading import as_list
from allocation.services import RoundResourceRow, get_round, round_resources, today, window_state
from allocation.tables import AllocationRound, Registration, RoundAllocation, RoundResource
from core.i18n import get_language
from core.uow import UnitOfWork
from inventory.tables import Category, StudyProgramme
from regions.geography import REGIONS


@dataclass
class ResourceLine:
    id: int
    name: str
    facility: str
    region: str
    region_name: str
    capacity: int
    cap_per_group: int | None
    free_days: int
    asked_days: int  # by registrations for this resource
    asked_by_category: int  # by registrations for its category (they may get another resource of it)
    schools: int
    allocated_days: int

    @property
    def pressure(self) -> float | None:
        return None if not self.free_days else (self.asked_days + self.asked_by_category) / self.free_days


@dataclass
class RegionLine:
    code: str
    name: str
    free_days: int = 0
    asked_days: int = 0
    allocated_days: int = 0


@dataclass
class DayLine:
    id: int
    day: date
    resource_id: int
    resource: str
    by_hand: bool
    booking_id: int | None
    problem: str


@dataclass
class RegistrationLine:
    id: int
    school_id: int
    school: str
    pupil_group: str
    target: str  # the resource, or "any <category>"
    resource_id: int | None
    category_id: int | None
    days: int
    group_size: int
    study_programme: str
    school_year: int | None
    weekdays: list[int]
    weeks: list[str]
    preference: int
    note: str
    status: str
    got: int = 0
    reason: str = ""
    reason_text: str = ""
    allocated: list[DayLine] = field(default_factory=list)
    candidates: list[int] = field(default_factory=list)

    @property
    def short(self) -> int:
        return max(0, self.days - self.got) if self.status == "active" else 0


@dataclass
class SchoolLine:
    id: int
    name: str
    asked: int
    got: int
    earlier: int
    place: int | None  # position in the priority order (1 first)


@dataclass
class RoundView:
    round: AllocationRound
    state: str
    state_text: str
    organiser: str
    manage: bool
    resources: list[ResourceLine]
    regions: list[RegionLine]
    registrations: list[RegistrationLine]
    schools: list[SchoolLine]
    programmes: list[str]
    categories: list[dict]
    total_free: int
    total_asked: int
    total_allocated: int
    total_registrations: int
    total_schools: int
    problems: int

    @property
    def years(self) -> list[int]:
        return as_list(self.round.eligible_years)

    @property
    def excluded(self) -> list[str]:
        return as_list(self.round.excluded_days)

    def to_dict(self) -> dict:
        r = self.round
        return {
            "id": r.id, "name": r.name, "state": self.state, "state_text": self.state_text,
            "organiser": self.organiser, "region": r.region_code or None, "note": r.note,
            "registration_opens": r.registration_opens.isoformat(),
            "registration_closes": r.registration_closes.isoformat(),
            "period_start": r.period_start.isoformat(), "period_end": r.period_end.isoformat(),
            "announce_on": r.announce_on.isoformat(), "excluded_days": as_list(r.excluded_days),
            "eligible_study_programmes": as_list(r.eligible_programmes), "eligible_years": as_list(r.eligible_years),
            "max_days_per_school": r.max_days_per_school, "max_days_per_group": r.max_days_per_group,
            "max_days_per_resource": r.max_days_per_resource,
            "seed": r.seed if self.manage else None,
            "draw": as_list(r.draw) if self.manage else None,
            "priority": as_list(r.priority) if self.manage else None,
            "totals": {"free_days": self.total_free, "asked_days": self.total_asked,
                       "allocated_days": self.total_allocated, "registrations": self.total_registrations,
                       "schools": self.total_schools, "problems": self.problems},
            "resources": [{k: v for k, v in asdict(line).items()} for line in self.resources],
            "regions": [asdict(line) for line in self.regions],
            "registrations": [registration_dict(line) for line in self.registrations],
            "schools": [asdict(line) for line in self.schools] if self.manage else [],
        }


def registration_dict(line: RegistrationLine) -> dict:
    data = asdict(line)
    data["short"] = line.short
    data.pop("candidates")
    data["allocated"] = [{"id": d.id, "day": d.day.isoformat(), "resource_id": d.resource_id, "resource": d.resource,
                          "by_hand": d.by_hand, "booking_id": d.booking_id, "problem": d.problem}
                         for d in line.allocated]
    return data


async def round_view(uow: UnitOfWork, round_id: int, *, system: bool = False) -> RoundView:
    """The round as the acting user may see it; `system`: everything (for the mails, rendered
    by the outbox on behalf of nobody)."""
    if system:
        rnd = await AllocationRound.objects().where(AllocationRound.id == round_id).first()
        if rnd is None:
            raise LookupError(f"round {round_id} is gone")
    else:
        rnd = await get_round(uow, round_id)
    manage = system or access.can_manage(uow.actor, rnd)
    mine = set(access.school_ids(uow.actor))
    resources = await round_resources(round_id)
    registrations = await Registration.objects().where(Registration.allocation_round == round_id).order_by(
        Registration.id)
    allocations = await RoundAllocation.objects().where(RoundAllocation.allocation_round == round_id).order_by(
        RoundAllocation.day).order_by(RoundAllocation.resource).order_by(RoundAllocation.id)
    own_bookings = {a.booking for a in allocations if a.booking is not None}
    free = await loading.free_days_of(rnd, [r.id for r in resources], own_bookings)
    if not manage and rnd.status != AllocationRound.Status.published:
        allocations = []  # the draft is the staff's until they publish it
    names = await _names(registrations, resources, rnd.organiser)
    active = [r for r in registrations if r.status == Registration.Status.active]
    lines = _resource_lines(resources, free, active, allocations)
    state = window_state(rnd, today(uow))
    visible = [r for r in registrations if manage or r.school in mine]
    registration_lines = _registration_lines(visible, resources, allocations, names,
                                             reasons=manage or rnd.status == AllocationRound.Status.published)
    return RoundView(
        round=rnd, state=state, state_text=round_status_label(state), organiser=names["orgs"].get(rnd.organiser, ""),
        manage=manage, resources=lines, regions=_region_lines(lines, active, resources), registrations=registration_lines,
        schools=_school_lines(rnd, active, allocations, names) if manage else [],
        programmes=[names["programmes"].get(p, "") for p in as_list(rnd.eligible_programmes)],
        categories=[{"id": c, "name": names["categories"].get(c, "")} for c in sorted({r.category for r in resources})],
        total_free=sum(line.free_days for line in lines), total_asked=sum(r.days for r in active),
        total_allocated=len(allocations), total_registrations=len(active),
        total_schools=len({r.school for r in active}),
        problems=sum(1 for a in allocations if a.problem))


async def _names(registrations: list[Registration], resources: list[RoundResourceRow], organiser: int) -> dict:
    org_ids = sorted({r.school for r in registrations} | {organiser})
    orgs = {row["id"]: row["name"] for row in await Organisation.select(Organisation.id, Organisation.name).where(
        Organisation.id.is_in(org_ids))}
    programme_ids = sorted({r.study_programme for r in registrations if r.study_programme})
    programmes = {row["id"]: row["name"] for row in await StudyProgramme.select(
        StudyProgramme.id, StudyProgramme.name).where(StudyProgramme.id.is_in(programme_ids or [-1]))}
    category_ids = sorted({r.category for r in resources} | {r.category for r in registrations if r.category})
    column = Category.name_en if get_language() == "en" else Category.name_nl
    categories = {row["id"]: row["name"] for row in await Category.select(
        Category.id, column.as_alias("name")).where(Category.id.is_in(category_ids or [-1]))}
    return {"orgs": orgs, "programmes": programmes, "categories": categories,
            "resources": {r.id: r.name for r in resources}}


def _resource_lines(resources: list[RoundResourceRow], free: dict[int, tuple], active: list[Registration],
                    allocations: list[RoundAllocation]) -> list[ResourceLine]:
    direct: dict[int, int] = defaultdict(int)
    by_category: dict[int, int] = defaultdict(int)
    schools: dict[int, set[int]] = defaultdict(set)
    for registration in active:
        for resource_id in candidates_of(registration, resources):
            if registration.resource is not None:
                direct[resource_id] += registration.days
            else:
                by_category[resource_id] += registration.days
            schools[resource_id].add(registration.school)
    allocated: dict[int, int] = defaultdict(int)
    for a in allocations:
        allocated[a.resource] += 1
    return [ResourceLine(id=r.id, name=r.name, facility=r.facility_name, region=r.region_code,
                         region_name=REGIONS[r.region_code].name if r.region_code in REGIONS else r.region_code,
                         capacity=r.capacity,
                         cap_per_group=r.max_days_per_group, free_days=len(free.get(r.id, ())),
                         asked_days=direct[r.id], asked_by_category=by_category[r.id], schools=len(schools[r.id]),
                         allocated_days=allocated[r.id]) for r in resources]


def _region_lines(lines: list[ResourceLine], active: list[Registration],
                  resources: list[RoundResourceRow]) -> list[RegionLine]:
    """Supply and allocated days per region of the resources; each registration's days asked once,
    in the region of the first resource it names (a category's resources may lie in several)."""
    regions: dict[str, RegionLine] = {}

    def region(code: str) -> RegionLine:
        known = REGIONS.get(code)
        return regions.setdefault(code, RegionLine(code, known.name if known else code))

    for line in lines:
        item = region(line.region)
        item.free_days += line.free_days
        item.allocated_days += line.allocated_days
    where = {r.id: r.region_code for r in resources}
    for registration in active:
        candidates = candidates_of(registration, resources)
        if candidates:
            region(where[candidates[0]]).asked_days += registration.days
    return sorted(regions.values(), key=lambda r: r.code)


def _registration_lines(registrations: list[Registration], resources: list[RoundResourceRow],
                        allocations: list[RoundAllocation], names: dict, *, reasons: bool) -> list[RegistrationLine]:
    days: dict[int, list[DayLine]] = defaultdict(list)
    for a in allocations:
        days[a.registration].append(DayLine(a.id, a.day, a.resource, names["resources"].get(a.resource, ""),
                                            a.by_hand, a.booking, a.problem))
    lines = []
    for r in registrations:
        target = (names["resources"].get(r.resource, "") if r.resource is not None
                  else names["categories"].get(r.category, ""))
        got = [d for d in days[r.id] if not d.problem]
        lines.append(RegistrationLine(
            id=r.id, school_id=r.school, school=names["orgs"].get(r.school, ""), pupil_group=r.pupil_group,
            target=target, resource_id=r.resource, category_id=r.category, days=r.days, group_size=r.group_size,
            study_programme=names["programmes"].get(r.study_programme, "") if r.study_programme else "",
            school_year=r.school_year, weekdays=as_list(r.weekdays), weeks=as_list(r.weeks), preference=r.preference,
            note=r.note, status=str(r.status), got=len(got),
            reason=r.unmet_reason if reasons and r.status == Registration.Status.active else "",
            reason_text=reason_label(r.unmet_reason) if reasons and r.status == Registration.Status.active else "",
            allocated=days[r.id], candidates=list(candidates_of(r, resources))))
    return lines


def _school_lines(rnd: AllocationRound, active: list[Registration], allocations: list[RoundAllocation],
                  names: dict) -> list[SchoolLine]:
    priority = as_list(rnd.priority)
    history = json.loads(rnd.history or "{}") if isinstance(rnd.history, str) else (rnd.history or {})
    earlier = {int(k): v for k, v in history.items()}
    asked: dict[int, int] = defaultdict(int)
    for r in active:
        asked[r.school] += r.days
    got: dict[int, int] = defaultdict(int)
    for a in allocations:
        if not a.problem:
            got[a.school] += 1
    lines = [SchoolLine(id=s, name=names["orgs"].get(s, ""), asked=asked[s], got=got[s], earlier=earlier.get(s, 0),
                        place=priority.index(s) + 1 if s in priority else None) for s in asked]
    return sorted(lines, key=lambda line: (line.place or 10**9, line.name))


async def list_rounds(uow: UnitOfWork) -> list[dict]:
    """The rounds the actor can act in: staff the ones they run (and an owner's staff the rounds
    that share out its resources); schools every round open to them, with how many
    registrations their school has in each."""
    actor = uow.actor
    mine = access.school_ids(actor)
    schools = {o.id: o for o in await Organisation.objects().where(Organisation.id.is_in(mine or [-1]))}
    query = AllocationRound.objects()
    if not actor.is_platform_admin:  # asked of the database, so a school never misses a round behind a limit
        regions = sorted({s.region_code for s in schools.values() if s.kind == Organisation.Kind.school})
        organisers = sorted(actor.organisation_ids(access.Role.rtc_staff, access.Role.owner_staff))
        condition = AllocationRound.organiser.is_in(organisers or [-1])
        owners = sorted(actor.organisation_ids(access.Role.owner_staff))
        if owners:  # an RTC's rounds that share out an owner's resources: the owner follows them
            condition |= AllocationRound.id.is_in(RoundResource.select(RoundResource.allocation_round).where(
                RoundResource.resource.facility.owner.is_in(owners)))
        if schools:
            condition |= (AllocationRound.region_code.is_in(regions + [""])
                          & (AllocationRound.status != AllocationRound.Status.cancelled))
        query = query.where(condition)
    rows = await query.order_by(AllocationRound.registration_closes, ascending=False).order_by(
        AllocationRound.id, ascending=False).limit(200)
    counts: dict[int, int] = defaultdict(int)
    if mine:
        for row in await Registration.select(Registration.allocation_round).where(
                Registration.school.is_in(mine) & (Registration.status == Registration.Status.active)):
            counts[row["allocation_round"]] += 1
    day = today(uow)
    found = []
    for rnd in rows:
        manage = access.can_manage(actor, rnd)
        if not manage and rnd.status == AllocationRound.Status.cancelled:
            continue
        state = window_state(rnd, day)
        found.append({"round": rnd, "state": state, "state_text": round_status_label(state), "manage": manage,
                      "mine": counts[rnd.id]})
    return found
