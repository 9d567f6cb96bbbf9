"""Payment providers: how a booking's money is settled. Each has an identifier and four verbs:
what the booking costs (`calculate_fee`), starting the payment when the booking is held,
refunding (part of) it, and cancelling it before any money moved. Stripe takes the money online
(the school pays on Werkbank; the webhook confirms); invoice leaves it to a numbered invoice of
the owner (the owner marks it paid). Both run inside the caller's transaction; calls to Stripe
itself happen outside it (the page, the webhook, the refunds job)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from booking.tables import Booking
from core import audit
from core.uow import Event, UnitOfWork
from payments import invoices
from payments.tables import Payment, Refund

PAY_WITHIN = timedelta(hours=72)  # after approval, at most
PAY_BEFORE_START = timedelta(hours=24)  # and at least this long before the start, where possible
SHORTEST = timedelta(hours=2)  # never less time than this (unless the start comes first)
STILL_PAYABLE = (Payment.Status.open, Payment.Status.requires_action, Payment.Status.failed)


@dataclass(frozen=True)
class RefundQueued(Event):
    """Wakes the Stripe job after commit (a refund to send, an intent to cancel)."""

    payment_id: int


class PaymentProvider(Protocol):
    identifier: str

    def calculate_fee(self, booking: Booking) -> int: ...

    async def start(self, uow: UnitOfWork, payment: Payment, booking: Booking) -> None: ...

    async def refund(self, uow: UnitOfWork, payment: Payment, amount_cents: int, reason: str, *,
                     intent: str = "") -> None: ...

    async def cancel(self, uow: UnitOfWork, payment: Payment, status: str = Payment.Status.cancelled) -> None: ...


def payment_deadline(booking: Booking, now) -> object:
    due = min(now + PAY_WITHIN, booking.start - PAY_BEFORE_START)
    return min(max(due, now + SHORTEST), booking.start)


class StripeProvider:
    identifier = "stripe"

    def calculate_fee(self, booking: Booking) -> int:
        return booking.price_cents

    async def start(self, uow: UnitOfWork, payment: Payment, booking: Booking) -> None:
        """The booking waits for payment until its deadline; the PaymentIntent is made when the
        school opens the payment page."""
        await Payment.update({Payment.due_at: payment_deadline(booking, uow.now()), Payment.updated_at: uow.now()}).where(
            Payment.id == payment.id)

    async def refund(self, uow: UnitOfWork, payment: Payment, amount_cents: int, reason: str, *,
                     intent: str = "") -> None:
        if amount_cents <= 0:
            return
        await Refund(payment=payment.id, intent=intent or (payment.info or {}).get("intent", ""), amount_cents=amount_cents,
                     reason=reason, created_at=uow.now(), updated_at=uow.now()).save()
        await audit.record(uow.actor, "booking.refunded", "booking", payment.booking, amount_cents=amount_cents,
                           why=reason, state="to_send")
        uow.record(RefundQueued(payment.id))

    async def cancel(self, uow: UnitOfWork, payment: Payment, status: str = Payment.Status.cancelled) -> None:
        """No money moved: the payment ends, and the job cancels its PaymentIntent at Stripe
        (a payment that still succeeds there later is refunded in full)."""
        has_intent = bool((payment.info or {}).get("intent"))
        done = await Payment.update({Payment.status: status, Payment.updated_at: uow.now(),
                                     Payment.closed_at: None if has_intent else uow.now()}).where(
            (Payment.id == payment.id) & Payment.status.is_in(list(STILL_PAYABLE) + [Payment.Status.processing])
        ).returning(Payment.id)
        if done and has_intent:
            uow.record(RefundQueued(payment.id))


class InvoiceProvider:
    identifier = "invoice"

    def calculate_fee(self, booking: Booking) -> int:
        return booking.price_cents

    async def start(self, uow: UnitOfWork, payment: Payment, booking: Booking) -> None:
        invoice = await invoices.issue(uow, payment, booking)
        await audit.record(uow.actor, "booking.invoiced", "booking", booking.id, invoice=invoice.reference,
                           amount_cents=invoice.total_cents)

    async def refund(self, uow: UnitOfWork, payment: Payment, amount_cents: int, reason: str, *,
                     intent: str = "") -> None:
        """A credit note for `amount_cents` against the booking's invoice."""
        original = await invoices.current(payment.id)
        if original is None or amount_cents <= 0:
            return
        note = await invoices.credit(uow, original, amount_cents, reason)
        await Payment.update({Payment.refunded_cents: Payment.refunded_cents + amount_cents,
                              Payment.updated_at: uow.now()}).where(Payment.id == payment.id)
        await audit.record(uow.actor, "booking.refunded", "booking", payment.booking, amount_cents=amount_cents,
                           why=reason, credit_note=note.reference)

    async def cancel(self, uow: UnitOfWork, payment: Payment, status: str = Payment.Status.cancelled) -> None:
        await self.refund(uow, payment, payment.amount_cents - payment.refunded_cents, "cancelled")


PROVIDERS: dict[str, PaymentProvider] = {"stripe": StripeProvider(), "invoice": InvoiceProvider()}


def provider(identifier: str) -> PaymentProvider:
    return PROVIDERS[identifier]
