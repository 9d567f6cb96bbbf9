"""Money: payments of bookings (online through Stripe, or on invoice), their refunds, the
numbered invoices and credit notes of owner organisations, the owners' billing settings, and the
Stripe objects and webhook events Werkbank has seen. All amounts are integer euro cents."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import JSONB, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from accounts.tables import Organisation, User
from booking.tables import Booking


class BillingSettings(Table, tablename="billing_settings"):
    """What an owner organisation's invoices say and how they are numbered. Prices are what the
    school pays, VAT included; `vat_rate_bp` (basis points: 2100 is 21 %) splits them."""

    organisation = ForeignKey(Organisation, on_delete=OnDelete.cascade, unique=True, index=True)
    legal_name = Varchar(length=200, default="")
    vat_number = Varchar(length=20, default="")
    vat_rate_bp = Integer(default=2100)
    vat_exemption = Varchar(length=300, default="")  # the legal ground when the rate is 0
    iban = Varchar(length=34, default="")
    invoice_prefix = Varchar(length=12, default="")
    payment_days = Integer(default=30)
    next_number = Integer(default=1)  # the next invoice number of this owner (never reused)
    updated_at = Timestamptz(default=TimestamptzNow())


class Payment(Table, tablename="payment"):
    """What a booking costs and how it is settled: `provider` is stripe or invoice; `info` keeps
    what the provider needs (the PaymentIntent, the invoice)."""

    class Status(str, Enum):
        open = "open"  # waits for the school
        requires_action = "requires_action"  # 3-D Secure or a bank page
        processing = "processing"
        failed = "failed"  # the last try failed; the school may try again
        succeeded = "succeeded"
        cancelled = "cancelled"  # the booking went before it was paid
        expired = "expired"  # not paid before the deadline

    booking = ForeignKey(Booking, on_delete=OnDelete.restrict, index=True)
    owner = ForeignKey(Organisation, on_delete=OnDelete.restrict, index=True)
    school = ForeignKey(Organisation, on_delete=OnDelete.restrict, index=True)
    provider = Varchar(length=12)
    status = Varchar(length=16, choices=Status, default=Status.open, index=True)
    amount_cents = Integer()
    refunded_cents = Integer(default=0)
    currency = Varchar(length=3, default="eur")
    method = Varchar(length=20, default="")  # card, bancontact, bank transfer
    due_at = Timestamptz(null=True, default=None, index=True)
    reminded_at = Timestamptz(null=True, default=None)
    paid_at = Timestamptz(null=True, default=None)
    error = Text(default="")
    info = JSONB(default={})
    # Set once nothing is left to do at Stripe for a payment that ended unpaid (its PaymentIntent
    # cancelled, or there was none): the Stripe job looks only at the others.
    closed_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Refund(Table, tablename="refund"):
    """Money going back to a school. Stripe refunds are sent by the refunds job (with an
    idempotency key) and follow Stripe's events; invoice refunds are credit notes."""

    class Status(str, Enum):
        to_send = "to_send"
        pending = "pending"
        succeeded = "succeeded"
        failed = "failed"

    payment = ForeignKey(Payment, on_delete=OnDelete.restrict, index=True)
    intent = Varchar(length=255, default="")  # the PaymentIntent whose money goes back
    amount_cents = Integer()
    status = Varchar(length=10, choices=Status, default=Status.to_send, index=True)
    reason = Varchar(length=20, default="")  # cancelled, cancelled_by_owner, ended, late_payment, amount_changed
    attempts = Integer(default=0)
    error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class StripeObject(Table, tablename="stripe_object"):
    """A Stripe PaymentIntent or Refund and the payment (and booking) it belongs to."""

    stripe_id = Varchar(length=255, unique=True, index=True)
    kind = Varchar(length=16)  # payment_intent, refund
    payment = ForeignKey(Payment, on_delete=OnDelete.restrict, index=True)
    refund = ForeignKey(Refund, null=True, default=None, on_delete=OnDelete.restrict)
    booking = ForeignKey(Booking, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())


class StripeEvent(Table, tablename="stripe_event"):
    """Each Stripe webhook event handled, once."""

    event_id = Varchar(length=255, unique=True, index=True)
    event_type = Varchar(length=100)
    object_id = Varchar(length=255, default="")
    outcome = Varchar(length=40, default="")
    received_at = Timestamptz(default=TimestamptzNow())


class Invoice(Table, tablename="invoice"):
    """A numbered invoice (or credit note) of an owner organisation to a school. Numbers run per
    owner, one sequence for both kinds, and are never reused. Seller and buyer are copied in."""

    class Kind(str, Enum):
        invoice = "invoice"
        credit_note = "credit_note"

    class Status(str, Enum):
        open = "open"
        paid = "paid"  # a credit note: paid back (or set off)
        credited = "credited"  # an invoice credited in full: nothing to pay

    owner = ForeignKey(Organisation, on_delete=OnDelete.restrict, index=True)
    school = ForeignKey(Organisation, on_delete=OnDelete.restrict, index=True)
    booking = ForeignKey(Booking, on_delete=OnDelete.restrict, index=True)
    payment = ForeignKey(Payment, null=True, default=None, on_delete=OnDelete.restrict)
    # Invoices are never deleted; NO ACTION (not RESTRICT) lets a whole table be emptied at once.
    credits = ForeignKey("self", null=True, default=None, on_delete=OnDelete.no_action)
    kind = Varchar(length=12, choices=Kind, default=Kind.invoice)
    number = Integer()
    reference = Varchar(length=30)  # prefix + number, as printed
    status = Varchar(length=10, choices=Status, default=Status.open, index=True)
    issued_at = Timestamptz()
    due_on = Timestamptz()
    net_cents = Integer()
    vat_rate_bp = Integer()
    vat_cents = Integer()
    total_cents = Integer()
    lines = JSONB(default=[])
    seller = JSONB(default={})
    buyer = JSONB(default={})
    paid_at = Timestamptz(null=True, default=None)
    marked_paid_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
