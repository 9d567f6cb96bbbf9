"""Calendar feed benchmark, run on demand (`python -m bench calendars`); never part of the pytest
suite. On SQLite (a file in a temp dir, or WERKBANK_DATABASE_URL) it builds an owner with one
resource and 2,000 bookings, a feed of that resource, runs the app in-process (create_app +
httpx.ASGITransport) and measures, each next to a baseline in the same run:

1. the whole feed (GET /ical/{token}.ics, 200), rendered afresh (the rendered-feed cache emptied
   before each round: a feed that changed since the last poll): against serialising the same
   2,000 events with bare icalendar (rows already in memory, one Event per booking with the same
   properties, Brussels times) (aim: at most 1.5x);
2. the same feed unchanged since the last poll, without If-None-Match (Google Calendar asks so):
   served from the rendered-feed cache, against the same bare icalendar baseline;
3. the 304 path (If-None-Match with the feed's ETag): against a bare Litestar endpoint answering
   304 through the same transport (aim: at most 1.5x), and, for scale, the app's health endpoint
   (the same middleware and one `SELECT 1`: the floor of any answer that asks the database).

Ratios are printed, never asserted."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from datetime import datetime, timedelta, timezone

from litestar import Response

from bench.__main__ import _time, report
from core.i18n import BRUSSELS

BOOKINGS = 2000


async def _world(wb):
    from accounts.tables import Membership, Organisation, User
    from booking.tables import Booking
    from calendars import feeds
    from inventory.tables import Category, Facility, Resource

    owner = Organisation(slug="fonds", name="Fonds Metaal", kind="sector_fund", postal_code="9000")
    await owner.save()
    school = Organisation(slug="school", name="VTI Gent", kind="school", postal_code="9000")
    await school.save()
    staff = User(username="staff@bench", email="staff@bench", password="x" * 16, active=True, first_name="Inge")
    await staff.save()
    teacher = User(username="teacher@bench", email="teacher@bench", password="x" * 16, active=True)
    await teacher.save()
    await Membership.insert(Membership(user=staff.id, organisation=owner.id, role="owner_staff"),
                            Membership(user=teacher.id, organisation=school.id, role="teacher"))
    category = await Category.objects().first()
    facility = Facility(owner=owner.id, name="Metaalcampus", street="Technologiepark 40", postal_code="9052",
                        municipality="Gent", region_code="VOV", latitude=51.02, longitude=3.71)
    await facility.save()
    resource = Resource(facility=facility.id, name="Lasatelier", category=category.id)
    await resource.save()
    first = datetime(2027, 1, 4, 7, 0, tzinfo=timezone.utc)
    rows = []
    for n in range(BOOKINGS):
        start = first + timedelta(days=n // 4, hours=2 * (n % 4))
        rows.append(Booking(resource=resource.id, school=school.id, teacher=teacher.id, start=start,
                            end=start + timedelta(hours=1, minutes=30), hold_end=start + timedelta(hours=1, minutes=30),
                            status="confirmed", group_size=10, purpose="GIP", price_cents=0, sequence=n % 3))
    for chunk in range(0, len(rows), 500):
        await Booking.insert(*rows[chunk:chunk + 500])
    uow = wb.unit_of_work(await _actor(staff))
    feed, token = await feeds.create_feed(uow, "resource", resource.id)
    return token, resource.id


async def _actor(user):
    from accounts.services import load_actor

    return await load_actor(user)


async def run(rounds: int) -> None:
    import logging

    import httpx
    from icalendar import Calendar, Event
    from litestar import Litestar, get

    from app import build_werkbank, create_app
    from calendars import feeds
    from core import db
    from core.settings import Settings

    logging.getLogger("httpx").setLevel(logging.WARNING)  # a log line per request would be timed too
    scratch = None if os.environ.get("WERKBANK_DATABASE_URL") else tempfile.mkdtemp(prefix="werkbank-bench-cal-")
    url = os.environ.get("WERKBANK_DATABASE_URL") or f"sqlite:///{scratch}/bench.sqlite3"
    engine = db.engine_from_url(url)
    settings = Settings(environment="test", database_url=url, secret_key="b" * 40, in_process_worker=False,
                        base_url="http://testserver.local")
    try:
        await db.migrate(engine)
        await db.start(engine)
        try:
            from inventory.taxonomy import sync_taxonomy

            wb = build_werkbank(settings, engine)
            await sync_taxonomy()
            token, resource_id = await _world(wb)
            app = create_app(settings, engine=engine)
            for hook in app.on_startup:
                await hook(app)
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local")
            path = f"/ical/{token}.ics"
            first = await client.get(path)
            assert first.status_code == 200 and first.content.count(b"BEGIN:VEVENT") == BOOKINGS, first.status_code
            etag = first.headers["etag"]

            data = await feeds.events_of(feeds._filters(feeds.FeedKey(0, "resource", resource_id),
                                                        datetime.now(timezone.utc)))
            cache = app.state.werkbank.feed_cache

            async def werkbank_feed():
                cache.bodies.clear()
                response = await client.get(path)
                assert response.status_code == 200

            async def werkbank_feed_unchanged():
                response = await client.get(path)
                assert response.status_code == 200

            async def bare_icalendar():  # the same events, straight from memory
                cal = Calendar()
                cal.add("prodid", "-//bench//")
                cal.add("version", "2.0")
                for item in data:
                    b = item.booking
                    event = Event()
                    event.add("uid", f"werkbank-booking-{b.id}@testserver.local")
                    event.add("dtstamp", b.updated_at)
                    event.add("created", b.created_at)
                    event.add("last-modified", b.updated_at)
                    event.add("sequence", b.sequence)
                    event.add("dtstart", b.start.astimezone(BRUSSELS))
                    event.add("dtend", b.end.astimezone(BRUSSELS))
                    event.add("status", "CONFIRMED")
                    event.add("summary", f"{item.resource_name} · {item.school_name}")
                    event.add("location", f"{item.facility_name}, {item.street}, {item.postal_code} {item.municipality}")
                    event.add("geo", (item.latitude, item.longitude))
                    event.add("description", f"Groep: {b.group_size}\nhttp://testserver.local/bookings/{b.id}")
                    event.add("url", f"http://testserver.local/bookings/{b.id}")
                    event.add("transp", "OPAQUE")
                    cal.add_component(event)
                cal.to_ical()

            async def werkbank_304():
                response = await client.get(path, headers={"If-None-Match": etag})
                assert response.status_code == 304

            @get("/bare")
            async def bare() -> Response:
                return Response(content=b"", status_code=304, headers={"ETag": etag})

            bare_client = httpx.AsyncClient(transport=httpx.ASGITransport(app=Litestar([bare])),
                                            base_url="http://testserver.local")

            async def bare_304():
                response = await bare_client.get("/bare", headers={"If-None-Match": etag})
                assert response.status_code == 304

            async def health():
                assert (await client.get("/api/v1/health")).status_code == 200

            full_rounds = max(5, rounds // 20)
            await _time(werkbank_feed, 2)
            await _time(bare_icalendar, 2)
            print(f"Calendar feed of one resource with {BOOKINGS} bookings ({db.engine_kind(engine)}), in-process:")
            baseline = await _time(bare_icalendar, full_rounds)
            report(f"feed 200, rendered ({full_rounds} rounds)", await _time(werkbank_feed, full_rounds), baseline)
            report(f"feed 200, unchanged ({rounds} rounds)", await _time(werkbank_feed_unchanged, rounds), baseline)
            await _time(werkbank_304, 10)
            await _time(bare_304, 10)
            bare_times = await _time(bare_304, rounds)
            report(f"feed 304 ({rounds} rounds)", await _time(werkbank_304, rounds), bare_times)
            report(f"health, for scale ({rounds} rounds)", await _time(health, rounds), bare_times)
            print("aim: ratio at most 1.5 for the rendered feed and the 304 path")
            await client.aclose()
            await bare_client.aclose()
            for hook in app.on_shutdown:
                await hook(app)
        finally:
            await db.stop(engine)
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


def main(rounds: int = 200) -> None:
    asyncio.run(run(rounds))

