"""Account pages: log in and out, forgotten password, the account page (password, language,
API tokens) and each role's home page."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, FromQuery

from accounts import services
from accounts.auth import SESSION_COOKIE, login_required, platform_admin_required
from accounts.overview import home_sections
from core.edge import Uow
from core.errors import DomainError, NotAuthenticated, RateLimited, ValidationFailed, not_found
from core.i18n import gettext as _
from core.tables import OutboxMessage
from core.web import CSRF_COOKIE, LANGUAGE_COOKIE, ObjectId, form_data, redirect, render, safe_next


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def _session_cookie(request: Request, token: str, days: int) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE, value=token, path="/", httponly=True, samesite="lax",
        secure=request.app.state.settings.secure_cookies, max_age=days * 86400,
    )


class AccountController(Controller):
    include_in_schema = False  # pages, not the API: /schema documents /api/v1
    path = "/"

    @get("/", name="home")
    async def home(self, request: Request, uow: Uow) -> Response:
        actor = request.scope.get("user")
        if actor is None:
            return render(request, "accounts/welcome.html")
        # higher domains add work to act on (booking: coming bookings, requests waiting, ...)
        panels = [panel for hook in uow.app.hooks.get("home.panels") for panel in await hook(uow)]
        return render(request, "accounts/home.html", {"sections": await home_sections(actor), "panels": panels})

    @get("/login", name="login")
    async def login_form(self, request: Request, next: FromQuery[str | None] = None) -> Response:
        if request.scope.get("user") is not None:
            return redirect(request, safe_next(next))
        return render(request, "accounts/login.html", {"next": safe_next(next, ""), "email": ""})

    @post("/login", name="login_post")
    async def login(self, request: Request, uow: Uow) -> Response:
        data = await form_data(request)
        settings = request.app.state.settings
        target = safe_next(data.get("next"))
        try:
            user = await services.authenticate(
                uow,                 data.get("email", ""), data.get("password", ""), _client_ip(request),
                max_failures=settings.login_max_failures, window_minutes=settings.login_window_minutes,
            )
        except (NotAuthenticated, RateLimited) as exc:
            headers = {"Retry-After": str(exc.retry_after_seconds)} if isinstance(exc, RateLimited) else {}
            return render(request, "accounts/login.html", {
                "error": str(exc), "email": data.get("email", ""), "next": safe_next(data.get("next"), ""),
            }, status_code=exc.status_code, headers=headers)
        token = await services.create_session(
            uow, user, days=settings.session_days, user_agent=request.headers.get("user-agent", ""),
            ip_address=_client_ip(request),
        )
        response = redirect(request, target)
        response.set_cookie(_session_cookie(request, token, settings.session_days))
        response.delete_cookie(CSRF_COOKIE, path="/")  # a new session gets a new CSRF token
        if user.language:
            response.set_cookie(Cookie(key=LANGUAGE_COOKIE, value=user.language, path="/", max_age=365 * 86400, samesite="lax"))
        return response

    @post("/logout", name="logout")
    async def logout(self, request: Request, uow: Uow) -> Response:
        actor = request.scope.get("user")
        if actor is not None and actor.session_token:
            await services.revoke_session(uow, actor.session_token)
        response = redirect(request, "/login", _("You are logged out."))
        response.delete_cookie(SESSION_COOKIE, path="/")
        response.delete_cookie(CSRF_COOKIE, path="/")
        return response

    @post("/language", name="language")
    async def language(self, request: Request, uow: Uow) -> Response:
        data = await form_data(request)
        language = await services.set_language(uow, data.get("language", ""))
        response = redirect(request, safe_next(data.get("next")))
        response.set_cookie(Cookie(key=LANGUAGE_COOKIE, value=language, path="/", max_age=365 * 86400, samesite="lax"))
        return response

    # --- forgotten password ------------------------------------------------------------------

    @get("/password/forgot", name="password_forgot")
    async def forgot_form(self, request: Request) -> Response:
        return render(request, "accounts/password_forgot.html", {"email": ""})

    @post("/password/forgot", name="password_forgot_post")
    async def forgot(self, request: Request, uow: Uow) -> Response:
        data = await form_data(request)
        try:
            await services.request_password_reset(uow, data.get("email", ""), _client_ip(request))
        except ValidationFailed as exc:
            return render(request, "accounts/password_forgot.html", {
                "email": data.get("email", ""), "error": str(exc)
            }, status_code=422)
        return render(request, "accounts/password_forgot.html", {"sent": True, "email": data.get("email", "")})

    @get("/password/reset/{token:str}", name="password_reset")
    async def reset_form(self, request: Request, uow: Uow, token: FromPath[str]) -> Response:
        valid = await services.reset_token_is_valid(uow, token)
        return render(request, "accounts/password_reset.html", {"token": token, "valid": valid},
                      status_code=200 if valid else 404)

    @post("/password/reset/{token:str}", name="password_reset_post")
    async def reset(self, request: Request, uow: Uow, token: FromPath[str]) -> Response:
        data = await form_data(request)
        try:
            await services.reset_password(uow, token, data.get("new_password", ""), data.get("confirm_password", ""))
        except DomainError as exc:
            return render(request, "accounts/password_reset.html", {
                "token": token, "valid": exc.status_code != 404, "error": str(exc)
            }, status_code=exc.status_code)
        response = redirect(request, "/login", _("Your password is changed. Log in with the new one."))
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # --- the account page --------------------------------------------------------------------

    async def _account_page(self, request: Request, uow: Uow, status_code: int = 200,
                            block: str | None = None, **context: Any) -> Response:
        return render(request, "accounts/account.html", {
            "tokens": await services.list_api_tokens(uow), **context
        }, block=block, status_code=status_code)

    @get("/account", name="account", guards=[login_required])
    async def account(self, request: Request, uow: Uow) -> Response:
        return await self._account_page(request, uow)

    @post("/account/password", name="account_password", guards=[login_required])
    async def change_password(self, request: Request, uow: Uow) -> Response:
        data = await form_data(request)
        try:
            await services.change_password(
                uow, data.get("current_password", ""), data.get("new_password", ""),
                data.get("confirm_password", ""),
            )
        except ValidationFailed as exc:
            return await self._account_page(request, uow, status_code=422, password_error=str(exc),
                                             password_fields=exc.fields)
        return redirect(request, "/account", _("Your password is changed. Your other sessions are logged out."))

    @post("/account/tokens", name="account_tokens_create", guards=[login_required])
    async def create_token(self, request: Request, uow: Uow) -> Response:
        data = await form_data(request)
        try:
            row, token = await services.create_api_token(uow, data.get("name", ""))
        except ValidationFailed as exc:
            return await self._account_page(request, uow, status_code=422, token_error=str(exc), block="tokens")
        return await self._account_page(request, uow, new_token=token, new_token_name=row.name, block="tokens")

    @post("/account/tokens/{token_id:int}/revoke", name="account_tokens_revoke", guards=[login_required])
    async def revoke_token(self, request: Request, uow: Uow, token_id: ObjectId) -> Response:
        await services.revoke_api_token(uow, token_id)
        return await self._account_page(request, uow, token_message=_("The token is revoked."), block="tokens")


class OutboxController(Controller):
    """The mail outbox for platform admins: what left, what waits, what failed and why. In
    development (no WERKBANK_SMTP_URL) this is where the mails are read."""

    include_in_schema = False  # pages, not the API: /schema documents /api/v1
    path = "/outbox"
    guards = [platform_admin_required]

    @get("/", name="outbox")
    async def index(self, request: Request, status: FromQuery[str | None] = None) -> Response:
        query = OutboxMessage.objects().order_by(OutboxMessage.id, ascending=False).limit(200)
        if status in {s.value for s in OutboxMessage.Status}:
            query = query.where(OutboxMessage.status == status)
        return render(request, "accounts/outbox.html", {"messages": await query, "status": status or ""},
                      block="messages")

    @get("/{message_id:int}", name="outbox_message")
    async def detail(self, request: Request, message_id: ObjectId) -> Response:
        message = await OutboxMessage.objects().where(OutboxMessage.id == message_id).first()
        if message is None:
            raise not_found()
        return render(request, "accounts/outbox_message.html", {"message": message})
