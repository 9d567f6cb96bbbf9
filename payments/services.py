"""Payments of bookings: booking events start, cancel and refund them (subscribers, inside the
booking's transaction); the school pays on Werkbank's page (a PaymentIntent made with an
idempotency key); Stripe's webhook, checked and handled once per event, confirms the booking
from the PaymentIntent as Stripe reports it when asked again; jobs remind, expire unpaid
bookings at their deadline, send refunds and cancel PaymentIntents that are no longer wanted."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from accounts.tables import Membership
from booking import events
from booking import services as bookings
from booking.tables import Booking
from core import audit, mail
from core.errors import Conflict, NotAllowed, NotFound
from core.i18n import gettext as _
from core.i18n import lazy_gettext as _l
from core.uow import UnitOfWork
from inventory.tables import Resource
from payments import invoices
from payments.gateway import StripeConfig, StripeUnavailable
from payments.providers import STILL_PAYABLE, RefundQueued, provider
from payments.tables import Payment, Refund, StripeEvent, StripeObject

log = logging.getLogger("werkbank.payments")
Role = Membership.Role
Status = Payment.Status
REMIND_BEFORE_HOURS = 24
REFUND_ATTEMPTS = 10


def install_id(uow: UnitOfWork) -> str:
    """Part of every idempotency key: two installations (staging and production, a restored copy)
    sharing one Stripe account never take each other's keys for their own."""
    return hashlib.sha256(f"werkbank-install:{uow.settings.secret_key}".encode()).hexdigest()[:12]


def stripe_config(uow: UnitOfWork) -> StripeConfig:
    return StripeConfig.of(uow.settings)


# --- what booking asks (hooks) ----------------------------------------------------------------

async def payment_required(uow: UnitOfWork, resource: Resource, price_cents: int, booking_id: int | None) -> bool:
    """A booking of a pay-online resource with a price waits for payment, unless it was paid
    already (a paid booking that moved and was approved again keeps its payment)."""
    if resource.payment_mode != Resource.PaymentMode.online or price_cents <= 0 or not stripe_config(uow).enabled:
        return False
    if booking_id is not None and await Payment.exists().where(
            (Payment.booking == booking_id) & (Payment.status == Status.succeeded)):
        return False  # paid already (a paid booking that moved): never held for payment again
    return True


def payment_modes(settings) -> list[dict]:
    """The payment modes an owner may choose for a resource, and why one is not offered."""
    config = StripeConfig.of(settings)
    online_why = "" if config.enabled else _(
        "Paying online is not offered: no Stripe account is set up on this Werkbank (ask its administrators). "
        "Invoices work.")
    return [{"value": "invoice", "label": _("On invoice (the owner invoices the school)"), "why": ""},
            {"value": "online", "label": _("Pay online (card, Bancontact)"), "why": online_why},
            {"value": "free", "label": _("Free (never charged)"), "why": ""}]


# --- booking events (inside the booking's transaction) -----------------------------------------

async def _payment_of(booking_id: int) -> Payment | None:
    return await Payment.objects().output(load_json=True).where(Payment.booking == booking_id).first()


async def on_held(uow: UnitOfWork, event: events.BookingRequested | events.BookingApproved) -> None:
    """A booking that waits for payment gets its payment (online), or gets it back if it ended
    while the booking was moved and approved again; one confirmed with a price on invoice gets
    its invoice (a new one when it was moved)."""
    booking = await Booking.objects().where(Booking.id == event.booking_id).first()
    if booking is None or booking.price_cents <= 0:
        return
    if booking.status == Booking.Status.approved:
        kind = "stripe"
    elif booking.status == Booking.Status.confirmed and booking.payment_method == "invoice":
        kind = "invoice"
    else:
        return
    existing = await _payment_of(booking.id)
    if existing is None:
        payment = Payment(booking=booking.id, owner=event.owner_id, school=booking.school, provider=kind,
                          amount_cents=provider(kind).calculate_fee(booking), created_at=uow.now(), updated_at=uow.now())
        await payment.save()
        await provider(kind).start(uow, payment, booking)
        if kind == "stripe" and event.series_id is None:
            await _mail_teacher(uow, booking, _l("Pay your booking to confirm it"), "payments/mail/pay.txt", payment.id)
        return
    if kind == "stripe" and existing.provider == "stripe" and existing.status != Status.succeeded:
        # Approved again (after a move): the payment opens again with a new deadline.
        await Payment.update({Payment.status: Status.open, Payment.amount_cents: booking.price_cents,
                              Payment.reminded_at: None, Payment.closed_at: None, Payment.error: "",
                              Payment.updated_at: uow.now()}).where(Payment.id == existing.id)
        await provider("stripe").start(uow, existing, booking)
    elif kind == "invoice" and existing.provider == "invoice" and not await invoices.current(existing.id):
        await Payment.update({Payment.amount_cents: booking.price_cents, Payment.refunded_cents: 0,
                              Payment.status: Status.open, Payment.updated_at: uow.now()}).where(Payment.id == existing.id)
        existing.amount_cents, existing.refunded_cents = booking.price_cents, 0
        await provider("invoice").start(uow, existing, booking)


async def on_series_held(uow: UnitOfWork, event: events.SeriesRequested) -> None:
    if event.status != Booking.Status.approved:
        return
    booking = await Booking.objects().where(Booking.id == event.booking_ids[0]).first()
    if booking is not None:
        await _mail_teacher(uow, booking, _l("Pay your bookings to confirm them"), "payments/mail/pay_series.txt", None,
                            count=len(event.booking_ids))


async def on_rescheduled(uow: UnitOfWork, event: events.BookingRescheduled) -> None:
    """A moved booking: unpaid online, it costs its new price (with a new deadline if it still
    waits for payment); on invoice at another price, the invoice is credited in full and a new one
    follows when the booking is confirmed (at once, or at the owner's approval). A paid online
    booking keeps its payment (a different price is for the owner to settle)."""
    booking = await Booking.objects().where(Booking.id == event.booking_id).first()
    payment = await _payment_of(event.booking_id)
    if payment is None:
        return
    if payment.provider == "stripe" and payment.status in (*STILL_PAYABLE, Status.processing):
        await Payment.update({Payment.amount_cents: booking.price_cents, Payment.updated_at: uow.now()}).where(
            Payment.id == payment.id)
        if booking.status == Booking.Status.approved:
            await provider("stripe").start(uow, payment, booking)
    elif payment.provider == "invoice":
        current = await invoices.current(payment.id)
        if current is not None and current.total_cents != booking.price_cents:
            await provider("invoice").refund(uow, payment, refundable(payment), "moved")
            if booking.status == Booking.Status.confirmed:
                await on_held(uow, events.BookingApproved(
                    booking_id=booking.id, resource_id=booking.resource, owner_id=event.owner_id,
                    school_id=booking.school, teacher_id=booking.teacher, series_id=booking.series, status="confirmed"))


async def on_cancelled(uow: UnitOfWork, event: events.BookingCancelled) -> None:
    """A school's cancellation refunds what the policy leaves after its fee; the owner's refunds
    everything; an unpaid payment simply ends."""
    payment = await _payment_of(event.booking_id)
    if payment is None:
        return
    reason = "cancelled_by_owner" if event.by_owner else "cancelled"
    if payment.provider == "invoice" or payment.status == Status.succeeded:
        kept = 0 if event.by_owner else event.fee_cents
        await provider(payment.provider).refund(uow, payment, refundable(payment) - kept, reason)
    else:
        await provider("stripe").cancel(uow, payment)


async def on_ended(uow: UnitOfWork, event: events.BookingEvent) -> None:
    """Declined or expired: an unpaid payment ends (no money moved); money already paid (a paid
    booking that was moved, then declined or left unanswered) goes back in full."""
    payment = await _payment_of(event.booking_id)
    if payment is None:
        return
    if payment.provider == "invoice" or payment.status == Status.succeeded:
        await provider(payment.provider).refund(uow, payment, refundable(payment), "ended")
    elif payment.status in (*STILL_PAYABLE, Status.processing):
        status = Status.expired if getattr(event, "unpaid", False) else Status.cancelled
        await provider("stripe").cancel(uow, payment, status)


def refundable(payment: Payment) -> int:
    return max(0, payment.amount_cents - payment.refunded_cents)


async def refund_preview(uow: UnitOfWork, booking: Booking, fee_cents: int, by_owner: bool) -> dict | None:
    """What a cancellation now gives back (shown before the teacher confirms it)."""
    payment = await _payment_of(booking.id)
    if payment is None:
        return None
    kept = 0 if by_owner else fee_cents
    back = max(0, refundable(payment) - kept) if payment.status == Status.succeeded or payment.provider == "invoice" else 0
    return {"payment": payment, "back_cents": back, "kept_cents": min(kept, refundable(payment))}


async def _mail_teacher(uow: UnitOfWork, booking: Booking, subject, template: str, payment_id: int | None,
                        **context) -> None:
    from accounts.tables import User

    teacher = await User.select(User.email, User.language, User.active).where(User.id == booking.teacher).first()
    if teacher and teacher["active"]:
        await mail.queue_mail(uow, teacher["email"], subject, template, teacher["language"] or "nl", loader="payments",
                              booking_id=booking.id, payment_id=payment_id, **context)


# --- the payment page ---------------------------------------------------------------------------

@dataclass
class Checkout:
    view: bookings.BookingView
    payment: Payment
    client_secret: str = ""
    payable: bool = False
    why_not: str = ""


def _may_pay(actor, v: bookings.BookingView) -> bool:
    return actor.is_platform_admin or bookings.is_school_member(actor, v.booking)


async def checkout(uow: UnitOfWork, booking_id: int, *, prepare: bool = True) -> Checkout:
    """The booking's online payment as the school sees it; with `prepare`, a PaymentIntent
    ready for the Payment Element (made once per attempt, with an idempotency key)."""
    v = await bookings.view(uow, booking_id)
    if not _may_pay(uow.actor, v):
        raise NotAllowed(_("Only the school that booked pays for it."))
    payment = await Payment.objects().output(load_json=True).where(
        (Payment.booking == booking_id) & (Payment.provider == "stripe")).first()
    if payment is None:
        raise NotFound(_("This booking has nothing to pay online."))
    result = Checkout(v, payment)
    config = stripe_config(uow)
    if payment.status == Status.succeeded:
        return result
    if v.booking.status != Booking.Status.approved or payment.status not in STILL_PAYABLE:
        result.why_not = _("This booking can no longer be paid: it is %(status)s.", status=bookings.status_label(
            v.booking.status))
        return result
    if payment.due_at is not None and payment.due_at <= uow.now():
        result.why_not = _("The payment deadline has passed.")
        return result
    if not config.enabled:
        result.why_not = _("Paying online is not possible right now; contact the owner.")
        return result
    result.payable = True
    if prepare:
        intent = await _intent_for(uow, payment, v)
        result.client_secret = intent.get("client_secret") or ""
        result.payment = await Payment.objects().output(load_json=True).where(Payment.id == payment.id).first()
    return result


async def _intent_for(uow: UnitOfWork, payment: Payment, v: bookings.BookingView) -> dict:
    gateway = uow.app.stripe
    info = dict(payment.info or {})
    intent = None
    if info.get("intent"):
        intent = await gateway.intent(info["intent"])
        if intent["status"] == "canceled":
            intent = None  # cancelled at Stripe: a new attempt
        elif intent["amount"] != payment.amount_cents and intent["status"] == "requires_payment_method":
            intent = await gateway.set_amount(intent["id"], payment.amount_cents)
    if intent is None:
        attempt = int(info.get("attempt", 0)) + 1
        intent = await gateway.create_intent(
            payment.amount_cents, key=f"werkbank-{install_id(uow)}-payment-{payment.id}-{attempt}",
            metadata={"booking_id": str(v.booking.id), "payment_id": str(payment.id), "resource": v.resource.name[:200]})
        async with uow.transaction():
            await StripeObject.insert(StripeObject(stripe_id=intent["id"], kind="payment_intent", payment=payment.id,
                                                   booking=v.booking.id, created_at=uow.now())).on_conflict(
                action="DO NOTHING")
            done = await Payment.update({Payment.info: {**info, "intent": intent["id"], "attempt": attempt},
                                         Payment.updated_at: uow.now()}).where(
                (Payment.id == payment.id) & (Payment.updated_at == payment.updated_at)).returning(Payment.id)
        if not done:  # another page made one at the same moment (or the payment changed): ask again
            fresh = await Payment.objects().output(load_json=True).where(Payment.id == payment.id).first()
            if (fresh.info or {}).get("intent"):
                return await gateway.intent(fresh.info["intent"])
            raise Conflict(_("This payment changed in the meantime; reload the page."))
    return intent


async def confirm_with(uow: UnitOfWork, booking_id: int, method: str, return_url: str) -> dict:
    """Confirms the booking's PaymentIntent on the server with the card the page tokenised (for
    a Stripe.js without the Payment Element). What it says is not trusted for the booking:
    the webhook confirms it."""
    found = await checkout(uow, booking_id, prepare=False)
    if not found.payable:
        raise Conflict(found.why_not or _("This booking can no longer be paid."))
    method = (method or "").strip()
    if not method.startswith(("tok_", "pm_", "card_")) or len(method) > 255:
        raise Conflict(_("The card details did not arrive; try again."))
    gateway = uow.app.stripe
    intent = await _intent_for(uow, found.payment, found.view)
    if method.startswith("tok_"):
        method = (await gateway.token(method)).get("card", {}).get("id", "")
    return await gateway.confirm_with(intent["id"], method, return_url)


# --- Stripe's webhook --------------------------------------------------------------------------

async def receive(uow: UnitOfWork, event: dict) -> str:
    """Handles one verified Stripe event once: the object it names is asked of Stripe again and
    applied as Stripe now reports it (so events that come twice or out of order do no harm).
    Returns what happened. Raises StripeUnavailable when Stripe cannot be asked (Stripe retries)."""
    event_id, kind = str(event.get("id", "")), str(event.get("type", ""))
    obj = (event.get("data") or {}).get("object") or {}
    if not event_id:
        return "ignored"
    if await StripeEvent.exists().where(StripeEvent.event_id == event_id):
        return "duplicate"
    gateway = uow.app.stripe
    intent, refunds = None, []
    # Only objects Werkbank made are asked for again (another system may share the Stripe account).
    if kind.startswith("payment_intent.") and await _known(obj.get("id"), "payment_intent"):
        intent = await gateway.intent(str(obj["id"]))
    elif kind.startswith("charge.") and await _known(obj.get("payment_intent"), "payment_intent"):
        intent = await gateway.intent(str(obj["payment_intent"]))
        refunds = await gateway.refunds_of_intent(intent["id"])
    elif kind.startswith("refund.") and await _known(obj.get("id"), "refund"):
        refunds = [await gateway.refund_of(str(obj["id"]))]
    if intent is not None and intent.get("status") == "succeeded":
        method = intent.get("payment_method")
        intent["_method"] = await gateway.method_type(method) if isinstance(method, str) and method else "card"
    async with uow.transaction():
        inserted = await StripeEvent.insert(StripeEvent(event_id=event_id[:255], event_type=kind[:100],
                                                        object_id=str(obj.get("id", ""))[:255],
                                                        received_at=uow.now())).on_conflict(
            action="DO NOTHING").returning(StripeEvent.id)
        if not inserted:
            return "duplicate"
        outcomes = []
        if intent is not None:
            outcomes.append(await apply_intent(uow, intent))
        for refund in refunds:
            outcomes.append(await apply_refund(uow, refund))
        outcome = ",".join(o for o in outcomes if o) or "ignored"
        await StripeEvent.update({StripeEvent.outcome: outcome[:40]}).where(StripeEvent.id == inserted[0]["id"])
    return outcome


async def _known(stripe_id, kind: str) -> bool:
    if not isinstance(stripe_id, str) or not stripe_id or len(stripe_id) > 255:
        return False
    return await StripeObject.exists().where((StripeObject.stripe_id == stripe_id) & (StripeObject.kind == kind))


def _method_of(intent: dict) -> str:
    return str(intent.get("_method") or "card")[:12]


async def apply_intent(uow: UnitOfWork, intent: dict) -> str:
    ref = await StripeObject.objects().where((StripeObject.stripe_id == intent["id"])
                                             & (StripeObject.kind == "payment_intent")).first()
    if ref is None:
        return "unknown"
    if uow.is_postgres:  # the booking first, then its payment: the order cancelling and expiring take too
        await Booking.raw("SELECT id FROM booking WHERE id = {} FOR UPDATE", ref.booking)
    payment = await Payment.objects().output(load_json=True).where(Payment.id == ref.payment).first()
    moment, status = uow.now(), intent.get("status")
    if status == "succeeded":
        received = int(intent.get("amount_received") or intent.get("amount") or 0)
        if received < payment.amount_cents:
            # Paid at an old, lower price (the booking moved while a payment page was open): the
            # money goes back and the school pays the new price with a new PaymentIntent.
            if await Refund.exists().where((Refund.intent == intent["id"]) & (Refund.reason == "amount_changed")):
                return "already_refunded"
            await provider("stripe").refund(uow, payment, received, "amount_changed", intent=intent["id"])
            info = {key: value for key, value in (payment.info or {}).items() if key != "intent"}
            await Payment.update({Payment.status: Status.failed, Payment.info: info, Payment.updated_at: moment,
                                  Payment.error: "amount_changed"}).where(
                (Payment.id == payment.id) & (Payment.status != Status.succeeded))
            return "amount_changed"
        done = await Payment.update({Payment.status: Status.succeeded, Payment.paid_at: moment, Payment.error: "",
                                     Payment.amount_cents: received, Payment.method: _method_of(intent),
                                     Payment.updated_at: moment}).where(
            (Payment.id == payment.id) & (Payment.status != Status.succeeded)).returning(Payment.id)
        if not done:
            return "already_paid"
        surplus, payment.amount_cents, payment.status = received - payment.amount_cents, received, Status.succeeded
        await audit.record(None, "booking.paid", "booking", payment.booking, amount_cents=received, intent=intent["id"])
        confirmed = await bookings.confirm_paid(uow, payment.booking, _method_of(intent))
        if confirmed is not None:
            if surplus > 0:  # paid at an old, higher price: the difference goes back
                await provider("stripe").refund(uow, payment, surplus, "amount_changed")
            return "confirmed"
        # Paid when the booking no longer waits (cancelled, expired, declined): all of it goes back;
        # the time may belong to someone else now, so the booking is not revived.
        await provider("stripe").refund(uow, payment, refundable(payment), "late_payment")
        await _mail_teacher(uow, await Booking.objects().where(Booking.id == payment.booking).first(),
                            _l("Your payment came too late and is refunded"), "payments/mail/late.txt", payment.id)
        return "refunded_late"
    changes = {"requires_action": Status.requires_action, "processing": Status.processing}
    if status in changes:
        await Payment.update({Payment.status: changes[status], Payment.updated_at: moment}).where(
            (Payment.id == payment.id) & Payment.status.is_in(list(STILL_PAYABLE) + [Status.processing]))
        return status
    if status == "requires_payment_method" and intent.get("last_payment_error"):
        failure = intent["last_payment_error"] or {}
        error = str(failure.get("decline_code") or failure.get("code") or "declined")
        await Payment.update({Payment.status: Status.failed, Payment.error: error[:500], Payment.updated_at: moment}).where(
            (Payment.id == payment.id) & Payment.status.is_in(list(STILL_PAYABLE) + [Status.processing]))
        return "failed"
    return status or "ignored"


async def apply_refund(uow: UnitOfWork, refund: dict) -> str:
    ref = await StripeObject.objects().where((StripeObject.stripe_id == refund["id"])
                                             & (StripeObject.kind == "refund")).first()
    if ref is None or ref.refund is None:
        return "unknown_refund"
    return await _refund_state(uow, ref.refund, refund)


async def _refund_state(uow: UnitOfWork, refund_id: int, refund: dict) -> str:
    state = {"succeeded": Refund.Status.succeeded, "pending": Refund.Status.pending,
             "requires_action": Refund.Status.pending, "failed": Refund.Status.failed,
             "canceled": Refund.Status.failed}.get(refund.get("status"), Refund.Status.pending)
    row = await Refund.objects().where(Refund.id == refund_id).first()
    final = (Refund.Status.succeeded, Refund.Status.failed)
    changed = await Refund.update({Refund.status: state, Refund.updated_at: uow.now(),
                                   Refund.error: str(refund.get("failure_reason") or "")[:500]}).where(
        (Refund.id == refund_id) & Refund.status.not_in([state, *final])).returning(Refund.id)
    if not changed:  # already in that state, or settled (by another process, maybe at this moment)
        return f"refund_{row.status if row.status in final else state}"
    if state == Refund.Status.succeeded:
        await Payment.update({Payment.refunded_cents: Payment.refunded_cents + row.amount_cents,
                              Payment.updated_at: uow.now()}).where(Payment.id == row.payment)
    return f"refund_{state}"


# --- jobs --------------------------------------------------------------------------------------

async def deadlines_job(uow: UnitOfWork, batch: int) -> int:
    """Reminds once a day before the deadline; at the deadline the unpaid booking expires and
    frees its slot (a payment that still arrives later is refunded)."""
    from datetime import timedelta

    moment = uow.now()
    payable = list(STILL_PAYABLE)
    waiting = Payment.booking.status == Booking.Status.approved  # a moved one back at the owner waits too
    remind = await Payment.select(Payment.id, Payment.booking).where(
        (Payment.provider == "stripe") & Payment.status.is_in(payable) & waiting & Payment.reminded_at.is_null()
        & (Payment.due_at > moment) & (Payment.due_at <= moment + timedelta(hours=REMIND_BEFORE_HOURS))
        & (Payment.created_at <= moment - timedelta(hours=1))).limit(batch)
    due = await Payment.select(Payment.id, Payment.booking).where(
        (Payment.provider == "stripe") & Payment.status.is_in(payable) & waiting & (Payment.due_at <= moment)).limit(batch)
    if not remind and not due:
        return 0
    async with uow.transaction():
        for row in remind:
            done = await Payment.update({Payment.reminded_at: moment}).where(
                (Payment.id == row["id"]) & Payment.reminded_at.is_null()).returning(Payment.id)
            booking = await Booking.objects().where(Booking.id == row["booking"]).first()
            if done and booking.status == Booking.Status.approved:
                await _mail_teacher(uow, booking, _l("Reminder: pay your booking"), "payments/mail/reminder.txt", row["id"])
        expired = await bookings.expire_unpaid(uow, [row["booking"] for row in due])
        gone = {b.id for b in expired}
        for row in due:  # bookings no longer approved (cancelled meanwhile) end their payment too
            if row["booking"] not in gone:
                payment = await Payment.objects().output(load_json=True).where(Payment.id == row["id"]).first()
                await provider("stripe").cancel(uow, payment, Status.expired)
    return len(remind) + len(due)


async def stripe_job(uow: UnitOfWork, batch: int) -> int:
    """Sends queued refunds to Stripe (idempotency key per refund, so a retry never refunds
    twice) and cancels PaymentIntents of payments that ended unpaid."""
    gateway = uow.app.stripe
    if gateway is None or not gateway.config.secret_key:
        return 0
    handled = 0
    queued = await Refund.objects().where((Refund.status == Refund.Status.to_send)
                                          & (Refund.attempts < REFUND_ATTEMPTS)).order_by(Refund.id).limit(batch)
    for refund in queued:
        payment = await Payment.objects().output(load_json=True).where(Payment.id == refund.payment).first()
        intent_id = refund.intent or (payment.info or {}).get("intent")
        try:
            sent = await gateway.refund(intent_id, refund.amount_cents, key=f"werkbank-{install_id(uow)}-refund-{refund.id}",
                                        metadata={"booking_id": str(payment.booking), "refund_id": str(refund.id)})
        except StripeUnavailable as exc:
            async with uow.transaction():
                await Refund.update({Refund.attempts: Refund.attempts + 1, Refund.error: str(exc)[:500],
                                     Refund.updated_at: uow.now(),
                                     Refund.status: Refund.Status.failed if refund.attempts + 1 >= REFUND_ATTEMPTS
                                     else Refund.Status.to_send}).where(Refund.id == refund.id)
            continue
        async with uow.transaction():
            await StripeObject.insert(StripeObject(stripe_id=sent["id"], kind="refund", payment=payment.id,
                                                   refund=refund.id, booking=payment.booking,
                                                   created_at=uow.now())).on_conflict(action="DO NOTHING")
            await Refund.update({Refund.status: Refund.Status.pending, Refund.attempts: Refund.attempts + 1,
                                 Refund.updated_at: uow.now()}).where(
                (Refund.id == refund.id) & (Refund.status == Refund.Status.to_send))
            await _refund_state(uow, refund.id, sent)
        handled += 1
    closing = await Payment.objects().output(load_json=True).where(
        (Payment.provider == "stripe") & Payment.status.is_in([Status.cancelled, Status.expired])
        & Payment.closed_at.is_null()).order_by(Payment.updated_at).limit(batch)
    for payment in closing:
        intent_id = (payment.info or {}).get("intent")
        try:
            if intent_id:
                intent = await gateway.intent(intent_id)
                if intent["status"] not in ("canceled", "succeeded"):
                    await gateway.cancel_intent(intent["id"])
        except StripeUnavailable as exc:
            log.warning("payment %s: could not cancel its PaymentIntent: %s", payment.id, exc)
            continue
        async with uow.transaction():
            await Payment.update({Payment.closed_at: uow.now()}).where(Payment.id == payment.id)
        handled += 1
    return handled


async def retry_refund(uow: UnitOfWork, refund_id: int) -> Refund:
    """The owner sends a failed refund again (the refunds job picks it up at once)."""
    async with uow.transaction():
        refund = await Refund.objects().where(Refund.id == refund_id).first()
        payment = await Payment.objects().where(Payment.id == refund.payment).first() if refund else None
        if payment is None or not (uow.actor.is_platform_admin or payment.owner in owner_ids(uow.actor)):
            raise NotFound(_("This refund does not exist, or you may not see it."))
        done = await Refund.update({Refund.status: Refund.Status.to_send, Refund.attempts: 0, Refund.error: "",
                                    Refund.updated_at: uow.now()}).where(
            (Refund.id == refund_id) & (Refund.status == Refund.Status.failed)).returning(Refund.id)
        if not done:
            raise Conflict(_("Only a failed refund is sent again."))
        await audit.record(uow.actor, "booking.refunded", "booking", payment.booking, amount_cents=refund.amount_cents,
                           why=refund.reason, state="retried")
        uow.record(RefundQueued(payment.id))
    return refund


async def home_panels(uow: UnitOfWork) -> list[dict]:
    """On a teacher's or school admin's home page: their bookings that wait for payment."""
    actor = uow.actor
    schools = school_ids(actor)
    if not schools:
        return []
    mine = Payment.school.is_in(sorted(schools)) & (Payment.provider == "stripe") & Payment.status.is_in(
        list(STILL_PAYABLE)) & (Payment.booking.status == Booking.Status.approved) & (Payment.due_at > uow.now())
    if actor.has_role(Role.teacher) and not actor.has_role(Role.school_admin):
        mine &= Payment.booking.teacher == actor.user.id
    due = await Payment.select(Payment.booking, Payment.amount_cents, Payment.due_at,
                               Payment.booking.start.as_alias("start"),
                               Payment.booking.resource.name.as_alias("resource")).where(mine).order_by(
        Payment.due_at).limit(20)
    if not due:
        return []
    return [{"roles": [Role.teacher.value, Role.school_admin.value], "template": "payments/_home_pay.html",
             "context": {"due": due}}]


# --- who sees what -------------------------------------------------------------------------------

def owner_ids(actor) -> set[int]:
    return actor.organisation_ids(Role.owner_staff)


def school_ids(actor) -> set[int]:
    return actor.organisation_ids(Role.teacher, Role.school_admin)


async def load_mail_context(uow: UnitOfWork, data: dict) -> dict:
    """What the payment mails show, read when the outbox renders them."""
    from booking.notifications import load_mail_context as booking_context

    context = await booking_context(uow, {"booking_id": data["booking_id"], "audience": "teacher"})
    payment = (await Payment.objects().output(load_json=True).where(Payment.id == data["payment_id"]).first()
               if data.get("payment_id") else None)
    base = uow.settings.base_url
    return {**context, **data, "payment": payment, "pay_link": f"{base}/payments/bookings/{data['booking_id']}",
            "overview_link": f"{base}/payments"}

