"""What owner staff and schools see of the money: payments, refunds and invoices with their
totals (summed in SQL, in cents), and a payment's receipt."""

from __future__ import annotations

from piccolo.query.functions.aggregate import Sum

from core.errors import NotFound
from core.i18n import gettext as _
from core.uow import UnitOfWork
from payments import services
from payments.tables import Invoice, Payment, Refund

Role = services.Role

LIMIT = 200
_PAYMENT_COLUMNS = (Payment.id, Payment.booking, Payment.provider, Payment.status, Payment.amount_cents,
                    Payment.refunded_cents, Payment.method, Payment.due_at, Payment.paid_at, Payment.error,
                    Payment.booking.start.as_alias("start"), Payment.booking.status.as_alias("booking_status"),
                    Payment.booking.resource.name.as_alias("resource"), Payment.school.name.as_alias("school_name"),
                    Payment.owner.name.as_alias("owner_name"))
_INVOICE_COLUMNS = (Invoice.id, Invoice.kind, Invoice.reference, Invoice.status, Invoice.issued_at, Invoice.due_on,
                    Invoice.total_cents, Invoice.booking, Invoice.school.name.as_alias("school_name"),
                    Invoice.owner.name.as_alias("owner_name"))


async def _sum(column, where) -> int:
    row = await Payment.select(Sum(column).as_alias("total")).where(where).first()
    return int(row["total"] or 0) if row else 0


async def _side(orgs: set[int], column, teacher: int | None = None) -> dict:
    """The payments, refunds and invoices of the organisations `orgs` (owners or schools); a
    teacher (who is not the school's admin) sees those of their own bookings."""
    ids = list(orgs)
    mine = column.is_in(ids)
    if teacher is not None:
        mine &= Payment.booking.teacher == teacher
    payments = await Payment.select(*_PAYMENT_COLUMNS).where(mine).order_by(Payment.created_at, ascending=False).limit(LIMIT)
    owner_side = column is Payment.owner
    inv_column = Invoice.owner if owner_side else Invoice.school
    refund_scope = Refund.payment.owner.is_in(ids) if owner_side else Refund.payment.school.is_in(ids)
    invoice_scope = inv_column.is_in(ids)
    if teacher is not None:
        refund_scope &= Refund.payment.booking.teacher == teacher
        invoice_scope &= Invoice.booking.teacher == teacher
    refunds = await Refund.select(Refund.id, Refund.amount_cents, Refund.status, Refund.reason, Refund.created_at,
                                  Refund.payment.booking.as_alias("booking"),
                                  Refund.payment.booking.resource.name.as_alias("resource"),
                                  Refund.payment.school.name.as_alias("school_name"),
                                  Refund.payment.owner.name.as_alias("owner_name")).where(refund_scope).order_by(
        Refund.created_at, ascending=False).limit(LIMIT)
    invoices = await Invoice.select(*_INVOICE_COLUMNS).where(invoice_scope).order_by(
        Invoice.issued_at, ascending=False).limit(LIMIT)
    # Online money (Stripe) in the first three figures; invoices in the fourth.
    online = mine & (Payment.provider == "stripe")
    paid = await _sum(Payment.amount_cents, online & (Payment.status == Payment.Status.succeeded))
    back = await Refund.select(Sum(Refund.amount_cents).as_alias("total")).where(
        refund_scope & (Refund.status == Refund.Status.succeeded)).first()
    refunded = int(back["total"] or 0)
    waiting = await _sum(Payment.amount_cents, online & Payment.status.is_in(
        [Payment.Status.open, Payment.Status.requires_action, Payment.Status.failed, Payment.Status.processing])
        & (Payment.booking.status == "approved"))
    open_invoices = await Invoice.select(Sum(Invoice.total_cents).as_alias("total")).where(
        invoice_scope & (Invoice.kind == Invoice.Kind.invoice) & (Invoice.status == Invoice.Status.open)).first()
    set_off = await Invoice.select(Sum(Invoice.total_cents).as_alias("total")).where(
        invoice_scope & (Invoice.kind == Invoice.Kind.credit_note) & (Invoice.status == Invoice.Status.paid)
        & Invoice.credits.status.is_in([Invoice.Status.open])).first()
    open_total = int(open_invoices["total"] or 0) - int(set_off["total"] or 0)
    return {"payments": payments, "refunds": refunds, "invoices": invoices,
            "totals": {"paid": paid, "refunded": refunded, "net": paid - refunded, "waiting": waiting,
                       "invoices_open": open_total}}


async def for_actor(uow: UnitOfWork) -> dict:
    actor = uow.actor
    owners, schools = services.owner_ids(actor), services.school_ids(actor)
    only_own = None if actor.has_role(Role.school_admin) or actor.is_platform_admin else actor.user.id
    return {"owner": await _side(owners, Payment.owner) if owners else None,
            "school": await _side(schools, Payment.school, only_own) if schools else None,
            "online": services.stripe_config(uow).enabled, "now": uow.now()}


async def receipt(uow: UnitOfWork, payment_id: int) -> dict:
    """A paid payment's receipt, for the school that paid and the owner that received it."""
    rows = await Payment.select(*_PAYMENT_COLUMNS, Payment.school, Payment.owner, Payment.info,
                                Payment.booking.end.as_alias("end"), Payment.booking.group_size.as_alias("group_size"),
                                Payment.owner.street.as_alias("owner_street"),
                                Payment.owner.postal_code.as_alias("owner_postal_code"),
                                Payment.owner.municipality.as_alias("owner_municipality")).where(
        Payment.id == payment_id).output(load_json=True)
    row = rows[0] if rows else None
    actor = uow.actor
    if (row is None or row["status"] != Payment.Status.succeeded or row["provider"] != "stripe"
            or not (actor.is_platform_admin or row["school"] in services.school_ids(actor)
                    or row["owner"] in services.owner_ids(actor))):
        raise NotFound(_("There is no receipt here, or you may not see it."))
    refunds = await Refund.select().where(Refund.payment == payment_id).order_by(Refund.created_at)
    return {"p": row, "refunds": refunds}
