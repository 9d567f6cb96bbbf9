"""A booking's life: approve, decline, cancel, expire, complete, no-show; the waitlist; who may
do what; the audit trail; the mails."""

from datetime import datetime, timedelta, timezone

import pytest

from booking import services
from booking.tables import Booking, WaitlistEntry
from core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from core.mail import render_pending
from core.tables import AuditEntry, OutboxMessage
from tests.booking.conftest import at


async def _request(world, day, start=(9, 0), end=(11, 0), who="teacher"):
    return await services.request_booking(world[who], world["resource"].id, at(day, *start), at(day, *end), 10)


async def _subjects(to: str) -> list[str]:
    return [m.subject for m in await OutboxMessage.objects().where(OutboxMessage.to_address == to).order_by(
        OutboxMessage.id)]


async def test_the_owner_approves_and_the_teacher_gets_a_mail(world, tuesday):
    booking = await _request(world, tuesday)
    with pytest.raises(NotAllowed):
        await services.approve(world["teacher"], booking.id)  # a teacher does not approve
    approved = await services.approve(world["staff"], booking.id)
    assert approved.status == "confirmed" and approved.payment_method == "invoice"
    assert approved.sequence == 1
    assert "Je reservatie is bevestigd" in await _subjects("sofie@vti.be")
    with pytest.raises(Conflict, match="kan niet meer veranderen"):
        await services.approve(world["staff"], booking.id)
    actions = [r["action"] for r in await AuditEntry.select(AuditEntry.action).where(
        AuditEntry.object_type == "booking").order_by(AuditEntry.id)]  # without ORDER BY, PostgreSQL may answer in any order
    assert actions == ["booking.requested", "booking.approved", "booking.invoiced"]  # a price, paid on invoice


async def test_declining_needs_a_reason_and_frees_the_slot(world, tuesday):
    booking = await _request(world, tuesday)
    with pytest.raises(ValidationFailed, match="een reden is verplicht"):
        await services.decline(world["staff"], booking.id, "  ")
    declined = await services.decline(world["staff"], booking.id, "Machine in onderhoud")
    assert declined.status == "declined" and declined.reason == "Machine in onderhoud"
    await render_pending(world["staff"])
    mail = await OutboxMessage.objects().where(OutboxMessage.subject == "Je aanvraag werd geweigerd").first()
    assert "Reden: Machine in onderhoud" in mail.body_text
    again = await _request(world, tuesday, who="stranger")
    assert again.status == "requested"


async def test_another_school_sees_nothing_and_changes_nothing(world, tuesday):
    booking = await _request(world, tuesday)
    for action in (services.view(world["stranger"], booking.id), services.cancel(world["stranger"], booking.id)):
        with pytest.raises(NotFound):
            await action
    # A colleague of the same school may see and cancel it.
    assert (await services.view(world["colleague"], booking.id)).booking.id == booking.id
    assert (await services.cancel(world["colleague"], booking.id, "Ziek")).status == "cancelled"


async def test_cancelling_late_costs_what_the_policy_says(world, tuesday):
    from inventory.tables import Resource

    early = await _request(world, tuesday)
    cancelled = await services.cancel(world["teacher"], early.id, "Andere planning")
    assert cancelled.cancellation_fee_cents == 0  # a week ahead: free
    await Resource.update({Resource.free_cancellation_hours: 24 * 30}, force=True)
    late = await _request(world, tuesday)
    cancelled = await services.cancel(world["teacher"], late.id)
    assert cancelled.cancellation_fee_cents == 18000 * 50 // 100
    assert "Je reservatie is geannuleerd" in await _subjects("sofie@vti.be")
    assert "Reservatie geannuleerd: Lasatelier" in await _subjects("staff@metaal.be")


async def test_the_owner_cancels_with_a_reason(world, tuesday):
    booking = await _request(world, tuesday)
    with pytest.raises(ValidationFailed):
        await services.cancel(world["staff"], booking.id, "")
    cancelled = await services.cancel(world["staff"], booking.id, "Stroompanne")
    assert cancelled.status == "cancelled" and cancelled.cancellation_fee_cents == 0
    await render_pending(world["staff"])
    mail = await OutboxMessage.objects().where(OutboxMessage.subject == "Je reservatie is geannuleerd").first()
    assert "De eigenaar annuleerde je reservatie:" in mail.body_text


async def test_an_unanswered_request_expires_frees_the_slot_and_tells_the_teacher(world, tuesday):
    booking = await _request(world, tuesday)
    await Booking.update({Booking.expires_at: datetime.now(timezone.utc) - timedelta(minutes=1)}, force=True)
    await services.expire_due_job(world["staff"], 200)
    assert (await Booking.objects().first()).status == "expired"
    assert "Je aanvraag is vervallen" in await _subjects("sofie@vti.be")
    assert (await _request(world, tuesday, who="stranger")).status == "requested"
    assert booking.id != (await Booking.objects().order_by(Booking.id, ascending=False).first()).id


async def test_the_waitlist_offers_a_freed_slot_to_the_first_in_line(world, tuesday):
    booking = await _request(world, tuesday)
    entry = await services.join_waitlist(world["stranger"], world["resource"].id, at(tuesday, 9), at(tuesday, 11), 8)
    with pytest.raises(Conflict, match="al op de wachtlijst"):
        await services.join_waitlist(world["stranger"], world["resource"].id, at(tuesday, 9), at(tuesday, 11), 8)
    await services.cancel(world["teacher"], booking.id, "Uitstap verplaatst")
    offer = await Booking.objects().where(Booking.waitlist_offer == True).first()  # noqa: E712
    assert offer.school == world["other_school"].id and offer.status == "requested"
    assert offer.expires_at <= datetime.now(timezone.utc) + timedelta(hours=services.OFFER_HOURS)
    assert (await WaitlistEntry.objects().where(WaitlistEntry.id == entry.id).first()).status == "offered"
    assert "Er kwam een plaats vrij voor je" in await _subjects("an@go.be")
    # The offer holds the slot: nobody else gets it meanwhile.
    with pytest.raises(services.BookingConflict):
        await _request(world, tuesday, who="colleague")
    accepted = await services.accept_offer(world["stranger"], offer.id)
    assert accepted.status == "requested" and not accepted.waitlist_offer  # the owner still approves
    assert (await WaitlistEntry.objects().where(WaitlistEntry.id == entry.id).first()).status == "accepted"


async def test_an_offer_not_taken_in_time_goes_to_the_next_in_line(world, tuesday):
    booking = await _request(world, tuesday)
    await services.join_waitlist(world["stranger"], world["resource"].id, at(tuesday, 9), at(tuesday, 11), 8)
    await services.join_waitlist(world["colleague"], world["resource"].id, at(tuesday, 9), at(tuesday, 11), 8)
    await services.cancel(world["teacher"], booking.id)
    await Booking.update({Booking.expires_at: datetime.now(timezone.utc) - timedelta(seconds=1)}).where(
        Booking.waitlist_offer == True)  # noqa: E712
    await services.expire_due_job(world["staff"], 200)
    offers = await Booking.objects().where(Booking.waitlist_offer == True).order_by(Booking.id)  # noqa: E712
    assert [o.status for o in offers] == ["expired", "requested"]
    assert offers[1].teacher == world["colleague"].actor.user.id


async def test_after_the_date_the_owner_marks_it_done_or_no_show(world, tuesday):
    first = await _request(world, tuesday)
    second = await _request(world, tuesday, (13, 0), (15, 0))
    for booking in (first, second):
        await services.approve(world["staff"], booking.id)
    with pytest.raises(NotAllowed):
        await services.complete(world["staff"], first.id, 9)  # not begun yet
    await Booking.update({Booking.start: Booking.start - timedelta(days=30), Booking.end: Booking.end - timedelta(days=30),
                          Booking.hold_end: Booking.hold_end - timedelta(days=30)}, force=True)
    with pytest.raises(NotAllowed):
        await services.complete(world["teacher"], first.id, 9)
    with pytest.raises(ValidationFailed):
        await services.complete(world["staff"], first.id, 0)
    done = await services.complete(world["staff"], first.id, 9)
    assert done.status == "completed" and done.pupils_attended == 9
    assert (await services.mark_no_show(world["staff"], second.id)).status == "no_show"


async def test_a_reminder_two_days_before_once(world, tuesday):
    from datetime import time

    from inventory.tables import OpeningHours, Resource

    await Resource.update({Resource.min_notice_hours: 0}, force=True)
    await OpeningHours.insert(*[OpeningHours(resource=world["resource"].id, weekday=day, opens=time(8), closes=time(16))
                                for day in (5, 6)])  # open every day, so tomorrow always works
    soon = datetime.now(timezone.utc).astimezone(at(tuesday, 9).tzinfo).date() + timedelta(days=1)
    booking = await _request(world, soon)
    await services.approve(world["staff"], booking.id)
    await services.reminders_job(world["staff"], 200)
    await services.reminders_job(world["staff"], 200)
    assert (await _subjects("sofie@vti.be")).count("Herinnering: je reservatie over twee dagen") == 1


async def test_a_failing_subscriber_rolls_back_the_whole_change(world, tuesday, wb):
    from booking import events

    async def broken(uow, event):
        raise RuntimeError("a subscriber failed")

    wb.subscribe(events.BookingRequested, broken)
    with pytest.raises(RuntimeError):
        await _request(world, tuesday)
    assert await Booking.count() == 0
    assert await AuditEntry.count().where(AuditEntry.object_type == "booking") == 0
    assert await OutboxMessage.count() == 0
    assert world["teacher"].events == []  # nothing is published after a rollback
    wb.events._inside[events.BookingRequested].remove(broken)
    booking = await _request(world, tuesday)
    wb.subscribe(events.BookingDeclined, broken)
    with pytest.raises(RuntimeError):
        await services.decline(world["staff"], booking.id, "Onderhoud")
    assert (await Booking.objects().first()).status == "requested"  # the transition rolled back too
    assert await OutboxMessage.count() == 1  # only the request's mail to the owner
