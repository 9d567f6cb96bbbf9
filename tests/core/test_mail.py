import asyncio
from email import message_from_bytes
from email.policy import default

import pytest
from aiosmtpd.controller import Controller

from core import i18n, mail
from core.tables import OutboxMessage
from tests.postgres import free_port


class Inbox:
    def __init__(self):
        self.messages = []
        self.peers = set()

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=default)))
        self.peers.add(session.peer)
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.url = f"smtp://127.0.0.1:{controller.port}"
    yield inbox
    controller.stop()


async def _queue(uow, to="leerkracht@school.be", language="nl"):
    async with uow.transaction():
        await mail.queue_mail(
            uow, to, i18n.lazy_gettext("Reset your Werkbank password"), "accounts/mail/password_reset.txt",
            language=language, user={"display_name": "Sofie Claes"}, link="http://x/password/reset/abc", hours=2,
        )


def _smtp(wb, url=""):
    """A unit of work whose settings send through `url` (empty: the mail folder)."""
    from core.registry import Werkbank

    other = Werkbank(wb.settings.with_(smtp_url=url), wb.engine, wb.clock)
    other.templates, other.mail_contexts = wb.templates, wb.mail_contexts
    return other.unit_of_work()


async def test_outbox_mail_leaves_through_a_real_smtp_conversation(wb, uow_for, smtp_server):
    await _queue(uow_for())
    sent = await mail.send_pending(_smtp(wb, smtp_server.url))
    assert sent == 1
    (recipients, message), = smtp_server.messages
    assert recipients == ["leerkracht@school.be"]
    assert message["Subject"] == "Stel je Werkbank-wachtwoord opnieuw in"
    assert "Dag Sofie Claes," in message.get_content()
    row = await OutboxMessage.objects().first()
    assert row.status == "sent" and row.sent_at is not None
    # Sent once: a second round sends nothing.
    assert await mail.send_pending(_smtp(wb, smtp_server.url)) == 0
    assert len(smtp_server.messages) == 1


async def test_mail_is_rendered_in_the_recipients_language(wb, uow_for, smtp_server):
    await _queue(uow_for(), language="en")
    await mail.send_pending(_smtp(wb, smtp_server.url))
    (_rcpt, message), = smtp_server.messages
    assert message["Subject"] == "Reset your Werkbank password"
    assert "Hello Sofie Claes," in message.get_content()


async def test_a_failed_delivery_stays_in_the_outbox_and_is_retried(wb, uow_for, smtp_server):
    await _queue(uow_for())
    down = _smtp(wb, f"smtp://127.0.0.1:{free_port()}")  # nobody listens there
    assert await mail.send_pending(down) == 0
    row = await OutboxMessage.objects().first()
    assert row.status == "pending" and row.attempts == 1 and row.last_error
    assert row.send_after > wb.clock.now()  # backs off
    await OutboxMessage.update({OutboxMessage.send_after: wb.clock.now()}).where(OutboxMessage.id == row.id)
    assert await mail.send_pending(_smtp(wb, smtp_server.url)) == 1
    assert len(smtp_server.messages) == 1


async def test_without_smtp_mails_are_written_to_the_mail_folder(wb, uow_for, settings):
    await _queue(uow_for())
    assert await mail.send_pending(_smtp(wb)) == 1
    files = list(settings.mail_dir.glob("*.eml"))
    assert len(files) == 1
    assert "Stel je Werkbank-wachtwoord opnieuw in" in message_from_bytes(files[0].read_bytes(), policy=default)["Subject"]


async def test_a_mail_queued_in_a_failed_transaction_is_not_sent(wb, uow_for, settings):
    uow = uow_for()
    with pytest.raises(RuntimeError):
        async with uow.transaction():
            await _queue(uow)  # nested: a savepoint inside the failing change
            raise RuntimeError("the change failed")
    assert await OutboxMessage.count() == 0
    assert uow.events == []  # nothing to wake either
    assert await mail.send_pending(_smtp(wb)) == 0


async def test_two_workers_never_send_the_same_mail_twice(wb, uow_for, smtp_server):
    for n in range(5):
        await _queue(uow_for(), to=f"l{n}@school.be")
    results = await asyncio.gather(mail.send_pending(_smtp(wb, smtp_server.url)),
                                   mail.send_pending(_smtp(wb, smtp_server.url)))
    assert sum(results) == 5
    assert len(smtp_server.messages) == 5


async def test_a_backlog_goes_out_over_a_few_connections_several_mails_each(wb, uow_for, smtp_server):
    for n in range(20):
        await _queue(uow_for(), to=f"l{n}@school.be")
    assert await mail.send_pending(_smtp(wb, smtp_server.url), limit=50) == 20
    assert len(smtp_server.messages) == 20
    assert 1 < len(smtp_server.peers) <= mail.SMTP_CONNECTIONS  # not one connection per mail
