"""The one way Werkbank talks to Stripe (or a Stripe-compatible server such as localstripe):
an async StripeClient made from the settings, per running Werkbank (never at module level).
Every call that creates something carries an idempotency key, so a retry never pays twice."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import stripe

from core.settings import Settings

STRIPE_JS = "https://js.stripe.com/v3/"
# What the Payment Element offers: cards, and Bancontact (what most Belgian payers use).
METHOD_TYPES = ["bancontact", "card"]


class StripeUnavailable(RuntimeError):
    """Stripe could not be reached or refused the call; the message is for the log."""


@dataclass(frozen=True)
class StripeConfig:
    secret_key: str
    publishable_key: str
    webhook_secret: str
    api_base: str

    @classmethod
    def of(cls, settings: Settings) -> StripeConfig:
        return cls(settings.stripe_secret_key, settings.stripe_publishable_key, settings.stripe_webhook_secret,
                   settings.stripe_api_base.rstrip("/"))

    @property
    def missing(self) -> list[str]:
        """The settings pay-online still needs (empty when it works)."""
        names = (("WERKBANK_STRIPE_SECRET_KEY", self.secret_key), ("WERKBANK_STRIPE_PUBLISHABLE_KEY", self.publishable_key),
                 ("WERKBANK_STRIPE_WEBHOOK_SECRET", self.webhook_secret))
        return [name for name, value in names if not value]

    @property
    def enabled(self) -> bool:
        return not self.missing

    @property
    def js_url(self) -> str:
        """Stripe.js: from Stripe, or the stand-in a local Stripe-compatible server serves."""
        return f"{self.api_base}/js.stripe.com/v3/" if self.api_base else STRIPE_JS

    def content_security_policy(self) -> str:
        """The payment page's CSP: Werkbank's own, plus what Stripe.js needs."""
        if self.api_base:
            parts = urlsplit(self.api_base)
            origin = f"{parts.scheme}://{parts.netloc}"
            scripts = frames = connect = origin
        else:
            scripts = "https://js.stripe.com https://*.js.stripe.com"
            frames = "https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com"
            connect = "https://api.stripe.com"
        return (f"default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; "
                f"script-src 'self' {scripts}; frame-src {frames}; connect-src 'self' {connect}; object-src 'none'; "
                f"base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


class Gateway:
    """Async calls to Stripe. Objects come back as plain dicts (stripe 16's objects are not)."""

    def __init__(self, config: StripeConfig) -> None:
        self.config = config
        self._client: stripe.StripeClient | None = None

    @property
    def client(self) -> stripe.StripeClient:
        if self._client is None:
            options: dict = {"http_client": stripe.HTTPXClient(), "max_network_retries": 2}
            if self.config.api_base:
                options["base_addresses"] = {"api": self.config.api_base}
            self._client = stripe.StripeClient(self.config.secret_key, **options)
        return self._client

    async def _call(self, coroutine):
        try:
            result = await coroutine
        except stripe.StripeError as exc:
            raise StripeUnavailable(f"{type(exc).__name__}: {exc.user_message or exc}") from exc
        return result.to_dict() if hasattr(result, "to_dict") else result

    async def create_intent(self, amount_cents: int, *, key: str, metadata: dict) -> dict:
        return await self._call(self.client.v1.payment_intents.create_async(
            {"amount": amount_cents, "currency": "eur", "payment_method_types": METHOD_TYPES,
             "metadata": metadata}, {"idempotency_key": key}))

    async def method_type(self, payment_method_id: str) -> str:
        """card or bancontact: how the school paid (Stripe's PaymentMethod says)."""
        found = await self._call(self.client.v1.payment_methods.retrieve_async(payment_method_id))
        return str(found.get("type") or "card")

    async def intent(self, intent_id: str) -> dict:
        return await self._call(self.client.v1.payment_intents.retrieve_async(intent_id))

    async def set_amount(self, intent_id: str, amount_cents: int) -> dict:
        return await self._call(self.client.v1.payment_intents.update_async(intent_id, {"amount": amount_cents}))

    async def confirm_with(self, intent_id: str, payment_method: str, return_url: str) -> dict:
        """Server-side confirmation with a payment method the page collected (the path for a
        Stripe.js without the Payment Element): attach it, then confirm."""
        await self._call(self.client.v1.payment_intents.update_async(intent_id, {"payment_method": payment_method}))
        return await self._call(self.client.v1.payment_intents.confirm_async(intent_id))

    async def cancel_intent(self, intent_id: str) -> dict:
        return await self._call(self.client.v1.payment_intents.cancel_async(intent_id))

    async def token(self, token_id: str) -> dict:
        return await self._call(self.client.v1.tokens.retrieve_async(token_id))

    async def refund(self, intent_id: str, amount_cents: int, *, key: str, metadata: dict) -> dict:
        return await self._call(self.client.v1.refunds.create_async(
            {"payment_intent": intent_id, "amount": amount_cents, "metadata": metadata}, {"idempotency_key": key}))

    async def refund_of(self, refund_id: str) -> dict:
        return await self._call(self.client.v1.refunds.retrieve_async(refund_id))

    async def refunds_of_intent(self, intent_id: str) -> list[dict]:
        page = await self._call(self.client.v1.refunds.list_async({"payment_intent": intent_id, "limit": 100}))
        return list(page.get("data", []))

    def verify(self, payload: bytes, signature: str) -> dict:
        """The event, if `signature` is Stripe's for `payload` with our secret and fresh (5
        minutes); raises ValueError or stripe.SignatureVerificationError otherwise."""
        event = stripe.Webhook.construct_event(payload, signature, self.config.webhook_secret)
        return event.to_dict()

    async def close(self) -> None:
        if self._client is not None:
            http = getattr(self._client, "_requestor", None)
            client = getattr(http, "_client", None)
            closer = getattr(client, "close_async", None)
            if closer is not None:
                await closer()
