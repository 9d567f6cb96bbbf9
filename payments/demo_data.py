"""The demo's money: each owner's billing settings, and for every demo booking with a price on
invoice (confirmed, done or a no-show) its payment and its numbered invoice, in the order the
bookings were made; invoices of bookings that took place are paid a few weeks later."""

from __future__ import annotations

from datetime import timedelta

from accounts.tables import Organisation
from booking.tables import Booking
from core.i18n import format_datetime, use_language
from core.i18n import gettext as _
from inventory.tables import Facility, Resource
from payments.invoices import party, split_vat
from payments.tables import BillingSettings, Invoice, Payment

BATCH = 500


async def load(uow) -> int:
    moment = uow.now()
    owners = {row["owner"] for row in await Facility.select(Facility.owner)}
    billing = {}
    for owner in sorted(owners):
        base = 4_000_000 + owner  # a made-up enterprise number 0xxx.xxx.xxx with valid check digits
        billing[owner] = BillingSettings(organisation=owner, vat_rate_bp=2100, invoice_prefix=f"{moment.year}-",
                                         vat_number=f"BE0{base:07d}{97 - base % 97:02d}", payment_days=30,
                                         iban="BE68539007547034", updated_at=moment)
    orgs = {o.id: o for o in await Organisation.objects().where(Organisation.id.is_in(
        list(owners) + [r["school"] for r in await Booking.select(Booking.school).distinct()]))} if owners else {}
    names = {r["id"]: r["name"] for r in await Resource.select(Resource.id, Resource.name)}
    owner_of = {r["id"]: r["facility.owner"] for r in await Resource.select(Resource.id, Resource.facility.owner)}
    bookings = await Booking.objects().where(
        (Booking.payment_method == "invoice") & (Booking.price_cents > 0)
        & Booking.status.is_in(["confirmed", "completed", "no_show"])).order_by(Booking.created_at).order_by(Booking.id)
    payments, numbers = [], {owner: 0 for owner in owners}
    for booking in bookings:
        done = booking.status != "confirmed" and booking.end + timedelta(days=21) < moment
        payments.append(Payment(booking=booking.id, owner=owner_of[booking.resource], school=booking.school,
                                provider="invoice", status="succeeded" if done else "open", amount_cents=booking.price_cents,
                                method="transfer" if done else "", paid_at=booking.end + timedelta(days=21) if done else None,
                                created_at=booking.updated_at, updated_at=booking.updated_at))
    for start in range(0, len(payments), BATCH):
        await Payment.insert(*payments[start:start + BATCH])
    paid_ids = {p["booking"]: p["id"] for p in await Payment.select(Payment.id, Payment.booking)}
    invoices = []
    with use_language("nl"):
        for booking, payment in zip(bookings, payments, strict=True):
            owner = owner_of[booking.resource]
            numbers[owner] += 1
            settings = billing[owner]
            split = split_vat(booking.price_cents, settings.vat_rate_bp)
            issued = booking.updated_at
            description = _("%(resource)s on %(when)s, %(n)s pupils (booking %(id)s)", resource=names[booking.resource],
                            when=format_datetime(booking.start, "d MMMM y, HH:mm"), n=booking.group_size, id=booking.id)
            invoices.append(Invoice(
                owner=owner, school=booking.school, booking=booking.id, payment=paid_ids[booking.id], kind="invoice",
                number=numbers[owner], reference=f"{settings.invoice_prefix}{numbers[owner]:05d}",
                status="paid" if payment.status == "succeeded" else "open", issued_at=issued,
                due_on=issued + timedelta(days=settings.payment_days), net_cents=split.net_cents,
                vat_rate_bp=settings.vat_rate_bp, vat_cents=split.vat_cents, total_cents=split.total_cents,
                lines=[{"description": description, "quantity": 1, "total_cents": split.total_cents}],
                seller=party(orgs[owner], settings), buyer=party(orgs[booking.school]), paid_at=payment.paid_at))
    for start in range(0, len(invoices), BATCH):
        await Invoice.insert(*invoices[start:start + BATCH])
    for owner, settings in billing.items():
        settings.next_number = numbers[owner] + 1
    if billing:
        await BillingSettings.insert(*billing.values())
    return len(invoices)
