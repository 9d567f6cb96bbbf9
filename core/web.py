"""Web helpers every domain uses: page rendering (whole page, or the block htmx asked for),
redirects with a flash message, form reading, error pages and problem+json, security headers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from typing import Annotated, Any
from urllib.parse import quote, urlparse

from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException
from litestar.middleware import ASGIMiddleware
from litestar.params import PathParameter, QueryParameter
from litestar.response import Redirect
from litestar.types import ASGIApp, Receive, Scope, Send
from markupsafe import Markup, escape

from core import i18n
from core.errors import DomainError, RateLimited, ValidationFailed
from core.i18n import gettext as _
from core.i18n import lazy_gettext as _l

log = logging.getLogger("werkbank.web")

FLASH_COOKIE = "werkbank_flash"
CSRF_COOKIE = "werkbank_csrf"
SESSION_COOKIE = "werkbank_session"
LANGUAGE_COOKIE = "werkbank_lang"
HTML = "text/html"  # Litestar adds "; charset=utf-8"
PROBLEM = "application/problem+json"

# A database id: a positive integer that fits PostgreSQL's `integer` (a larger one is refused
# with 400 before it reaches the database).
MAX_ID = 2**31 - 1
ObjectId = Annotated[int, PathParameter(ge=1, le=MAX_ID)]


def ascii_digits(value: str, most: int) -> bool:
    """Only the digits 0-9 (str.isdigit also takes '²', which int() refuses), 1 to `most` of them."""
    return 0 < len(value) <= most and value.isascii() and value.isdigit()


def form_id(value: str | None) -> int | None:
    """An id typed or chosen in a form, or None when it is not one (never an exception)."""
    value = (value or "").strip()
    return int(value) if ascii_digits(value, 10) and 1 <= int(value) <= MAX_ID else None
QueryId = Annotated[int, QueryParameter(ge=1, le=MAX_ID)]

def full_path(scope: Scope) -> str:
    """The path as the client sent it (inside a mounted app, scope["path"] is only the rest)."""
    raw = scope.get("raw_path")
    return raw.decode("latin-1") if raw else scope.get("path", "")


def is_htmx(request: Request) -> bool:
    """An htmx request that wants a fragment (a boosted one, or htmx restoring a page it has no
    snapshot of after Back, wants the whole page)."""
    details = getattr(request, "htmx", None)  # HTMXPlugin makes every request an HTMXRequest
    return bool(details) and not details.boosted and not details.history_restore_request


def is_api(path: str) -> bool:
    return path.startswith("/api/")


def csrf_token(request: Request) -> str:
    from core.csrf import token_for

    return token_for(request.scope, request.app.state.settings.secret_key)


def page_context(request: Request, context: dict[str, Any]) -> dict[str, Any]:
    token = csrf_token(request)
    flashes = read_flash(request)
    return {
        "request": request,
        "actor": request.scope.get("user"),
        "csrf_token": token,
        "csrf_input": Markup(f'<input type="hidden" name="_csrf_token" value="{escape(token)}">'),
        "flashes": flashes,
        "language": i18n.get_language(),
        **context,
    }


def render(request: Request, template: str, context: dict[str, Any] | None = None, *,
           block: str | None = None, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """The whole page; or, for an htmx request and a named `block`, only that block."""
    env = request.app.state.werkbank.templates
    tmpl = env.get_template(template)
    ctx = page_context(request, context or {})
    if block and is_htmx(request):
        html = "".join(tmpl.blocks[block](tmpl.new_context(ctx)))
    else:
        html = tmpl.render(ctx)
    response = Response(content=html, media_type=HTML, status_code=status_code, headers=headers or {})
    if ctx["flashes"]:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def safe_next(target: str | None, default: str = "/") -> str:
    """Only local paths: never redirect to another site."""
    if not target:
        return default
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def redirect(request: Request, to: str, message: str | None = None, kind: str = "success") -> Response:
    """After a POST: go to `to` (htmx follows it with HX-Redirect), with a flash message."""
    if is_htmx(request):
        response: Response = Response(content="", status_code=200, headers={"HX-Redirect": to})
    else:
        response = Redirect(path=to, status_code=303)
    if message:
        set_flash(request, response, message, kind)
    return response


# --- flash messages: a signed cookie, read once ---------------------------------------------

def _sign(data: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()[:32]


def set_flash(request: Request, response: Response, message: str, kind: str = "success") -> None:
    secret = request.app.state.settings.secret_key
    payload = base64.urlsafe_b64encode(json.dumps([kind, str(message)]).encode()).decode()
    response.set_cookie(Cookie(
        key=FLASH_COOKIE, value=f"{payload}.{_sign(payload.encode(), secret)}", path="/", httponly=True,
        samesite="lax", secure=request.app.state.settings.secure_cookies, max_age=120,
    ))


def read_flash(request: Request) -> list[tuple[str, str]]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw or "." not in raw:
        return []
    payload, signature = raw.rsplit(".", 1)
    if not hmac.compare_digest(signature, _sign(payload.encode(), request.app.state.settings.secret_key)):
        return []
    try:
        kind, message = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except (ValueError, TypeError):
        return []
    return [(str(kind), str(message))]


# --- forms -----------------------------------------------------------------------------------

async def uploaded_file(request: Request, name: str) -> tuple[bytes, dict[str, str]]:
    """The bytes of an uploaded file (empty when none was sent) and the form's text fields."""
    from core.inputs import check_text

    form = await request.form()
    upload = form.get(name)
    content = await upload.read() if upload is not None and not isinstance(upload, str) else b""
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    for key, value in fields.items():
        check_text(value, key)
    if upload is not None and not isinstance(upload, str):
        fields["_filename"] = (getattr(upload, "filename", "") or "")[:200]
    return content, fields


async def form_data(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: (value if isinstance(value, str) else "") for key, value in form.items()}


# --- errors ----------------------------------------------------------------------------------

HTTP_MESSAGES = {
    400: _l("The request could not be read."),
    401: _l("Log in to continue."),
    403: _l("You are not allowed to do this."),
    404: _l("This page or object does not exist, or you may not see it."),
    405: _l("This action is not possible here."),
    413: _l("What you sent is too large."),
    429: _l("Too many requests. Wait a moment and try again."),
    500: _l("Something went wrong on our side. The error was logged; try again later."),
}


def _http_message(status: int) -> str:
    return str(HTTP_MESSAGES.get(status, HTTP_MESSAGES[400 if status < 500 else 500]))


def problem(status: int, detail: str, title: str = "", **extra) -> Response:
    body = {"type": "about:blank", "title": title or _http_title(status), "status": status, "detail": detail, **extra}
    return Response(content=body, status_code=status, media_type=PROBLEM)


def _http_title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _is_busy(exc: Exception) -> bool:
    if type(exc).__name__ == "OperationalError" and "locked" in str(exc).lower():
        return True
    return getattr(exc, "sqlstate", None) in ("40P01", "40001", "55P03")  # deadlock, serialization, lock


def exception_to_response(request: Request, exc: Exception) -> Response:
    """The one exception handler: Dutch page message, or RFC 9457 problem+json on the API."""
    status = 500
    detail = None
    extra: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if isinstance(exc, DomainError):
        status = exc.status_code
        detail = str(exc.message)
        extra = {key: value for key, value in exc.extra.items()}
        if isinstance(exc, ValidationFailed) and exc.fields:
            extra["errors"] = {key: str(value) for key, value in exc.fields.items()}
        if isinstance(exc, RateLimited):
            headers["Retry-After"] = str(exc.retry_after_seconds)
    elif isinstance(exc, HTTPException):
        status = exc.status_code
        if isinstance(exc, PermissionDeniedException) and "csrf" in str(exc.detail).lower():
            detail = _("Your form expired or was sent from elsewhere. Reload the page and try again.")
        elif isinstance(exc, NotAuthorizedException):
            detail = _http_message(401)
        else:
            detail = _http_message(status)
            if status == 400 and getattr(exc, "extra", None) and is_api(full_path(request.scope)):
                extra["errors"] = exc.extra
    elif _is_busy(exc):
        # The database stayed locked longer than it waits (SQLite), or two writers deadlocked
        # (PostgreSQL): nothing was written; the client may simply try again.
        log.warning("database busy on %s %s: %s", request.method, request.url.path, exc)
        status = 503
        detail = _("Werkbank is very busy right now; nothing was changed. Try again in a moment.")
        headers["Retry-After"] = "5"
    elif isinstance(exc, OverflowError) or type(exc).__name__ in ("DataError", "NumericValueOutOfRangeError"):
        # A number from the request that the database cannot hold: bad input, not our failure.
        status = 400
        detail = _http_message(400)
    else:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        detail = _http_message(500)

    path = full_path(request.scope)
    if is_api(path) or path.startswith("/webhooks/"):
        response = problem(status, detail, **extra)
        response.headers.update(headers)
        return response
    if status == 401 and request.method == "GET" and not path.startswith("/login"):
        target = f"/login?next={quote(path + ('?' + request.url.query if request.url.query else ''), safe='/%')}"
        return redirect(request, target)
    context = {"status": status, "detail": detail, "fields": extra.get("errors", {})}
    if is_htmx(request):
        # htmx 2 does not swap 4xx/5xx by default: send the message as a 200 fragment into the
        # page's message area.
        return render(request, "core/error.html", context, block="message", status_code=200,
                      headers={"HX-Retarget": "#messages", "HX-Reswap": "innerHTML", **headers})
    return render(request, "core/error.html", context, status_code=status, headers=headers)


# --- middleware ------------------------------------------------------------------------------

class SecurityHeadersMiddleware(ASGIMiddleware):
    """Security headers on every answer; a strict CSP on Werkbank's own pages."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, https: bool = False) -> None:
        self.https = https

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        path = full_path(scope)
        own_page = not path.startswith("/admin") and not path.startswith("/schema")

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _value in headers}
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(self)"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                ]
                if own_page:
                    extra.append((b"x-frame-options", b"DENY"))
                    extra.append((
                        b"content-security-policy",
                        b"default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; "
                        b"script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
                        b"frame-ancestors 'none'",
                    ))
                if self.https:
                    extra.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
                headers.extend(item for item in extra if item[0] not in names)
                message = {**message, "headers": headers}
            await send(message)

        await next_app(scope, receive, send_with_headers)


class LanguageMiddleware(ASGIMiddleware):
    """Sets the language of the request from the language cookie (the user's own choice, once
    logged in, overrides it in the auth middleware)."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        language = i18n.DEFAULT_LANGUAGE
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                for part in value.decode("latin-1").split(";"):
                    key, _sep, val = part.strip().partition("=")
                    if key == LANGUAGE_COOKIE:
                        language = i18n.normalise_language(val)
        token = i18n.set_language(language)
        try:
            await next_app(scope, receive, send)
        finally:
            i18n._language.reset(token)
