"""piccolo-admin at /admin for platform admins: raw CRUD on the tables. It shares Werkbank's
accounts (User extends BaseUser) and sessions (through the adapter below), so a platform admin
who is logged in to Werkbank is logged in there; everyone else gets 403 before it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlparse

from litestar import asgi
from litestar.types import Receive, Scope, Send
from piccolo_admin.endpoints import create_admin

from accounts import services
from accounts.auth import SESSION_COOKIE, platform_admin_required
from accounts.tables import ApiToken, Membership, Organisation, User
from core.i18n import DEFAULT_LANGUAGE, use_language
from core.i18n import gettext as _
from core.registry import Werkbank
from core.tables import AuditEntry, OutboxMessage

PICCOLO_SESSION_COOKIE = "id"  # the cookie name piccolo-admin reads


@dataclass
class _AdminSession:
    token: str


class AdminSessions:
    """What piccolo-admin asks of a session table, answered from Werkbank's own sessions."""

    app: Werkbank  # set by admin_handler (one class per app)

    @classmethod
    async def get_user_id(cls, token: str, increase_expiry=None) -> int | None:
        user = await services.user_for_session(cls.app.unit_of_work(), token)
        return user.id if user is not None else None

    @classmethod
    async def remove_session(cls, token: str) -> None:
        await services.revoke_session(cls.app.unit_of_work(), token)

    @classmethod
    async def create_session(cls, user_id: int, expiry_date: datetime | None = None,
                             max_expiry_date: datetime | None = None) -> _AdminSession:
        user = await User.objects().where(User.id == user_id).first()
        return _AdminSession(token=await services.create_session(cls.app.unit_of_work(), user))


def admin_handler(app: Werkbank):
    """piccolo-admin over the tables every plugin registered (Werkbank.admin_tables)."""
    settings = app.settings
    host = urlparse(settings.base_url).hostname or "127.0.0.1"
    sessions = type("AdminSessions", (AdminSessions,), {"app": app})
    built: list = []

    def admin():
        """piccolo-admin is built on its first request (building it takes about a second)."""
        if not built:
            with use_language(DEFAULT_LANGUAGE):  # built once for everyone: not in the first visitor's language
                back = _("Back to Werkbank")
            built.append(create_admin(
                tables=[Organisation, Membership, User, ApiToken, *app.admin_tables, OutboxMessage, AuditEntry],
                auth_table=User,
                session_table=sessions,  # type: ignore[arg-type]
                site_name="Werkbank beheer",
                production=settings.is_production,
                allowed_hosts=[host],
                # piccolo-admin has no Dutch: with "nl" its front end stopped at the missing translation
                # (404) before it asked who is logged in, and showed "Unknown".
                default_language_code="en",
                sidebar_links={back: "/"},
            ))
        return built[0]

    @asgi("/admin", is_mount=True, copy_scope=True, guards=[platform_admin_required], include_in_schema=False)
    async def admin_mount(scope: Scope, receive: Receive, send: Send) -> None:
        # Hand Werkbank's session token to piccolo-admin under the cookie name it reads.
        token = scope["user"].session_token or ""
        headers = [(k, v) for k, v in scope.get("headers", []) if k != b"cookie"]
        cookies = [
            part.strip() for key, value in scope.get("headers", []) if key == b"cookie"
            for part in value.decode("latin-1").split(";")
            if part.strip() and not part.strip().startswith(f"{PICCOLO_SESSION_COOKIE}=")
        ]
        cookies.append(f"{PICCOLO_SESSION_COOKIE}={token}")
        headers.append((b"cookie", "; ".join(cookies).encode("latin-1")))
        await admin()({**scope, "headers": headers}, receive, send)

    return admin_mount


__all__ = ["admin_handler", "SESSION_COOKIE"]
