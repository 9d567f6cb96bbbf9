"""Who is asking: the session cookie on pages, a bearer token on the API. Guards per role."""

from __future__ import annotations

import logging

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from accounts import services
from accounts.tables import Membership
from core import i18n
from core.errors import NotAllowed, NotAuthenticated
from core.i18n import gettext as _
from core.web import SESSION_COOKIE, full_path

log = logging.getLogger("werkbank.auth")
Role = Membership.Role


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def _cookie(scope: Scope, name: str) -> str:
    for part in _header(scope, b"cookie").split(";"):
        key, _sep, value = part.strip().partition("=")
        if key == name:
            return value
    return ""


class AuthMiddleware(ASGIMiddleware):
    """Puts the Actor (or None) in scope["user"]. The API reads only `Authorization: Bearer`
    (no cookies, so no cross-site requests); pages read only the session cookie."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        path = full_path(scope)
        actor = None
        # The request's unit of work (opened by UnitOfWorkMiddleware); paths it leaves alone get
        # one without a held connection.
        uow = scope.get("uow") or scope["litestar_app"].state.werkbank.unit_of_work()
        touch = None
        if path.startswith("/api/"):
            scheme, _sep, token = _header(scope, b"authorization").partition(" ")
            if scheme.lower() == "bearer" and token:
                user, touch = await services.user_for_api_token(uow, token.strip())
                if user is not None:
                    actor = await services.load_actor(user)
            scope["auth"] = "token" if actor else None
        else:
            token = _cookie(scope, SESSION_COOKIE)
            if token:
                user = await services.user_for_session(uow, token)
                if user is not None:
                    actor = await services.load_actor(user, session_token=token)
            scope["auth"] = "session" if actor else None
        scope["user"] = actor
        uow.actor = actor
        if actor is not None:
            language_token = i18n.set_language(actor.user.language)
            try:
                await next_app(scope, receive, send)
            finally:
                i18n._language.reset(language_token)
        else:
            await next_app(scope, receive, send)
        if touch is not None:  # the answer is out: now note when the token was used
            try:
                await services.touch_api_token(uow, touch)
            except Exception:  # a busy database must not turn a sent answer into an error
                log.warning("could not note the use of API token %s", touch, exc_info=True)


def login_required(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
    if connection.scope.get("user") is None:
        raise NotAuthenticated(_("Log in to continue."))


def role_required(*roles: Role):
    """A guard: logged in and holding one of `roles` (platform admins pass every role guard)."""

    def guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
        login_required(connection, handler)
        actor = connection.scope["user"]
        if not (actor.has_role(*roles) or actor.is_platform_admin):
            raise NotAllowed(_("Your role does not give access to this page."))

    guard.__name__ = "role_required_" + "_".join(role.value for role in roles)
    return guard


platform_admin_required = role_required(Role.platform_admin)
