from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from core.i18n import lazy_gettext as _l

STATUS_LABELS = {
    "requested": _l("requested"),
    "approved": _l("approved, to pay"),  # approved bookings wait for their online payment
    "confirmed": _l("confirmed"),
    "completed": _l("completed"),
    "no_show": _l("no-show"),
    "declined": _l("declined"),
    "cancelled": _l("cancelled"),
    "expired": _l("expired"),
}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


AUDIT_LABELS = {
    "booking.requested": _l("requested"),
    "booking.confirmed": _l("booked and confirmed"),
    "booking.approved": _l("approved and confirmed"),
    "booking.approved_unpaid": _l("approved, waits for payment"),
    "booking.awaits_payment": _l("booked, waits for payment"),
    "booking.paid": _l("paid"),
    "booking.refunded": _l("refunded"),
    "booking.invoiced": _l("invoiced"),
    "booking.declined": _l("declined"),
    "booking.cancelled": _l("cancelled"),
    "booking.expired": _l("expired without an answer"),
    "booking.completed": _l("marked as done"),
    "booking.no_show": _l("marked as a no-show"),
    "booking.rescheduled": _l("moved"),
    "waitlist.offered": _l("offered from the waitlist"),
    "waitlist.accepted": _l("place taken from the waitlist"),
}


def audit_label(action: str, data: dict | None = None) -> str:
    if action == "booking.approved" and (data or {}).get("status") == "approved":
        action = "booking.approved_unpaid"  # approved, but held until paid online
    return str(AUDIT_LABELS.get(action, action))


@dataclass(frozen=True)
class Savings:
    cents: int
    per_pupil_cents: int | None


def savings(booking) -> Savings | None:
    """What a completed booking saved its school: the alternative cost kept on it minus what the
    school pays (nothing when free), and per pupil (as attended when recorded, else the group);
    None before it is done or without a known alternative cost. The regional report sums the
    same in SQL (reports/queries.py: SAVINGS, KNOWN, PUPILS)."""
    if booking.status != "completed" or not booking.alternative_cost_cents:
        return None
    cents = booking.alternative_cost_cents - (0 if booking.payment_method == "free" else booking.price_cents)
    pupils = booking.group_size if booking.pupils_attended is None else booking.pupils_attended
    per_pupil = int((Decimal(cents) / pupils).quantize(Decimal("1"), rounding=ROUND_HALF_UP)) if pupils else None
    return Savings(cents, per_pupil)


def register(env) -> None:
    env.globals.update(status_label=status_label, audit_label=audit_label, savings=savings)
