"""Booking pages: booking from a resource's page (one time or a series, with a preview), my
bookings, a booking's page with its history, the owner's inbox (approve and decline in place
with htmx) and week calendars per facility and resource."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery

from accounts.auth import login_required
from booking import board, ical, queries, recurrence, services
from booking.api import programme_id
from booking.labels import status_label
from booking.services import BookingConflict
from booking.tables import HOLDING_STATUSES, Booking
from core import audit
from core.edge import Uow
from core.errors import Conflict, DomainError, NotAllowed, NotFound, ValidationFailed
from core.i18n import BRUSSELS
from core.i18n import gettext as _
from core.timeutil import from_local
from core.web import ObjectId, form_data, is_htmx, render
from core.web import redirect as go
from inventory.discovery import resource_page_context, week_of
from inventory.tables import Facility, Resource, StudyProgramme


def _parse_form(data: dict[str, str]) -> tuple[datetime, datetime, int]:
    """The booking form's day, start and end (Brussels wall time) and group size."""
    errors: dict[str, str] = {}
    try:
        day = date.fromisoformat(data.get("day", ""))
    except ValueError:
        errors["day"] = _("Choose a day.")
        day = None
    times = []
    for name in ("start_time", "end_time"):
        try:
            times.append(time.fromisoformat(data.get(name, "")))
        except ValueError:
            errors[name] = _("Give the time as 08:30.")
            times.append(None)
    try:
        group_size = int(data.get("group_size", ""))
    except ValueError:
        errors["group_size"] = _("Enter the number of pupils.")
        group_size = 0
    if errors:
        raise ValidationFailed(next(iter(errors.values())), errors)
    start = from_local(datetime.combine(day, times[0]), "start_time")
    end = from_local(datetime.combine(day, times[1]), "end_time")
    return start, end, group_size


class BookingController(Controller):
    include_in_schema = False  # pages, not the API: /schema documents /api/v1
    path = "/"
    guards = [login_required]

    # --- booking from the resource page -------------------------------------------------------

    async def _resource_page(self, request: Request, uow: Uow, resource_id: int, data: dict, status_code: int,
                             **extra):
        week = data.get("day") or None
        context = await resource_page_context(request, uow, resource_id, week, form=data, **extra)
        return render(request, "inventory/resource.html", context, status_code=status_code)

    @post("/resources/{resource_id:int}/book", name="book")
    async def book(self, request: Request, uow: Uow, resource_id: ObjectId) -> Response:
        data = await form_data(request)
        try:
            start, end, group_size = _parse_form(data)
            programme = await programme_id(data.get("study_programme") or None)
            if data.get("repeat") in ("1", "2"):
                return await self._series_preview(request, uow, resource_id, data, start, end, group_size)
            if data.get("waitlist"):
                await services.join_waitlist(uow, resource_id, start, end, group_size, programme, data.get("purpose", ""))
                return go(request, f"/resources/{resource_id}",
                          _("You are on the waitlist. If the time comes free, we mail you and hold it for you."))
            booking = await services.request_booking(uow, resource_id, start, end, group_size, programme,
                                                     data.get("purpose", ""))
        except BookingConflict as exc:
            return await self._resource_page(request, uow, resource_id, data, 409, error=str(exc),
                                             alternatives=exc.alternatives)
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._resource_page(request, uow, resource_id, data, exc.status_code, error=str(exc),
                                             fields=getattr(exc, "fields", {}))
        message = (_("Your request is sent. The owner answers before %(when)s.",
                     when=_short(booking.expires_at)) if booking.status == "requested"
                   else _("Your booking is confirmed."))
        return go(request, f"/bookings/{booking.id}", message)

    async def _series_preview(self, request, uow, resource_id, data, start, end, group_size) -> Response:
        try:
            until = date.fromisoformat(data.get("until", ""))
        except ValueError:
            raise ValidationFailed(_("Give the last day of the series."), {"until": _("Give the last day of the series.")}) \
                from None
        local_start, local_end = start.astimezone(BRUSSELS), end.astimezone(BRUSSELS)
        rule = recurrence.build_rrule(local_start.date(), int(data["repeat"]), until)
        spans = recurrence.expand(rule, local_start.date(), local_start.time(), local_end.time())
        occurrences = await recurrence.preview(uow, resource_id, spans, group_size)
        context = await resource_page_context(request, uow, resource_id, data.get("day"), form=data)
        return render(request, "booking/series_preview.html", {
            **context, "occurrences": occurrences, "rule": rule,
            "free_count": sum(o.state == "free" for o in occurrences), "data": data})

    @post("/resources/{resource_id:int}/book-series", name="book_series")
    async def book_series(self, request: Request, uow: Uow, resource_id: ObjectId) -> Response:
        data = await form_data(request)
        try:
            start, end, group_size = _parse_form(data)
            until = date.fromisoformat(data.get("until", ""))
            local_start, local_end = start.astimezone(BRUSSELS), end.astimezone(BRUSSELS)
            rule = recurrence.build_rrule(local_start.date(), int(data.get("repeat") or 1), until)
            spans = recurrence.expand(rule, local_start.date(), local_start.time(), local_end.time())
            series, booked, skipped = await recurrence.book_series(
                uow, resource_id, rule, spans, group_size, await programme_id(data.get("study_programme") or None),
                data.get("purpose", ""), free_only=data.get("mode") != "all")
        except (DomainError, ValueError) as exc:
            if isinstance(exc, DomainError) and exc.status_code == 404:
                raise
            return await self._resource_page(request, uow, resource_id, data, getattr(exc, "status_code", 422),
                                             error=str(exc))
        return go(request, "/bookings", _("%(n)s occurrences booked; %(m)s skipped.", n=len(booked), m=len(skipped)))

    # --- my bookings --------------------------------------------------------------------------

    @get("/bookings", name="bookings")
    async def my_bookings(self, request: Request, uow: Uow, when: FromQuery[str] = "upcoming",
                          status: FromQuery[str] = "", mine: FromQuery[str] = "") -> Response:
        when = "past" if when == "past" else "upcoming"
        rows = await queries.visible_bookings(uow, queries.BookingFilter(
            mine_only=mine == "1", when=when, status=status if status in Booking.Status._value2member_map_ else None))
        waiting = await queries.waitlist(uow, mine_only=mine == "1") if when == "upcoming" else []
        return render(request, "booking/list.html", {"rows": rows, "when": when, "status": status, "mine": mine,
                                                     "statuses": list(Booking.Status), "waitlist": waiting},
                      block="rows")

    @post("/waitlist/{entry_id:int}/leave", name="waitlist_leave")
    async def leave_waitlist(self, request: Request, uow: Uow, entry_id: ObjectId) -> Response:
        await services.leave_waitlist(uow, entry_id)
        return go(request, "/bookings", _("You left the waitlist."))

    @get("/bookings/{booking_id:int}", name="booking")
    async def detail(self, request: Request, uow: Uow, booking_id: ObjectId) -> Response:
        return await self._detail(request, uow, booking_id)

    @get("/bookings/{booking_id:int}/calendar.ics", name="booking_ics")
    async def booking_ics(self, request: Request, uow: Uow, booking_id: ObjectId) -> Response:
        """"Add to my calendar": the booking as a single-event iCalendar file."""
        current = await services.view(uow, booking_id)
        body = await ical_download(uow, current.booking.id)
        return Response(content=body, media_type="text/calendar", headers={
            "Content-Disposition": f'attachment; filename="werkbank-{booking_id}.ics"', "Cache-Control": "private, no-cache"})

    async def _detail(self, request: Request, uow: Uow, booking_id: int, status_code: int = 200,
                      **extra) -> Response:
        actor, moment = uow.actor, uow.now()
        current = await services.view(uow, booking_id)
        owner = current.owner_id
        b = current.booking
        programme = (await StudyProgramme.select(StudyProgramme.name).where(
            StudyProgramme.id == b.study_programme).first() or {}).get("name") if b.study_programme else None
        return render(request, "booking/detail.html", {
            "v": current, "b": b, "history": await audit.history("booking", booking_id), "programme": programme,
            "can_cancel": services.can_cancel(actor, b, owner, moment),
            "can_move": services.can_reschedule(actor, b, moment),
            "can_approve": services.can_approve(actor, b, owner),
            "can_complete": services.can_complete(actor, b, owner, moment),
            "can_accept": services.can_accept_offer(actor, b, moment),
            "is_owner": services.can_decide(actor, owner),
            "fee_now": services.cancellation_fee(b, current.resource, moment),
            "panels": await _panels(uow, current, "detail"), **extra,
        }, status_code=status_code)

    async def _act(self, request: Request, uow: Uow, booking_id: int, action, message: str,
                   form: dict | None = None) -> Response:
        """Runs a transition; answers with the inbox row when htmx swaps one, else the page."""
        in_inbox = is_htmx(request) and request.headers.get("hx-target", "").startswith("request-")
        try:
            result = await action()
        except (ValidationFailed, Conflict, NotAllowed) as exc:
            if in_inbox:
                return await self._inbox_row(request, uow, booking_id, error=str(exc), status_code=200)
            return await self._detail(request, uow, booking_id, status_code=exc.status_code, error=str(exc),
                                      fields=getattr(exc, "fields", {}), form=form or {})
        if callable(message):
            message = message(result)
        if in_inbox:
            return await self._inbox_row(request, uow, booking_id, message=message)
        return go(request, f"/bookings/{booking_id}", message)

    @post("/bookings/{booking_id:int}/approve", name="booking_approve")
    async def approve(self, request: Request, uow: Uow, booking_id: ObjectId) -> Response:
        return await self._act(request, uow, booking_id, lambda: services.approve(uow, booking_id),
                               _("The request is approved; the school gets a mail."))

    @post("/bookings/{booking_id:int}/decline", name="booking_decline")
    async def decline(self, request: Request, uow: Uow, booking_id: ObjectId) -> Response:
        data = await form_data(request)
        return await self._act(request, uow, booking_id,
                               lambda: services.decline(uow, booking_id, data.get("reason", "")),
                               _("The request is declined; the school gets a mail."), form=data)

    # --- moving a booking ------------------------------------------------------------------------

    async def _move_page(self, request: Request, uow: Uow, booking_id: int, week: str | None, slot: str | None,
                         form: dict, status_code: int = 200, **extra) -> Response:
        current = await services.view(uow, booking_id)
        b = current.booking
        if not services.can_reschedule(uow.actor, b, uow.now()):
            raise NotAllowed(_("This booking can no longer move.")) if b.status in HOLDING_STATUSES \
                else Conflict(_("This booking is %(status)s; it can no longer move.", status=status_label(b.status)))
        context = await resource_page_context(request, uow, b.resource, week or (slot or "")[:10] or
                                              b.start.astimezone(BRUSSELS).date().isoformat(),
                                              form=form, slot=slot, moving=b, **extra)
        details = getattr(request, "htmx", None)
        block = "move_form" if details and details.target == "move-form" else "week"
        return render(request, "booking/move.html", {**context, "v": current, "b": b}, block=block,
                      status_code=status_code)

    @get("/bookings/{booking_id:int}/move", name="booking_move")
    async def move_page(self, request: Request, uow: Uow, booking_id: ObjectId, week: FromQuery[str | None] = None,
                        slot: FromQuery[str | None] = None) -> Response:
        """Another time for a booking: the resource's week (its own time counts as free); a
        click on a free half hour fills in the new time, with the booking's length."""
        form = {name: request.query_params.get(name, "") for name in ("day", "start_time", "end_time")
                if request.query_params.get(name)}
        return await self._move_page(request, uow, booking_id, week, slot, form)

    @post("/bookings/{booking_id:int}/move", name="booking_move_save")
    async def move(self, request: Request, uow: Uow, booking_id: ObjectId) -> Response:
        data = await form_data(request)
        try:
            day = date.fromisoformat(data.get("day", ""))
            start = from_local(datetime.combine(day, time.fromisoformat(data.get("start_time", ""))), "start_time")
            end = from_local(datetime.combine(day, time.fromisoformat(data.get("end_time", ""))), "end_time")
        except (ValueError, ValidationFailed) as exc:
            message = str(exc) if isinstance(exc, ValidationFailed) else _("Choose a day and give the times as 08:30.")
            return await self._move_page(request, uow, booking_id, data.get("day"), None, data, 422, error=message,
                                         fields={"day": message})
        try:
            moved = await services.reschedule(uow, booking_id, start, end)
        except BookingConflict as exc:
            return await self._move_page(request, uow, booking_id, data.get("day"), None, data, 409, error=str(exc),
                                         alternatives=exc.alternatives)
        except (ValidationFailed, Conflict) as exc:
            return await self._move_page(request, uow, booking_id, data.get("day"), None, data, exc.status_code,
                                         error=str(exc), fields=getattr(exc, "fields", {}))
        when = f"{_short(moved.start)}–{moved.end.astimezone(BRUSSELS):%H:%M}"
        message = (_("The booking is moved to %(when)s. The owner approves the new time; until then it is a request.",
                     when=when) if moved.status == "requested" else _("The booking is moved to %(when)s.", when=when))
        return go(request, f"/bookings/{booking_id}", message)

    @get("/bookings/{booking_id:int}/cancel", name="booking_cancel_confirm")
    async def cancel_confirm(self, request: Request, uow: Uow, booking_id: ObjectId) -> Response:
        """Before cancelling: what it costs, and for a series how many dates follow."""
        return await self._cancel_page(request, uow, booking_id)

    async def _cancel_page(self, request: Request, uow: Uow, booking_id: int, status_code: int = 200,
                           **extra) -> Response:
        actor, moment = uow.actor, uow.now()
        current = await services.view(uow, booking_id)
        b = current.booking
        if not services.can_cancel(actor, b, current.owner_id, moment):
            return go(request, f"/bookings/{booking_id}", _("This booking cannot be cancelled any more."), "error")
        later = 0
        if b.series is not None:
            later = await Booking.count().where((Booking.series == b.series) & (Booking.start > b.start)
                                                & Booking.status.is_in(list(HOLDING_STATUSES)))
        return render(request, "booking/cancel.html", {
            "v": current, "b": b, "later": later, "is_owner": services.cancelled_by_owner(actor, current),
            "fee_now": services.cancellation_fee(b, current.resource, moment),
            "panels": await _panels(uow, current, "cancel"), **extra}, status_code=status_code)

    @post("/bookings/{booking_id:int}/cancel", name="booking_cancel")
    async def cancel(self, request: Request, uow: Uow, booking_id: ObjectId) -> Response:
        data = await form_data(request)
        if data.get("scope") == "following":
            action = lambda: recurrence.cancel_series(uow, booking_id, data.get("reason", ""))  # noqa: E731
        else:
            action = lambda: services.cancel(uow, booking_id, data.get("reason", ""))  # noqa: E731

        def message(result) -> str:
            count = len(result) if isinstance(result, list) else 1
            if count == 1:
                return _("The booking is cancelled.")
            return _("%(n)s bookings of the series are cancelled.", n=count)

        if not is_htmx(request):
            try:
                return go(request, f"/bookings/{booking_id}", message(await action()))
            except ValidationFailed as exc:  # the reason an owner must give: next to its field
                return await self._cancel_page(request, uow, booking_id, exc.status_code, fields=exc.fields,
                                               reason=data.get("reason", ""))
            except (Conflict, NotAllowed) as exc:
                return await self._detail(request, uow, booking_id, status_code=exc.status_code, error=str(exc))
        return await self._act(request, uow, booking_id, action, message)

    @post("/bookings/{booking_id:int}/complete", name="booking_complete")
    async def complete(self, request: Request, uow: Uow, booking_id: ObjectId) -> Response:
        data = await form_data(request)
        try:
            pupils = int(data.get("pupils_attended", ""))
        except ValueError:
            pupils = 0
        return await self._act(request, uow, booking_id, lambda: services.complete(uow, booking_id, pupils),
                               _("Marked as done. Thank you."), form=data)

    @post("/bookings/{booking_id:int}/no-show", name="booking_no_show")
    async def no_show(self, request: Request, uow: Uow, booking_id: ObjectId) -> Response:
        return await self._act(request, uow, booking_id, lambda: services.mark_no_show(uow, booking_id),
                               _("Marked as a no-show."))

    @post("/bookings/{booking_id:int}/accept", name="booking_accept")
    async def accept(self, request: Request, uow: Uow, booking_id: ObjectId) -> Response:
        return await self._act(request, uow, booking_id, lambda: services.accept_offer(uow, booking_id),
                               _("You took the place."))

    # --- the owner's inbox and calendars -------------------------------------------------------

    @get("/bookings/inbox", name="booking_inbox")
    async def inbox(self, request: Request, uow: Uow) -> Response:
        return render(request, "booking/inbox.html", {"rows": await queries.owner_inbox(uow)})

    async def _inbox_row(self, request: Request, uow: Uow, booking_id: int, status_code: int = 200, **extra) -> Response:
        current = await services.view(uow, booking_id)
        return render(request, "booking/_inbox_row.html", {"v": current, "b": current.booking, **extra},
                      status_code=status_code)

    # --- the planning board ---------------------------------------------------------------------

    @get("/planning/facilities/{facility_id:int}", name="planning_facility")
    async def facility_board(self, request: Request, uow: Uow, facility_id: ObjectId, date: FromQuery[str | None] = None,
                             view: FromQuery[str] = "week") -> Response:
        facility, ids = await board.facility_resources(facility_id)
        if facility is None or not facility.active:
            raise NotFound(_("This facility does not exist."))
        return await self._board(request, uow, ids, date, view, f"{facility.name}, {facility.municipality}",
                                 f"/planning/facilities/{facility_id}", {})

    @get("/planning", name="planning_search")
    async def search_board(self, request: Request, uow: Uow, date: FromQuery[str | None] = None,
                           view: FromQuery[str] = "week") -> Response:
        """The search's results (its first page) as a board: the same filters as /search."""
        from inventory import search as finder
        from inventory.discovery import SEARCH_PARAMS

        params = {name: request.query_params.get(name, "") for name in SEARCH_PARAMS if name != "page"}
        try:
            query, _origin = await finder.build_query(uow, {**params, "page": "1"})
            found = await finder.search(uow, query)
        except ValidationFailed as exc:
            return go(request, "/search?" + urlencode({k: v for k, v in params.items() if v}), str(exc), "error")
        kept = {k: v for k, v in params.items() if v}
        return await self._board(request, uow, [h.id for h in found.hits], date, view, _("Search results"),
                                 "/planning", kept, total=found.total)

    async def _board(self, request: Request, uow: Uow, ids: list[int], day: str | None, view: str, title: str,
                     base: str, params: dict, total: int | None = None) -> Response:
        view = "day" if view == "day" else "week"
        today = uow.now().astimezone(BRUSSELS).date()
        weekend = today + timedelta(days=7 - today.weekday()) if view == "week" and today.weekday() >= 5 else today
        try:
            chosen = date.fromisoformat(day) if day else weekend  # on a Saturday or Sunday: the coming week
        except ValueError:
            chosen = weekend
        if not date(2000, 1, 10) <= chosen <= date(2199, 12, 20):
            chosen = weekend
        first = chosen if view == "day" else week_of(chosen.isoformat(), today)
        step = timedelta(days=1 if view == "day" else 7)
        result = await board.board(uow, ids, first, view)

        def link(**changes) -> str:
            return f"{base}?{urlencode({**params, 'date': first.isoformat(), 'view': view, **changes})}"

        return render(request, "booking/board.html", {
            "board": result, "show_place": base == "/planning", "title": title, "base": base, "params": params,
            "today": today, "view": view,
            "first": first, "total": total, "link": link,
            "day_default": (today if first <= today < first + timedelta(days=7) else first).isoformat(),
            "previous": (first - step).isoformat(), "next": (first + step).isoformat(),
            "search_link": "/search?" + urlencode(params) if base == "/planning" else "",
        }, block="board")

    @get("/calendar/facilities/{facility_id:int}", name="calendar_facility")
    async def facility_calendar(self, request: Request, uow: Uow, facility_id: ObjectId,
                                week: FromQuery[str | None] = None) -> Response:
        return await self._calendar(request, uow, week, facility_id=facility_id)

    @get("/calendar/resources/{resource_id:int}", name="calendar_resource")
    async def resource_calendar(self, request: Request, uow: Uow, resource_id: ObjectId,
                                week: FromQuery[str | None] = None) -> Response:
        return await self._calendar(request, uow, week, resource_id=resource_id)

    async def _calendar(self, request: Request, uow: Uow, week: str | None, facility_id: int | None = None,
                        resource_id: int | None = None) -> Response:
        today = uow.now().astimezone(BRUSSELS).date()
        first = week_of(week, today)
        start = from_local(datetime.combine(first, time(0)))
        end = from_local(datetime.combine(first + timedelta(days=7), time(0)))
        rows = await queries.calendar(uow, facility_id=facility_id, resource_id=resource_id,
                                       start=start, end=end)
        if resource_id is not None:
            resource = await Resource.objects().where(Resource.id == resource_id).first()
            facility = await Facility.objects().where(Facility.id == resource.facility).first()
            title, base = resource.name, f"/calendar/resources/{resource_id}"
        else:
            facility = await Facility.objects().where(Facility.id == facility_id).first()
            title, base = facility.name, f"/calendar/facilities/{facility_id}"
        days = []
        for offset in range(7):
            day = first + timedelta(days=offset)
            days.append((day, [r for r in rows if r["start"].astimezone(BRUSSELS).date() <= day
                               <= r["end"].astimezone(BRUSSELS).date()]))
        return render(request, "booking/calendar.html", {
            "title": title, "facility": facility, "days": days, "base": base, "week_start": first, "today": today,
            "previous_week": (first - timedelta(days=7)).isoformat(), "next_week": (first + timedelta(days=7)).isoformat(),
        }, block="week")


async def _panels(uow: Uow, current: services.BookingView, page: str) -> list:
    """What higher domains show on a booking's page (`detail`) or before cancelling (`cancel`):
    the `booking.panels` hook gives safe HTML (payments: what was paid, what comes back)."""
    shown = [await hook(uow, current, page) for hook in uow.app.hooks.get("booking.panels")]
    return [panel for panel in shown if panel]


async def ical_download(uow: Uow, booking_id: int) -> bytes:
    rows = await Booking.select(*ical.EVENT_COLUMNS).where(Booking.id == booking_id)
    data = [ical.event_data(dict(row)) for row in rows]
    return ical.calendar_bytes([ical.event(item, uow.settings.base_url) for item in data])


def _short(moment: datetime | None) -> str:
    from core.i18n import format_datetime

    return format_datetime(moment, "short") if moment else ""
