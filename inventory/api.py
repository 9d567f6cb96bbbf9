"""The inventory part of the JSON API: finding resources and reading one."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.params import FromQuery

from accounts.auth import login_required
from core.edge import Uow
from core.problems import problems
from core.web import ObjectId
from inventory import search, services
from inventory.labels import category_name, price_text
from inventory.schemas import ClosureOut, OpeningSpan, Price, ResourceList, ResourceOut, ResourceSummary, Rules


class ResourceApiController(Controller):
    path = "/api/v1/resources"
    tags = ["inventory"]
    guards = [login_required]

    @get("/", summary="Resources that match; only those free for the whole window with free_from/free_to",
         responses=problems(401, 422))
    async def list_resources(self, request: Request, uow: Uow, q: FromQuery[str | None] = None,
                             category: FromQuery[str | None] = None, region: FromQuery[str | None] = None,
                             near: FromQuery[str | None] = None, radius_km: FromQuery[str | None] = None,
                             free_from: FromQuery[str | None] = None, free_to: FromQuery[str | None] = None,
                             study_programme: FromQuery[str | None] = None,
                             page: FromQuery[str | None] = None) -> ResourceList:
        params = {"q": q or "", "category": category or "", "region": region or "", "near": near or "",
                  "radius_km": radius_km or "", "free_from": free_from or "", "free_to": free_to or "",
                  "study_programme": study_programme or "", "page": page or ""}
        query, _origin = await search.build_query(uow, params, page_size=100)
        if not near:
            query.near = None if not radius_km else query.near  # the API measures from `near` or the school
        result = await search.search(uow, query)
        await search.record_unmet(uow, query, result)
        base = request.app.state.settings.base_url
        return ResourceList(total=result.total, items=[ResourceSummary(
            id=hit.id, name=hit.name, kind=hit.kind, category=hit.category_slug,
            category_name=category_name({"name_nl": hit.category_name_nl, "name_en": hit.category_name_en}),
            facility=hit.facility_name, municipality=hit.municipality, region=hit.region_code, owner=hit.owner_name,
            capacity=hit.capacity, distance_km=hit.distance_km, url=f"{base}/resources/{hit.id}",
            price=Price(model=hit.price_model, amount_cents=hit.price_cents,
                        text=price_text(hit.price_model, hit.price_cents)),
        ) for hit in result.hits])

    @get("/{resource_id:int}", summary="One resource with its rules", responses=problems(401, 404))
    async def get_resource(self, request: Request, uow: Uow, resource_id: ObjectId) -> ResourceOut:
        d = await services.resource_detail(uow, resource_id)
        r, f = d.resource, d.facility
        base = request.app.state.settings.base_url
        return ResourceOut(
            id=r.id, name=r.name, kind=r.kind, category=d.category.slug, category_name=category_name(d.category),
            description=r.description, accessories=r.accessories, study_programmes=[p.slug for p in d.programmes],
            facility=f.name, address=f.street, postal_code=f.postal_code, municipality=f.municipality,
            region=f.region_code, latitude=f.latitude, longitude=f.longitude, owner=d.owner.name, funding=r.funding,
            price=Price(model=r.price_model, amount_cents=r.price_cents, text=price_text(r.price_model, r.price_cents),
                        instructor_fee_cents=r.instructor_fee_cents),
            alternative_cost_cents=r.alternative_cost_cents, alternative_cost_unit=r.alternative_cost_unit,
            alternative_cost_source=r.alternative_cost_source, status=r.status,
            rules=Rules(
                capacity=r.capacity, needs_approval=r.needs_approval, min_notice_hours=r.min_notice_hours,
                max_advance_days=r.max_advance_days, min_duration_minutes=r.min_duration_minutes,
                max_duration_minutes=r.max_duration_minutes,
                default_duration_minutes=r.default_duration_minutes, buffer_minutes=r.buffer_minutes,
                request_expiry_days=r.request_expiry_days, free_cancellation_hours=r.free_cancellation_hours,
                late_cancellation_percent=r.late_cancellation_percent,
                required_qualification=d.qualification.name if d.qualification else None,
                opening_hours=[OpeningSpan(weekday=day, opens=f"{a:%H:%M}", closes=f"{b:%H:%M}")
                               for day, spans in sorted(d.week.items()) for a, b in spans],
                closures=[ClosureOut(starts_at=c.starts_at.isoformat(), ends_at=c.ends_at.isoformat(), reason=c.reason)
                          for c in d.closures],
            ),
            photos=[f"{base}/photos/{pid}" for pid in d.photo_ids],
        )
