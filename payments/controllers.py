"""Payment pages: paying a booking online (Stripe's Payment Element on Werkbank's own page; the
webhook, not the browser, confirms), the overview of what an owner received and a school paid
and owes, printable invoices and receipts, the owner's billing settings, and Stripe's webhook."""

from __future__ import annotations

import logging

import stripe
from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery

from accounts.auth import login_required, role_required
from accounts.tables import Membership, Organisation
from core.edge import Uow
from core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from core.i18n import gettext as _
from core.web import ObjectId, form_data, is_htmx, problem, render
from core.web import redirect as go
from payments import invoices, overview, services
from payments.gateway import StripeUnavailable
from payments.labels import payment_error_label
from payments.tables import Invoice

log = logging.getLogger("werkbank.payments")
Role = Membership.Role
MAX_WEBHOOK_BYTES = 512 * 1024


class PaymentPagesController(Controller):
    include_in_schema = False
    path = "/payments"
    guards = [login_required]

    @get("/", name="payments_overview")
    async def overview(self, request: Request, uow: Uow) -> Response:
        return render(request, "payments/overview.html", await overview.for_actor(uow))

    @get("/bookings/{booking_id:int}", name="payments_pay")
    async def pay(self, request: Request, uow: Uow, booking_id: ObjectId) -> Response:
        status_code = 200
        try:
            found = await services.checkout(uow, booking_id)
        except StripeUnavailable as exc:
            log.warning("payment page of booking %s: %s", booking_id, exc)
            found = await services.checkout(uow, booking_id, prepare=False)
            found.payable, status_code = False, 503
            found.why_not = _("Stripe cannot be reached right now. Try again in a few minutes; your booking stays held "
                              "until the deadline.")
        config = services.stripe_config(uow)
        response = render(request, "payments/pay.html", {
            "v": found.view, "b": found.view.booking, "payment": found.payment, "payable": found.payable,
            "why_not": found.why_not, "client_secret": found.client_secret, "stripe_js": config.js_url,
            "publishable_key": config.publishable_key,
            "return_url": f"{uow.settings.base_url}/payments/bookings/{booking_id}/done"}, status_code=status_code)
        response.headers["Content-Security-Policy"] = config.content_security_policy()
        response.headers["Cache-Control"] = "no-store"
        return response

    @post("/bookings/{booking_id:int}/card", name="payments_card")
    async def card(self, request: Request, uow: Uow, booking_id: ObjectId) -> Response:
        """For a Stripe.js without the Payment Element (a local Stripe-compatible server): the page
        sends the tokenised card; the server confirms the PaymentIntent (the webhook confirms
        the booking). JSON in and out, for the page's script."""
        try:
            data = await request.json()
        except Exception:  # noqa: BLE001 - anything unreadable is a 400
            return problem(400, _("The request could not be read."))
        method = data.get("payment_method", "") if isinstance(data, dict) else ""
        try:
            intent = await services.confirm_with(uow, booking_id, str(method),
                                                 f"{uow.settings.base_url}/payments/bookings/{booking_id}/done")
        except (Conflict, NotAllowed, NotFound) as exc:
            return problem(exc.status_code, str(exc))
        except StripeUnavailable as exc:
            log.info("card payment of booking %s refused: %s", booking_id, exc)
            code = getattr(exc.__cause__, "code", "") or ""
            return problem(402, _("The payment was refused: %(why)s", why=payment_error_label(code or "declined")))
        failure = intent.get("last_payment_error") or {}
        error = payment_error_label(str(failure.get("decline_code") or failure.get("code") or "")) if failure else ""
        return Response(content={"status": intent.get("status"), "client_secret": intent.get("client_secret"),
                                 "error": error, "next": f"/payments/bookings/{booking_id}/done"})

    @get("/bookings/{booking_id:int}/done", name="payments_done")
    async def done(self, request: Request, uow: Uow, booking_id: ObjectId) -> Response:
        """Where the browser lands after paying: the booking's state as the webhook left it
        (refreshing itself until Stripe's answer is in)."""
        found = await services.checkout(uow, booking_id, prepare=False)
        context = {"v": found.view, "b": found.view.booking, "payment": found.payment}
        if is_htmx(request):
            return render(request, "payments/done.html", context, block="state")
        return render(request, "payments/done.html", context)

    @get("/invoices/{invoice_id:int}", name="payments_invoice")
    async def invoice(self, request: Request, uow: Uow, invoice_id: ObjectId) -> Response:
        found = await invoices.readable(uow, invoice_id)
        original = (await Invoice.objects().output(load_json=True).where(Invoice.id == found.credits).first()
                    if found.credits else None)
        return render(request, "payments/invoice.html", {
            "invoice": found, "original": original, "can_manage": invoices.can_manage(uow.actor, found),
            "credited": await invoices.credited_cents(found.id) if found.kind == Invoice.Kind.invoice else 0})

    @post("/invoices/{invoice_id:int}/paid", name="payments_invoice_paid")
    async def invoice_paid(self, request: Request, uow: Uow, invoice_id: ObjectId) -> Response:
        try:
            found = await invoices.mark_paid(uow, invoice_id)
        except Conflict as exc:
            return go(request, request.headers.get("referer") or "/payments", str(exc), "error")
        return go(request, "/payments", _("Invoice %(ref)s is marked as paid.", ref=found.reference))

    @post("/refunds/{refund_id:int}/retry", name="payments_refund_retry")
    async def refund_retry(self, request: Request, uow: Uow, refund_id: ObjectId) -> Response:
        try:
            await services.retry_refund(uow, refund_id)
        except Conflict as exc:
            return go(request, "/payments", str(exc), "error")
        return go(request, "/payments", _("The refund is sent again."))

    @get("/{payment_id:int}/receipt", name="payments_receipt")
    async def receipt(self, request: Request, uow: Uow, payment_id: ObjectId) -> Response:
        return render(request, "payments/receipt.html", await overview.receipt(uow, payment_id))

    async def _settings_page(self, request: Request, uow: Uow, org: int | None, status_code: int = 200,
                             **extra) -> Response:
        actor = uow.actor
        owners = sorted(services.owner_ids(actor)) or ([org] if org and actor.is_platform_admin else [])
        if not owners:
            raise NotAllowed(_("Only an owner's staff have billing settings."))
        chosen = org if org in owners else owners[0]
        orgs = await Organisation.select(Organisation.id, Organisation.name).where(Organisation.id.is_in(owners))
        billing = await invoices.billing_of(chosen)
        config = services.stripe_config(uow)
        return render(request, "payments/settings.html", {
            "billing": billing, "orgs": orgs, "chosen": chosen, "online_missing": config.missing,
            "vat_percent": f"{billing.vat_rate_bp / 100:g}".replace(".", ","), **extra}, status_code=status_code)

    @get("/settings", name="payments_settings", guards=[role_required(Role.owner_staff)])
    async def settings_page(self, request: Request, uow: Uow, org: FromQuery[int | None] = None) -> Response:
        return await self._settings_page(request, uow, org)

    @post("/settings", name="payments_settings_save", guards=[role_required(Role.owner_staff)])
    async def settings_save(self, request: Request, uow: Uow) -> Response:
        data = await form_data(request)
        try:
            org = int(data.get("organisation", "0"))
        except ValueError:
            org = 0
        if org not in services.owner_ids(uow.actor) and not uow.actor.is_platform_admin:
            raise NotAllowed(_("Only the owner's staff change its billing settings."))
        try:
            await invoices.save_billing(uow, org, data)
        except ValidationFailed as exc:
            return await self._settings_page(request, uow, org, status_code=422, error=str(exc), fields=exc.fields,
                                             typed=data)
        return go(request, f"/payments/settings?org={org}", _("The billing settings are saved."))


class StripeWebhookController(Controller):
    """`POST /webhooks/stripe`: only Stripe's signed events; each handled once."""

    include_in_schema = False
    path = "/webhooks"

    @post("/stripe", name="stripe_webhook", status_code=200)
    async def stripe_event(self, request: Request, uow: Uow) -> Response:
        gateway = uow.app.stripe
        if gateway is None or not gateway.config.webhook_secret:
            return problem(404, _("Stripe is not configured here."))
        body = await request.body()
        if len(body) > MAX_WEBHOOK_BYTES:
            return problem(413, _("What you sent is too large."))
        signature = request.headers.get("stripe-signature", "")
        try:
            event = gateway.verify(body, signature)
        except (ValueError, stripe.SignatureVerificationError) as exc:
            log.warning("Stripe webhook refused: %s", type(exc).__name__)
            return problem(400, _("The signature of this event is not valid."))
        try:
            outcome = await services.receive(uow, event)
        except StripeUnavailable as exc:
            log.warning("Stripe event %s: Stripe could not be asked again: %s", event.get("id"), exc)
            return problem(503, _("Stripe could not be reached; send the event again later."))
        log.info("Stripe event %s (%s): %s", event.get("id"), event.get("type"), outcome)
        return Response(content={"received": True, "outcome": outcome})

