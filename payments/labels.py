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
                 "failed": _l("failed (the owner is told)")}
REFUND_REASON = {"cancelled": _l("cancelled by the school"), "cancelled_by_owner": _l("cancelled by the owner"),
                 "late_payment": _l("paid after the deadline")}
INVOICE_KIND = {"invoice": _l("Invoice"), "credit_note": _l("Credit note")}


def payment_status_label(status: str) -> str:
    return str(PAYMENT_STATUS.get(status, status))


def refund_status_label(status: str) -> str:
    return str(REFUND_STATUS.get(status, status))


def refund_reason_label(reason: str) -> str:
    return str(REFUND_REASON.get(reason, reason))


def invoice_kind_label(kind: str) -> str:
    return str(INVOICE_KIND.get(kind, kind))


def invoice_status_label(kind: str, status: str) -> str:
    if status == "open":
        return str(_l("open") if kind == "invoice" else _l("to pay back"))
    return str(_l("paid") if kind == "invoice" else _l("settled"))


def vat_percent(rate_bp: int) -> str:
    return format_decimal(rate_bp / 100, locale=babel_locale())


def register(env) -> None:
    env.globals.update(payment_status_label=payment_status_label, refund_status_label=refund_status_label,
                       refund_reason_label=refund_reason_label, invoice_kind_label=invoice_kind_label,
                       invoice_status_label=invoice_status_label, vat_percent=vat_percent)
