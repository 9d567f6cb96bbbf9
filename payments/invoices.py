"""Invoices and credit notes of owner organisations to schools: numbered per owner in one
sequence that never skips back or reuses a number (the counter row is bumped in the issuing
transaction), with the seller and buyer copied in and the VAT split of the owner's settings.
Prices are what the school pays, VAT included; the split always adds up to the cent."""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import timedelta

from accounts.tables import Organisation
from booking.tables import Booking
from core import audit
from core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from core.i18n import format_datetime
from core.i18n import gettext as _
from core.uow import UnitOfWork
from inventory.tables import Resource
from payments.tables import BillingSettings, Invoice, Payment

MAX_VAT_BP = 10_000


@dataclass(frozen=True)
class Split:
    net_cents: int
    vat_cents: int
    total_cents: int


def split_vat(total_cents: int, rate_bp: int) -> Split:
    """Splits a VAT-inclusive total: net rounded half up, VAT the rest (so net + VAT = total)."""
    denominator = 10_000 + rate_bp
    net = (2 * total_cents * 10_000 + denominator) // (2 * denominator)
    return Split(net, total_cents - net, total_cents)


async def billing_of(organisation_id: int) -> BillingSettings:
    """The owner's billing settings (the defaults, unsaved, until the owner or a first invoice
    saves them)."""
    found = await BillingSettings.objects().where(BillingSettings.organisation == organisation_id).first()
    return found if found is not None else BillingSettings(organisation=organisation_id)


async def _ensure_billing(organisation_id: int) -> None:
    """Inside a write transaction: the owner's settings row exists."""
    await BillingSettings.insert(BillingSettings(organisation=organisation_id)).on_conflict(action="DO NOTHING")


async def _next_number(organisation_id: int) -> int:
    await _ensure_billing(organisation_id)
    rows = await BillingSettings.update({BillingSettings.next_number: BillingSettings.next_number + 1}).where(
        BillingSettings.organisation == organisation_id).returning(BillingSettings.next_number)
    return rows[0]["next_number"] - 1


def party(org: Organisation, billing: BillingSettings | None = None) -> dict:
    party = {"name": (billing.legal_name if billing and billing.legal_name else org.name), "street": org.street,
             "postal_code": org.postal_code, "municipality": org.municipality, "email": org.email}
    if billing is not None:
        party.update(vat_number=billing.vat_number, iban=billing.iban, vat_exemption=billing.vat_exemption)
    else:
        party["institution_number"] = org.institution_number
    return party


async def issue(uow: UnitOfWork, payment: Payment, booking: Booking) -> Invoice:
    """The invoice of a confirmed booking (inside the caller's transaction)."""
    billing = await billing_of(payment.owner)
    owner = await Organisation.objects().where(Organisation.id == payment.owner).first()
    school = await Organisation.objects().where(Organisation.id == payment.school).first()
    resource = await Resource.select(Resource.name).where(Resource.id == booking.resource).first()
    number, moment = await _next_number(payment.owner), uow.now()
    split = split_vat(payment.amount_cents, billing.vat_rate_bp)
    description = _("%(resource)s on %(when)s, %(n)s pupils (booking %(id)s)", resource=resource["name"],
                    when=format_datetime(booking.start, "d MMMM y, HH:mm"), n=booking.group_size, id=booking.id)
    invoice = Invoice(owner=payment.owner, school=payment.school, booking=booking.id, payment=payment.id,
                      kind=Invoice.Kind.invoice, number=number, reference=f"{billing.invoice_prefix}{number:05d}",
                      issued_at=moment, due_on=moment + timedelta(days=billing.payment_days),
                      net_cents=split.net_cents, vat_rate_bp=billing.vat_rate_bp, vat_cents=split.vat_cents,
                      total_cents=split.total_cents,
                      lines=[{"description": description, "quantity": 1, "total_cents": split.total_cents}],
                      seller=party(owner, billing), buyer=party(school))
    await invoice.save()
    return invoice


async def credit(uow: UnitOfWork, original: Invoice, amount_cents: int, reason: str) -> Invoice:
    """A credit note of `amount_cents` (VAT included) against `original`, in the same number
    sequence and at the original's VAT rate. Against an open invoice it is set off at once (the
    school owes that much less; nothing left to pay closes the invoice); against a paid one the
    owner pays it back and marks it so."""
    billing = await billing_of(original.owner)
    number, moment = await _next_number(original.owner), uow.now()
    split = split_vat(amount_cents, original.vat_rate_bp)
    note = Invoice(owner=original.owner, school=original.school, booking=original.booking, payment=original.payment,
                   credits=original.id, kind=Invoice.Kind.credit_note, number=number,
                   reference=f"{billing.invoice_prefix}{number:05d}", issued_at=moment, due_on=moment,
                   net_cents=split.net_cents, vat_rate_bp=original.vat_rate_bp, vat_cents=split.vat_cents,
                   total_cents=split.total_cents,
                   lines=[{"description": _("Credit for invoice %(ref)s: %(why)s", ref=original.reference,
                                            why=reason_label(reason)), "quantity": 1, "total_cents": split.total_cents}],
                   seller=original.seller, buyer=original.buyer)
    credited = await credited_cents(original.id) + amount_cents
    if original.status == Invoice.Status.open:
        note.status, note.paid_at = Invoice.Status.paid, moment  # set off against the open invoice
        if credited >= original.total_cents:  # nothing left to pay: the invoice and its payment are closed
            await Invoice.update({Invoice.status: Invoice.Status.credited}).where(Invoice.id == original.id)
            await Payment.update({Payment.status: Payment.Status.cancelled, Payment.updated_at: moment}).where(
                (Payment.id == original.payment) & (Payment.status == Payment.Status.open))
    elif credited >= original.total_cents:
        await Invoice.update({Invoice.status: Invoice.Status.credited}).where(Invoice.id == original.id)
    await note.save()
    return note


async def current(payment_id: int) -> Invoice | None:
    """The payment's invoice that still counts (not credited in full), if any."""
    return await Invoice.objects().output(load_json=True).where(
        (Invoice.payment == payment_id) & (Invoice.kind == Invoice.Kind.invoice)
        & (Invoice.status != Invoice.Status.credited)).order_by(Invoice.number, ascending=False).first()


def reason_label(reason: str) -> str:
    return {"cancelled": _("booking cancelled"), "cancelled_by_owner": _("booking cancelled by the owner"),
            "late_payment": _("paid after the deadline"), "moved": _("booking moved to another time"),
            "ended": _("booking declined or expired")}.get(reason, reason)


async def credited_cents(invoice_id: int) -> int:
    rows = await Invoice.select(Invoice.total_cents).where(
        (Invoice.credits == invoice_id) & (Invoice.kind == Invoice.Kind.credit_note))
    return sum(row["total_cents"] for row in rows)


def can_manage(actor, invoice: Invoice) -> bool:
    from accounts.tables import Membership

    return actor.is_platform_admin or invoice.owner in actor.organisation_ids(Membership.Role.owner_staff)


def can_read(actor, invoice: Invoice) -> bool:
    from accounts.tables import Membership

    return can_manage(actor, invoice) or invoice.school in actor.organisation_ids(
        Membership.Role.teacher, Membership.Role.school_admin)


async def readable(uow: UnitOfWork, invoice_id: int) -> Invoice:
    invoice = await Invoice.objects().output(load_json=True).where(Invoice.id == invoice_id).first()
    if invoice is None or uow.actor is None or not can_read(uow.actor, invoice):
        raise NotFound(_("This invoice does not exist, or you may not see it."))
    return invoice


async def mark_paid(uow: UnitOfWork, invoice_id: int) -> Invoice:
    """The owner received the money (an invoice) or paid it back (a credit note)."""
    async with uow.transaction():
        invoice = await readable(uow, invoice_id)
        if not can_manage(uow.actor, invoice):
            raise NotAllowed(_("Only the owner's staff mark an invoice as paid."))
        if invoice.status != Invoice.Status.open:
            raise Conflict(_("Invoice %(ref)s is already settled.", ref=invoice.reference))
        moment = uow.now()
        done = await Invoice.update({Invoice.status: Invoice.Status.paid, Invoice.paid_at: moment,
                                     Invoice.marked_paid_by: uow.actor.user.id}).where(
            (Invoice.id == invoice.id) & (Invoice.status == Invoice.Status.open)).returning(Invoice.id)
        if not done:
            raise Conflict(_("Invoice %(ref)s is already settled.", ref=invoice.reference))
        if invoice.kind == Invoice.Kind.invoice and invoice.payment:
            await Payment.update({Payment.status: Payment.Status.succeeded, Payment.paid_at: moment,
                                  Payment.method: "transfer", Payment.updated_at: moment}).where(
                (Payment.id == invoice.payment) & (Payment.status != Payment.Status.succeeded))
        await audit.record(uow.actor, "invoice.paid", "invoice", invoice.id, reference=invoice.reference,
                           kind=invoice.kind, total_cents=invoice.total_cents)
    invoice.status, invoice.paid_at = Invoice.Status.paid, moment
    return invoice


async def save_billing(uow: UnitOfWork, organisation_id: int, data: dict[str, str]) -> BillingSettings:
    """The owner's billing settings from a form: every field checked, all or nothing."""
    from accounts.tables import Membership

    actor = uow.actor
    if not (actor.is_platform_admin or organisation_id in actor.organisation_ids(Membership.Role.owner_staff)):
        raise NotAllowed(_("Only the owner's staff change its billing settings."))
    errors: dict[str, str] = {}
    text = {name: (data.get(name) or "").strip() for name in
            ("legal_name", "vat_number", "vat_rate", "vat_exemption", "iban", "invoice_prefix", "payment_days")}
    try:
        rate_bp = round(float(text["vat_rate"].replace(",", ".") or "0") * 100)
        if not 0 <= rate_bp <= MAX_VAT_BP:
            raise ValueError
    except (ValueError, OverflowError):
        rate_bp = 0
        errors["vat_rate"] = _("Enter a VAT rate between 0 and 100 (e.g. 21 or 6).")
    if rate_bp == 0 and not text["vat_exemption"] and "vat_rate" not in errors:
        errors["vat_exemption"] = _("Without VAT, an invoice names the legal ground of the exemption.")
    vat_number = text["vat_number"].replace(" ", "").replace(".", "").upper()
    if vat_number and not (vat_number.startswith("BE") and _ascii_digits(vat_number[2:]) and len(vat_number) == 12):
        errors["vat_number"] = _("A Belgian VAT number is BE followed by 10 digits (e.g. BE0123456789).")
    if rate_bp and not vat_number and "vat_number" not in errors and "vat_rate" not in errors:
        errors["vat_number"] = _("An invoice that charges VAT names your VAT number.")
    iban = text["iban"].replace(" ", "").upper()
    if iban and not _valid_iban(iban):
        errors["iban"] = _("This IBAN is not valid (check the digits).")
    prefix = text["invoice_prefix"]
    if len(prefix) > 12 or any(not (c.isalnum() or c in "-/_") for c in prefix):
        errors["invoice_prefix"] = _("Up to 12 letters, digits, - / or _.")
    try:
        days = int(text["payment_days"] or "30")
        if not 0 <= days <= 120:
            raise ValueError
    except ValueError:
        days = 30
        errors["payment_days"] = _("Enter a number of days between 0 and 120.")
    if len(text["legal_name"]) > 200 or len(text["vat_exemption"]) > 300:
        errors["legal_name"] = _("This text is too long.")
    if errors:
        raise ValidationFailed(_("Check the marked fields."), errors)
    async with uow.transaction():
        await _ensure_billing(organisation_id)
        await BillingSettings.update({
            BillingSettings.legal_name: text["legal_name"], BillingSettings.vat_number: vat_number,
            BillingSettings.vat_rate_bp: rate_bp, BillingSettings.vat_exemption: text["vat_exemption"],
            BillingSettings.iban: iban, BillingSettings.invoice_prefix: prefix, BillingSettings.payment_days: days,
            BillingSettings.updated_at: uow.now()}).where(BillingSettings.organisation == organisation_id)
        await audit.record(actor, "billing.updated", "organisation", organisation_id, vat_rate_bp=rate_bp)
    return await billing_of(organisation_id)


def _ascii_digits(text: str) -> bool:
    return bool(text) and all(c in string.digits for c in text)


def _valid_iban(iban: str) -> bool:
    allowed = string.digits + string.ascii_uppercase
    if not (15 <= len(iban) <= 34 and all(c in allowed for c in iban) and iban[:2].isalpha() and _ascii_digits(iban[2:4])):
        return False
    digits = "".join(str(int(c, 36)) for c in iban[4:] + iban[:4])
    return int(digits) % 97 == 1
