"""Time: bookings and series, the waitlist, and busy blocks imported from owners' calendars."""

from enum import Enum

from piccolo.columns import Boolean, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from accounts.tables import Organisation, User
from inventory.tables import Resource, StudyProgramme


class BookingSeries(Table, tablename="booking_series"):
    """A recurring booking: the RRULE and the first occurrence, in Brussels wall time."""

    resource = ForeignKey(Resource, on_delete=OnDelete.restrict, index=True)
    school = ForeignKey(Organisation, on_delete=OnDelete.restrict, index=True)
    teacher = ForeignKey(User, on_delete=OnDelete.restrict)
    rrule = Varchar(length=300)
    created_at = Timestamptz(default=TimestamptzNow())


class Booking(Table, tablename="booking"):
    """A resource booked for a pupil group in [start, end). It holds the resource in
    [start, hold_end), hold_end being the end plus the resource's buffer, while it is requested,
    approved or confirmed; no two holding bookings of a resource overlap (on PostgreSQL an
    exclusion constraint guards that). Money in euro cents, snapshot at booking time."""

    class Status(str, Enum):
        requested = "requested"
        approved = "approved"
        confirmed = "confirmed"
        completed = "completed"
        no_show = "no_show"
        declined = "declined"
        cancelled = "cancelled"
        expired = "expired"

    resource = ForeignKey(Resource, on_delete=OnDelete.restrict, index=True)
    school = ForeignKey(Organisation, on_delete=OnDelete.restrict, index=True)
    teacher = ForeignKey(User, on_delete=OnDelete.restrict, index=True)
    # no index: it would be named booking_series, which SQLite refuses beside the table of that name
    series = ForeignKey(BookingSeries, null=True, on_delete=OnDelete.set_null)
    start = Timestamptz(index=True)
    end = Timestamptz()
    hold_end = Timestamptz(index=True)
    status = Varchar(length=10, choices=Status, default=Status.requested, index=True)
    group_size = Integer()
    study_programme = ForeignKey(StudyProgramme, null=True, on_delete=OnDelete.set_null)
    purpose = Text(default="")
    price_cents = Integer(default=0)
    alternative_cost_cents = Integer(default=0)
    cancellation_fee_cents = Integer(default=0)
    payment_method = Varchar(length=12, default="")  # free, invoice (Step 5 adds card, bancontact)
    expires_at = Timestamptz(null=True, default=None, index=True)
    waitlist_offer = Boolean(default=False)
    decided_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    decided_at = Timestamptz(null=True, default=None)
    reason = Text(default="")
    pupils_attended = Integer(null=True, default=None)
    reminder_sent_at = Timestamptz(null=True, default=None)
    sequence = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


# The statuses in which a booking holds its resource's time: one source for the services, the
# search filter and the tests (the PostgreSQL exclusion constraint's migration spells them out
# once, as history; a test checks that it still agrees).
HOLDING_STATUSES: tuple[str, ...] = (Booking.Status.requested.value, Booking.Status.approved.value,
                                     Booking.Status.confirmed.value)


def holding_sql(alias: str) -> str:
    """`alias.status IN ('requested', 'approved', 'confirmed')` for raw SQL."""
    return f"{alias}.status IN ({', '.join(repr(s) for s in HOLDING_STATUSES)})"


class WaitlistEntry(Table, tablename="waitlist_entry"):
    class Status(str, Enum):
        waiting = "waiting"
        offered = "offered"
        accepted = "accepted"
        expired = "expired"
        cancelled = "cancelled"

    resource = ForeignKey(Resource, on_delete=OnDelete.cascade, index=True)
    school = ForeignKey(Organisation, on_delete=OnDelete.cascade)
    teacher = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    start = Timestamptz(index=True)
    end = Timestamptz()
    group_size = Integer()
    study_programme = ForeignKey(StudyProgramme, null=True, on_delete=OnDelete.set_null)
    purpose = Text(default="")
    status = Varchar(length=10, choices=Status, default=Status.waiting, index=True)
    offered_booking = ForeignKey(Booking, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())


class BusyBlock(Table, tablename="busy_block"):
    """Time a resource is taken outside Werkbank (imported from the owner's calendar)."""

    resource = ForeignKey(Resource, on_delete=OnDelete.cascade, index=True)
    start = Timestamptz(index=True)
    end = Timestamptz(index=True)
    source = Varchar(length=200, default="")
    uid = Varchar(length=300, default="")
    summary = Varchar(length=300, default="")
