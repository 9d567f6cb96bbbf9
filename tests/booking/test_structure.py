"""The structure under booking: the unit of work (savepoints, events, rollback, the clock), one
mail per series, the approved state, scheduled jobs with leases, one source for the holding
statuses, and DST-correct wall times."""

import asyncio
from datetime import date, datetime, time, timedelta, timezone

import httpx
import pytest

from accounts import services as accounts
from booking import events, recurrence, rules, services
from booking.tables import HOLDING_STATUSES, Booking
from core.i18n import BRUSSELS
from core.mail import render_pending
from core.tables import JobState, OutboxMessage
from core.uow import FrozenClock
from inventory.availability import wall_time
from tests.booking.conftest import at


def _weekly(tuesday: date, weeks: int = 4) -> tuple[str, list[tuple[datetime, datetime]]]:
    rule = f"FREQ=WEEKLY;COUNT={weeks}"
    return rule, recurrence.expand(rule, tuesday, time(9), time(11))


async def _subjects(to: str) -> list[str]:
    return [m.subject for m in await OutboxMessage.objects().where(OutboxMessage.to_address == to).order_by(
        OutboxMessage.id)]


# --- series: one savepoint per occurrence ------------------------------------------------------

async def test_a_series_skips_an_occurrence_taken_by_a_concurrent_booking(world, tuesday, db, wb, monkeypatch):
    """Another transaction takes the third date after the series read the week (PostgreSQL lets
    that happen; its exclusion constraint then refuses the insert): that date is skipped, the
    others are booked, nothing turns into a 500."""
    rule, spans = _weekly(tuesday)
    stolen = spans[2]
    loaded = rules.load_times

    async def load_then_race(*args, **kwargs):
        times = await loaded(*args, **kwargs)
        other = wb.unit_of_work()  # a second connection commits a booking on the third date
        async with other.transaction():
            await Booking.insert(Booking(
                resource=world["resource"].id, school=world["other_school"].id,
                teacher=world["stranger"].actor.user.id, start=stolen[0], end=stolen[1],
                hold_end=stolen[1] + timedelta(minutes=15), status="confirmed", group_size=5))
        return times

    if db.kind == "sqlite":
        # SQLite serialises writers (BEGIN IMMEDIATE), so that race cannot happen there; the same
        # path is taken when the occurrence's own check inside its savepoint finds the date taken.
        await Booking.insert(Booking(
            resource=world["resource"].id, school=world["other_school"].id, teacher=world["stranger"].actor.user.id,
            start=stolen[0], end=stolen[1], hold_end=stolen[1] + timedelta(minutes=15), status="confirmed",
            group_size=5))
        monkeypatch.setattr(recurrence, "_judge", _judging_everything_free(recurrence._judge))
    else:
        monkeypatch.setattr(rules, "load_times", load_then_race)
    series, booked, skipped = await recurrence.book_series(world["teacher"], world["resource"].id, rule, spans, 10)
    assert [b.start for b in booked] == [spans[0][0], spans[1][0], spans[3][0]]
    assert [o.start for o in skipped] == [stolen[0]]
    holding = await Booking.objects().where(Booking.status.is_in(list(HOLDING_STATUSES))).order_by(Booking.start)
    assert len(holding) == 4 and {b.series for b in holding} == {series.id, None}


def _judging_everything_free(judge):
    async def judged(uow, resource, spans, group_size):
        result, times = await judge(uow, resource, spans, group_size)
        for occurrence in result:
            occurrence.state, occurrence.message = "free", ""
        return result, times
    return judged


async def test_a_series_whose_dates_are_all_taken_books_nothing_and_leaves_no_series(world, tuesday):
    from booking.tables import BookingSeries
    from core.errors import Conflict

    rule, spans = _weekly(tuesday, 2)
    for start, end in spans:
        await services.request_booking(world["stranger"], world["resource"].id, start, end, 5)
    with pytest.raises(Conflict):
        await recurrence.book_series(world["teacher"], world["resource"].id, rule, spans, 10)
    assert await BookingSeries.count() == 0


async def test_series_racing_single_bookings_over_http_never_fail(world, tuesday, app, db):
    """Series and single bookings for the same dates at once, on both engines: every answer is a
    201 or a 409, the holding bookings never overlap, and each series reports what it skipped."""
    tokens = [(await accounts.create_api_token(world[who], "race"))[1] for who in ("teacher", "stranger")]
    rule, spans = _weekly(tuesday)
    for hook in app.on_startup:
        await hook(app)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local",
                                     timeout=60) as client:
            def post(token, body):
                return client.post("/api/v1/bookings", headers={"Authorization": f"Bearer {token}"},
                                   json={"resource_id": world["resource"].id, "group_size": 6, **body})

            series = [post(tokens[0], {"start": spans[0][0].isoformat(), "end": spans[0][1].isoformat(),
                                       "rrule": rule}) for _ in range(3)]
            singles = [post(tokens[1], {"start": s.isoformat(), "end": e.isoformat()}) for s, e in spans[1:3] * 3]
            responses = await asyncio.gather(*series, *singles)
    finally:
        for hook in app.on_shutdown:
            await hook(app)
    assert all(r.status_code in (201, 409) for r in responses), [(r.status_code, r.text[:200]) for r in responses]
    for response in responses[:3]:
        if response.status_code == 201:
            body = response.json()
            assert len(body["bookings"]) + len(body["skipped"]) == len(spans)
            assert all(s["start"].endswith("+01:00") for s in body["skipped"])  # Brussels time with offset
    holding = await Booking.objects().where(Booking.status.is_in(list(HOLDING_STATUSES))).order_by(Booking.start)
    for first, second in zip(holding, holding[1:], strict=False):
        assert first.hold_end <= second.start, "two holding bookings overlap"
    assert {b.start for b in holding} == {s for s, _e in spans}  # every date went to someone


# --- events and mails ---------------------------------------------------------------------------

async def test_a_series_sends_one_mail_not_one_per_date_and_so_does_its_cancellation(world, tuesday, wb):
    from inventory.tables import Resource

    await Resource.update({Resource.needs_approval: False}, force=True)
    rule, spans = _weekly(tuesday, 6)
    _series, booked, _skipped = await recurrence.book_series(world["teacher"], world["resource"].id, rule, spans, 10)
    assert len(booked) == 6
    assert await _subjects("staff@metaal.be") == ["Nieuwe reeks reservaties voor Lasatelier"]
    assert await _subjects("sofie@vti.be") == ["Je reeks is bevestigd"]
    cancelled = await recurrence.cancel_series(world["teacher"], booked[2].id, "Stage", following=True)
    assert len(cancelled) == 4
    assert (await _subjects("staff@metaal.be"))[1:] == ["Data geannuleerd: Lasatelier"]
    assert (await _subjects("sofie@vti.be"))[1:] == ["Data van je reeks zijn geannuleerd"]
    await render_pending(wb.unit_of_work())
    mail = await OutboxMessage.objects().where(OutboxMessage.subject == "Data van je reeks zijn geannuleerd").first()
    assert "4 data van je reeks bij Lasatelier zijn geannuleerd:" in mail.body_text
    assert mail.body_text.count("\n- ") == 4  # the four dates, listed


async def test_a_commit_wakes_only_the_jobs_its_events_concern(world, tuesday, wb):
    wb.jobs._woken.clear()
    await services.request_booking(world["teacher"], world["resource"].id, at(tuesday, 9), at(tuesday, 11), 10)
    # a mail was queued, and owners' calendars may take the booking; no expiry or reminder scan
    assert wb.jobs._woken == {"outbox", "calendars.write_back"}


async def test_approved_waits_for_payment_where_a_payment_domain_says_so(world, tuesday, wb):
    booking = await services.request_booking(world["teacher"], world["resource"].id, at(tuesday, 9),
                                             at(tuesday, 11), 10)
    async def pay_first(uow, resource, price_cents, booking_id):
        return price_cents > 0

    wb.hooks.add("booking.payment_required", pay_first)
    approved = await services.approve(world["staff"], booking.id)
    assert approved.status == "approved"  # holds the slot, no "confirmed" mail yet
    assert "Je reservatie is bevestigd" not in await _subjects("sofie@vti.be")
    with pytest.raises(services.BookingConflict):
        await services.request_booking(world["stranger"], world["resource"].id, at(tuesday, 10), at(tuesday, 12), 5)
    confirmed = await services.confirm(world["staff"], booking.id, payment_method="card")
    assert confirmed.status == "confirmed" and confirmed.payment_method == "card"
    assert "Je reservatie is bevestigd" in await _subjects("sofie@vti.be")


# --- the clock ------------------------------------------------------------------------------------

async def test_a_frozen_clock_drives_notice_expiry_and_timestamps(world, settings, db, tuesday):
    from app import build_werkbank

    clock = FrozenClock(datetime.combine(tuesday - timedelta(days=3), time(10), BRUSSELS))
    frozen = build_werkbank(settings, db.engine, clock)
    teacher = frozen.unit_of_work(world["teacher"].actor)
    booking = await services.request_booking(teacher, world["resource"].id, at(tuesday, 9), at(tuesday, 11), 10)
    assert booking.created_at == clock.now()
    assert booking.expires_at == min(clock.now() + timedelta(days=world["resource"].request_expiry_days),
                                     booking.start)
    job = frozen.unit_of_work()
    assert await services.expire_due_job(job, 100) == 0
    clock.moment = booking.expires_at + timedelta(seconds=1)
    assert await services.expire_due_job(job, 100) == 1
    assert (await Booking.objects().first()).status == "expired"


# --- jobs ---------------------------------------------------------------------------------------

async def test_a_job_runs_in_one_process_at_a_time_and_records_its_run(world, tuesday, settings, db, wb):
    from app import build_werkbank

    other = build_werkbank(settings, db.engine)
    started = asyncio.Event()
    release = asyncio.Event()
    calls = []

    async def slow(uow, batch):
        calls.append(1)
        started.set()
        await release.wait()
        return 0

    for registry in (wb, other):
        registry.jobs.jobs["booking.expiry"].run = slow
    first = asyncio.create_task(wb.jobs.run("booking.expiry"))
    await started.wait()
    second = await other.jobs.run("booking.expiry")  # leased by the first: not run
    release.set()
    ran = await first
    assert ran.ran and not second.ran and len(calls) == 1
    state = await JobState.objects().where(JobState.name == "booking.expiry").first()
    assert state.runs == 1 and state.locked_until is None and state.next_run_at > state.last_finished_at
    overview = {row["name"]: row for row in await wb.jobs.overview()}
    assert set(overview) == {"outbox", "accounts.password_resets", "booking.expiry", "booking.reminders", "inventory.imports",
                             "calendars.sync", "calendars.write_back", "payments.deadlines", "payments.stripe",
                             "inventory.search_records"}
    assert overview["booking.expiry"]["last_error"] == ""


async def test_a_failing_job_records_its_error_and_the_others_still_run(wb, db):
    async def broken(uow, batch):
        raise RuntimeError("smtp down")

    wb.jobs.jobs["booking.reminders"].run = broken
    runs = {run.name: run for run in await wb.jobs.run_due()}
    assert runs["booking.reminders"].error == "RuntimeError: smtp down"
    assert runs["outbox"].ran and runs["booking.expiry"].ran
    state = await JobState.objects().where(JobState.name == "booking.reminders").first()
    assert state.last_error == "RuntimeError: smtp down"


# --- one source for each rule -------------------------------------------------------------------

async def test_the_exclusion_constraint_holds_the_same_statuses_as_the_code(db):
    if db.kind != "postgresql":
        pytest.skip("the exclusion constraint exists on PostgreSQL only")
    rows = await Booking.raw("SELECT pg_get_constraintdef(oid) AS definition FROM pg_constraint "
                             "WHERE conname = 'booking_no_overlap'")
    definition = rows[0]["definition"]
    for status in HOLDING_STATUSES:
        assert f"'{status}'" in definition
    for status in set(Booking.Status._value2member_map_) - set(HOLDING_STATUSES):
        assert f"'{status}'" not in definition


@pytest.mark.parametrize("day, expected_utc, expected_wall", [
    # 02:30 does not exist on 28 March 2027: it moves forward by the gap, to 03:30 summer time
    (date(2027, 3, 28), datetime(2027, 3, 28, 1, 30, tzinfo=timezone.utc), time(3, 30)),
    # 02:30 happens twice on 31 October 2027: the first (summer time) counts
    (date(2027, 10, 31), datetime(2027, 10, 31, 0, 30, tzinfo=timezone.utc), time(2, 30)),
])
def test_wall_time_in_the_daylight_saving_changes(day, expected_utc, expected_wall):
    moment = wall_time(day, time(2, 30))
    assert moment == expected_utc
    assert moment.astimezone(BRUSSELS).time() == expected_wall


def test_events_carry_what_subscribers_need():
    event = events.BookingCancelled(booking_id=1, resource_id=2, owner_id=3, school_id=4, teacher_id=5,
                                    by_owner=True)
    assert event.series_id is None and not event.part_of_series


# --- repeat rules: the subset people use, checked before anything is expanded ------------------

@pytest.mark.parametrize("rule", [
    "FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=31;COUNT=1",  # the probe's rule that froze the server
    "FREQ=MONTHLY;COUNT=3", "FREQ=YEARLY;UNTIL=20300101", "FREQ=WEEKLY", "FREQ=WEEKLY;COUNT=61",
    "FREQ=WEEKLY;COUNT=2;UNTIL=20270101", "FREQ=WEEKLY;BYDAY=XX;COUNT=2", "FREQ=WEEKLY;BYDAY=1MO;COUNT=2",
    "FREQ=WEEKLY;BYSETPOS=1;COUNT=2", "FREQ=WEEKLY;UNTIL=29991231", "FREQ=WEEKLY;INTERVAL=0;COUNT=2",
    "FREQ=WEEKLY;COUNT=2;COUNT=3", "FREQ=WEEKLY;UNTIL=2027", "FREQ=WEEKLY;COUNT=2;" + "X" * 400, "",
])
def test_a_repeat_rule_outside_the_subset_is_refused_with_what_is_allowed(rule, tuesday):
    from core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        recurrence.expand(rule, tuesday, time(9), time(11))
    assert refused.value.fields["rrule"] and refused.value.extra["rule"] == "rrule"


@pytest.mark.parametrize("rule, count", [
    ("FREQ=DAILY;COUNT=3", 3), ("RRULE:FREQ=WEEKLY;COUNT=2", 2), ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;COUNT=4", 4),
    ("freq=weekly;byday=tu;count=5", 5),
])
def test_the_repeat_rules_people_use_expand(rule, count, tuesday):
    spans = recurrence.expand(rule, tuesday, time(9), time(11))
    assert len(spans) == count
    assert all(s.astimezone(BRUSSELS).time() == time(9) for s, _e in spans)


async def test_a_series_past_the_booking_horizon_is_refused(client, world, tuesday):
    _r, token = await accounts.create_api_token(world["teacher"], "api")
    response = await client.post("/api/v1/bookings", headers={"Authorization": f"Bearer {token}"}, json={
        "resource_id": world["resource"].id, "start": f"{tuesday}T09:00", "end": f"{tuesday}T11:00", "group_size": 5,
        "rrule": "FREQ=WEEKLY;COUNT=30"})  # the resource is booked at most 120 days ahead
    assert response.status_code == 422 and response.json()["rule"] == "rrule"
    assert "120 dagen" in response.json()["detail"]
    assert await Booking.count() == 0
