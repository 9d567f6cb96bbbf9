"""The localstripe fixtures themselves (no database): payments, signed webhooks, 3-D Secure,
refunds, forged signatures, and a captured webhook delivered to an app."""

from __future__ import annotations

import time

import httpx
import pytest
import stripe
from litestar import Litestar, Request, post
from litestar.exceptions import HTTPException

from tests.payments.conftest import (
    CARD_3DS,
    CARD_DECLINED,
    CARD_OK,
    WEBHOOK_PATH,
    deliver,
    sign_payload,
)


def _intent(local, amount: int = 2500) -> stripe.PaymentIntent:
    return local.client().v1.payment_intents.create({"amount": amount, "currency": "eur", "metadata": {"test": "yes"}})


def test_payment_succeeded_webhook_is_signed(stripe_local):
    intent = _intent(stripe_local)
    assert intent.status == "requires_payment_method"

    paid = stripe_local.pay(intent.id, CARD_OK)
    assert paid.status == "succeeded"

    delivery = stripe_local.wait_for("payment_intent.succeeded", intent.id)
    event = stripe.Webhook.construct_event(delivery.body, delivery.signature, stripe_local.webhook_secret)
    assert event.type == "payment_intent.succeeded"
    assert event.data.object.id == intent.id
    assert event.data.object.amount == 2500
    assert event.data.object.metadata.to_dict() == {"test": "yes"}


def test_declined_card_gives_payment_failed(stripe_local):
    intent = _intent(stripe_local)

    after = stripe_local.pay(intent.id, CARD_DECLINED)
    assert after.status == "requires_payment_method"
    assert after.last_payment_error.code == "card_declined"

    delivery = stripe_local.wait_for("payment_intent.payment_failed", intent.id)
    stripe.Webhook.construct_event(delivery.body, delivery.signature, stripe_local.webhook_secret)
    assert delivery.object["last_payment_error"]["code"] == "card_declined"
    assert stripe_local.deliveries("payment_intent.succeeded") == []


def test_three_d_secure_requires_action_then_succeeds(stripe_local):
    intent = _intent(stripe_local)

    pending = stripe_local.pay(intent.id, CARD_3DS)
    assert pending.status == "requires_action"
    assert pending.next_action.type == "use_stripe_sdk"

    assert stripe_local.authenticate(intent.id, success=True).status == "succeeded"
    assert stripe_local.wait_for("payment_intent.succeeded", intent.id).object["status"] == "succeeded"


def test_failed_authentication_needs_a_new_payment_method(stripe_local):
    intent = _intent(stripe_local)
    assert stripe_local.pay(intent.id, CARD_3DS).status == "requires_action"

    after = stripe_local.authenticate(intent.id, success=False)
    assert after.status == "requires_payment_method"
    assert after.last_payment_error.code == "payment_intent_authentication_failure"


def test_partial_refund(stripe_local):
    intent = _intent(stripe_local, amount=4000)
    stripe_local.pay(intent.id, CARD_OK)
    client = stripe_local.client()

    refund = client.v1.refunds.create({"payment_intent": intent.id, "amount": 1500})
    fetched = client.v1.refunds.retrieve(refund.id)
    assert (fetched.amount, fetched.status, fetched.payment_intent) == (1500, "succeeded", intent.id)
    charge = client.v1.payment_intents.retrieve(intent.id).latest_charge  # the whole Charge here, not an id
    assert (charge.amount_refunded, charge.refunded) == (1500, False)


def test_signature_with_wrong_secret_or_stale_timestamp_fails(stripe_local):
    body = b'{"id": "evt_forged", "object": "event", "type": "payment_intent.succeeded", "data": {"object": {}}}'
    good = sign_payload(body, stripe_local.webhook_secret)
    stripe.Webhook.construct_event(body, good, stripe_local.webhook_secret)

    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, sign_payload(body, "whsec_wrong"), stripe_local.webhook_secret)
    stale = sign_payload(body, stripe_local.webhook_secret, timestamp=int(time.time()) - 3600)
    with pytest.raises(stripe.SignatureVerificationError, match="tolerance"):
        stripe.Webhook.construct_event(body, stale, stripe_local.webhook_secret)


def test_late_webhooks_of_earlier_events_are_set_aside(stripe_local):
    earlier = _intent(stripe_local)
    stripe_local.pay(earlier.id, CARD_OK)
    stripe_local.clear()  # as between two tests: the earlier webhook is still on its way
    later = _intent(stripe_local)
    stripe_local.pay(later.id, CARD_OK)

    stripe_local.wait_for("payment_intent.succeeded", later.id)
    deadline = time.monotonic() + 5
    while earlier.id not in [d.object_id for d in stripe_local._capture.ignored] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert earlier.id in [d.object_id for d in stripe_local._capture.ignored]  # (with any from the test before)
    assert [d.object_id for d in stripe_local.deliveries()] == [later.id]


async def test_deliver_posts_the_raw_signed_body(stripe_local):
    received = []

    @post(WEBHOOK_PATH, status_code=200)
    async def webhook(request: Request) -> dict:
        body = await request.body()
        try:
            event = stripe.Webhook.construct_event(body, request.headers.get("stripe-signature"), stripe_local.webhook_secret)
        except stripe.SignatureVerificationError as exc:
            raise HTTPException(status_code=400, detail="bad signature") from exc
        received.append((request.headers.get("content-type"), event.id))
        return {"type": event.type}

    intent = _intent(stripe_local)
    stripe_local.pay(intent.id, CARD_OK)
    delivery = await stripe_local.wait_for_async("payment_intent.succeeded", intent.id)

    transport = httpx.ASGITransport(app=Litestar([webhook]))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        response = await deliver(client, delivery)
        assert response.status_code == 200, response.text
        assert response.json() == {"type": "payment_intent.succeeded"}
        assert received == [("application/json", delivery.event_id)]

        forged = await deliver(client, delivery, signature=sign_payload(delivery.body, "whsec_wrong"))
        assert forged.status_code == 400
        assert len(received) == 1
