"""Passwords of linked CalDAV calendars, encrypted at rest (Fernet: AES-128-CBC with HMAC) with a
key derived from WERKBANK_SECRET_KEY by HKDF. A changed secret key makes stored passwords
unreadable: the calendar then reports that its password must be entered again."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"werkbank linked calendar passwords").derive(
        secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


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
