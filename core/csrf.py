"""CSRF protection bound to the session. A form's token is an HMAC of the session the browser
holds (before logging in: of a random id in a cookie of its own), so a token is worth nothing
for another session, and logging in or out gives a new one. Pages send it in the form field
`_csrf_token` or (htmx) the `X-CSRFToken` header; the API and webhooks are exempt (bearer
tokens and signatures, never cookies). The Origin check is core.inputs.OriginCheckMiddleware."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from litestar import Request
from litestar.datastructures import Cookie
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import NotAllowed
from core.i18n import gettext as _
from core.web import CSRF_COOKIE, SESSION_COOKIE, full_path

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
EXEMPT = ("/api/", "/webhooks/", "/admin", "/static/")


def _cookies(scope: Scope) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, _sep, val = part.strip().partition("=")
                found.setdefault(key, val)
    return found


def _binding(scope: Scope) -> str:
    cookies = _cookies(scope)
    if cookies.get(SESSION_COOKIE):
        return "session:" + cookies[SESSION_COOKIE]
    return "anonymous:" + (scope.get("csrf_anonymous") or cookies.get(CSRF_COOKIE, ""))


def token_for(scope: Scope, secret: str) -> str:
    return hmac.new(secret.encode(), ("csrf|" + _binding(scope)).encode(), hashlib.sha256).hexdigest()


class CSRFCookieMiddleware(ASGIMiddleware):
    """Gives a browser without a session a random id to bind its forms' tokens to."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, secure: bool) -> None:
        self.secure = secure

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if full_path(scope).startswith(EXEMPT) or _cookies(scope).get(CSRF_COOKIE):
            await next_app(scope, receive, send)
            return
        scope["csrf_anonymous"] = secrets.token_urlsafe(24)
        cookie = Cookie(key=CSRF_COOKIE, value=scope["csrf_anonymous"], path="/", httponly=True, samesite="lax",
                        secure=self.secure)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"set-cookie", cookie.to_header(header="").strip().encode())]}
            await send(message)

        await next_app(scope, receive, send_with_cookie)


async def check_csrf(request: Request) -> None:
    """before_request: an unsafe page request carries the token of its own session."""
    if request.method not in UNSAFE or full_path(request.scope).startswith(EXEMPT):
        return
    sent = request.headers.get("x-csrftoken", "")
    if not sent and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get("_csrf_token", "")
        sent = value if isinstance(value, str) else ""
    expected = token_for(request.scope, request.app.state.settings.secret_key)
    if not sent or not hmac.compare_digest(sent, expected):
        raise NotAllowed(_("Your form expired or was sent from elsewhere. Reload the page and try again."))
