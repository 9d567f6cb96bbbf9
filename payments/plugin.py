"""The payments plugin: pages and Stripe's webhook, the Stripe gateway of this Werkbank, the
hooks booking and inventory ask (does this booking wait for payment, which payment modes may an
owner choose, what does a booking's page show of its money), the subscribers to booking events
and the jobs (payment deadlines, refunds and cancellations at Stripe)."""

from __future__ import annotations

from datetime import timedelta

from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol
from markupsafe import Markup

from booking import events
from core.jobs import Job
from core.registry import Werkbank
from core.uow import UnitOfWork
from payments import labels, services
from payments.controllers import PaymentPagesController, StripeWebhookController
from payments.gateway import Gateway, StripeConfig
from payments.providers import RefundQueued
from payments.tables import Invoice, Refund


class PaymentsPlugin(InitPluginProtocol):
    def __init__(self, app: Werkbank) -> None:
        self.app = app

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app = self.app
        app_config.route_handlers.extend([PaymentPagesController, StripeWebhookController])
        # Money tables stay out of the raw admin: an edited invoice number or amount would break the
        # sequence and the books. Staff work through the payments pages.
        app.stripe = Gateway(StripeConfig.of(app.settings))
        labels.register(app.templates)
        app.hooks.add("booking.payment_required", services.payment_required)
        app.hooks.add("inventory.payment_modes", services.payment_modes)
        app.hooks.add("booking.panels", booking_panel)
        app.hooks.add("home.panels", services.home_panels)
        app.mail_contexts["payments"] = services.load_mail_context
        for event_type in (events.BookingRequested, events.BookingApproved):
            app.subscribe(event_type, services.on_held)
        app.subscribe(events.SeriesRequested, services.on_series_held)
        app.subscribe(events.BookingRescheduled, services.on_rescheduled)
        app.subscribe(events.BookingCancelled, services.on_cancelled)
        for event_type in (events.BookingDeclined, events.BookingExpired):
            app.subscribe(event_type, services.on_ended)
        app.jobs.add(Job(name="payments.deadlines", run=services.deadlines_job, every=timedelta(minutes=5), batch=100,
                         description="reminds unpaid bookings and expires them at their payment deadline"))
        app.jobs.add(Job(name="payments.stripe", run=services.stripe_job, every=timedelta(minutes=2), batch=20,
                         wake_on=(RefundQueued,), lease=timedelta(minutes=5),
                         description="sends refunds to Stripe and cancels PaymentIntents no longer wanted"))
        app_config.on_shutdown.append(self._close)
        return app_config

    async def _close(self, _litestar) -> None:
        if self.app.stripe is not None:
            await self.app.stripe.close()


async def booking_panel(uow: UnitOfWork, view, page: str) -> Markup | None:
    """The money of a booking on its page (and, before cancelling, what comes back)."""
    from booking.services import cancellation_fee, cancelled_by_owner

    booking = view.booking
    fee = cancellation_fee(booking, view.resource, uow.now()) if page == "cancel" else 0
    preview = await services.refund_preview(uow, booking, fee, cancelled_by_owner(uow.actor, view) if page == "cancel"
                                            else False)
    if preview is None:
        return None
    invoices = await Invoice.select(Invoice.id, Invoice.kind, Invoice.reference, Invoice.status,
                                    Invoice.total_cents).where(Invoice.booking == booking.id).order_by(Invoice.number)
    refunds = await Refund.select().where(Refund.payment == preview["payment"].id).order_by(Refund.created_at)
    template = uow.app.templates.get_template("payments/_booking_panel.html")
    return Markup(template.render(page=page, b=booking, preview=preview,
                                  payment=preview["payment"], invoices=invoices, refunds=refunds,
                                  may_pay=services.bookings.is_school_member(uow.actor, booking)))
