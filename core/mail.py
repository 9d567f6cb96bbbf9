"""Outgoing mail through the outbox: rows written inside the caller's transaction, sent after
commit by the worker over SMTP (aiosmtplib), retried with back-off. Without WERKBANK_SMTP_URL
mails are written to the mail folder as .eml files (development)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime as rfc2822_date
from email.utils import make_msgid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import aiosmtplib

from core import i18n
from core.settings import Settings
from core.tables import OutboxMessage
from core.templating import render

log = logging.getLogger("werkbank.mail")

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=2)


def now() -> datetime:
    return datetime.now(timezone.utc)


async def queue_mail(to: str, subject: str, template: str, language: str = "nl", **context) -> OutboxMessage:
    """Render `template` (a text template under templates/) in `language` and queue it.
    Call inside the transaction of the change the mail reports."""
    with i18n.use_language(language):
        body = render(template, **context)
        subject_text = str(subject)
    message = OutboxMessage(
        to_address=to, subject=subject_text, body_text=body, language=i18n.normalise_language(language)
    )
    await message.save()
    return message


def _smtp_options(url: str) -> dict:
    parsed = urlparse(url)
    if parsed.scheme not in ("smtp", "smtps"):
        raise ValueError("WERKBANK_SMTP_URL must start with smtp:// or smtps://")
    query = parse_qs(parsed.query)
    options = {
        "hostname": parsed.hostname or "localhost",
        "port": parsed.port or (465 if parsed.scheme == "smtps" else 25),
        "use_tls": parsed.scheme == "smtps",
        "start_tls": query.get("starttls", ["auto"])[0] in ("1", "true", "yes") or None,
        "timeout": 30,
    }
    if parsed.username:
        options["username"] = unquote(parsed.username)
        options["password"] = unquote(parsed.password or "")
    return options


def build_email(settings: Settings, row: OutboxMessage) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Date"] = rfc2822_date(row.created_at)
    message["Message-ID"] = make_msgid(domain="werkbank")
    message["Content-Language"] = "nl-BE" if row.language == "nl" else "en"
    message.set_content(row.body_text)
    return message


async def deliver(settings: Settings, row: OutboxMessage) -> None:
    email = build_email(settings, row)
    if settings.smtp_url:
        await aiosmtplib.send(email, **_smtp_options(settings.smtp_url))
    else:
        folder = Path(settings.mail_dir)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{row.id:08d}.eml"
        await asyncio.to_thread(path.write_bytes, bytes(email))


async def _lease(row_id: int) -> bool:
    """Take a row for two minutes; another process that tries the same row gets nothing."""
    moment = now()
    taken = await OutboxMessage.update(
        {OutboxMessage.locked_until: moment + LEASE}
    ).where(
        (OutboxMessage.id == row_id)
        & (OutboxMessage.status == OutboxMessage.Status.pending)
        & ((OutboxMessage.locked_until.is_null()) | (OutboxMessage.locked_until < moment))
    ).returning(OutboxMessage.id)
    return bool(taken)


async def send_pending(settings: Settings, limit: int = 50) -> int:
    """Send what is due. Returns how many mails left."""
    moment = now()
    due = await OutboxMessage.objects().where(
        (OutboxMessage.status == OutboxMessage.Status.pending)
        & (OutboxMessage.send_after <= moment)
        & ((OutboxMessage.locked_until.is_null()) | (OutboxMessage.locked_until < moment))
    ).order_by(OutboxMessage.id).limit(limit)
    sent = 0
    for row in due:
        if not await _lease(row.id):
            continue
        try:
            await deliver(settings, row)
        except (aiosmtplib.SMTPException, OSError, ValueError) as exc:
            attempts = row.attempts + 1
            failed = attempts >= MAX_ATTEMPTS
            log.warning("mail %s to %s failed (attempt %s): %s", row.id, row.to_address, attempts, exc)
            await OutboxMessage.update({
                OutboxMessage.attempts: attempts,
                OutboxMessage.last_error: str(exc)[:2000],
                OutboxMessage.locked_until: None,
                OutboxMessage.send_after: now() + timedelta(minutes=2 ** attempts),
                OutboxMessage.status: OutboxMessage.Status.failed if failed else OutboxMessage.Status.pending,
            }).where(OutboxMessage.id == row.id)
            continue
        await OutboxMessage.update({
            OutboxMessage.status: OutboxMessage.Status.sent,
            OutboxMessage.sent_at: now(),
            OutboxMessage.attempts: row.attempts + 1,
            OutboxMessage.locked_until: None,
            OutboxMessage.last_error: "",
        }).where(OutboxMessage.id == row.id)
        sent += 1
    return sent
