"""The booking part of the JSON API: availability, bookings and their transitions."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody, QueryParameter

from accounts.auth import login_required
from booking import recurrence, rules, services
from booking.labels import status_label
from booking.schemas import AvailabilityOut, BookingCreate, BookingOut, Decision, SeriesOut, Span
from booking.tables import Booking
from core.errors import ValidationFailed
from core.i18n import BRUSSELS
from core.i18n import gettext as _
from core.timeutil import parse_local
from core.web import ObjectId
from inventory.tables import Resource, StudyProgramme

MAX_AVAILABILITY_DAYS = 62


async def booking_outs(bookings: list[Booking], base: str) -> list[BookingOut]:
    """The API shape of several bookings, with their resource and school names in one query."""
    if not bookings:
        return []
    names = {row["id"]: row for row in await Booking.select(
        Booking.id, Booking.resource.name, Booking.school.name).where(Booking.id.is_in([b.id for b in bookings]))}
    return [_out(b, names[b.id], base) for b in bookings]


async def booking_out(booking: Booking, base: str) -> BookingOut:
    return (await booking_outs([booking], base))[0]


def _out(booking: Booking, row: dict, base: str) -> BookingOut:
    return BookingOut(
        id=booking.id, resource_id=booking.resource, resource=row["resource.name"], school=row["school.name"],
        start=booking.start.astimezone(BRUSSELS).isoformat(), end=booking.end.astimezone(BRUSSELS).isoformat(),
        status=booking.status, status_label=status_label(booking.status), group_size=booking.group_size,
        price_cents=booking.price_cents, alternative_cost_cents=booking.alternative_cost_cents,
        cancellation_fee_cents=booking.cancellation_fee_cents,
        expires_at=booking.expires_at.astimezone(BRUSSELS).isoformat() if booking.expires_at else None,
        series_id=booking.series, url=f"{base}/bookings/{booking.id}",
    )


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

    @get("/{resource_id:int}/availability", summary="The free intervals of a resource in a window")
    async def availability(
        self, resource_id: ObjectId,
        raw_from: Annotated[str | None, QueryParameter(name="from", description="Brussels wall time or ISO 8601")] = None,
        raw_to: Annotated[str | None, QueryParameter(name="to", description="Brussels wall time or ISO 8601")] = None,
    ) -> AvailabilityOut:
        if not raw_from or not raw_to:
            raise ValidationFailed(_("Give both from and to."))
        start, end = parse_local(raw_from, "from"), parse_local(raw_to, "to")
        if end <= start or end - start > timedelta(days=MAX_AVAILABILITY_DAYS):
            raise ValidationFailed(_("Ask for a window of at most %(n)s days, ending after it starts.",
                                     n=MAX_AVAILABILITY_DAYS))
        resource = await Resource.objects().where(
            (Resource.id == resource_id) & (Resource.status == Resource.Status.active)).first()
        if resource is None:
            from core.errors import NotFound

            raise NotFound(_("This resource does not exist."))
        times = await rules.load_times(resource, start, end)
        return AvailabilityOut(resource_id=resource_id, start=start.astimezone(BRUSSELS).isoformat(),
                               end=end.astimezone(BRUSSELS).isoformat(),
                               free=[Span(a.astimezone(BRUSSELS).isoformat(), b.astimezone(BRUSSELS).isoformat())
                                     for a, b in times.free()])


class BookingApiController(Controller):
    path = "/api/v1/bookings"
    tags = ["booking"]
    guards = [login_required]

    @post("/", summary="Book or request a resource (201); 409 with alternatives when taken; 422 for a rule")
    async def create(self, request: Request, data: JSONBody[BookingCreate]) -> Response:
        actor = request.scope["user"]
        start, end = parse_local(data.start, "start"), parse_local(data.end, "end")
        programme = await programme_id(data.study_programme)
        base = request.app.state.settings.base_url
        if data.rrule:
            local_start, local_end = start.astimezone(BRUSSELS), end.astimezone(BRUSSELS)
            spans = recurrence.expand(data.rrule, local_start.date(), local_start.time(), local_end.time())
            series, booked, skipped = await recurrence.book_series(actor, data.resource_id, data.rrule, spans,
                                                                   data.group_size, programme, data.purpose)
            return Response(SeriesOut(series_id=series.id, bookings=await booking_outs(booked, base),
                                      skipped=[{"start": o.start.isoformat(), "end": o.end.isoformat(),
                                                "reason": o.message} for o in skipped]), status_code=201)
        booking = await services.request_booking(actor, data.resource_id, start, end, data.group_size, programme,
                                                 data.purpose)
        return Response(await booking_out(booking, base), status_code=201)

    @get("/", summary="The bookings the caller may see")
    async def list_bookings(self, request: Request) -> list[BookingOut]:
        actor = request.scope["user"]
        base = request.app.state.settings.base_url
        ids = [r["id"] for r in await services.school_bookings(actor, when="upcoming")]
        ids += [r["id"] for r in await services.school_bookings(actor, when="past", limit=100)]
        ids += [r["id"] for r in await services.owner_inbox(actor)]
        rows = await Booking.objects().where(Booking.id.is_in(sorted(set(ids)))).order_by(Booking.start) if ids else []
        return await booking_outs(rows, base)

    @get("/{booking_id:int}", summary="One booking (404 for one the caller may not see)")
    async def get_booking(self, request: Request, booking_id: ObjectId) -> BookingOut:
        current = await services.view(request.scope["user"], booking_id)
        return await booking_out(current.booking, request.app.state.settings.base_url)

    @post("/{booking_id:int}/approve", status_code=200)
    async def approve(self, request: Request, booking_id: ObjectId) -> BookingOut:
        booking = await services.approve(request.scope["user"], booking_id)
        return await booking_out(booking, request.app.state.settings.base_url)

    @post("/{booking_id:int}/decline", status_code=200)
    async def decline(self, request: Request, booking_id: ObjectId, data: JSONBody[Decision]) -> BookingOut:
        booking = await services.decline(request.scope["user"], booking_id, data.reason)
        return await booking_out(booking, request.app.state.settings.base_url)

    @post("/{booking_id:int}/cancel", status_code=200)
    async def cancel(self, request: Request, booking_id: ObjectId,
                     data: JSONBody[Decision | None] = None) -> BookingOut:
        booking = await services.cancel(request.scope["user"], booking_id, data.reason if data else "")
        return await booking_out(booking, request.app.state.settings.base_url)
