"""Paying a booking online in the browser, against localstripe: the teacher opens the payment
page of an approved booking, types a card into localstripe's stand-in card field (its Stripe.js
has no Payment Element), pays, and lands on the "done" page, which updates itself until Stripe's
webhook, sent by localstripe to the running `werkbank serve`, has confirmed the booking."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from booking.tables import Booking
from payments.tables import Payment
from tests.conftest import PASSWORD
from tests.demo_server import demo_server
from tests.e2e.conftest import screenshot_path
from tests.payments.conftest import (  # noqa: F401  (fixtures re-exported for this module)
    CARD_OK,
    localstripe,
    settings,
    shop,
    stripe_local,
)
from tests.payments.test_online import held_booking

pytestmark = pytest.mark.e2e

WEBHOOK_NAME = "werkbank-e2e"


@pytest.fixture
def paying_server(db, tmp_path, stripe_local, monkeypatch):  # noqa: F811
    """`werkbank serve` on this test's database with pay-online pointed at localstripe, and
    localstripe's webhooks sent to it as well (muted again afterwards: localstripe lives for the
    session, this server does not)."""
    monkeypatch.setenv("WERKBANK_STRIPE_SECRET_KEY", stripe_local.secret_key)
    monkeypatch.setenv("WERKBANK_STRIPE_PUBLISHABLE_KEY", stripe_local.publishable_key)
    monkeypatch.setenv("WERKBANK_STRIPE_WEBHOOK_SECRET", stripe_local.webhook_secret)
    monkeypatch.setenv("WERKBANK_STRIPE_API_BASE", stripe_local.api_base)
    with demo_server(db.url, tmp_path) as url:
        stripe_local.register_webhook(WEBHOOK_NAME, f"{url}/webhooks/stripe", stripe_local.webhook_secret)
        try:
            yield url
        finally:
            stripe_local.register_webhook(WEBHOOK_NAME, f"{url}/webhooks/stripe", stripe_local.webhook_secret,
                                          events=["werkbank.e2e.muted"])


async def test_a_teacher_pays_an_approved_booking_by_card(shop, paying_server, page, db, stripe_local):  # noqa: F811
    booking = await held_booking(shop)  # approved by the owner's staff: waits for payment
    server = paying_server
    problems: list[str] = []  # CSP violations, script errors
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))

    await page.goto(f"{server}/login")
    await page.get_by_label("E-mailadres").fill("sofie@vti.be")
    await page.get_by_label("Wachtwoord").fill(PASSWORD)
    await page.get_by_role("button", name="Aanmelden").click()
    await page.wait_for_url(lambda url: "/login" not in url)

    await page.goto(f"{server}/payments/bookings/{booking.id}", wait_until="load")
    await expect(page.locator(".price")).to_have_text("€\xa0180,00")
    # localstripe's card field: plain text inputs named by their placeholders.
    element = page.locator("#payment-element")
    await expect(element.get_by_placeholder("number")).to_be_visible()
    button = page.locator("#payment-submit")
    await expect(button).to_be_enabled()
    await expect(button).to_contain_text("€\xa0180,00")
    await element.get_by_placeholder("number").fill(CARD_OK)
    await element.get_by_placeholder("exp_month").fill("12")
    await element.get_by_placeholder("exp_year").fill("30")
    await element.get_by_placeholder("cvc").fill("123")
    await element.get_by_placeholder("postal_code").fill("9000")
    await page.screenshot(path=str(screenshot_path(f"payment-page-{db.kind}")), full_page=True)

    await button.click()
    await page.wait_for_url(f"**/payments/bookings/{booking.id}/done", timeout=10_000)
    # The page polls every 2 s until the webhook (sent ~1 s after the payment) confirmed it.
    receipt = page.locator("#payment-state a[href$='/receipt']")
    await expect(receipt).to_be_visible(timeout=15_000)
    await expect(page.locator("#payment-state .flash-success")).to_be_visible()
    await page.screenshot(path=str(screenshot_path(f"payment-done-{db.kind}")), full_page=True)

    saved = await Booking.objects().where(Booking.id == booking.id).first()
    payment = await Payment.objects().where(Payment.booking == booking.id).first()
    assert (saved.status, payment.status) == ("confirmed", "succeeded")
    assert await receipt.get_attribute("href") == f"/payments/{payment.id}/receipt"
    assert stripe_local.deliveries("payment_intent.succeeded"), "localstripe sent no payment_intent.succeeded"
    assert not problems, problems
