"""The booking part of the JSON API: availability, bookings and their transitions."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody, QueryParameter

from accounts.auth import login_required
from booking import queries, recurrence, rules, services
from booking.labels import status_label
from booking.schemas import AvailabilityOut, BookingCreate, BookingOut, Decision, Reschedule, SeriesOut, Span
from booking.tables import Booking
from core.edge import Uow
from core.errors import ValidationFailed
from core.i18n import BRUSSELS
from core.i18n import gettext as _
from core.problems import problems
from core.timeutil import parse_local
from core.web import ObjectId
from inventory.tables import StudyProgramme

MAX_AVAILABILITY_DAYS = 62


def booking_out(row: dict, base: str) -> BookingOut:
    """The API shape of a booking row from queries.visible_bookings (or of a booking read again
    through it)."""
    return BookingOut(
        id=row["id"], resource_id=row["resource"], resource=row["resource.name"], school=row["school.name"],
        start=row["start"].astimezone(BRUSSELS).isoformat(), end=row["end"].astimezone(BRUSSELS).isoformat(),
        status=row["status"], status_label=status_label(row["status"]), group_size=row["group_size"],
        price_cents=row["price_cents"], alternative_cost_cents=row["alternative_cost_cents"],
        cancellation_fee_cents=row["cancellation_fee_cents"],
        expires_at=row["expires_at"].astimezone(BRUSSELS).isoformat() if row["expires_at"] else None,
        series_id=row["series"], url=f"{base}/bookings/{row['id']}",
    )


async def booking_outs(ids: list[int], base: str) -> list[BookingOut]:
    """Bookings by id in the API shape, with their names, in one query."""
    if not ids:
        return []
    rows = await Booking.select(*queries.LIST_COLUMNS).where(Booking.id.is_in(list(ids))).order_by(Booking.start)
    return [booking_out(row, base) for row in rows]


async def programme_id(slug: str | None) -> int | None:
    if not slug:
        return None
    row = await StudyProgramme.select(StudyProgramme.id).where(StudyProgramme.slug == slug).first()
    if row is None:
        message = _("Unknown study programme: %(value)s.", value=slug)
        raise ValidationFailed(message, {"study_programme": message})
    return row["id"]


class AvailabilityApiController(Controller):
    path = "/api/v1/resources"
    tags = ["booking"]
    guards = [login_required]

    @get("/{resource_id:int}/availability", summary="The free intervals of a resource in a window",
         responses=problems(401, 404, 422))
    async def availability(
        self, uow: Uow, resource_id: ObjectId,
        raw_from: Annotated[str | None, QueryParameter(name="from", description="Brussels wall time or ISO 8601")] = None,
        raw_to: Annotated[str | None, QueryParameter(name="to", description="Brussels wall time or ISO 8601")] = None,
    ) -> AvailabilityOut:
        if not raw_from or not raw_to:
            raise ValidationFailed(_("Give both from and to."))
        start, end = parse_local(raw_from, "from"), parse_local(raw_to, "to")
        if end <= start or end - start > timedelta(days=MAX_AVAILABILITY_DAYS):
            raise ValidationFailed(_("Ask for a window of at most %(n)s days, ending after it starts.",
                                     n=MAX_AVAILABILITY_DAYS))
        resource = await services.active_resource(resource_id)
        times = await rules.load_times(resource, start, end)
        return AvailabilityOut(resource_id=resource_id, start=start.astimezone(BRUSSELS).isoformat(),
                               end=end.astimezone(BRUSSELS).isoformat(),
                               free=[Span(a.astimezone(BRUSSELS).isoformat(), b.astimezone(BRUSSELS).isoformat())
                                     for a, b in times.free()])


class BookingApiController(Controller):
    path = "/api/v1/bookings"
    tags = ["booking"]
    guards = [login_required]

    @post("/", summary="Book or request a resource (201); 409 with alternatives when taken; 422 for a rule",
          responses=problems(401, 403, 404, 409, 413, 422))
    async def create(self, request: Request, uow: Uow, data: JSONBody[BookingCreate]) -> Response:
        start, end = parse_local(data.start, "start"), parse_local(data.end, "end")
        programme = await programme_id(data.study_programme)
        base = uow.settings.base_url
        if data.rrule:
            local_start, local_end = start.astimezone(BRUSSELS), end.astimezone(BRUSSELS)
            spans = recurrence.expand(data.rrule, local_start.date(), local_start.time(), local_end.time())
            series, booked, skipped = await recurrence.book_series(uow, data.resource_id, data.rrule, spans,
                                                                   data.group_size, programme, data.purpose)
            return Response(SeriesOut(series_id=series.id, bookings=await booking_outs([b.id for b in booked], base),
                                      skipped=[{"start": o.start.astimezone(BRUSSELS).isoformat(),
                                                "end": o.end.astimezone(BRUSSELS).isoformat(),
                                                "reason": o.message} for o in skipped]), status_code=201)
        booking = await services.request_booking(uow, data.resource_id, start, end, data.group_size, programme,
                                                 data.purpose)
        return Response((await booking_outs([booking.id], base))[0], status_code=201)

    @get("/", summary="The bookings the caller may see: a school's own, an owner's resources' (every status), "
                      "a provider's network's schools', an RTC's region's; platform admins all",
         responses=problems(401, 422))
    async def list_bookings(
        self, uow: Uow,
        when: Annotated[str, QueryParameter(description="upcoming, past or all")] = "all",
        status: Annotated[str | None, QueryParameter(description="one status")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 200,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> list[BookingOut]:
        if when not in ("upcoming", "past", "all"):
            raise ValidationFailed(_("when is upcoming, past or all."), {"when": _("when is upcoming, past or all.")})
        if status and status not in Booking.Status._value2member_map_:
            message = _("Unknown status: %(value)s.", value=status)
            raise ValidationFailed(message, {"status": message})
        rows = await queries.visible_bookings(uow, queries.BookingFilter(when=when, status=status, limit=limit,
                                                                          offset=offset))
        return [booking_out(row, uow.settings.base_url) for row in rows]

    @get("/{booking_id:int}", summary="One booking (404 for one the caller may not see)",
         responses=problems(401, 404))
    async def get_booking(self, uow: Uow, booking_id: ObjectId) -> BookingOut:
        current = await services.view(uow, booking_id)
        return (await booking_outs([current.booking.id], uow.settings.base_url))[0]

    @post("/{booking_id:int}/approve", status_code=200, summary="Approve a request (owner staff)",
          responses=problems(401, 403, 404, 409))
    async def approve(self, uow: Uow, booking_id: ObjectId) -> BookingOut:
        booking = await services.approve(uow, booking_id)
        return (await booking_outs([booking.id], uow.settings.base_url))[0]

    @post("/{booking_id:int}/decline", status_code=200, summary="Decline a request with a reason (owner staff)",
          responses=problems(401, 403, 404, 409, 422))
    async def decline(self, uow: Uow, booking_id: ObjectId, data: JSONBody[Decision]) -> BookingOut:
        booking = await services.decline(uow, booking_id, data.reason)
        return (await booking_outs([booking.id], uow.settings.base_url))[0]

    @post("/{booking_id:int}/cancel", status_code=200, summary="Cancel a booking (the school, or the owner with a reason)",
          responses=problems(401, 403, 404, 409, 422))
    async def cancel(self, uow: Uow, booking_id: ObjectId,
                     data: JSONBody[Decision | None] = None) -> BookingOut:
        booking = await services.cancel(uow, booking_id, data.reason if data else "")
        return (await booking_outs([booking.id], uow.settings.base_url))[0]

    @post("/{booking_id:int}/reschedule", status_code=200,
          summary="Move a booking to another time of the same resource (the same id; where the resource needs "
                  "approval it becomes a request again); 409 with alternatives when taken, 422 for a rule",
          responses=problems(401, 403, 404, 409, 422))
    async def reschedule(self, uow: Uow, booking_id: ObjectId, data: JSONBody[Reschedule]) -> BookingOut:
        start, end = parse_local(data.start, "start"), parse_local(data.end, "end")
        booking = await services.reschedule(uow, booking_id, start, end)
        return (await booking_outs([booking.id], uow.settings.base_url))[0]
