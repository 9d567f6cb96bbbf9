"""Calendar sync: secret feed URLs out (`/ical/{token}.ics`), owners' calendars in (a published ICS
URL or a CalDAV calendar, the password encrypted), the events Werkbank wrote into them, and the
imported events that overlap a booking already holding the slot."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import (
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from accounts.tables import Organisation, User
from booking.tables import Booking
from inventory.tables import Facility, Resource


class CalendarFeed(Table, tablename="calendar_feed"):
    """A secret URL a calendar app polls: a teacher's own bookings or their school's, or a
    resource's or facility's for its owner's staff. Only the token's hash is kept."""

    class Scope(str, Enum):
        mine = "mine"
        school = "school"
        resource = "resource"
        facility = "facility"

    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    scope = Varchar(length=10, choices=Scope)
    object_id = Integer()  # the school, resource or facility (the user for `mine`)
    name = Varchar(length=200, default="")
    token_hash = Varchar(length=64, unique=True, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)
    last_fetched_at = Timestamptz(null=True, default=None)


class LinkedCalendar(Table, tablename="linked_calendar"):
    """An owner's calendar that blocks time of a resource (or of every resource of a facility)."""

    class Kind(str, Enum):
        ics = "ics"
        caldav = "caldav"

    owner = ForeignKey(Organisation, on_delete=OnDelete.cascade, index=True)
    resource = ForeignKey(Resource, null=True, default=None, on_delete=OnDelete.cascade, index=True)
    facility = ForeignKey(Facility, null=True, default=None, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=8, choices=Kind)
    name = Varchar(length=200, default="")
    url = Text()
    username = Varchar(length=200, default="")
    password_encrypted = Text(default="", secret=True)
    write_back = Boolean(default=False)
    active = Boolean(default=True)
    etag = Varchar(length=300, default="")
    last_modified = Varchar(length=100, default="")
    last_attempt_at = Timestamptz(null=True, default=None)
    last_success_at = Timestamptz(null=True, default=None)
    next_sync_at = Timestamptz(null=True, default=None, index=True)
    last_error = Text(default="")
    write_error = Text(default="")  # the last failed write-back (reading is judged apart)
    failures = Integer(default=0)
    busy_count = Integer(default=0)
    busy_hash = Varchar(length=64, default="")  # of the last imported busy time: unchanged means nothing to rewrite
    syncing_until = Timestamptz(null=True, default=None)  # a process reading it now holds it until then
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())


class WrittenEvent(Table, tablename="written_event"):
    """A booking Werkbank put into a linked CalDAV calendar (write-back)."""

    calendar = ForeignKey(LinkedCalendar, on_delete=OnDelete.cascade, index=True)
    booking = ForeignKey(Booking, on_delete=OnDelete.cascade, index=True)
    uid = Varchar(length=300)
    etag = Varchar(length=300, default="")
    sequence = Integer(default=0)
    written_at = Timestamptz(default=TimestamptzNow())


class CalendarConflict(Table, tablename="calendar_conflict"):
    """An imported event overlapping a booking that already held the slot: shown to the owner,
    never resolved by deleting anything."""

    calendar = ForeignKey(LinkedCalendar, on_delete=OnDelete.cascade, index=True)
    booking = ForeignKey(Booking, on_delete=OnDelete.cascade, index=True)
    uid = Varchar(length=300, default="")
    summary = Varchar(length=300, default="")
    start = Timestamptz()
    end = Timestamptz()
    found_at = Timestamptz(default=TimestamptzNow())
