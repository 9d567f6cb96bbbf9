"""Tables every domain shares: the mail outbox, the audit log and the scheduled jobs' leases."""

from enum import Enum

from piccolo.columns import JSONB, Boolean, Integer, Text, Timestamptz, Varchar
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
    # Queued inside a change's transaction with its template and context; rendered after commit
    # by the outbox job (so a write never waits for templates).
    template = Varchar(length=120, default="")
    context = JSONB(default={})
    needs_render = Boolean(default=False)
    # An iCalendar invitation (METHOD:REQUEST or CANCEL) sent with the mail, from the context loader.
    calendar_part = Text(default="")


class AuditEntry(Table, tablename="audit_entry"):
    """Who did what to which object, when, with the data of the change."""

    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    actor_id = Integer(null=True, default=None, index=True)
    actor_email = Varchar(length=320, default="")
    action = Varchar(length=80, index=True)
    object_type = Varchar(length=60)
    object_id = Varchar(length=60, index=True)
    data = JSONB(default={})


class JobState(Table, tablename="job_state"):
    """One row per scheduled job: its lease (one process runs it at a time) and its last run."""

    name = Varchar(length=60, unique=True)
    locked_until = Timestamptz(null=True, default=None)
    locked_by = Varchar(length=120, default="")
    last_started_at = Timestamptz(null=True, default=None)
    last_finished_at = Timestamptz(null=True, default=None)
    next_run_at = Timestamptz(null=True, default=None)
    last_result = Integer(default=0)
    last_error = Text(default="")
    runs = Integer(default=0)
