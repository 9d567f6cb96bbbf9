"""On invoice: confirmed at once, a numbered invoice per owner (never reused) with the VAT split
of the owner's settings, credit notes on cancellation, the owner marks it paid; who may see it;
and without a Stripe account pay-online is not offered."""

from __future__ import annotations

import re

import pytest

from booking import services as bookings
from core.errors import ValidationFailed
from payments import invoices
from payments.invoices import split_vat
from payments.tables import Invoice, Payment
from tests.booking.conftest import at, next_weekday
from tests.conftest import csrf, login


@pytest.mark.parametrize("total, rate, net, vat", [(18000, 2100, 14876, 3124), (4010, 600, 3783, 227), (1, 2100, 1, 0),
                                                  (9999, 0, 9999, 0), (12345, 2100, 10202, 2143)])
def test_vat_split_adds_up_to_the_cent(total, rate, net, vat):
    split = split_vat(total, rate)
    assert (split.net_cents, split.vat_cents) == (net, vat)
    assert split.net_cents + split.vat_cents == total


async def book_line(shop, hour: int, day_offset: int = 0):
    day = next_weekday(3)
    return await bookings.request_booking(shop["teacher"], shop["line"].id, at(day, hour), at(day, hour + 2), 5)


async def test_invoices_numbered_per_owner_and_credited_on_cancellation(client, shop):
    await invoices.save_billing(shop["staff"], shop["owner"].id, {
        "legal_name": "vzw Opleidingscentrum Metaal", "vat_number": "BE 0123.456.749", "vat_rate": "21",
        "iban": "BE68 5390 0754 7034", "invoice_prefix": "2026-", "payment_days": "30"})
    first = await book_line(shop, 8)
    second = await book_line(shop, 11)
    assert (first.status, first.payment_method, first.price_cents) == ("confirmed", "invoice", 8020)
    rows = await Invoice.select().where(Invoice.owner == shop["owner"].id).order_by(Invoice.number)
    assert [(r["reference"], r["total_cents"], r["net_cents"], r["vat_cents"]) for r in rows] == [
        ("2026-00001", 8020, 6628, 1392), ("2026-00002", 8020, 6628, 1392)]

    # The school cancels the first (free of charge): a credit note in the same sequence settles it.
    await bookings.cancel(shop["teacher"], first.id, "")
    notes = await Invoice.select().where(Invoice.kind == "credit_note")
    assert [(n["reference"], n["total_cents"], n["status"]) for n in notes] == [("2026-00003", 8020, "paid")]
    original = await Invoice.objects().where(Invoice.reference == "2026-00001").first()
    assert original.status == "credited"  # nothing left to pay
    payment = await Payment.objects().where(Payment.booking == first.id).first()
    assert payment.status == "cancelled"

    # The owner marks the second paid on the overview.
    await login(client, "staff@metaal.be")
    overview = await client.get("/payments")
    assert "2026-00002" in overview.text and "€\xa080,20" in overview.text
    token = await csrf(client, "/payments")
    second_invoice = await Invoice.objects().where(Invoice.reference == "2026-00002").first()
    done = await client.post(f"/payments/invoices/{second_invoice.id}/paid", data={"_csrf_token": token})
    assert done.status_code == 200 and "betaald" in done.text
    payment = await Payment.objects().where(Payment.booking == second.id).first()
    assert (payment.status, payment.method) == ("succeeded", "transfer")
    again = await client.post(f"/payments/invoices/{second_invoice.id}/paid", data={"_csrf_token": token})
    assert "al afgehandeld" in again.text

    # The school reads its invoice (printable HTML); another school cannot.
    await client.post("/logout", data={"_csrf_token": await csrf(client, "/payments")})
    await login(client, "sofie@vti.be")
    page = await client.get(f"/payments/invoices/{second_invoice.id}")
    assert page.status_code == 200
    for text in ("2026-00002", "BE0123456749", "BE68 5390 0754 7034", "VTI Gent", "€\xa066,28", "€\xa013,92", "€\xa080,20"):
        assert text in page.text
    await client.post("/logout", data={"_csrf_token": await csrf(client, "/payments")})
    await login(client, "an@go.be")
    assert (await client.get(f"/payments/invoices/{second_invoice.id}")).status_code == 404


async def test_late_cancellation_keeps_the_fee_on_the_invoice(shop):
    from inventory.tables import Resource

    await Resource.update({Resource.free_cancellation_hours: 24 * 60}).where(Resource.id == shop["line"].id)
    booking = await book_line(shop, 8)
    await bookings.cancel(shop["teacher"], booking.id, "")
    note = await Invoice.objects().where(Invoice.kind == "credit_note").first()
    assert note.total_cents == 8020 - 4010  # half kept
    original = await Invoice.objects().where(Invoice.kind == "invoice").first()
    assert original.status == "open"  # 40,10 still due
    assert await invoices.credited_cents(original.id) == 4010


async def test_billing_settings_refuse_bad_input_and_keep_nothing(shop):
    with pytest.raises(ValidationFailed) as refused:
        await invoices.save_billing(shop["staff"], shop["owner"].id, {
            "vat_rate": "abc", "iban": "BE00 0000 0000 0000", "vat_number": "123", "invoice_prefix": "<x>"})
    assert set(refused.value.fields) >= {"vat_rate", "iban", "vat_number", "invoice_prefix"}
    billing = await invoices.billing_of(shop["owner"].id)
    assert (billing.vat_rate_bp, billing.iban) == (2100, "")


async def test_a_free_resource_is_never_invoiced(shop, create_resource):
    gift = await create_resource(shop["facility"], name="Demo-oven", category="bakery-food", price_model="per_hour",
                                 price="40", payment_mode="free", needs_approval="", min_notice_hours="0")
    day = next_weekday(3)
    booking = await bookings.request_booking(shop["teacher"], gift.id, at(day, 8), at(day, 10), 5)
    assert (booking.status, booking.payment_method) == ("confirmed", "free")
    assert await Invoice.count() == 0 and await Payment.count() == 0


async def test_a_moved_invoiced_booking_is_credited_and_invoiced_again(client, shop):
    booking = await book_line(shop, 8)  # 2 hours: 80,20
    day = next_weekday(3)
    moved = await bookings.reschedule(shop["teacher"], booking.id, at(day, 13), at(day, 16))  # 3 hours: 120,30
    assert (moved.status, moved.price_cents) == ("confirmed", 12030)
    rows = await Invoice.select(Invoice.reference, Invoice.kind, Invoice.total_cents, Invoice.status).order_by(Invoice.number)
    assert [(r["kind"], r["total_cents"], r["status"]) for r in rows] == [
        ("invoice", 8020, "credited"), ("credit_note", 8020, "paid"), ("invoice", 12030, "open")]
    payment = await Payment.objects().where(Payment.booking == booking.id).first()
    assert (payment.amount_cents, payment.refunded_cents, payment.status) == (12030, 0, "open")
    await login(client, "sofie@vti.be")
    overview = await client.get("/payments")
    totals = dict(re.findall(r"<small>([^<]+)</small><p><strong>([^<]+)</strong>", overview.text))
    assert totals["Openstaande facturen"] == "€\xa0120,30"
    assert totals["Online te betalen"] == "€\xa00,00" and totals["Online betaald"] == "€\xa00,00"


async def test_hostile_billing_input_gets_messages_not_errors(client, shop):
    await login(client, "staff@metaal.be")
    token = await csrf(client, "/payments/settings")
    for values in ({"vat_rate": "inf", "iban": "BE68 5390 0754 7034"}, {"vat_rate": "1e400"},
                   {"vat_rate": "21", "vat_number": "BE²²²²²²²²²²", "iban": "ÉÉ00 0000 0000 0000"},
                   {"vat_rate": "21", "vat_number": "BE0123456749", "iban": "BE68²390 0754 7034"}):
        answer = await client.post("/payments/settings", data={"_csrf_token": token, "organisation": str(shop["owner"].id),
                                                               **values})
        assert answer.status_code == 422, (values, answer.status_code)
        assert 'aria-invalid="true"' in answer.text
    from payments.tables import BillingSettings

    assert await BillingSettings.count() == 0  # nothing saved
