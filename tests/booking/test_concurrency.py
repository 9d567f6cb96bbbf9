"""Invariant 1: no double booking, whatever the concurrency, on both engines."""

import asyncio
from datetime import timedelta

import httpx
import pytest

from accounts import services as accounts
from booking.tables import Booking
from tests.booking.conftest import at


async def test_fifty_simultaneous_requests_leave_exactly_one_booking_on_the_slot(world, tuesday, app, db):
    tokens = []
    for who in ("teacher", "colleague", "stranger"):
        _row, token = await accounts.create_api_token(world[who], "load")
        tokens.append(token)
    for hook in app.on_startup:
        await hook(app)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local", timeout=60) as client:
            async def attempt(n: int):
                # overlapping windows around 09:00-11:00, shifted by up to 45 minutes
                start = at(tuesday, 9) + timedelta(minutes=15 * (n % 4))
                return await client.post("/api/v1/bookings", headers={"Authorization": f"Bearer {tokens[n % 3]}"},
                                         json={"resource_id": world["resource"].id, "start": start.isoformat(),
                                               "end": (start + timedelta(hours=2)).isoformat(), "group_size": 8})

            responses = await asyncio.gather(*(attempt(n) for n in range(50)))
    finally:
        for hook in app.on_shutdown:
            await hook(app)
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1, codes
    assert codes.count(409) == 49, codes
    conflict = next(r for r in responses if r.status_code == 409)
    assert conflict.headers["content-type"].startswith("application/problem+json")
    assert len(conflict.json()["alternatives"]) == 3
    holding = await Booking.objects().where(Booking.status.is_in(["requested", "approved", "confirmed"]))
    assert len(holding) == 1


async def test_postgresql_refuses_overlapping_holds_even_past_the_service(world, tuesday, db):
    if db.kind != "postgresql":
        pytest.skip("SQLite has no exclusion constraints; there BEGIN IMMEDIATE is the guard (the test above)")
    values = dict(resource=world["resource"].id, school=world["school"].id, teacher=world["teacher"].actor.user.id,
                  group_size=5, status="confirmed")
    await Booking.insert(Booking(start=at(tuesday, 9), end=at(tuesday, 11), hold_end=at(tuesday, 11, 15), **values))
    with pytest.raises(Exception) as refused:
        await Booking.insert(Booking(start=at(tuesday, 11), end=at(tuesday, 12), hold_end=at(tuesday, 12, 15), **values))
    assert getattr(refused.value, "sqlstate", "") == "23P01"
    # A cancelled booking holds nothing: it may overlap.
    await Booking.insert(Booking(start=at(tuesday, 9), end=at(tuesday, 11), hold_end=at(tuesday, 11, 15),
                                 **{**values, "status": "cancelled"}))
