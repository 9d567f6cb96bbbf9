"""Moving a booking to another free time of the same resource: one step, the same rule checks,
the same id and its history; a resource that needs approval sends the new time back to the
owner; the old time comes free (for the waitlist too)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from booking import services
from booking.tables import Booking, WaitlistEntry
from core.errors import Conflict, NotFound, ValidationFailed
from core.tables import OutboxMessage
from inventory.tables import Resource
from tests.booking.conftest import at
from tests.conftest import csrf, grid_states, login


async def _confirmed(world, tuesday, start=9, end=11):
    booking = await services.request_booking(world["teacher"], world["resource"].id, at(tuesday, start),
                                             at(tuesday, end), 10)
    return await services.approve(world["staff"], booking.id)


async def test_a_booking_moves_keeps_its_id_and_goes_back_to_the_owner_when_approval_is_needed(world, tuesday):
    booking = await _confirmed(world, tuesday)
    assert booking.status == "confirmed"
    moved = await services.reschedule(world["teacher"], booking.id, at(tuesday, 13), at(tuesday, 15))
    assert moved.id == booking.id and moved.status == "requested"
    assert moved.start == at(tuesday, 13) and moved.expires_at is not None
    assert moved.sequence > booking.sequence
    inbox = await services.view(world["staff"], booking.id)
    assert inbox.booking.status == "requested"
    owner_mail = await OutboxMessage.objects().where(OutboxMessage.template == "booking/mail/rescheduled_owner.txt")
    assert [m.to_address for m in owner_mail] == ["staff@metaal.be"]
    # The old time is free for others now, the new one is not.
    other = await services.request_booking(world["stranger"], world["resource"].id, at(tuesday, 9), at(tuesday, 11), 5)
    assert other.status == "requested"
    with pytest.raises(services.BookingConflict):
        await services.request_booking(world["stranger"], world["resource"].id, at(tuesday, 14), at(tuesday, 16), 5)


async def test_without_approval_a_moved_booking_stays_confirmed_and_may_overlap_its_own_old_time(world, tuesday):
    await Resource.update({Resource.needs_approval: False}).where(Resource.id == world["resource"].id)
    booking = await services.request_booking(world["teacher"], world["resource"].id, at(tuesday, 9), at(tuesday, 11), 10)
    assert booking.status == "confirmed"
    moved = await services.reschedule(world["teacher"], booking.id, at(tuesday, 9, 30), at(tuesday, 11, 30))
    assert moved.status == "confirmed" and moved.start == at(tuesday, 9, 30)
    assert await Booking.count() == 1


async def test_a_taken_or_forbidden_time_changes_nothing(world, tuesday):
    booking = await _confirmed(world, tuesday)
    await services.request_booking(world["stranger"], world["resource"].id, at(tuesday, 13), at(tuesday, 15), 5)
    with pytest.raises(services.BookingConflict) as taken:
        await services.reschedule(world["teacher"], booking.id, at(tuesday, 14), at(tuesday, 16))
    assert taken.value.alternatives
    with pytest.raises(ValidationFailed, match="minstens 24 uur"):
        soon = at(tuesday, 9) - timedelta(days=(tuesday - tuesday.today()).days)
        await services.reschedule(world["teacher"], booking.id, soon, soon + timedelta(hours=2))
    with pytest.raises(ValidationFailed, match="andere tijd"):
        await services.reschedule(world["teacher"], booking.id, at(tuesday, 9), at(tuesday, 11))
    with pytest.raises(NotFound):
        await services.reschedule(world["stranger"], booking.id, at(tuesday, 12), at(tuesday, 13))
    await services.cancel(world["teacher"], booking.id)
    with pytest.raises(Conflict, match="kan niet meer verplaatst"):
        await services.reschedule(world["teacher"], booking.id, at(tuesday, 8), at(tuesday, 9))
    unchanged = await Booking.objects().where(Booking.id == booking.id).first()
    assert unchanged.start == at(tuesday, 9) and unchanged.status == "cancelled"


async def test_the_old_time_is_offered_to_the_waitlist(world, tuesday):
    booking = await _confirmed(world, tuesday)
    await services.join_waitlist(world["stranger"], world["resource"].id, at(tuesday, 9), at(tuesday, 11), 6)
    await services.reschedule(world["teacher"], booking.id, at(tuesday, 13), at(tuesday, 15))
    entry = await WaitlistEntry.objects().first()
    assert entry.status == "offered"
    offer = await Booking.objects().where(Booking.id == entry.offered_booking).first()
    assert offer.start == at(tuesday, 9) and offer.waitlist_offer


async def test_a_teacher_moves_a_booking_through_the_pages(client, world, tuesday):
    booking = await _confirmed(world, tuesday)
    await login(client, "sofie@vti.be")
    detail = await client.get(f"/bookings/{booking.id}")
    assert f'href="/bookings/{booking.id}/move"' in detail.text and "Naar een andere tijd verplaatsen" in detail.text
    page = await client.get(f"/bookings/{booking.id}/move")
    states = grid_states(page.text)
    day = tuesday.isoformat()
    assert states[f"{day}T09:00"] == "free"  # its own time does not stand in the way
    picked = await client.get(f"/bookings/{booking.id}/move?slot={day}T13:00",
                              headers={"HX-Request": "true", "HX-Target": "move-form"})
    assert picked.text.lstrip().startswith("<form") and 'name="end_time" value="15:00"' in picked.text  # its 2 hours
    token = await csrf(client, f"/bookings/{booking.id}/move")
    refused = await client.post(f"/bookings/{booking.id}/move", data={
        "day": day, "start_time": "17:00", "end_time": "18:00", "_csrf_token": token})
    assert refused.status_code == 422 and 'aria-describedby="err-start_time"' in refused.text
    assert 'name="start_time" value="17:00"' in refused.text  # what was typed stays
    moved = await client.post(f"/bookings/{booking.id}/move", data={
        "day": day, "start_time": "13:00", "end_time": "15:00", "_csrf_token": token})
    assert str(moved.url).endswith(f"/bookings/{booking.id}")
    assert "De reservatie is verplaatst naar" in moved.text and "De eigenaar keurt de nieuwe tijd goed" in moved.text
    assert "verplaatst:" in moved.text  # the history says from when to when
    assert "aangevraagd" in moved.text


async def test_the_api_moves_a_booking(client, world, tuesday):
    from accounts import services as accounts

    booking = await _confirmed(world, tuesday)
    await services.request_booking(world["stranger"], world["resource"].id, at(tuesday, 13), at(tuesday, 15), 5)
    _r, teacher = await accounts.create_api_token(world["teacher"], "api")
    _r, stranger = await accounts.create_api_token(world["stranger"], "api")
    as_teacher = {"Authorization": f"Bearer {teacher}"}
    url = f"/api/v1/bookings/{booking.id}/reschedule"
    taken = await client.post(url, headers=as_teacher, json={"start": f"{tuesday}T14:00", "end": f"{tuesday}T16:00"})
    assert taken.status_code == 409 and taken.json()["alternatives"]
    broken = await client.post(url, headers=as_teacher, json={"start": f"{tuesday}T15:00", "end": f"{tuesday}T15:15"})
    assert broken.status_code == 422 and broken.json()["rule"] == "end"
    other = await client.post(url, headers={"Authorization": f"Bearer {stranger}"},
                              json={"start": f"{tuesday}T10:00", "end": f"{tuesday}T12:00"})
    assert other.status_code == 404
    moved = await client.post(url, headers=as_teacher, json={"start": f"{tuesday}T10:00", "end": f"{tuesday}T12:00"})
    assert moved.status_code == 200
    body = moved.json()
    assert body["id"] == booking.id and body["status"] == "requested" and body["start"].startswith(f"{tuesday}T10:00")
