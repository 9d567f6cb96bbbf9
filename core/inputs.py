"""The one place where hostile input is refused before any handler or database sees it: text
with NUL or other control characters (tab and line ends are fine), request bodies that are not
UTF-8, and JSON nested deeper than any Werkbank request needs. PostgreSQL refuses NUL in text
(a 500 otherwise); SQLite would store it. Query strings, URL-encoded forms and JSON bodies are
checked here; the text fields of multipart forms in core.web.uploaded_file."""

from __future__ import annotations

import asyncio
import json
import re
from urllib.parse import parse_qsl, urlsplit

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import BadInput, NotAllowed, ValidationFailed
from core.i18n import gettext as _
from core.web import full_path

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_JSON_DEPTH = 32
MAX_BODY = 10 * 1024 * 1024
THREAD_FROM = 256 * 1024  # parse larger JSON bodies in a thread, off the event loop
SKIP = ("/static/", "/admin")


def control_character_message() -> str:
    return _("Remove the invisible control characters from what you typed or pasted.")


def check_text(value: str, field: str = "") -> None:
    if CONTROL.search(value):
        message = control_character_message()
        raise ValidationFailed(message, {field: message} if field else None, rule="text")


def _walk(value, depth: int = 0) -> None:
    if depth > MAX_JSON_DEPTH:
        raise BadInput(_("The JSON is nested too deeply."))
    if isinstance(value, str):
        check_text(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key)
            _walk(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _walk(item, depth + 1)


def check_json(body: bytes) -> None:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(_("What you sent is not valid UTF-8 text.")) from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise BadInput(_("The JSON is nested too deeply.")) from None
    except ValueError:
        return  # not JSON at all: the handler's own decoding answers with its 400
    _walk(value)


def check_form(body: bytes) -> None:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(_("What you sent is not valid UTF-8 text.")) from None
    for key, value in parse_qsl(text, keep_blank_values=True, errors="strict"):
        check_text(key)
        check_text(value, key)


def check_query(raw: bytes) -> None:
    if not raw:
        return
    try:
        pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise BadInput(_("What you sent is not valid UTF-8 text.")) from None
    for key, value in pairs:
        check_text(key)
        check_text(value, key)


class InputGuardMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if full_path(scope).startswith(SKIP):
            await next_app(scope, receive, send)
            return
        check_query(scope.get("query_string", b""))
        content_type = ""
        for name, value in scope.get("headers", []):
            if name == b"content-type":
                content_type = value.decode("latin-1").split(";")[0].strip().lower()
        if scope.get("method") not in ("POST", "PUT", "PATCH") or content_type not in (
                "application/json", "application/x-www-form-urlencoded") and not content_type.endswith("+json"):
            await next_app(scope, receive, send)
            return
        body, messages = b"", []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if len(body) > MAX_BODY or not message.get("more_body", False):
                break
        if len(body) <= MAX_BODY:
            if content_type == "application/x-www-form-urlencoded":
                check_form(body)
            elif len(body) > THREAD_FROM:
                await asyncio.to_thread(check_json, body)
            else:
                check_json(body)

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await next_app(scope, replay, send)


UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
TOKEN_PATHS = ("/api/", "/webhooks/")  # bearer tokens and signatures, never cookies


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


class OriginCheckMiddleware(ASGIMiddleware):
    """An unsafe request to a page (one that acts with the session cookie) must come from
    Werkbank's own pages: its Origin header, or else its Referer, names this site (the public
    base URL or the host it was asked for). Requests that send neither still need the CSRF token."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, base_url: str) -> None:
        self.base_origin = _origin(base_url)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope.get("method") in UNSAFE and not full_path(scope).startswith(TOKEN_PATHS):
            headers = {name: value.decode("latin-1") for name, value in scope.get("headers", [])
                       if name in (b"origin", b"referer", b"host")}
            claimed = headers.get(b"origin") or ""
            if not claimed or claimed == "null":
                claimed = _origin(headers.get(b"referer", "")) if headers.get(b"referer") else claimed
            if claimed:
                own = {self.base_origin, f"{scope.get('scheme', 'http')}://{headers.get(b'host', '')}".lower()}
                if claimed.lower().rstrip("/") not in own:
                    raise NotAllowed(_("This form was sent from another site; open Werkbank itself and try again."))
        await next_app(scope, receive, send)
