"""Passwords of linked CalDAV calendars, encrypted at rest (Fernet: AES-128-CBC with HMAC) with a
key derived from WERKBANK_SECRET_KEY by HKDF. A changed secret key makes stored passwords
unreadable: the calendar then reports that its password must be entered again. The same, with
another derived key, carries a new feed's address across the redirect after creating it."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def _fernet(secret_key: str, purpose: bytes = b"werkbank linked calendar passwords") -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


NEW_FEED = b"werkbank new feed address"  # a new feed's address, carried once across the redirect after creating it


def seal(secret_key: str, text: str, purpose: bytes) -> str:
    return _fernet(secret_key, purpose).encrypt(text.encode()).decode()


def unseal(secret_key: str, token: str, purpose: bytes, max_age_seconds: int) -> str | None:
    """What `seal` sealed for `purpose` at most `max_age_seconds` ago; None otherwise."""
    try:
        return _fernet(secret_key, purpose).decrypt(token.encode(), ttl=max_age_seconds).decode()
    except (InvalidToken, ValueError):
        return None


def encrypt(secret_key: str, password: str) -> str:
    return _fernet(secret_key).encrypt(password.encode()).decode() if password else ""


def decrypt(secret_key: str, token: str) -> str | None:
    """The password, "" when none was stored, None when it cannot be read (another secret key)."""
    if not token:
        return ""
    try:
        return _fernet(secret_key).decrypt(token.encode()).decode()
    except InvalidToken:
        return None
