"""The same Stripe event reaching two `werkbank serve` processes at once (Stripe retries, two
load-balanced processes), while a `werkbank worker` expires the very booking it pays: the event is
handled once, and the booking ends either confirmed or expired with the payment refunded in
full, never both and never neither."""

from __future__ import annotations

import asyncio
import subprocess
import time

import httpx

from accounts.tables import Membership  # noqa: F401  (tables load before the services)
from booking.tables import Booking
from core.audit import AuditEntry
from payments import services
from payments.tables import Payment, Refund, StripeEvent
from tests.demo_server import ROOT, _werkbank, demo_server, werkbank_env
from tests.payments.conftest import CARD_OK
from tests.payments.test_online import held_booking


def _stripe_env(monkeypatch, stripe_local) -> None:
    monkeypatch.setenv("WERKBANK_STRIPE_SECRET_KEY", stripe_local.secret_key)
    monkeypatch.setenv("WERKBANK_STRIPE_PUBLISHABLE_KEY", stripe_local.publishable_key)
    monkeypatch.setenv("WERKBANK_STRIPE_WEBHOOK_SECRET", stripe_local.webhook_secret)
    monkeypatch.setenv("WERKBANK_STRIPE_API_BASE", stripe_local.api_base)


async def _post_at_once(urls: list[str], delivery) -> list[httpx.Response]:
    headers = {"Stripe-Signature": delivery.signature, "Content-Type": "application/json"}
    async with httpx.AsyncClient(timeout=30) as client:
        return list(await asyncio.gather(*(client.post(f"{url}/webhooks/stripe", content=delivery.body, headers=headers)
                                           for url in urls)))


async def test_one_event_two_processes_and_a_worker(shop, stripe_local, db, tmp_path, monkeypatch):
    _stripe_env(monkeypatch, stripe_local)
    booking = await held_booking(shop)
    found = await services.checkout(shop["teacher"], booking.id)
    intent = found.payment.info["intent"] if isinstance(found.payment.info, dict) else None
    assert intent, "the payment page made a PaymentIntent"
    stripe_local.pay(intent, CARD_OK)
    delivery = await stripe_local.wait_for_async("payment_intent.succeeded", intent)
    # The deadline has just passed: the worker's next run expires the booking, unless the
    # payment is handled first.
    await Payment.update({Payment.due_at: found.payment.created_at}).where(Payment.id == found.payment.id)

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "w").mkdir()
    with demo_server(db.url, tmp_path / "a") as first, demo_server(db.url, tmp_path / "b") as second:
        with open(tmp_path / "w" / "worker.log", "w") as log:
            worker = subprocess.Popen([_werkbank(), "worker"], env=werkbank_env(db.url, tmp_path / "w"), cwd=ROOT,
                                      stdout=log, stderr=subprocess.STDOUT)
            try:
                answers = await _post_at_once([first, second, first, second], delivery)
                deadline = time.monotonic() + 20
                while (await Booking.objects().where(Booking.id == booking.id).first()).status == "approved":
                    assert time.monotonic() < deadline, (tmp_path / "w" / "worker.log").read_text()
                    await asyncio.sleep(0.2)
            finally:
                worker.terminate()
                worker.wait(10)

    assert [a.status_code for a in answers] == [200, 200, 200, 200], [a.text for a in answers]
    outcomes = sorted(a.json()["outcome"] for a in answers)
    assert outcomes.count("duplicate") == 3, outcomes
    assert await StripeEvent.count().where(StripeEvent.event_id == delivery.event_id) == 1
    assert await AuditEntry.count().where((AuditEntry.action == "booking.paid")
                                          & (AuditEntry.object_id == str(booking.id))) == 1
    final = await Booking.objects().where(Booking.id == booking.id).first()
    payment = await Payment.objects().where(Payment.id == found.payment.id).first()
    refunds = await Refund.select(Refund.amount_cents, Refund.reason).where(Refund.payment == payment.id)
    assert payment.status == "succeeded"
    if final.status == "confirmed":
        assert outcomes[0] == "confirmed" and refunds == []
    else:
        assert final.status == "expired"
        assert outcomes[0] == "refunded_late"
        assert [(r["amount_cents"], r["reason"]) for r in refunds] == [(18000, "late_payment")]
