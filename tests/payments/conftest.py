"""A local Stripe for the payment tests: localstripe (a fake Stripe API server) started once per
session on a free loopback port, and a small HTTP server that captures the signed webhooks it
sends.

Fixtures and helpers:

- `localstripe` (session): a `LocalStripe` with `api_base`, `secret_key`, `publishable_key`,
  `webhook_secret`, `js_url` (localstripe's stand-in Stripe.js), `client()` (a `stripe.StripeClient`
  pointed at it), `deliveries(type, object_id)`, `wait_for(type, object_id, timeout)` (and
  `wait_for_async`), `clear()`, `flush()`, `payment_method(card)`, `pay(pi, card)`,
  `authenticate(pi, success)`.
- `stripe_local` (per test): the same object, with the captured deliveries forgotten and
  localstripe's store emptied (`DELETE /_config/data`; that keeps the registered webhook).
- `sign_payload(payload, secret, timestamp)`: a `Stripe-Signature` header value (forged or stale
  signatures); `await deliver(client, delivery)`: POST a captured webhook, raw body and signature
  untouched, to the app's `/webhooks/stripe`.

What localstripe 1.15.10 sends as webhooks (grep `schedule_webhook` in localstripe/resources.py);
each is sent after 1 s by localstripe (50 ms here: the launcher shortens it), signed
`t=<event.created>,v1=<hmac-sha256>`, and `data.object` is the object as it was when the event was
made:

- `payment_intent.succeeded`: a PaymentIntent confirmed with a card that charges (4242424242424242),
  also after a successful `_authenticate` (3-D Secure) and after `capture` (capture_method=manual).
- `payment_intent.payment_failed`: a card declined at charge (4000000000000341, and the 3-D Secure
  cards 4000008260003178 and 4000008400001629 after authentication). The confirm (or
  `_authenticate`) call itself then answers HTTP 402, which the stripe package raises as
  `stripe.CardError`; `pay()` and `authenticate()` below catch that and return the PaymentIntent.
- Nothing for `requires_action` (3-D Secure cards 4000002760003184, 4000002500003155, ...): real
  Stripe sends `payment_intent.requires_action`. Nothing either when authentication fails
  (`_authenticate?success=false`: the PaymentIntent goes back to `requires_payment_method` with
  last_payment_error.code `payment_intent_authentication_failure`; real Stripe sends
  `payment_intent.payment_failed`).
- Nothing for refunds (real Stripe: `charge.refunded`, `refund.created`, `refund.updated`, ...),
  nothing for charges (`charge.succeeded`, `charge.failed`, ...), and no `payment_intent.created`,
  `payment_intent.canceled`, `payment_intent.processing` or `payment_intent.amount_capturable_updated`.
- Outside payments: customer.created/updated/deleted, customer.source.created, customer.subscription.
  created/deleted, invoice.created/payment_succeeded/payment_failed, plan.created, product.created,
  payout.created/updated/paid/failed/canceled, balance.available (on the first GET /v1/balance).

Unlike Stripe, localstripe exports a PaymentIntent's `latest_charge` as the whole Charge object (in
API answers and in webhooks), not as its id, and adds the old `charges` list.

localstripe 1.15.10 saves its whole store to the hard-coded path /tmp/localstripe.pickle on every
write (not to the system temp folder, so TMPDIR does not move it) and loads it at start. The
launcher below therefore runs localstripe's aiohttp app itself: state in memory only (no file is
read or written), listening on 127.0.0.1 alone (its own `start()` binds `::`, every interface, and
needs IPv6), with TMPDIR pointing to a private folder all the same.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe

from tests.postgres import free_port

SECRET_KEY = "sk_test_werkbank"
PUBLISHABLE_KEY = "pk_test_werkbank"
WEBHOOK_SECRET = "whsec_test_werkbank"
WEBHOOK_NAME = "werkbank-tests"
WEBHOOK_PATH = "/webhooks/stripe"  # the app's endpoint that `deliver` posts to

# Test cards (localstripe/resources.py, PaymentMethod._requires_authentication and friends).
CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000341"  # attaches, then is declined at charge
CARD_3DS = "4000002760003184"  # requires_action, then charges after a successful authentication
CARD_3DS_DECLINED = "4000008260003178"  # requires_action, then declined after authentication

# Runs localstripe's own aiohttp app (localstripe.server.app) with the store kept in memory and a
# socket on 127.0.0.1 only; otherwise as localstripe.server.start() does it. Its webhooks go out
# after 50 ms instead of a second (still after the API call that caused them has answered).
_LAUNCHER = """
import asyncio, logging, socket, sys
from aiohttp import web
from localstripe import resources, server, webhooks


class _QuickerAsyncio:
    def __getattr__(self, name):
        return getattr(asyncio, name)

    @staticmethod
    def sleep(delay, *args, **kwargs):
        return asyncio.sleep(min(delay, 0.05), *args, **kwargs)


assert webhooks.asyncio is asyncio, "localstripe.webhooks no longer uses asyncio directly: update tests/payments/conftest.py"
webhooks.asyncio = _QuickerAsyncio()

for name in ("dump_to_disk", "try_load_from_disk"):
    assert hasattr(resources.Store, name), f"localstripe.resources.Store.{name} is gone: update tests/payments/conftest.py"
resources.Store.dump_to_disk = lambda self: None
resources.Store.try_load_from_disk = lambda self: None

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", int(sys.argv[1])))
logger = logging.getLogger("aiohttp.access")
logger.setLevel(logging.DEBUG)
logger.addHandler(logging.StreamHandler())
web.run_app(server.app, sock=sock, access_log=logger)
"""


def sign_payload(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header value for `payload`, as Stripe (and localstripe) make it."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), b"%d." % timestamp + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass(frozen=True)
class Delivery:
    """One webhook as the capture server received it."""

    body: bytes  # raw, as signed
    signature: str  # the Stripe-Signature header
    type: str  # event type, e.g. "payment_intent.succeeded"
    object_id: str | None  # data.object.id
    event_id: str
    received_at: float  # time.monotonic()

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def object(self) -> dict[str, Any]:
        return self.event["data"]["object"]


class _Capture:
    """What the capture server has received, shared with its handler threads."""

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.deliveries: list[Delivery] = []
        self.ignored: list[Delivery] = []  # events made before the last clear() that arrived after it
        self.ignored_event_ids: set[str] = set()
        self.problems: list[str] = []  # requests that were not webhooks

    def record(self, body: bytes, signature: str) -> None:
        try:
            event = json.loads(body)
            delivery = Delivery(body=body, signature=signature, type=event["type"],
                                object_id=(event.get("data", {}).get("object") or {}).get("id"),
                                event_id=event["id"], received_at=time.monotonic())
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            with self.condition:
                self.problems.append(f"unreadable webhook ({exc!r}): {body[:200]!r}")
            return
        with self.condition:
            if delivery.event_id in self.ignored_event_ids:
                self.ignored.append(delivery)
            else:
                self.deliveries.append(delivery)
            self.condition.notify_all()


class _CaptureHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # keep the test output quiet
        pass

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.capture.record(body, self.headers.get("Stripe-Signature", ""))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


class _CaptureServer(ThreadingHTTPServer):
    daemon_threads = True


def _matches(delivery: Delivery, type: str | None, object_id: str | None) -> bool:
    return (type is None or delivery.type == type) and (object_id is None or delivery.object_id == object_id)


@dataclass
class LocalStripe:
    api_base: str  # http://127.0.0.1:PORT
    webhook_url: str  # the capture server, as registered with localstripe
    log_path: Path
    _capture: _Capture = field(repr=False)
    _http: httpx.Client = field(repr=False)
    secret_key: str = SECRET_KEY
    publishable_key: str = PUBLISHABLE_KEY
    webhook_secret: str = WEBHOOK_SECRET

    def __post_init__(self) -> None:
        self._client = self.client()

    @property
    def js_url(self) -> str:
        """localstripe's stand-in for https://js.stripe.com/v3/ (it talks to `api_base`)."""
        return f"{self.api_base}/js.stripe.com/v3/"

    def client(self, **options: Any) -> stripe.StripeClient:
        """A StripeClient for localstripe (no retries unless asked; `options` go to StripeClient)."""
        options.setdefault("max_network_retries", 0)
        return stripe.StripeClient(self.secret_key, base_addresses={"api": self.api_base}, **options)

    # --- webhooks ------------------------------------------------------------------------------

    def deliveries(self, type: str | None = None, object_id: str | None = None) -> list[Delivery]:
        with self._capture.condition:
            return [d for d in self._capture.deliveries if _matches(d, type, object_id)]

    def _describe_arrivals(self) -> str:
        with self._capture.condition:
            seen = [f"{d.type} {d.object_id}" for d in self._capture.deliveries]
            problems = list(self._capture.problems)
        text = "\n  ".join(seen) if seen else "(nothing)"
        if problems:
            text += "\n  and requests that were not webhooks:\n  " + "\n  ".join(problems)
        return text

    def wait_for(self, type: str, object_id: str | None = None, timeout: float = 10) -> Delivery:
        """The first delivery of `type` (for `object_id`), waiting for it up to `timeout` s."""
        deadline = time.monotonic() + timeout
        with self._capture.condition:
            while True:
                for delivery in self._capture.deliveries:
                    if _matches(delivery, type, object_id):
                        return delivery
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._capture.condition.wait(left)
        raise AssertionError(f"no {type} webhook{f' for {object_id}' if object_id else ''} within {timeout} s; "
                             f"what arrived:\n  {self._describe_arrivals()}")

    async def wait_for_async(self, type: str, object_id: str | None = None, timeout: float = 10) -> Delivery:
        """`wait_for` without blocking the event loop (for tests where the app runs meanwhile)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.deliveries(type, object_id)
            if found:
                return found[0]
            if time.monotonic() >= deadline:
                return self.wait_for(type, object_id, timeout=0)  # raises, with what did arrive
            await asyncio.sleep(0.02)

    def clear(self) -> None:
        """Forget the captured deliveries. Webhooks of events made before now that arrive later
        (localstripe sends them a moment late) are set aside, not captured."""
        event_ids = self._event_ids()
        with self._capture.condition:
            self._capture.ignored_event_ids |= event_ids
            self._capture.deliveries.clear()
            self._capture.ignored.clear()
            self._capture.problems.clear()

    def _event_ids(self) -> set[str]:
        ids: set[str] = set()
        params: dict[str, Any] = {"limit": 1000}
        while True:
            page = self._http.get("/v1/events", params=params)
            page.raise_for_status()
            answer = page.json()
            ids |= {event["id"] for event in answer["data"]}
            if not answer["has_more"] or not answer["data"]:
                return ids
            params["starting_after"] = answer["data"][-1]["id"]

    def flush(self) -> None:
        """Empty localstripe's store (every object and event). The registered webhook stays."""
        self._http.delete("/_config/data").raise_for_status()

    def register_webhook(self, name: str, url: str, secret: str, events: list[str] | None = None) -> None:
        data: dict[str, Any] = {"url": url, "secret": secret}
        if events is not None:
            data["events"] = events
        self._http.post(f"/_config/webhooks/{name}", json=data).raise_for_status()

    # --- payments --------------------------------------------------------------------------------

    def payment_method(self, card_number: str) -> str:
        """A new card PaymentMethod (exp 12/2030, cvc 123): its id."""
        pm = self._client.v1.payment_methods.create(
            {"type": "card", "card": {"number": card_number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
        return pm.id

    def pay(self, payment_intent_id: str, card_number: str) -> stripe.PaymentIntent:
        """Pay as a customer would with `card_number`: the PaymentIntent afterwards (succeeded,
        requires_action, or requires_payment_method when the card was declined: localstripe
        answers that confirm with 402, which is swallowed here)."""
        payment_intents = self._client.v1.payment_intents
        payment_intents.update(payment_intent_id, {"payment_method": self.payment_method(card_number)})
        try:
            return payment_intents.confirm(payment_intent_id)
        except stripe.CardError:
            return payment_intents.retrieve(payment_intent_id)

    def authenticate(self, payment_intent_id: str, success: bool) -> stripe.PaymentIntent:
        """Complete (or fail) the 3-D Secure step of a PaymentIntent in requires_action, as the
        stand-in Stripe.js does: the PaymentIntent afterwards."""
        payment_intents = self._client.v1.payment_intents
        intent = payment_intents.retrieve(payment_intent_id)
        response = self._http.post(f"/v1/payment_intents/{payment_intent_id}/_authenticate",
                                   params={"success": "true" if success else "false"},
                                   json={"key": self.publishable_key, "client_secret": intent.client_secret})
        if response.status_code not in (200, 402):  # 402: authenticated, then declined at charge
            raise AssertionError(f"_authenticate {payment_intent_id}: {response.status_code} {response.text}")
        return payment_intents.retrieve(payment_intent_id)


async def deliver(client: httpx.AsyncClient, delivery: Delivery, *, signature: str | None = None,
                  path: str = WEBHOOK_PATH) -> httpx.Response:
    """POST a captured webhook to the app as Stripe would: the raw body and its Stripe-Signature
    header (or `signature`, for forged ones)."""
    headers = {"Stripe-Signature": delivery.signature if signature is None else signature,
               "Content-Type": "application/json"}
    return await client.post(path, content=delivery.body, headers=headers)


def _log_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(no log: {exc})"


def _start_localstripe(root: Path) -> tuple[subprocess.Popen, str, Path]:
    port = free_port()
    log_path = root / "localstripe.log"
    private_tmp = root / "tmp"
    private_tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(private_tmp), "PYTHONUNBUFFERED": "1"}
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen([sys.executable, "-c", _LAUNCHER, str(port)], stdout=log_file, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, env=env, cwd=root)
    return process, f"http://127.0.0.1:{port}", log_path


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_answering(http: httpx.Client, process: subprocess.Popen, log_path: Path, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"localstripe stopped at start (exit {process.returncode}); its log ends:\n{_log_tail(log_path)}")
        try:
            if http.get("/js.stripe.com/v3/", timeout=0.5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"localstripe did not answer within {seconds} s; its log ends:\n{_log_tail(log_path)}")


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory) -> Iterator[LocalStripe]:
    """localstripe on a free loopback port for the session, its webhooks (all events) sent to a
    capture server, signed with WEBHOOK_SECRET."""
    capture = _Capture()
    capture_server = _CaptureServer(("127.0.0.1", 0), _CaptureHandler)
    capture_server.capture = capture
    thread = threading.Thread(target=capture_server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    webhook_url = f"http://127.0.0.1:{capture_server.server_address[1]}/stripe-webhooks"

    process, api_base, log_path = _start_localstripe(tmp_path_factory.mktemp("localstripe"))
    http = httpx.Client(base_url=api_base, timeout=10, headers={"Authorization": f"Bearer {SECRET_KEY}"})
    try:
        _wait_until_answering(http, process, log_path)
        local = LocalStripe(api_base=api_base, webhook_url=webhook_url, log_path=log_path, _capture=capture, _http=http)
        local.register_webhook(WEBHOOK_NAME, webhook_url, WEBHOOK_SECRET)
        yield local
    finally:
        http.close()
        _stop(process)
        capture_server.shutdown()
        capture_server.server_close()


@pytest.fixture
def stripe_local(localstripe: LocalStripe) -> LocalStripe:
    """localstripe for one test: no captured deliveries, an empty store (create what the test
    needs; objects made by another test are gone)."""
    localstripe.clear()
    localstripe.flush()
    return localstripe


# --- the app, with Stripe pointed at localstripe ------------------------------------------------

@pytest.fixture
def settings(db, tmp_path, stripe_local):
    """The test settings of tests/conftest.py, with pay-online configured against localstripe."""
    from core.settings import Settings

    return Settings(
        environment="test", database_url=db.url, secret_key="test-secret-key-that-is-long-enough-0123456789",
        base_url="http://testserver.local", data_dir=tmp_path, mail_dir=tmp_path / "mail", in_process_worker=False,
        stripe_secret_key=stripe_local.secret_key, stripe_publishable_key=stripe_local.publishable_key,
        stripe_webhook_secret=stripe_local.webhook_secret, stripe_api_base=stripe_local.api_base,
    )


@pytest.fixture
async def shop(owner_org, create_org, create_facility, create_resource, create_user, uow_for):
    """A welding robot paid online (approval needed; 180 euro per half day; cancelling free until
    a month before, then half the price is kept), a bakery line on invoice without approval, the
    owner's staff, and two schools with a teacher each (units of work acting for them)."""
    from accounts import services as accounts

    owner = await owner_org()
    facility = await create_facility(owner, name="Metaalcampus")
    robot = await create_resource(facility, name="Lasrobot", category="welding", capacity="12", max_duration_minutes="480",
                                  price_model="per_half_day", price="180",
                                  payment_mode="online", min_notice_hours="0", buffer_minutes="0",
                                  free_cancellation_hours=str(24 * 30), late_cancellation_percent="50")
    line = await create_resource(facility, name="Bakkerijlijn", category="bakery-food", price_model="per_hour", price="40,10",
                                 payment_mode="invoice", needs_approval="", min_notice_hours="0", buffer_minutes="0")
    staff = await create_user("owner_staff", org=owner, email="staff@metaal.be")
    school = await create_org(slug="vti-gent", name="VTI Gent")
    other_school = await create_org(slug="go-aalst", name="GO! Aalst", postal_code="9300")
    teacher = await create_user("teacher", org=school, email="sofie@vti.be", first_name="Sofie", last_name="Claes")
    stranger = await create_user("teacher", org=other_school, email="an@go.be")
    return {"owner": owner, "facility": facility, "robot": robot, "line": line, "school": school,
            "other_school": other_school,
            "staff": uow_for(await accounts.load_actor(staff)), "teacher": uow_for(await accounts.load_actor(teacher)),
            "stranger": uow_for(await accounts.load_actor(stranger))}
