"""Finding and reading resources: the search page (htmx updates the results as filters
change; the same form works without JavaScript), a resource's page with a week of
availability, and photos."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

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

BOOK_FIELDS = ("day", "start_time", "end_time", "group_size", "study_programme", "repeat", "until", "purpose")
SEARCH_PARAMS = ("q", "category", "study_programme", "region", "near", "radius_km", "free_from", "free_to", "page")


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_of(param: str | None, today: date) -> date:
    """The Monday of the week a `?week=YYYY-MM-DD` parameter names (this week without one, or
    for one that is not a date)."""
    try:
        chosen = date.fromisoformat(param) if param else today
    except ValueError:
        chosen = today
    if not date(2000, 1, 10) <= chosen <= date(2199, 12, 20):  # far enough for anyone, clear of date's limits
        chosen = today
    return monday_of(chosen)


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
            await search.record_unmet(uow, query, result)
        except ValidationFailed as exc:
            error, fields = str(exc), exc.fields
        page = int(params["page"]) if params["page"].isdigit() else 1
        context = {
            "params": params, "result": result, "error": error, "fields": fields, "origin": origin,
            "categories": await services.categories(), "programmes": await services.study_programmes(),
            "regions": list(REGIONS.values()), "page": page, "page_size": search.PAGE_SIZE,
            "map_tiles": request.app.state.settings.map_tile_url,
            "board_params": {k: v for k, v in params.items() if v and k != "page"},
        }
        return render(request, "inventory/search.html", context, block="results",
                      status_code=422 if error else 200)

    @get("/resources/{resource_id:int}", name="resource")
    async def resource_page(self, request: Request, uow: Uow, resource_id: ObjectId,
                            week: FromQuery[str | None] = None, slot: FromQuery[str | None] = None) -> Response:
        """The resource, its rules and its week grid. `?slot=` (a free cell clicked) fills in the
        booking form; through htmx, only the form (or, for week navigation, only the grid) comes
        back. The other fields of the form come along as query parameters and are kept."""
        form = {name: request.query_params.get(name, "") for name in BOOK_FIELDS if request.query_params.get(name)}
        context = await resource_page_context(request, uow, resource_id, week or _slot_day(slot), form=form, slot=slot)
        details = getattr(request, "htmx", None)
        block = "book_form" if details and details.target == "book-form" else "week"
        return render(request, "inventory/resource.html", context, block=block)

    @get("/photos/{photo_id:int}", name="photo")
    async def photo(self, request: Request, uow: Uow, photo_id: ObjectId) -> Response:
        row = await services.photo(photo_id)
        if row is None:
            raise not_found()
        return Response(content=row.content, media_type=row.content_type, headers={
            "Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff",
            "Content-Disposition": "inline"})


def _slot_day(slot: str | None) -> str | None:
    return slot[:10] if slot else None


def _slot_start(slot: str | None) -> datetime | None:
    """`?slot=2026-12-03T09:00` (Brussels wall time) as UTC, or None for anything else."""
    try:
        moment = datetime.fromisoformat(slot or "")
    except ValueError:
        return None
    if moment.tzinfo or moment.second or moment.microsecond or not 2000 <= moment.year <= 2199:
        return None
    return availability.wall_time(moment.date(), moment.time())


async def resource_page_context(request: Request, uow: Uow, resource_id: int, week: str | None = None,
                                *, form: dict | None = None, slot: str | None = None,
                                moving: Any = None, **extra) -> dict:
    """What the resource page shows: the resource, and its week as a grid of half hours (opening
    hours minus closures and what the `resource.taken_time` hooks add, e.g. booking's holding
    bookings with their buffers; the notice and the advance limit). A clicked free `slot` fills
    in the form: that day, the start, and the usual length cut to the free time. `moving`: a
    booking being moved (its own time counts as free, and a click proposes its length)."""
    detail = await services.resource_detail(uow, resource_id)
    resource = detail.resource
    moment = uow.now()
    today = moment.astimezone(BRUSSELS).date()
    earliest = moment + timedelta(hours=resource.min_notice_hours)
    # Without ?week=, the week of the first moment that can be booked (on a Sunday: next week).
    first = week_of(week, earliest.astimezone(BRUSSELS).date())
    start = availability.wall_time(first, time(0, 0))
    end = availability.wall_time(first + timedelta(days=7), time(0, 0))
    closed = [(c.starts_at, c.ends_at) for c in await services.closures(resource_id, since=start) if c.starts_at < end]
    taken: list = []
    for provider in uow.app.hooks.get("resource.taken_time"):
        taken += await provider(uow, resource, start, end, ignore={moving.id} if moving else None)
    latest = moment + timedelta(days=resource.max_advance_days)
    grid = availability.week_grid(
        detail.week, first, 7, closures=closed, taken=taken, now=moment, earliest=earliest, latest=latest,
        shortest=timedelta(minutes=resource.min_duration_minutes),
        usual=(moving.end - moving.start) if moving else timedelta(minutes=resource.default_duration_minutes))
    form = dict(form or {})
    picked = _slot_start(slot)
    if picked is not None:
        cell = next((c for _t, cells in grid.rows for c in cells if c.start == picked), None)
        usual = (moving.end - moving.start) if moving else timedelta(minutes=resource.default_duration_minutes)
        until = cell.until if cell and cell.until else picked + usual
        local = picked.astimezone(BRUSSELS)
        form.update(day=local.date().isoformat(), start_time=f"{local:%H:%M}",
                    end_time=f"{until.astimezone(BRUSSELS):%H:%M}", picked="1")
    columns = {day: [cells[k] for _t, cells in grid.rows] for k, day in enumerate(grid.days)}
    notes = {day: _day_note(day, detail.week, cells, moment, earliest, latest, closed)
             for day, cells in columns.items() if not any(c.state == "free" for c in cells)}
    return {
        "d": detail, "grid": grid, "week_start": first, "today": today, "day_notes": notes, "picked": picked,
        "previous_week": (first - timedelta(days=7)).isoformat(), "next_week": (first + timedelta(days=7)).isoformat(),
        "programmes": await services.study_programmes(), "form": form, **extra,
    }


def _day_note(day: date, week: dict, cells: list, moment: datetime, earliest: datetime, latest: datetime,
              closed: list) -> str:
    """Why a day offers no free time: so a Sunday's past days do not read as closures."""
    opened = [(availability.wall_time(day, a), availability.wall_time(day, b)) for a, b in week.get(day.weekday(), [])]
    if not opened:
        return _("closed")
    last_close = max(b for _a, b in opened)
    first_open = min(a for a, _b in opened)
    if last_close <= moment:
        return _("past")
    if last_close <= earliest:
        return _("too soon: book %(h)s hours ahead", h=int((earliest - moment).total_seconds() // 3600))
    if first_open > latest:
        return _("too far ahead")
    if any(a < last_close and first_open < b for a, b in closed):
        return _("closed (closure)")
    return _("fully booked")
