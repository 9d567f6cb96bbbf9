"""Words for payment states, refunds and invoices, in the language of the moment."""

from babel.numbers import format_decimal

from core.i18n import babel_locale
from core.i18n import lazy_gettext as _l

PAYMENT_STATUS = {
    "open": _l("to pay"), "requires_action": _l("waits for your bank's confirmation"), "processing": _l("being processed"),
    "failed": _l("failed, try again"), "succeeded": _l("paid"), "cancelled": _l("cancelled, nothing charged"),
    "expired": _l("expired unpaid"),
}
REFUND_STATUS = {"to_send": _l("being sent"), "pending": _l("on its way"), "succeeded": _l("refunded"),
                 "failed": _l("failed")}
REFUND_REASON = {"cancelled": _l("cancelled by the school"), "cancelled_by_owner": _l("cancelled by the owner"),
                 "late_payment": _l("paid after the deadline"), "moved": _l("moved to another time"),
                 "ended": _l("declined or expired"), "amount_changed": _l("paid at an old price")}
INVOICE_KIND = {"invoice": _l("Invoice"), "credit_note": _l("Credit note")}
METHOD = {"card": _l("card"), "bancontact": "Bancontact", "transfer": _l("bank transfer")}
# Stripe's decline and error codes (last_payment_error.decline_code or .code), in the school's words.
PAYMENT_ERROR = {
    "insufficient_funds": _l("There is not enough money on the card or account."),
    "expired_card": _l("The card has expired."),
    "incorrect_cvc": _l("The security code (CVC) is not right."),
    "incorrect_number": _l("The card number is not right."),
    "payment_intent_authentication_failure": _l("The bank's confirmation (3-D Secure) did not succeed."),
    "authentication_required": _l("The bank asks for a confirmation (3-D Secure) that did not happen."),
    "processing_error": _l("The bank could not process the payment; try again in a moment."),
    "amount_changed": _l("The price changed while you were paying (the booking moved): that payment is refunded; "
                         "pay the new amount."),
}


def payment_status_label(status: str) -> str:
    return str(PAYMENT_STATUS.get(status, status))


def refund_status_label(status: str) -> str:
    return str(REFUND_STATUS.get(status, status))


def refund_reason_label(reason: str) -> str:
    return str(REFUND_REASON.get(reason, reason))


def invoice_kind_label(kind: str) -> str:
    return str(INVOICE_KIND.get(kind, kind))


def invoice_status_label(kind: str, status: str) -> str:
    if status == "credited":
        return str(_l("credited"))
    if status == "open":
        return str(_l("open") if kind == "invoice" else _l("to pay back"))
    return str(_l("paid") if kind == "invoice" else _l("settled"))


def method_label(method: str) -> str:
    return str(METHOD.get(method, method))


def payment_error_label(code: str) -> str:
    """A failed payment's reason; a code Werkbank does not know reads as a refusal by the bank."""
    if not code:
        return ""
    return str(PAYMENT_ERROR.get(code, _l("The card or the bank refused the payment.")))


def payment_state_label(payment) -> str:
    """A payment's state as a school reads it: a paid one that went back says so."""
    status = payment["status"] if isinstance(payment, dict) else payment.status
    refunded = payment["refunded_cents"] if isinstance(payment, dict) else payment.refunded_cents
    amount = payment["amount_cents"] if isinstance(payment, dict) else payment.amount_cents
    if status == "succeeded" and refunded:
        return str(_l("refunded") if refunded >= amount else _l("paid, partly refunded"))
    return payment_status_label(status)


def iban_text(iban: str) -> str:
    return " ".join(iban[i:i + 4] for i in range(0, len(iban or ""), 4))


def vat_percent(rate_bp: int) -> str:
    return format_decimal(rate_bp / 100, locale=babel_locale())


def register(env) -> None:
    env.globals.update(payment_status_label=payment_status_label, refund_status_label=refund_status_label,
                       refund_reason_label=refund_reason_label, invoice_kind_label=invoice_kind_label,
                       invoice_status_label=invoice_status_label, vat_percent=vat_percent, method_label=method_label,
                       payment_error_label=payment_error_label, payment_state_label=payment_state_label,
                       iban_text=iban_text)
