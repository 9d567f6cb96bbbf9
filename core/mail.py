"""Outgoing mail through the outbox. A change queues its mails inside its own transaction as
rows with a template and a small JSON context (a rolled-back change mails nothing); the outbox
job renders them after commit, in the recipient's language, and sends them over SMTP
(aiosmtplib, several mails per connection), retried with back-off. Without WERKBANK_SMTP_URL
mails are written to the mail folder as .eml files (development)."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime as rfc2822_date
from email.utils import make_msgid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import aiosmtplib

from core import i18n
from core.settings import Settings
from core.tables import OutboxMessage
from core.uow import Event, UnitOfWork

log = logging.getLogger("werkbank.mail")

MAX_ATTEMPTS = 8
SMTP_CONNECTIONS = 4  # a batch is sent over at most this many connections at once
LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class MailQueued(Event):
    """Wakes the outbox job after commit."""

    count: int


@dataclass
class Mail:
    to: str
    subject: str
    template: str
    language: str = "nl"
    context: dict | None = None
    loader: str = ""  # a mail context loader a domain registered (Werkbank.mail_contexts)


async def queue(uow: UnitOfWork, mails: list[Mail]) -> None:
    """Queue `mails` (one INSERT) inside the caller's transaction. The subject is fixed now, in
    the recipient's language; the body is rendered after commit."""
    if not mails:
        return
    rows = []
    for item in mails:
        language = i18n.normalise_language(item.language)
        with i18n.use_language(language):
            subject = str(item.subject)
        context = dict(item.context or {})
        if item.loader:
            context["_loader"] = item.loader
        rows.append(OutboxMessage(to_address=item.to, subject=subject[:300], body_text="", language=language,
                                  template=item.template, context=context, needs_render=True,
                                  send_after=uow.now()))
    await OutboxMessage.insert(*rows)
    uow.record(MailQueued(len(rows)))


async def queue_mail(uow: UnitOfWork, to: str, subject, template: str, language: str = "nl", *,
                     loader: str = "", **context) -> None:
    await queue(uow, [Mail(to, subject, template, language, context, loader)])


async def render_pending(uow: UnitOfWork, limit: int = 100) -> int:
    """Render queued mails (their templates with their context, in their language), then write
    them all in one short transaction."""
    rows = await OutboxMessage.objects().where(
        (OutboxMessage.needs_render == True) & (OutboxMessage.status == OutboxMessage.Status.pending)  # noqa: E712
    ).order_by(OutboxMessage.id).limit(limit)
    env = uow.app.templates
    rendered: list[tuple[int, str, str]] = []
    broken: list[tuple[int, str]] = []
    for row in rows:
        context = json.loads(row.context) if isinstance(row.context, str) else dict(row.context or {})
        loader = context.pop("_loader", "")
        try:
            with i18n.use_language(row.language):
                if loader:
                    context = await uow.app.mail_contexts[loader](uow, context)
                calendar = context.pop("_calendar", b"") or b""
                rendered.append((row.id, env.get_template(row.template).render(**context),
                                 calendar.decode() if isinstance(calendar, bytes) else calendar))
        except Exception as exc:  # a mail that cannot be rendered is failed, never lost silently
            log.exception("mail %s (%s) could not be rendered", row.id, row.template)
            broken.append((row.id, f"render: {type(exc).__name__}: {exc}"[:2000]))
    if rendered or broken:
        async with uow.transaction():
            for row_id, body, calendar in rendered:
                await OutboxMessage.update({OutboxMessage.body_text: body, OutboxMessage.calendar_part: calendar,
                                            OutboxMessage.needs_render: False}).where(
                    (OutboxMessage.id == row_id) & (OutboxMessage.needs_render == True))  # noqa: E712
            for row_id, error in broken:
                await OutboxMessage.update({
                    OutboxMessage.status: OutboxMessage.Status.failed, OutboxMessage.needs_render: False,
                    OutboxMessage.last_error: error,
                }).where(OutboxMessage.id == row_id)
    return len(rendered)


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
    if row.calendar_part:
        # An invitation as Outlook, Gmail and Apple Mail expect it: a text/calendar alternative with
        # its METHOD (shown with accept buttons and put in the calendar), and the same as a file.
        method = next((line.split(":", 1)[1].strip() for line in row.calendar_part.splitlines()
                       if line.startswith("METHOD:")), "PUBLISH")
        data = row.calendar_part.encode()
        if method == "PUBLISH":  # several dates to add (a series), no invitation: a file to open
            message.add_attachment(data, maintype="text", subtype="calendar", filename="werkbank-reeks.ics"
                                   if row.language == "nl" else "werkbank-series.ics")
            return message
        message.add_alternative(data, maintype="text", subtype="calendar", params={"method": method, "charset": "utf-8"},
                                cte="base64")
        message.add_attachment(data, maintype="application", subtype="ics", filename="uitnodiging.ics"
                               if row.language == "nl" else "invite.ics")
    return message


class _Delivery:
    """One SMTP connection for a batch of mails (or the mail folder without SMTP)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client: aiosmtplib.SMTP | None = None

    async def send(self, row: OutboxMessage) -> None:
        email = build_email(self.settings, row)
        if not self.settings.smtp_url:
            folder = Path(self.settings.mail_dir)
            await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
            await asyncio.to_thread((folder / f"{row.id:08d}.eml").write_bytes, bytes(email))
            return
        if self.client is None or not self.client.is_connected:
            options = _smtp_options(self.settings.smtp_url)
            username, password = options.pop("username", None), options.pop("password", None)
            self.client = aiosmtplib.SMTP(**options)
            await self.client.connect()
            if username:
                await self.client.login(username, password)
        try:
            await self.client.send_message(email)
        except aiosmtplib.SMTPServerDisconnected:
            self.client = None
            raise

    async def close(self) -> None:
        if self.client is not None and self.client.is_connected:
            try:
                await self.client.quit()
            except aiosmtplib.SMTPException:
                self.client.close()


async def _lease(uow: UnitOfWork, row_ids: list[int]) -> list[int]:
    """Take rows for two minutes; rows another process took are left to it."""
    moment = uow.now()
    async with uow.transaction():
        taken = await OutboxMessage.update({OutboxMessage.locked_until: moment + LEASE}).where(
            OutboxMessage.id.is_in(row_ids) & (OutboxMessage.status == OutboxMessage.Status.pending)
            & (OutboxMessage.needs_render == False)  # noqa: E712
            & ((OutboxMessage.locked_until.is_null()) | (OutboxMessage.locked_until < moment))
        ).returning(OutboxMessage.id)
    return [row["id"] for row in taken]


async def send_pending(uow: UnitOfWork, limit: int = 50) -> int:
    """Render and send what is due, at most `limit` mails. Returns how many were sent."""
    await render_pending(uow, limit)
    moment = uow.now()
    due = await OutboxMessage.select(OutboxMessage.id).where(
        (OutboxMessage.status == OutboxMessage.Status.pending) & (OutboxMessage.needs_render == False)  # noqa: E712
        & (OutboxMessage.send_after <= moment)
        & ((OutboxMessage.locked_until.is_null()) | (OutboxMessage.locked_until < moment))
    ).order_by(OutboxMessage.id).limit(limit)
    if not due:
        return 0
    ids = await _lease(uow, [row["id"] for row in due])
    if not ids:
        return 0
    rows = await OutboxMessage.objects().where(OutboxMessage.id.is_in(ids)).order_by(OutboxMessage.id)
    sent, failed = [], []

    async def deliver(share: list[OutboxMessage]) -> None:
        delivery = _Delivery(uow.settings)  # one SMTP connection for its share of the batch
        try:
            for row in share:
                try:
                    await delivery.send(row)
                except (aiosmtplib.SMTPException, OSError, ValueError) as exc:
                    log.warning("mail %s to %s failed (attempt %s): %s", row.id, row.to_address, row.attempts + 1,
                                exc)
                    failed.append((row, str(exc)))
                    continue
                sent.append(row.id)
        finally:
            await delivery.close()

    connections = max(1, min(SMTP_CONNECTIONS, len(rows) // 5))
    await asyncio.gather(*(deliver(rows[n::connections]) for n in range(connections)))
    async with uow.transaction():
        if sent:
            await OutboxMessage.update({
                OutboxMessage.status: OutboxMessage.Status.sent, OutboxMessage.sent_at: uow.now(),
                OutboxMessage.attempts: OutboxMessage.attempts + 1, OutboxMessage.locked_until: None,
                OutboxMessage.last_error: "",
            }).where(OutboxMessage.id.is_in(sent))
        for row, error in failed:
            attempts = row.attempts + 1
            await OutboxMessage.update({
                OutboxMessage.attempts: attempts, OutboxMessage.last_error: error[:2000],
                OutboxMessage.locked_until: None,
                OutboxMessage.send_after: uow.now() + timedelta(minutes=2 ** attempts),
                OutboxMessage.status: OutboxMessage.Status.failed if attempts >= MAX_ATTEMPTS
                else OutboxMessage.Status.pending,
            }).where(OutboxMessage.id == row.id)
    return len(sent)
