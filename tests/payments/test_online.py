"""Paying a booking online against localstripe: the school pays on Werkbank's page (a
PaymentIntent made there), Stripe's signed webhook confirms the booking; declined cards, 3-D
Secure, replayed, forged and out-of-order events, refunds by the cancellation policy, and a
payment that arrives after the deadline."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta

import pytest

from booking import services as bookings
from booking.tables import Booking
from core.tables import OutboxMessage
from payments import services
from payments.tables import Payment, Refund, StripeEvent
from tests.booking.conftest import at, next_weekday
from tests.conftest import csrf, login
from tests.payments.conftest import CARD_3DS, CARD_DECLINED, CARD_OK, deliver, sign_payload


async def held_booking(shop, day_offset: int = 0, hour: int = 9):
    """A request of the robot, approved by the owner: it now waits for payment."""
    day = next_weekday(1) + timedelta(days=7 * day_offset)
    booking = await bookings.request_booking(shop["teacher"], shop["robot"].id, at(day, hour), at(day, hour + 2), 10)
    assert booking.status == "requested"
    approved = await bookings.approve(shop["staff"], booking.id)
    assert approved.status == "approved"
    return approved


async def open_pay_page(client, booking_id: int) -> str:
    await login(client, "sofie@vti.be")
    page = await client.get(f"/payments/bookings/{booking_id}")
    assert page.status_code == 200, page.text
    assert "€\xa0180,00" in page.text
    assert "js.stripe.com/v3/" in page.text and "payment-element" in page.text
    assert "frame-src" in page.headers["content-security-policy"]
    return page.text


async def intent_of(booking_id: int) -> str:
    payment = await Payment.objects().output(load_json=True).where(Payment.booking == booking_id).first()
    return payment.info["intent"]


async def status_of(booking_id: int) -> tuple[str, str]:
    booking = await Booking.objects().where(Booking.id == booking_id).first()
    payment = await Payment.objects().output(load_json=True).where(Payment.booking == booking_id).first()
    return booking.status, payment.status


async def test_pay_online_confirms_by_webhook_once(client, shop, stripe_local):
    booking = await held_booking(shop)
    payment = await Payment.objects().output(load_json=True).where(Payment.booking == booking.id).first()
    assert (payment.provider, payment.amount_cents, payment.status) == ("stripe", 18000, "open")
    assert payment.due_at is not None and payment.due_at <= booking.start
    mails = await OutboxMessage.select(OutboxMessage.template).where(OutboxMessage.to_address == "sofie@vti.be")
    assert "payments/mail/pay.txt" in [m["template"] for m in mails]

    html = await open_pay_page(client, booking.id)
    intent = await intent_of(booking.id)
    assert f'data-secret="{intent}_secret_' in html
    home = await client.get("/")
    assert "Te betalen: 1" in home.text and f'href="/payments/bookings/{booking.id}"' in home.text
    again = await client.get(f"/payments/bookings/{booking.id}")  # a reload keeps the same PaymentIntent
    assert again.status_code == 200 and await intent_of(booking.id) == intent

    paid = stripe_local.pay(intent, CARD_OK)
    assert paid.status == "succeeded"
    assert await status_of(booking.id) == ("approved", "open")  # the browser's word is not enough
    delivery = await stripe_local.wait_for_async("payment_intent.succeeded", intent)
    answer = await deliver(client, delivery)
    assert answer.status_code == 200 and answer.json()["outcome"] == "confirmed"
    assert await status_of(booking.id) == ("confirmed", "succeeded")

    assert "Te betalen" not in (await client.get("/")).text
    replay = await deliver(client, delivery)
    assert replay.status_code == 200 and replay.json()["outcome"] == "duplicate"
    assert await StripeEvent.count().where(StripeEvent.event_id == delivery.event_id) == 1
    done = await client.get(f"/payments/bookings/{booking.id}/done")
    assert "Betaald. Je reservatie is bevestigd." in done.text
    page = await client.get(f"/bookings/{booking.id}")
    assert "Ontvangstbewijs" in page.text
    receipt = await client.get(f"/payments/{payment.id}/receipt")
    assert receipt.status_code == 200 and "€\xa0180,00" in receipt.text


async def test_forged_and_stale_signatures_change_nothing(client, shop, stripe_local):
    booking = await held_booking(shop)
    await open_pay_page(client, booking.id)
    intent = await intent_of(booking.id)
    stripe_local.pay(intent, CARD_OK)
    delivery = await stripe_local.wait_for_async("payment_intent.succeeded", intent)
    forged = await deliver(client, delivery, signature=sign_payload(delivery.body, "whsec_not_ours"))
    assert forged.status_code == 400 and forged.headers["content-type"].startswith("application/problem+json")
    stale = await deliver(client, delivery, signature=sign_payload(delivery.body, stripe_local.webhook_secret,
                                                                  int(time.time()) - 3600))
    assert stale.status_code == 400
    tampered = json.loads(delivery.body)
    tampered["data"]["object"]["id"] = "pi_someone_else"
    changed = await deliver(client, delivery.__class__(**{**delivery.__dict__, "body": json.dumps(tampered).encode()}))
    assert changed.status_code == 400
    assert await StripeEvent.count() == 0
    assert await status_of(booking.id) == ("approved", "open")


async def test_events_out_of_order(client, shop, stripe_local):
    """An older failure arrives after the success (Stripe does not promise order): the object is
    read again from Stripe, which says succeeded, so the paid booking stays confirmed."""
    booking = await held_booking(shop)
    await open_pay_page(client, booking.id)
    intent = await intent_of(booking.id)
    stripe_local.pay(intent, CARD_OK)
    succeeded = await stripe_local.wait_for_async("payment_intent.succeeded", intent)
    assert (await deliver(client, succeeded)).json()["outcome"] == "confirmed"
    older = json.loads(succeeded.body)
    older.update(id="evt_older_failure", type="payment_intent.payment_failed", created=older["created"] - 5)
    body = json.dumps(older).encode()
    late = await deliver(client, succeeded.__class__(**{**succeeded.__dict__, "body": body}),
                         signature=sign_payload(body, stripe_local.webhook_secret))
    assert late.status_code == 200 and late.json()["outcome"] == "already_paid"
    assert await status_of(booking.id) == ("confirmed", "succeeded")


async def test_declined_card_lets_the_school_try_again(client, shop, stripe_local):
    booking = await held_booking(shop)
    await open_pay_page(client, booking.id)
    intent = await intent_of(booking.id)
    stripe_local.pay(intent, CARD_DECLINED)
    failed = await stripe_local.wait_for_async("payment_intent.payment_failed", intent)
    assert (await deliver(client, failed)).json()["outcome"] == "failed"
    assert await status_of(booking.id) == ("approved", "failed")
    page = await client.get(f"/payments/bookings/{booking.id}")
    assert "mislukt" in page.text and 'id="payment-form"' in page.text


async def test_three_d_secure(client, shop, stripe_local):
    booking = await held_booking(shop)
    await open_pay_page(client, booking.id)
    intent = await intent_of(booking.id)
    assert stripe_local.pay(intent, CARD_3DS).status == "requires_action"
    stripe_local.authenticate(intent, True)
    delivery = await stripe_local.wait_for_async("payment_intent.succeeded", intent)
    assert (await deliver(client, delivery)).json()["outcome"] == "confirmed"
    assert await status_of(booking.id) == ("confirmed", "succeeded")


async def paid_booking(client, shop, stripe_local, **kw):
    booking = await held_booking(shop, **kw)
    await open_pay_page(client, booking.id)
    intent = await intent_of(booking.id)
    stripe_local.pay(intent, CARD_OK)
    await deliver(client, await stripe_local.wait_for_async("payment_intent.succeeded", intent))
    assert await status_of(booking.id) == ("confirmed", "succeeded")
    return booking, intent


async def test_school_cancellation_refunds_what_the_policy_leaves(client, shop, stripe_local, uow_for):
    booking, intent = await paid_booking(client, shop, stripe_local)
    page = await client.get(f"/bookings/{booking.id}/cancel")
    assert "€\xa090,00" in page.text  # what comes back, shown before confirming (half kept: late)
    cancelled = await bookings.cancel(shop["teacher"], booking.id, "ziek")
    assert cancelled.cancellation_fee_cents == 9000
    refund = await Refund.objects().where(Refund.payment == (await Payment.objects().output(load_json=True).where(
        Payment.booking == booking.id).first()).id).first()
    assert (refund.amount_cents, refund.status, refund.reason) == (9000, "to_send", "cancelled")
    assert await services.stripe_job(uow_for(None), 10) >= 1
    refund = await Refund.objects().where(Refund.id == refund.id).first()
    assert refund.status == "succeeded"
    at_stripe = stripe_local.client().v1.refunds.list({"payment_intent": intent})
    assert [r.amount for r in at_stripe.data] == [9000]
    payment = await Payment.objects().output(load_json=True).where(Payment.booking == booking.id).first()
    assert (payment.amount_cents, payment.refunded_cents) == (18000, 9000)
    assert await services.stripe_job(uow_for(None), 10) == 0  # sent once, never twice


async def test_owner_cancellation_refunds_everything(client, shop, stripe_local, uow_for):
    booking, intent = await paid_booking(client, shop, stripe_local)
    await bookings.cancel(shop["staff"], booking.id, "machine defect")
    await services.stripe_job(uow_for(None), 10)
    at_stripe = stripe_local.client().v1.refunds.list({"payment_intent": intent})
    assert [r.amount for r in at_stripe.data] == [18000]
    payment = await Payment.objects().output(load_json=True).where(Payment.booking == booking.id).first()
    assert payment.refunded_cents == 18000
    overview = await client.get("/payments")  # the school's staff: paid, refunded, nothing to pay
    totals = re.findall(r"<small>([^<]+)</small><p><strong>([^<]+)</strong>", overview.text)
    assert totals == [("Online betaald", "€\xa0180,00"), ("Online terugbetaald", "€\xa0180,00"), ("Online te betalen", "€\xa00,00"),
                      ("Openstaande facturen", "€\xa00,00")]
    assert f"/payments/{payment.id}/receipt" in overview.text


async def test_unpaid_booking_expires_and_a_late_payment_is_refunded(client, shop, stripe_local, uow_for):
    booking = await held_booking(shop)
    await open_pay_page(client, booking.id)
    intent = await intent_of(booking.id)
    await Payment.update({Payment.due_at: datetime.now().astimezone() - timedelta(minutes=1)}).where(
        Payment.booking == booking.id)
    assert await services.deadlines_job(uow_for(None), 10) == 1
    assert await status_of(booking.id) == ("expired", "expired")
    # Someone else takes the freed time.
    other = await bookings.request_booking(shop["stranger"], shop["robot"].id, booking.start, booking.end, 8)
    assert other.status == "requested"
    # The first school's payment still arrives.
    stripe_local.pay(intent, CARD_OK)
    delivery = await stripe_local.wait_for_async("payment_intent.succeeded", intent)
    assert (await deliver(client, delivery)).json()["outcome"] == "refunded_late"
    assert await status_of(booking.id) == ("expired", "succeeded")
    assert (await Booking.objects().where(Booking.id == other.id).first()).status == "requested"
    await services.stripe_job(uow_for(None), 10)
    at_stripe = stripe_local.client().v1.refunds.list({"payment_intent": intent})
    assert [r.amount for r in at_stripe.data] == [18000]
    mails = await OutboxMessage.select(OutboxMessage.template).where(OutboxMessage.to_address == "sofie@vti.be")
    assert "payments/mail/late.txt" in [m["template"] for m in mails]


async def test_others_cannot_pay_or_see_the_payment(client, shop, stripe_local):
    booking = await held_booking(shop)
    await login(client, "an@go.be")
    assert (await client.get(f"/payments/bookings/{booking.id}")).status_code == 404
    assert (await client.post(f"/payments/bookings/{booking.id}/card", json={"payment_method": "pm_card_visa"},
                              headers={"X-CSRFToken": "x"})).status_code in (403, 404)


@pytest.mark.parametrize("mode", ["online"])
async def test_resource_without_approval_waits_for_payment(client, shop, stripe_local, create_resource, mode):
    quick = await create_resource(shop["facility"], name="Cobot", category="cobots-robotics", price_model="per_hour",
                                  price="25", payment_mode=mode, needs_approval="", min_notice_hours="0")
    day = next_weekday(2)
    booking = await bookings.request_booking(shop["teacher"], quick.id, at(day, 9), at(day, 11), 6)
    assert booking.status == "approved"
    assert await status_of(booking.id) == ("approved", "open")
    payment = await Payment.objects().where(Payment.booking == booking.id).first()
    assert payment.amount_cents == 5000


def signed(stripe_local, event: dict):
    from tests.payments.conftest import Delivery

    body = json.dumps(event).encode()
    fields = {name: None for name in Delivery.__dataclass_fields__}
    fields.update(body=body, signature=sign_payload(body, stripe_local.webhook_secret))
    return Delivery(**{k: v for k, v in fields.items()})


async def test_events_about_others_objects_are_recorded_and_left_alone(client, shop, stripe_local):
    event = {"id": "evt_not_ours", "object": "event", "type": "payment_intent.succeeded", "created": int(time.time()),
             "data": {"object": {"id": "pi_of_another_system", "object": "payment_intent"}}}
    answer = await deliver(client, signed(stripe_local, event))
    assert answer.status_code == 200 and answer.json()["outcome"] == "ignored"
    assert await StripeEvent.count().where(StripeEvent.event_id == "evt_not_ours") == 1
    garbage = await client.post("/webhooks/stripe", content=b"not json", headers={"Stripe-Signature": "t=1,v1=00"})
    assert garbage.status_code == 400


async def test_a_refund_event_after_the_job_counts_the_refund_once(client, shop, stripe_local, uow_for):
    booking, intent = await paid_booking(client, shop, stripe_local)
    await bookings.cancel(shop["teacher"], booking.id, "")
    await services.stripe_job(uow_for(None), 10)
    event = {"id": "evt_charge_refunded", "object": "event", "type": "charge.refunded", "created": int(time.time()),
             "data": {"object": {"id": "ch_x", "object": "charge", "payment_intent": intent}}}
    answer = await deliver(client, signed(stripe_local, event))
    assert answer.status_code == 200 and answer.json()["outcome"] == "already_paid,refund_succeeded"
    payment = await Payment.objects().where(Payment.booking == booking.id).first()
    assert payment.refunded_cents == 9000


async def test_a_moved_unpaid_booking_is_not_expired_while_the_owner_decides_and_opens_again(client, shop, stripe_local,
                                                                                           uow_for):
    booking = await held_booking(shop)
    day = next_weekday(1)
    moved = await bookings.reschedule(shop["teacher"], booking.id, at(day, 13), at(day, 15))
    assert moved.status == "requested"  # back at the owner
    await Payment.update({Payment.due_at: datetime.now().astimezone() - timedelta(minutes=1)}).where(
        Payment.booking == booking.id)
    assert await services.deadlines_job(uow_for(None), 10) == 0  # waits for the owner, not for the school
    assert await status_of(booking.id) == ("requested", "open")
    await bookings.approve(shop["staff"], booking.id)
    payment = await Payment.objects().where(Payment.booking == booking.id).first()
    assert payment.status == "open" and payment.due_at > datetime.now().astimezone()
    await open_pay_page(client, booking.id)


async def test_a_failed_refund_is_sent_again_by_the_owner(client, shop, stripe_local, uow_for):
    booking, intent = await paid_booking(client, shop, stripe_local)
    await bookings.cancel(shop["staff"], booking.id, "defect")
    refund = await Refund.objects().first()
    await Refund.update({Refund.status: "failed", Refund.error: "expired card"}).where(Refund.id == refund.id)
    await client.post("/logout", data={"_csrf_token": await csrf(client, "/payments")})
    await login(client, "staff@metaal.be")
    overview = await client.get("/payments")
    assert f'action="/payments/refunds/{refund.id}/retry"' in overview.text
    answer = await client.post(f"/payments/refunds/{refund.id}/retry", data={"_csrf_token": await csrf(client, "/payments")})
    assert answer.status_code == 200 and "opnieuw verstuurd" in answer.text
    await services.stripe_job(uow_for(None), 10)
    assert (await Refund.objects().where(Refund.id == refund.id).first()).status == "succeeded"
    at_stripe = stripe_local.client().v1.refunds.list({"payment_intent": intent})
    assert [r.amount for r in at_stripe.data] == [18000]


async def test_an_unpaid_booking_is_reminded_once_before_its_deadline(shop, stripe_local, uow_for):
    booking = await held_booking(shop)
    now = datetime.now().astimezone()
    await Payment.update({Payment.due_at: now + timedelta(hours=20), Payment.created_at: now - timedelta(hours=30)}).where(
        Payment.booking == booking.id)
    assert await services.deadlines_job(uow_for(None), 10) == 1
    assert await services.deadlines_job(uow_for(None), 10) == 0  # once
    mails = await OutboxMessage.select(OutboxMessage.template).where(OutboxMessage.to_address == "sofie@vti.be")
    assert [m["template"] for m in mails].count("payments/mail/reminder.txt") == 1
    assert await status_of(booking.id) == ("approved", "open")
    from core import mail

    assert await mail.render_pending(uow_for(None)) >= 2
    bodies = await OutboxMessage.select(OutboxMessage.subject, OutboxMessage.body_text).where(
        OutboxMessage.template.like("payments/%"))
    reminder = next(m for m in bodies if m["subject"] == "Herinnering: betaal je reservatie")
    assert f"http://testserver.local/payments/bookings/{booking.id}" in reminder["body_text"]
    assert "€\xa0180,00" in reminder["body_text"] and "Lasrobot" in reminder["body_text"]
