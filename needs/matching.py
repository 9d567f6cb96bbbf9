"""Match suggestions: for a need, the resources that fit it, nearest first, each with the reasons
it was suggested; for an owner, the schools whose open needs its resources could serve.

A resource fits a need when it
  1. is open to schools: active, in an active facility of an active owner, with opening hours;
  2. is of the need's category;
  3. serves the need's study programme, when the need names one (a resource that lists no
     programmes serves every programme);
  4. has free time in the next WEEKS weeks (opening hours minus closures, the owner's busy
     blocks and holding bookings with their buffers: booking.rules.load_times).
Capacity does not exclude: a resource smaller than the group is suggested with the number of
groups the pupils must be split into.

The ranking (`rank`, pure) orders the fitting resources by
  1. whole group first: capacity >= pupils before those that need splitting;
  2. distance from the school, nearest first (an unknown distance last);
  3. more free hours first;
  4. name, then id (a stable order for equal ones).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from accounts.tables import Membership, Organisation
from core.errors import NotAllowed
from core.i18n import format_km, ngettext
from core.i18n import gettext as _
from core.uow import UnitOfWork
from inventory.tables import Resource, ResourceProgramme
from needs import services
from needs.tables import Need
from regions.geocoding import distance_km, postal_code_point

Role = Membership.Role
WEEKS = 8
LIMIT = 10
PRESELECT = 30  # nearest fitting resources whose free time is read (one query each)

Point = tuple[float, float]


@dataclass(frozen=True)
class Candidate:
    """A resource open to schools, as matching needs it."""

    resource_id: int
    name: str
    facility: str
    municipality: str
    owner_id: int
    owner_name: str
    category_id: int
    capacity: int
    programmes: frozenset[int] = frozenset()  # empty: serves every programme
    point: Point | None = None
    region_code: str = ""
    free_minutes: int | None = None  # None: not read yet


@dataclass(frozen=True)
class NeedSpec:
    category_id: int
    pupils: int
    programme_id: int | None = None
    programme_name: str = ""
    point: Point | None = None


@dataclass
class Match:
    candidate: Candidate
    distance_km: float | None
    groups: int  # 1: the whole group fits
    reasons: list[str] = field(default_factory=list)

    @property
    def whole_group(self) -> bool:
        return self.groups == 1

    @property
    def free_hours(self) -> int:
        return (self.candidate.free_minutes or 0) // 60

    @property
    def why(self) -> str:
        return ", ".join(self.reasons)


# --- pure ------------------------------------------------------------------------------------

def serves(need: NeedSpec, candidate: Candidate) -> bool:
    return need.programme_id is None or not candidate.programmes or need.programme_id in candidate.programmes


def fits(need: NeedSpec, candidate: Candidate) -> bool:
    """Rules 2 and 3 (rule 1 is the query's; rule 4 needs the free time)."""
    return candidate.category_id == need.category_id and serves(need, candidate)


def groups_for(pupils: int, capacity: int) -> int:
    return 1 if capacity >= pupils else math.ceil(pupils / max(capacity, 1))


def distance(a: Point | None, b: Point | None) -> float | None:
    return None if a is None or b is None else distance_km(a, b)


def order_key(match: Match) -> tuple:
    c = match.candidate
    return (not match.whole_group, match.distance_km is None, match.distance_km or 0.0, -(c.free_minutes or 0),
            c.name, c.resource_id)


def reasons(need: NeedSpec, match: Match, weeks: int = WEEKS, for_school: bool = True) -> list[str]:
    """Why a resource is suggested, in the words of the moment's language (to the school, or to
    the owner)."""
    c = match.candidate
    found = []
    if match.distance_km is None:
        found.append(_("distance unknown"))
    else:
        km = format_km(round(match.distance_km, 1))
        found.append(_("%(km)s from your school", km=km) if for_school else _("%(km)s from the school", km=km))
    if match.whole_group:
        found.append(_("fits %(n)s pupils", n=need.pupils))
    else:
        found.append(_("room for %(capacity)s pupils at a time: %(pupils)s pupils in %(groups)s groups",
                       capacity=c.capacity, pupils=need.pupils, groups=match.groups))
    if need.programme_id is not None and need.programme_id in c.programmes:
        found.append(_("serves %(programme)s", programme=need.programme_name))
    elif not c.programmes:
        found.append(_("open to every study programme"))
    hours = (c.free_minutes or 0) // 60
    found.append(ngettext("%(num)s free hour in the next %(weeks)s weeks",
                          "%(num)s free hours in the next %(weeks)s weeks", hours, weeks=weeks))
    return found


def preselect(need: NeedSpec, candidates: list[Candidate], limit: int = PRESELECT) -> list[Match]:
    """The fitting candidates in the ranking's first two keys, at most `limit` (before their free
    time is read)."""
    found = [Match(c, distance(need.point, c.point), groups_for(need.pupils, c.capacity))
             for c in candidates if fits(need, c)]
    found.sort(key=lambda m: (not m.whole_group, m.distance_km is None, m.distance_km or 0.0, m.candidate.name,
                              m.candidate.resource_id))
    return found[:limit]


def rank(need: NeedSpec, candidates: list[Candidate], weeks: int = WEEKS, limit: int | None = None,
         for_school: bool = True) -> list[Match]:
    """The candidates that fit `need` and have free time, in the documented order, each with its
    reasons."""
    found = []
    for c in candidates:
        if not fits(need, c) or not c.free_minutes:
            continue
        found.append(Match(c, distance(need.point, c.point), groups_for(need.pupils, c.capacity)))
    found.sort(key=order_key)
    for match in found:
        match.reasons = reasons(need, match, weeks, for_school)
    return found[:limit] if limit is not None else found


# --- reading ---------------------------------------------------------------------------------

def point_of(latitude: float | None, longitude: float | None, postal_code: str) -> Point | None:
    if latitude is not None and longitude is not None:
        return (latitude, longitude)
    return postal_code_point(postal_code or "")


async def candidates(category_ids: list[int], owner_ids: list[int] | None = None) -> list[Candidate]:
    """Resources open to schools in these categories (of these owners), in two queries."""
    if not category_ids:
        return []
    rows = await Resource.raw(
        "SELECT r.id, r.name, r.capacity, r.category, f.name AS facility, f.municipality, f.postal_code, f.latitude, "
        "f.longitude, f.region_code, o.id AS owner_id, o.name AS owner_name FROM resource r "
        "JOIN facility f ON f.id = r.facility JOIN organisation o ON o.id = f.owner "
        "WHERE r.status = 'active' AND f.active = {} AND o.active = {} "
        "AND EXISTS (SELECT 1 FROM opening_hours oh WHERE oh.resource = r.id) "
        f"AND r.category IN ({', '.join(str(int(i)) for i in category_ids)}) "
        + (f"AND o.id IN ({', '.join(str(int(i)) for i in owner_ids) or 'NULL'}) " if owner_ids is not None else "")
        + "ORDER BY r.id", True, True)
    if not rows:
        return []
    programmes: dict[int, set[int]] = {}
    for row in await ResourceProgramme.select(ResourceProgramme.resource, ResourceProgramme.programme).where(
            ResourceProgramme.resource.is_in([row["id"] for row in rows])):
        programmes.setdefault(row["resource"], set()).add(row["programme"])
    return [Candidate(resource_id=row["id"], name=row["name"], facility=row["facility"],
                      municipality=row["municipality"] or "", owner_id=row["owner_id"], owner_name=row["owner_name"],
                      category_id=row["category"], capacity=row["capacity"],
                      programmes=frozenset(programmes.get(row["id"], set())),
                      point=point_of(row["latitude"], row["longitude"], row["postal_code"]),
                      region_code=row["region_code"] or "") for row in rows]


async def free_minutes(resource_ids: list[int], start: datetime, end: datetime) -> dict[int, int]:
    """Free minutes of each resource in [start, end) (booking's own availability rules)."""
    from booking.rules import load_times

    if not resource_ids:
        return {}
    found = {}
    for resource in await Resource.objects().where(Resource.id.is_in(resource_ids)).order_by(Resource.id):
        times = await load_times(resource, start, end, now=start)
        found[resource.id] = int(sum((b - a).total_seconds() for a, b in times.free()) // 60)
    return found


def with_free(candidates_: list[Candidate], free: dict[int, int]) -> list[Candidate]:
    from dataclasses import replace

    return [replace(c, free_minutes=free.get(c.resource_id, 0)) for c in candidates_]


def spec_of(need: Need, school: Organisation, programme_name: str = "") -> NeedSpec:
    return NeedSpec(category_id=need.category, pupils=need.pupils, programme_id=need.study_programme,
                    programme_name=programme_name,
                    point=point_of(school.latitude, school.longitude, school.postal_code))


async def matches_for_need(uow: UnitOfWork, need_id: int, limit: int = LIMIT, weeks: int = WEEKS) -> list[Match]:
    """The nearest resources that fit a need the acting user may see, each with why."""
    current = await services.view(uow, need_id)
    spec = spec_of(current.need, current.school, current.programme.name if current.programme else "")
    chosen = preselect(spec, await candidates([spec.category_id]))
    start = uow.now()
    free = await free_minutes([m.candidate.resource_id for m in chosen], start, start + timedelta(weeks=weeks))
    return rank(spec, with_free([m.candidate for m in chosen], free), weeks, limit)


@dataclass
class SchoolSuggestion:
    """An open need of a school nearby that one of the owner's resources could serve."""

    need: dict  # a row of services.list_needs
    match: Match


async def schools_for_owner(uow: UnitOfWork, owner_id: int | None = None, limit: int = 50,
                            weeks: int = WEEKS) -> list[SchoolSuggestion]:
    """For owner staff: the visible needs (not closed) that their resources could serve, the
    best resource for each, the nearest schools first."""
    actor = uow.actor
    own = sorted(actor.organisation_ids(Role.owner_staff)) if actor is not None else []
    if owner_id is not None:
        if owner_id not in own and not (actor is not None and actor.is_platform_admin):
            raise NotAllowed(_("You can only see suggestions for your own organisation."))
        own = [owner_id]
    if not own:
        return []
    rows = [row for row in await services.list_needs(uow, services.NeedFilter(limit=500))
            if row["status"] != Need.Status.closed]
    mine = await candidates(sorted({row["category"] for row in rows}), own)  # only where a need asks
    categories = {c.category_id for c in mine}
    rows = [row for row in rows if row["category"] in categories]
    if not rows:
        return []
    start = uow.now()
    free = await free_minutes(sorted({c.resource_id for c in mine}), start, start + timedelta(weeks=weeks))
    mine = with_free(mine, free)
    schools = {row["id"]: row for row in await Organisation.select(
        Organisation.id, Organisation.latitude, Organisation.longitude, Organisation.postal_code).where(
        Organisation.id.is_in(sorted({row["school"] for row in rows})))}
    found = []
    for row in rows:
        school = schools[row["school"]]
        spec = NeedSpec(category_id=row["category"], pupils=row["pupils"], programme_id=row["study_programme"],
                        programme_name=row["programme_name"] or "",
                        point=point_of(school["latitude"], school["longitude"], school["postal_code"]))
        best = rank(spec, mine, weeks, 1, for_school=False)
        if best:
            found.append(SchoolSuggestion(row, best[0]))
    found.sort(key=lambda s: (s.match.distance_km is None, s.match.distance_km or 0.0, -s.need["pupils"], s.need["id"]))
    return found[:limit]

