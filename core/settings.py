"""Typed settings, read once from WERKBANK_* environment variables and injected."""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

log = logging.getLogger("werkbank.settings")

ENVIRONMENTS = ("development", "production", "test")


class SettingsError(RuntimeError):
    """The configuration cannot be used; the message says which variable to fix."""


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    environment: str = "development"
    database_url: str = "sqlite:///werkbank.sqlite3"
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:8000"
    data_dir: Path = Path("var")
    smtp_url: str = ""
    mail_from: str = "Werkbank <noreply@werkbank.local>"
    mail_dir: Path = Path("var/mail")
    stripe_secret_key: str = ""
    stripe_publishable_key: str = ""
    stripe_webhook_secret: str = ""
    stripe_api_base: str = ""
    geocoder: str = "offline"
    map_tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    map_attribution: str = "© OpenStreetMap"
    log_format: str = "text"
    log_level: str = "INFO"
    session_days: int = 14
    login_max_failures: int = 5
    login_window_minutes: int = 15
    in_process_worker: bool = True
    import_max_rows: int = 5000
    calendar_sync_minutes: int = 15
    calendar_allow_private: bool = False
    calendar_max_bytes: int = 5 * 1024 * 1024
    # Tests only (WERKBANK_TEST_PASSWORD_ROUNDS): PBKDF2 rounds for new password hashes in a
    # `werkbank` process the tests start; 0 keeps Piccolo's 600,000. Production refuses it.
    test_password_rounds: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def database_engine(self) -> str:
        return "postgresql" if self.database_url.startswith(("postgres://", "postgresql://")) else "sqlite"

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = dict(os.environ if env is None else env)
        get = lambda name, default="": env.get(f"WERKBANK_{name}", default)  # noqa: E731
        environment = get("ENV", "development").strip().lower()
        if environment not in ENVIRONMENTS:
            raise SettingsError(f"WERKBANK_ENV must be one of {', '.join(ENVIRONMENTS)}, not {environment!r}")
        data_dir = Path(get("DATA_DIR", "var"))
        database_url = get("DATABASE_URL", "sqlite:///werkbank.sqlite3")
        if not database_url.startswith(("sqlite:///", "postgres://", "postgresql://")):
            raise SettingsError("WERKBANK_DATABASE_URL must start with sqlite:/// or postgresql://")
        geocoder = get("GEOCODER", "offline")
        if geocoder not in ("offline", "nominatim"):
            raise SettingsError("WERKBANK_GEOCODER must be offline or nominatim")
        try:
            session_days = int(get("SESSION_DAYS", "14"))
        except ValueError as exc:
            raise SettingsError("WERKBANK_SESSION_DAYS must be a whole number of days") from exc
        try:
            import_max_rows = int(get("IMPORT_MAX_ROWS", "5000"))
        except ValueError as exc:
            raise SettingsError("WERKBANK_IMPORT_MAX_ROWS must be a whole number") from exc
        try:
            calendar_sync_minutes = int(get("CALENDAR_SYNC_MINUTES", "15"))
            calendar_max_bytes = int(get("CALENDAR_MAX_BYTES", str(5 * 1024 * 1024)))
        except ValueError as exc:
            raise SettingsError("WERKBANK_CALENDAR_SYNC_MINUTES and WERKBANK_CALENDAR_MAX_BYTES are whole numbers") from exc
        if calendar_sync_minutes < 1:
            raise SettingsError("WERKBANK_CALENDAR_SYNC_MINUTES must be at least 1")
        try:
            test_password_rounds = int(get("TEST_PASSWORD_ROUNDS", "0") or "0")
        except ValueError as exc:
            raise SettingsError("WERKBANK_TEST_PASSWORD_ROUNDS must be a whole number") from exc
        if test_password_rounds and environment == "production":
            raise SettingsError("WERKBANK_TEST_PASSWORD_ROUNDS is for tests only: production keeps the full password hashing")
        if test_password_rounds < 0:
            raise SettingsError("WERKBANK_TEST_PASSWORD_ROUNDS must be at least 1 (or 0: the default)")
        secret_key = get("SECRET_KEY")
        if not secret_key:
            if environment == "production":
                raise SettingsError(
                    "WERKBANK_SECRET_KEY is not set: production refuses to start without one "
                    "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
                )
            secret_key = _local_secret(data_dir)
        elif len(secret_key) < 32:
            raise SettingsError("WERKBANK_SECRET_KEY must be at least 32 characters")
        return cls(
            environment=environment,
            database_url=database_url,
            secret_key=secret_key,
            base_url=get("BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
            data_dir=data_dir,
            smtp_url=get("SMTP_URL"),
            mail_from=get("MAIL_FROM", "Werkbank <noreply@werkbank.local>"),
            mail_dir=Path(get("MAIL_DIR", str(data_dir / "mail"))),
            stripe_secret_key=get("STRIPE_SECRET_KEY"),
            stripe_publishable_key=get("STRIPE_PUBLISHABLE_KEY"),
            stripe_webhook_secret=get("STRIPE_WEBHOOK_SECRET"),
            stripe_api_base=get("STRIPE_API_BASE"),
            geocoder=geocoder,
            map_tile_url=get("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
            map_attribution=get("MAP_ATTRIBUTION", "© OpenStreetMap"),
            log_format=get("LOG_FORMAT", "text"),
            log_level=get("LOG_LEVEL", "INFO").upper(),
            session_days=session_days,
            in_process_worker=_bool(get("IN_PROCESS_WORKER"), True),
            import_max_rows=import_max_rows,
            calendar_sync_minutes=calendar_sync_minutes,
            calendar_allow_private=_bool(get("CALENDAR_ALLOW_PRIVATE"), False),
            calendar_max_bytes=calendar_max_bytes,
            test_password_rounds=test_password_rounds,
        )


def _local_secret(data_dir: Path) -> str:
    """A development secret, generated once and kept in the data folder."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    log.warning(
        "WERKBANK_SECRET_KEY is not set: generated a development secret in %s. "
        "Set WERKBANK_SECRET_KEY in production.", path
    )
    return key
