"""Tables every domain shares: the mail outbox and the audit log."""

from enum import Enum

from piccolo.columns import JSONB, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class OutboxMessage(Table, tablename="outbox_message"):
    """A mail written in the same transaction as the change it reports; sent after commit."""

    class Status(str, Enum):
        pending = "pending"
        sent = "sent"
        failed = "failed"

    created_at = Timestamptz(default=TimestamptzNow())
    to_address = Varchar(length=320)
    subject = Varchar(length=300)
    body_text = Text()
    body_html = Text(default="")
    language = Varchar(length=5, default="nl")
    status = Varchar(length=10, choices=Status, default=Status.pending, index=True)
    attempts = Integer(default=0)
    send_after = Timestamptz(default=TimestamptzNow(), index=True)
    locked_until = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    last_error = Text(default="")


class AuditEntry(Table, tablename="audit_entry"):
    """Who did what to which object, when, with the data of the change."""

    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    actor_id = Integer(null=True, default=None, index=True)
    actor_email = Varchar(length=320, default="")
    action = Varchar(length=80, index=True)
    object_type = Varchar(length=60)
    object_id = Varchar(length=60, index=True)
    data = JSONB(default={})
