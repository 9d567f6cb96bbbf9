"""Requesting a booking: every rule, conflicts with alternatives, prices kept on the booking."""

from datetime import timedelta

import pytest

from booking import services
from booking.services import BookingConflict
from booking.tables import Booking
from core.errors import NotAllowed, ValidationFailed
from core.mail import render_pending
from core.tables import AuditEntry, OutboxMessage
from tests.booking.conftest import at


async def test_a_request_holds_the_slot_with_price_and_alternative_cost(world, tuesday):
    booking = await services.request_booking(world["teacher"], world["resource"].id, at(tuesday, 8, 30),
                                             at(tuesday, 12), 10, purpose="GIP-oefening")
    assert booking.status == "requested"
    assert booking.school == world["school"].id
    assert booking.price_cents == 18000  # one half day
    assert booking.alternative_cost_cents == round(9500 * 3.5)
    assert booking.hold_end == at(tuesday, 12) + timedelta(minutes=15)
    assert booking.expires_at <= booking.start
    assert [r["action"] for r in await AuditEntry.select(AuditEntry.action).where(
        AuditEntry.object_type == "booking")] == ["booking.requested"]
    await render_pending(world["staff"])
    mail = await OutboxMessage.objects().first()
    assert mail.to_address == "staff@metaal.be"
    assert mail.subject == "Nieuwe aanvraag voor Lasatelier"
    assert "Sofie Claes vraagt te reserveren:" in mail.body_text


async def test_a_taken_slot_is_refused_with_the_three_nearest_free_times(world, tuesday):
    await services.request_booking(world["teacher"], world["resource"].id, at(tuesday, 9), at(tuesday, 12), 10)
    with pytest.raises(BookingConflict) as taken:
        await services.request_booking(world["stranger"], world["resource"].id, at(tuesday, 10), at(tuesday, 12), 8)
    assert "al gereserveerd" in str(taken.value)
    alternatives = taken.value.alternatives
    assert len(alternatives) == 3
    for start, end in alternatives:
        assert end - start == timedelta(hours=2)
        # free: outside 09:00-12:00 plus the 15-minute buffer on both sides
        assert end <= at(tuesday, 8, 45) or start >= at(tuesday, 12, 15) or start.date() != tuesday
    assert at(tuesday, 12, 30) in [a for a, _b in alternatives]
    assert await Booking.count() == 1


async def test_the_buffer_keeps_bookings_apart(world, tuesday):
    await services.request_booking(world["teacher"], world["resource"].id, at(tuesday, 9), at(tuesday, 11), 10)
    with pytest.raises(BookingConflict):
        await services.request_booking(world["stranger"], world["resource"].id, at(tuesday, 11, 5), at(tuesday, 13), 8)
    later = await services.request_booking(world["stranger"], world["resource"].id, at(tuesday, 11, 15),
                                           at(tuesday, 13), 8)
    assert later.status == "requested"


@pytest.mark.parametrize("change, message", [
    (dict(start=(8, 0), end=(8, 30)), "Reserveer minstens 60 minuten."),
    (dict(start=(8, 0), end=(13, 0)), "Reserveer hoogstens 240 minuten per keer."),
    (dict(start=(15, 0), end=(17, 30)), "open 08:00-16:30; kies een tijd binnen de openingsuren"),
    (dict(group_size=13), "Er passen hoogstens 12 leerlingen"),
    (dict(group_size=0), "minstens één leerling"),
    (dict(day_offset=4), "gesloten op die dag"),  # Saturday
    (dict(day_offset=-7 * 52), "minstens 24 uur vooraf"),
    (dict(day_offset=7 * 20), "hoogstens 120 dagen vooraf"),
])
async def test_each_rule_is_refused_in_dutch_with_what_would_work(world, tuesday, change, message):
    day = tuesday + timedelta(days=change.get("day_offset", 0))
    start = at(day, *change.get("start", (9, 0)))
    end = at(day, *change.get("end", (11, 0)))
    with pytest.raises(ValidationFailed) as refused:
        await services.request_booking(world["teacher"], world["resource"].id, start, end,
                                       change.get("group_size", 10))
    assert message in str(refused.value)
    assert await Booking.count() == 0


async def test_a_closure_and_a_missing_qualification_are_rules_too(world, tuesday, uow_for):
    from accounts.services import system_actor
    from inventory import services as inventory
    from inventory.tables import Resource

    await inventory.add_closure(uow_for(system_actor()), world["resource"].id, f"{tuesday}T00:00", f"{tuesday}T23:59", "Onderhoud")
    with pytest.raises(ValidationFailed, match="gesloten van"):
        await services.request_booking(world["teacher"], world["resource"].id, at(tuesday, 9), at(tuesday, 11), 10)
    qualification = await inventory.create_qualification(uow_for(system_actor()), world["owner"].id, "Veiligheidsinstructie lassen")
    await Resource.update({Resource.required_qualification: qualification.id}, force=True)
    thursday = tuesday + timedelta(days=2)
    with pytest.raises(ValidationFailed, match="Veiligheidsinstructie lassen"):
        await services.request_booking(world["teacher"], world["resource"].id, at(thursday, 9), at(thursday, 11), 10)
    await inventory.grant_qualification(uow_for(system_actor()), qualification.id, "sofie@vti.be")
    booking = await services.request_booking(world["teacher"], world["resource"].id, at(thursday, 9),
                                             at(thursday, 11), 10)
    assert booking.status == "requested"


async def test_without_approval_a_booking_is_confirmed_at_once(world, tuesday):
    from inventory.tables import Resource

    await Resource.update({Resource.needs_approval: False}, force=True)
    booking = await services.request_booking(world["teacher"], world["resource"].id, at(tuesday, 9), at(tuesday, 11), 10)
    assert booking.status == "confirmed" and booking.payment_method == "invoice" and booking.expires_at is None
    subjects = {m.subject for m in await OutboxMessage.objects()}
    assert subjects == {"Nieuwe reservatie voor Lasatelier", "Je reservatie is bevestigd"}


async def test_only_school_staff_book(world, tuesday):
    with pytest.raises(NotAllowed, match="Alleen leerkrachten en schoolbeheerders reserveren"):
        await services.request_booking(world["staff"], world["resource"].id, at(tuesday, 9), at(tuesday, 11), 10)
