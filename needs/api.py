"""The needs part of the JSON API: record and read needs, their match suggestions and offers,
and the derived needs (searches and allocation rounds)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.params import JSONBody, QueryParameter

from accounts.auth import login_required
from core.edge import Uow
from core.errors import ValidationFailed
from core.i18n import BRUSSELS
from core.i18n import gettext as _
from core.problems import problems
from core.web import ObjectId
from inventory.labels import category_name
from needs import derived, matching, services
from needs.schemas import DerivedNeedOut, MatchOut, NeedCreate, NeedOut, OfferCreate, OfferOut
from needs.tables import Need


def _iso(moment: datetime | str) -> str:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(BRUSSELS).isoformat()


def need_out(row: dict, base: str) -> NeedOut:
    """The API shape of a row of services.list_needs."""
    return NeedOut(
        id=row["id"], school=row["school_name"], category=row["category_slug"],
        category_name=category_name({"name_nl": row["category_name_nl"], "name_en": row["category_name_en"]}),
        equipment=row["equipment"], study_programme=row["programme_slug"], pupils=row["pupils"],
        days_per_year=row["days_per_year"], region=row["region_code"], reason=row["reason"],
        reason_label=services.reason_label(row["reason"]), note=row["note"], status=row["status"],
        status_label=services.need_status_label(row["status"]), offers=row.get("offers", 0),
        created_at=_iso(row["created_at"]), url=f"{base}/needs/{row['id']}",
    )


async def need_out_by_id(uow, need_id: int) -> NeedOut:
    current = await services.view(uow, need_id)  # the permission check
    row = await Need.select(*services.LIST_COLUMNS).where(Need.id == current.need.id).first()
    row["offers"] = len(current.offers)
    return need_out(row, uow.settings.base_url)


def offer_out(row: dict, base: str) -> OfferOut:
    return OfferOut(id=row["id"], need_id=row["need"], owner=row["owner_name"], resource_id=row["resource"],
                    resource=row["resource_name"], message=row["message"], created_at=_iso(row["created_at"]),
                    resource_url=f"{base}/resources/{row['resource']}" if row["resource"] else None)


def match_out(match: matching.Match, base: str) -> MatchOut:
    c = match.candidate
    return MatchOut(resource_id=c.resource_id, resource=c.name, facility=c.facility, municipality=c.municipality,
                    owner=c.owner_name, capacity=c.capacity,
                    distance_km=None if match.distance_km is None else round(match.distance_km, 1),
                    whole_group=match.whole_group, groups=match.groups, free_hours=match.free_hours,
                    why=list(match.reasons), url=f"{base}/resources/{c.resource_id}")


class NeedApiController(Controller):
    path = "/api/v1/needs"
    tags = ["needs"]
    guards = [login_required]

    @post("/", summary="Record a need of the caller's school (teacher or school admin): 201; 422 with a message per "
                       "field", responses=problems(401, 403, 404, 422))
    async def create(self, uow: Uow, data: JSONBody[NeedCreate]) -> Response[NeedOut]:
        need = await services.record_need(uow, services.NeedInput(
            category=data.category, pupils=data.pupils, days_per_year=data.days_per_year, reason=data.reason,
            study_programme=data.study_programme, region=data.region, equipment=data.equipment, note=data.note,
            school_id=data.school_id))
        return Response(await need_out_by_id(uow, need.id), status_code=201)

    @get("/", summary="The needs the caller may see, newest first: a school's own; owner staff the open ones in the "
                      "regions they serve and those they answered; RTC staff their region's; provider staff their "
                      "network's schools'; platform admins all", responses=problems(401, 422))
    async def list_needs(
        self, uow: Uow,
        status: Annotated[str | None, QueryParameter(description="open, answered or closed")] = None,
        region: Annotated[str | None, QueryParameter(max_length=12)] = None,
        category: Annotated[str | None, QueryParameter(max_length=80)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 200,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> list[NeedOut]:
        if status and status not in Need.Status._value2member_map_:
            message = _("Unknown status: %(value)s.", value=status)
            raise ValidationFailed(message, {"status": message})
        rows = await services.list_needs(uow, services.NeedFilter(status=status, region=region, category=category,
                                                                  limit=limit, offset=offset))
        return [need_out(row, uow.settings.base_url) for row in rows]

    @get("/derived", summary="Needs derived from searches that found nothing free and from unmet registrations of "
                             "published allocation rounds (computed, marked derived), per region and category",
         responses=problems(401))
    async def list_derived(self, uow: Uow) -> list[DerivedNeedOut]:
        return [DerivedNeedOut(source=d.source, category=d.category,
                               category_name=category_name({"name_nl": d.category_name_nl, "name_en": d.category_name_en}),
                               study_programme=d.programme or None, region=d.region_code, count=d.count,
                               unmet_days=d.unmet_days, pupils=d.pupils) for d in await derived.derived_needs(uow)]

    @get("/{need_id:int}", summary="One need (404 for one the caller may not see)", responses=problems(401, 404))
    async def get_need(self, uow: Uow, need_id: ObjectId) -> NeedOut:
        return await need_out_by_id(uow, need_id)

    @get("/{need_id:int}/matches", summary="The nearest resources that fit the need (category, study programme, "
                                           "capacity, distance) with free time in the next weeks, each with why",
         responses=problems(401, 404))
    async def matches(self, uow: Uow, need_id: ObjectId,
                      limit: Annotated[int, QueryParameter(ge=1, le=50)] = matching.LIMIT) -> list[MatchOut]:
        found = await matching.matches_for_need(uow, need_id, limit=limit)
        return [match_out(m, uow.settings.base_url) for m in found]

    @get("/{need_id:int}/offers", summary="The offers made for a need", responses=problems(401, 404))
    async def offers(self, uow: Uow, need_id: ObjectId) -> list[OfferOut]:
        current = await services.view(uow, need_id)
        return [offer_out(row, uow.settings.base_url) for row in current.offers]

    @post("/{need_id:int}/offers", summary="Answer a need with an offer (owner staff, with their own resource or "
                                           "none); the school is mailed", responses=problems(401, 403, 404, 409, 422))
    async def answer(self, uow: Uow, need_id: ObjectId, data: JSONBody[OfferCreate]) -> Response[OfferOut]:
        offer = await services.answer_need(uow, need_id, data.message, data.resource_id)
        rows = await services.offers_of(need_id)
        return Response(offer_out(next(r for r in rows if r["id"] == offer.id), uow.settings.base_url), status_code=201)

    @post("/{need_id:int}/close", status_code=200, summary="Close a need (its school)",
          responses=problems(401, 403, 404, 409))
    async def close(self, uow: Uow, need_id: ObjectId) -> NeedOut:
        await services.close_need(uow, need_id)
        return await need_out_by_id(uow, need_id)
