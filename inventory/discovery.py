"""Finding and reading resources: the search page (htmx updates the results as filters
change; the same form works without JavaScript), a resource's page with a week of
availability, and photos."""

from __future__ import annotations

from datetime import date, time, timedelta

from litestar import Controller, Request, Response, get
from litestar.params import FromQuery

from accounts.auth import login_required
from core.edge import Uow
from core.errors import ValidationFailed, not_found
from core.i18n import BRUSSELS
from core.i18n import gettext as _
from core.web import ObjectId, render
from inventory import availability, search, services
from regions.geography import REGIONS

SEARCH_PARAMS = ("q", "category", "study_programme", "region", "near", "radius_km", "free_from", "free_to", "page")


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_of(param: str | None, today: date) -> date:
    """The Monday of the week a `?week=YYYY-MM-DD` parameter names (this week without one, or
    for one that is not a date)."""
    try:
        return monday_of(date.fromisoformat(param)) if param else monday_of(today)
    except ValueError:
        return monday_of(today)


class DiscoveryController(Controller):
    include_in_schema = False  # pages, not the API: /schema documents /api/v1
    path = "/"
    guards = [login_required]

    @get("/search", name="search")
    async def search_page(self, request: Request, uow: Uow) -> Response:
        params = {name: request.query_params.get(name, "") for name in SEARCH_PARAMS}
        error, fields, result, origin = "", {}, None, ""
        try:
            query, origin = await search.build_query(uow, params)
            result = await search.search(uow, query)
        except ValidationFailed as exc:
            error, fields = str(exc), exc.fields
        page = int(params["page"]) if params["page"].isdigit() else 1
        context = {
            "params": params, "result": result, "error": error, "fields": fields, "origin": origin,
            "categories": await services.categories(), "programmes": await services.study_programmes(),
            "regions": list(REGIONS.values()), "page": page, "page_size": search.PAGE_SIZE,
            "map_tiles": request.app.state.settings.map_tile_url,
        }
        return render(request, "inventory/search.html", context, block="results",
                      status_code=422 if error else 200)

    @get("/resources/{resource_id:int}", name="resource")
    async def resource_page(self, request: Request, uow: Uow, resource_id: ObjectId,
                            week: FromQuery[str | None] = None) -> Response:
        context = await resource_page_context(request, uow, resource_id, week)
        return render(request, "inventory/resource.html", context, block="week")

    @get("/photos/{photo_id:int}", name="photo")
    async def photo(self, request: Request, uow: Uow, photo_id: ObjectId) -> Response:
        row = await services.photo(photo_id)
        if row is None:
            raise not_found()
        return Response(content=row.content, media_type=row.content_type, headers={
            "Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff",
            "Content-Disposition": "inline"})


async def resource_page_context(request: Request, uow: Uow, resource_id: int, week: str | None = None,
                                **extra) -> dict:
    """What the resource page shows: the resource, and a week of free time (opening hours minus
    closures and what the `resource.taken_time` hooks add, e.g. booking's holding bookings)."""
    detail = await services.resource_detail(uow, resource_id)
    moment = uow.now()
    today = moment.astimezone(BRUSSELS).date()
    first = week_of(week, today)
    start = availability.wall_time(first, time(0, 0))
    end = availability.wall_time(first + timedelta(days=7), time(0, 0))
    closed = [(c.starts_at, c.ends_at) for c in await services.closures(resource_id, since=start) if c.starts_at < end]
    blocks = list(closed)
    for provider in uow.app.hooks.get("resource.taken_time"):
        blocks += await provider(uow, detail.resource, start, end)
    resource = detail.resource
    earliest = moment + timedelta(hours=resource.min_notice_hours)  # what has passed, and the notice
    latest = moment + timedelta(days=resource.max_advance_days)
    if earliest > start:
        blocks.append((start, earliest))
    if latest < end:
        blocks.append((latest, end))
    days = availability.days(detail.week, first, 7, blocks)
    return {
        "d": detail, "days": days, "week_start": first, "today": today,
        "day_notes": {day.day: _day_note(day, moment, earliest, latest, closed) for day in days if not day.free},
        "previous_week": (first - timedelta(days=7)).isoformat(), "next_week": (first + timedelta(days=7)).isoformat(),
        "programmes": await services.study_programmes(), "form": {}, **extra,
    }


def _day_note(day, moment, earliest, latest, closed) -> str:
    """Why a day shows no free time: so a Sunday's past days do not read as closures."""
    if not day.open:
        return _("closed")
    last_close = max(b for _a, b in day.open)
    first_open = min(a for a, _b in day.open)
    if last_close <= moment:
        return _("past")
    if last_close <= earliest:
        return _("too soon: book %(h)s hours ahead", h=int((earliest - moment).total_seconds() // 3600))
    if first_open >= latest:
        return _("too far ahead")
    if any(a < last_close and first_open < b for a, b in closed):
        return _("closed (closure)")
    return _("fully booked")

