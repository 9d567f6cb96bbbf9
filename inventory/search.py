"""Finding resources: free text, category, study programme, region, distance from a place and
"free between ... and ...". One SQL query with indexed filters (a bounding box on the indexed
coordinates for distance) answers; only the page of results shown gets its exact geodesic
distance in Python."""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.errors import ValidationFailed
from core.i18n import gettext as _
from core.i18n import lazy_gettext as _l
from core.i18n import to_local_date_parts
from core.uow import UnitOfWork
from inventory.tables import Resource, SearchRecord
from regions.geocoding import distance_km

log = logging.getLogger("werkbank.search")
KM_PER_DEGREE_LAT = 111.2
MAX_WINDOW_DAYS = 14
PAGE_SIZE = 25


@dataclass
class SearchQuery:
    text: str = ""
    category: str = ""
    study_programme: str = ""
    region: str = ""
    near: tuple[float, float] | None = None
    radius_km: float | None = None
    free_from: datetime | None = None
    free_to: datetime | None = None
    include_retired: bool = False
    limit: int = PAGE_SIZE
    offset: int = 0
    origin_postal_code: str = ""  # where the search measures from (the `near` postal code or the school's)
    near_typed: bool = False  # the postal code was typed (not the school's own)


@dataclass
class SearchHit:
    id: int
    name: str
    kind: str
    capacity: int
    price_model: str
    price_cents: int
    category_slug: str
    category_name_nl: str
    category_name_en: str
    facility_id: int
    facility_name: str
    municipality: str
    postal_code: str
    region_code: str
    latitude: float | None
    longitude: float | None
    owner_name: str
    photo_id: int | None = None
    distance_km: float | None = None


@dataclass
class SearchResult:
    hits: list[SearchHit] = field(default_factory=list)
    total: int = 0


def _day_segments(start: datetime, end: datetime, as_text: bool) -> list[tuple[int, object, object]]:
    """[start, end) cut at local midnights: (weekday, from, to) per day, as time objects or, for
    SQLite, which keeps times as text, as 'HH:MM:SS'."""
    segments = []
    for _day, weekday, opens, closes in to_local_date_parts(start, end):
        if as_text:
            segments.append((weekday, opens.strftime("%H:%M:%S"), closes.strftime("%H:%M:%S")))
        else:
            segments.append((weekday, opens, closes))
    return segments


def validate_window(free_from: datetime | None, free_to: datetime | None) -> None:
    if (free_from is None) != (free_to is None):
        raise ValidationFailed(_("Give both the start and the end of the free time."))
    if free_from is not None and free_to <= free_from:
        raise ValidationFailed(_("The end of the free time must come after its start."))
    if free_from is not None and free_to - free_from > timedelta(days=MAX_WINDOW_DAYS):
        raise ValidationFailed(_("Search free time over at most %(n)s days.", n=MAX_WINDOW_DAYS))


async def search(uow: UnitOfWork, query: SearchQuery) -> SearchResult:
    """The resources that match. With a free window, the `search.free_window` hooks that higher
    domains register (booking: no holding booking, buffers included, notice and duration) add
    SQL conditions: (engine_type, start, end, now) -> (SQL with {} placeholders, args)."""
    validate_window(query.free_from, query.free_to)
    where = ["f.active = {}"]
    args: list = [True]
    if not query.include_retired:
        where.append("r.status = {}")
        args.append(Resource.Status.active.value)
    text = (query.text or "").strip().replace("%", "").replace("_", " ")[:100]
    if text:
        like = f"%{text.lower()}%"
        where.append("(LOWER(r.name) LIKE {} OR LOWER(r.description) LIKE {} OR LOWER(f.name) LIKE {} "
                     "OR LOWER(c.name_nl) LIKE {} OR LOWER(c.name_en) LIKE {} OR LOWER(f.municipality) LIKE {})")
        args += [like] * 6
    if query.category:
        where.append("c.slug = {}")
        args.append(query.category)
    if query.region:
        where.append("f.region_code = {}")
        args.append(query.region)
    if query.study_programme:
        where.append("r.id IN (SELECT rp.resource FROM resource_programme rp JOIN study_programme sp "
                     "ON sp.id = rp.programme WHERE sp.slug = {})")
        args.append(query.study_programme)
    order = "r.name, r.id"
    if query.near is not None:
        lat, lon = query.near
        k = math.cos(math.radians(lat))  # the equirectangular scale of a degree of longitude here
        distance_sq = f"((f.latitude - {lat!r}) * (f.latitude - {lat!r}) + " \
                      f"((f.longitude - {lon!r}) * {k!r}) * ((f.longitude - {lon!r}) * {k!r}))"
        where.append("f.latitude IS NOT NULL")
        if query.radius_km:
            d_lat = query.radius_km / KM_PER_DEGREE_LAT
            d_lon = d_lat / max(k, 0.01)
            where.append("f.latitude BETWEEN {} AND {} AND f.longitude BETWEEN {} AND {}")
            args += [lat - d_lat, lat + d_lat, lon - d_lon, lon + d_lon]
            where.append(f"{distance_sq} <= {d_lat * d_lat!r}")
        order = f"{distance_sq}, r.name, r.id"
    if query.free_from is not None:
        where.append("NOT EXISTS (SELECT 1 FROM closure cl WHERE cl.resource = r.id "
                     "AND cl.starts_at < {} AND cl.ends_at > {})")
        args += [query.free_to, query.free_from]
        sqlite = Resource._meta.db.engine_type == "sqlite"
        for weekday, opens, closes in _day_segments(query.free_from, query.free_to, as_text=sqlite):
            where.append("EXISTS (SELECT 1 FROM opening_hours oh WHERE oh.resource = r.id AND oh.weekday = {} "
                         "AND oh.opens <= {} AND oh.closes >= {})")
            args += [weekday, opens, closes]
        for condition in uow.app.hooks.get("search.free_window"):
            sql, extra = condition(Resource._meta.db.engine_type, query.free_from, query.free_to, uow.now())
            where.append(sql)
            args += extra
    sql = (
        "SELECT r.id, r.name, r.kind, r.capacity, r.price_model, r.price_cents, "
        "c.slug AS category_slug, c.name_nl AS category_name_nl, c.name_en AS category_name_en, "
        "f.id AS facility_id, f.name AS facility_name, f.municipality, f.postal_code, f.region_code, "
        "f.latitude, f.longitude, o.name AS owner_name, "
        "(SELECT MIN(p.id) FROM photo p WHERE p.resource = r.id) AS photo_id, "
        "COUNT(*) OVER () AS total "
        "FROM resource r JOIN facility f ON f.id = r.facility JOIN category c ON c.id = r.category "
        "JOIN organisation o ON o.id = f.owner "
        f"WHERE {' AND '.join(where)} ORDER BY {order} LIMIT {{}} OFFSET {{}}"
    )
    args += [max(1, min(query.limit, 500)), max(0, query.offset)]
    rows = await Resource.raw(sql, *args)
    result = SearchResult(total=rows[0]["total"] if rows else 0)
    for row in rows:
        row.pop("total")
        hit = SearchHit(**row)
        if query.near is not None and hit.latitude is not None:
            hit.distance_km = round(distance_km(query.near, (hit.latitude, hit.longitude)), 1)
        result.hits.append(hit)
    return result


async def school_point(actor) -> tuple[tuple[float, float] | None, str, str]:
    """Where the acting teacher's school lies (its coordinates, or its postal code's centre), its
    name and its postal code."""
    from accounts.tables import Membership, Organisation
    from regions.geocoding import postal_code_point

    if actor is None:
        return None, "", ""
    ids = actor.organisation_ids(Membership.Role.teacher, Membership.Role.school_admin)
    if not ids:
        return None, "", ""
    school = await Organisation.objects().where(Organisation.id.is_in(sorted(ids))).order_by(Organisation.id).first()
    if school.latitude is not None and school.longitude is not None:
        return (school.latitude, school.longitude), school.name, school.postal_code
    return postal_code_point(school.postal_code), school.name, school.postal_code


FIELD_NAMES = {"radius_km": _l("the distance in km"), "page": _l("the page")}


def _place(postal_code: str) -> str:
    """A postal code as people say it: "Kortrijk (8500)"."""
    from regions.geography import UnknownPostalCode, locate

    try:
        return f"{locate(postal_code).municipalities[0]} ({postal_code})"
    except (UnknownPostalCode, IndexError):
        return postal_code


def _number(params: dict, name: str, low: float, high: float) -> float | None:
    raw = (params.get(name) or "").strip().replace(",", ".")
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        message = _("Enter a number for %(field)s.", field=str(FIELD_NAMES.get(name, name)))
        raise ValidationFailed(message, {name: message}) from None
    if not (low <= value <= high) or math.isnan(value):
        message = _("Enter a number from %(low)s to %(high)s.", low=int(low), high=int(high))
        raise ValidationFailed(message, {name: message})
    return value


async def build_query(uow: UnitOfWork, params: dict[str, str], page_size: int = PAGE_SIZE) -> tuple[SearchQuery, str]:
    """A SearchQuery from request parameters (q, category, study_programme, region, near,
    radius_km, free_from, free_to, page). `near` is a postal code; without it a teacher searches
    from their school. Returns the query and the name of the place distances are measured from."""
    from core.timeutil import parse_local
    from regions.geocoding import postal_code_point

    query = SearchQuery(
        text=(params.get("q") or "").strip(),
        category=(params.get("category") or "").strip(),
        study_programme=(params.get("study_programme") or "").strip(),
        region=(params.get("region") or "").strip().upper(),
        limit=page_size,
    )
    page = _number(params, "page", 1, 10_000) or 1
    query.offset = (int(page) - 1) * page_size
    origin = ""
    near = (params.get("near") or "").strip()
    if near:
        point = postal_code_point(near)
        if point is None:
            message = _("%(code)s is not a Belgian postal code.", code=near)
            raise ValidationFailed(message, {"near": message})
        query.near, origin, query.origin_postal_code = point, _place(near), near
        query.near_typed = True
    else:
        query.near, origin, query.origin_postal_code = await school_point(uow.actor)
    query.radius_km = _number(params, "radius_km", 1, 500)
    if query.radius_km and query.near is None:
        message = _("Give a postal code to measure the distance from.")
        raise ValidationFailed(message, {"near": message})
    if params.get("free_from") or params.get("free_to"):
        query.free_from = parse_local(params.get("free_from") or "", "free_from") if params.get("free_from") else None
        query.free_to = parse_local(params.get("free_to") or "", "free_to") if params.get("free_to") else None
        validate_window(query.free_from, query.free_to)
    return query, origin


RECORD_HORIZON = timedelta(days=366)  # beyond it no resource takes bookings: not demand


async def record_unmet(uow: UnitOfWork, query: SearchQuery, result: SearchResult) -> bool:
    """A search for free time that found nothing free is kept as unmet demand (SearchRecord):
    the filters chosen, its region and how many resources matched apart from being taken; never
    who searched or the words typed. Windows in the past or beyond a year, and filters that name
    nothing that exists, are not demand. Best effort: a failure is logged, the search stands."""
    if query.free_from is None or result.total or query.offset:
        return False
    moment = uow.now()
    if query.free_from < moment or query.free_from > moment + RECORD_HORIZON:
        return False
    try:
        return await _record_unmet(uow, query, moment)
    except Exception:  # noqa: BLE001 - a statistic must never break the search
        log.exception("could not keep an unmet search")
        return False


async def _record_unmet(uow: UnitOfWork, query: SearchQuery, moment: datetime) -> bool:
    from inventory.tables import Category, StudyProgramme
    from regions.geography import REGIONS, UnknownPostalCode, locate

    if query.category and not await Category.exists().where(Category.slug == query.category):
        return False
    if query.study_programme and not await StudyProgramme.exists().where(StudyProgramme.slug == query.study_programme):
        return False
    if query.region and query.region not in REGIONS:
        return False
    region = query.region
    if not region and query.origin_postal_code:
        try:
            area = locate(query.origin_postal_code)
            region = area.region.code if area.region else ""
        except UnknownPostalCode:
            region = ""
    typed_postal_code = query.origin_postal_code if query.near_typed else ""
    taken = SearchQuery(text=query.text, category=query.category, study_programme=query.study_programme,
                        region=query.region, near=query.near, radius_km=query.radius_km, limit=1)
    matched = (await search(uow, taken)).total
    hour = moment.replace(minute=0, second=0, microsecond=0)
    parts = list(to_local_date_parts(query.free_from, query.free_to))
    days = f"{parts[0][0]}/{len(parts)}"  # the first day and how many: nudging the hours is the same search
    filters = [query.category, query.study_programme, region, typed_postal_code, str(round(query.radius_km or 0)),
               days, hour.isoformat()]
    fingerprint = hashlib.sha256("\x1f".join(filters).encode()).hexdigest()
    async with uow.transaction():
        kept = await SearchRecord.insert(SearchRecord(
            fingerprint=fingerprint, searched_at=hour, category=query.category[:80],
            study_programme=query.study_programme[:80], region_code=region[:12], postal_code=typed_postal_code[:4],
            radius_km=round(query.radius_km) if query.radius_km else None, free_from=query.free_from,
            free_to=query.free_to, matched=matched, found=0)).on_conflict(action="DO NOTHING").returning(SearchRecord.id)
    return bool(kept)


KEEP_RECORDS = timedelta(days=5 * 366)  # five school years of unmet demand for the trend


async def purge_records_job(uow: UnitOfWork, batch: int) -> int:
    """Search records older than five years go (at most `batch` per run)."""
    old = await SearchRecord.select(SearchRecord.id).where(SearchRecord.searched_at < uow.now() - KEEP_RECORDS).limit(batch)
    if not old:
        return 0
    async with uow.transaction():
        await SearchRecord.delete().where(SearchRecord.id.is_in([row["id"] for row in old]))
    return len(old)
