"""The needs pages: "Noden" (a school records its needs and sees the offers; owners, RTCs and
providers see demand next to supply per region and category, gaps marked, and the needs to
answer), and a need's page (its offers, the matching resources with why, the answer form for
owner staff, closing for the school). Plain forms with POST-redirect-GET; with htmx the filter
swaps only the table and forms only their own block."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post

from accounts.auth import login_required
from core.edge import Uow
from core.errors import NotAllowed, ValidationFailed
from core.i18n import gettext as _
from core.web import ObjectId, form_data, form_id, is_htmx, render
from core.web import redirect as go
from inventory.labels import category_name
from inventory.tables import Category, StudyProgramme
from needs import derived, matching, services
from needs.tables import Need
from regions.geography import REGIONS


async def form_choices() -> dict:
    categories = await Category.select(Category.id, Category.slug, Category.name_nl, Category.name_en).order_by(
        Category.position).order_by(Category.id)
    programmes = await StudyProgramme.select(StudyProgramme.slug, StudyProgramme.name).order_by(StudyProgramme.name)
    return {
        "categories": categories,
        "category_options": [(c["slug"], category_name(c)) for c in categories],
        "programme_options": [(p["slug"], p["name"]) for p in programmes],
        "reasons": [(r.value, services.reason_label(r.value)) for r in Need.Reason],
        "regions": [(code, region.name) for code, region in REGIONS.items()],
        "statuses": [(s.value, services.need_status_label(s.value)) for s in Need.Status],
    }


def _require_page(uow: Uow) -> None:
    if not services.may_see_needs(uow.actor):
        raise NotAllowed(_("Needs are for schools, infrastructure owners, RTCs and education providers."))


def _filters(request: Request) -> services.NeedFilter:
    params = request.query_params
    status = params.get("status") or None
    region = params.get("region") or None
    category = params.get("category") or None
    return services.NeedFilter(status=status if status in Need.Status._value2member_map_ else None,
                               region=region if region in REGIONS else None, category=(category or "")[:80] or None)


class NeedPagesController(Controller):
    include_in_schema = False
    path = "/needs"
    guards = [login_required]

    async def _index(self, request: Request, uow: Uow, *, form: dict | None = None, errors: dict | None = None,
                     error: str = "", status_code: int = 200, block: str | None = "table") -> Response:
        _require_page(uow)
        actor = uow.actor
        filters = _filters(request)
        is_school = services.may_record(actor) and bool(actor.organisation_ids(*services.SCHOOL_ROLES))
        follows = actor.is_platform_admin or actor.has_role(services.Role.owner_staff, services.Role.rtc_staff,
                                                            services.Role.provider_staff)
        needs = await services.list_needs(uow, filters)
        context = {
            "choices": await form_choices(), "filters": filters, "is_school": is_school, "follows": follows,
            "may_answer": services.may_answer(actor), "needs": needs,
            "map_tiles": uow.settings.map_tile_url if follows else "", "map_points": _map_points(needs),
            "overview": await derived.overview(uow, filters.region, filters.category) if follows else None,
            "derived": await derived.derived_needs(uow),
            "suggestions": await matching.schools_for_owner(uow) if actor.has_role(services.Role.owner_staff) else [],
            "form": form or {}, "errors": errors or {}, "error": error,
        }
        return render(request, "needs/index.html", context, block=block, status_code=status_code)

    @get("/", name="needs")
    async def index(self, request: Request, uow: Uow) -> Response:
        return await self._index(request, uow)

    @post("/", name="need_record")
    async def record(self, request: Request, uow: Uow) -> Response:
        data = await form_data(request)
        try:
            need = await services.record_need(uow, services.NeedInput(
                category=data.get("category", ""), pupils=data.get("pupils"), days_per_year=data.get("days_per_year"),
                reason=data.get("reason", ""), study_programme=data.get("study_programme") or None,
                region=data.get("region") or None, equipment=data.get("equipment", ""), note=data.get("note", "")))
        except ValidationFailed as exc:
            return await self._index(request, uow, form=data, errors=exc.fields, error=str(exc),
                                     status_code=200 if is_htmx(request) else exc.status_code, block="record_form")
        return go(request, f"/needs/{need.id}", _("Your need is recorded. Below are the resources that could serve it."))

    async def _detail(self, request: Request, uow: Uow, need_id: int, *, form: dict | None = None,
                      errors: dict | None = None, error: str = "", status_code: int = 200,
                      block: str | None = None) -> Response:
        current = await services.view(uow, need_id)
        actor = uow.actor
        answering = services.can_answer(actor, current.need)
        context = {
            "v": current, "need": current.need, "offers": current.offers,
            "matches": await matching.matches_for_need(uow, need_id),
            "weeks": matching.WEEKS,
            "can_answer": answering, "can_close": services.can_close(actor, current.need),
            "own_resources": await services.own_resources(uow, current.need.category) if answering else [],
            "is_school": services.is_school_member(actor, current.need.school),
            "form": form or {}, "errors": errors or {}, "error": error,
        }
        return render(request, "needs/detail.html", context, block=block, status_code=status_code)

    @get("/{need_id:int}", name="need")
    async def detail(self, request: Request, uow: Uow, need_id: ObjectId) -> Response:
        return await self._detail(request, uow, need_id)

    @post("/{need_id:int}/offers", name="need_answer")
    async def answer(self, request: Request, uow: Uow, need_id: ObjectId) -> Response:
        data = await form_data(request)
        raw = (data.get("resource") or "").strip()
        if raw and form_id(raw) is None:
            message = _("Choose the resource you offer.")
            return await self._detail(request, uow, need_id, form=data, errors={"resource": message}, error=message,
                                      status_code=200 if is_htmx(request) else 422, block="answer_form")
        try:
            await services.answer_need(uow, need_id, data.get("message", ""), form_id(raw))
        except ValidationFailed as exc:
            return await self._detail(request, uow, need_id, form=data, errors=exc.fields, error=str(exc),
                                      status_code=200 if is_htmx(request) else exc.status_code, block="answer_form")
        return go(request, f"/needs/{need_id}", _("Your offer is sent; the school receives it by mail."))

    @post("/{need_id:int}/close", name="need_close")
    async def close(self, request: Request, uow: Uow, need_id: ObjectId) -> Response:
        await services.close_need(uow, need_id)
        return go(request, f"/needs/{need_id}", _("The need is closed."))


def _map_points(needs: list[dict]) -> list[dict]:
    """The needs in view on the map, at their school (the ones whose school has coordinates)."""
    return [{"lat": row["school_latitude"], "lon": row["school_longitude"], "url": f"/needs/{row['id']}",
             "name": f"{category_name({'name_nl': row['category_name_nl'], 'name_en': row['category_name_en']})}: "
                     f"{row['pupils']}",
             "place": f"{row['school_name']}, {row['school_municipality']}"}
            for row in needs if row.get("school_latitude") is not None and row.get("school_longitude") is not None]

