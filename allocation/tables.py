"""Allocation rounds: a round (its window, period, caps and the recorded draw), the resources it
shares out, the schools' registrations, and the days allocated to them (each becomes a booking
when the round is published)."""

from enum import Enum

from piccolo.columns import JSONB, BigInt, Boolean, Date, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from accounts.tables import Organisation, User
from booking.tables import Booking
from inventory.tables import Category, Resource, StudyProgramme


class AllocationRound(Table, tablename="allocation_round"):
    """A round run by an RTC (for resources in its region) or by an owner (for its own
    resources). Registration is open from `registration_opens` to `registration_closes`
    (Brussels dates, both included); the days fall in [period_start, period_end] on school days
    not in `excluded_days`. `seed`, `draw` and `priority` record the allocation so it can be
    replayed and explained."""

    class Status(str, Enum):
        open = "open"  # registering (or waiting for its window, or closed and not yet allocated)
        allocated = "allocated"  # computed, can be adjusted or computed again
        published = "published"  # bookings made, schools mailed
        cancelled = "cancelled"

    name = Varchar(length=200)
    organiser = ForeignKey(Organisation, on_delete=OnDelete.restrict, index=True)
    region_code = Varchar(length=8, default="", index=True)  # the RTC's region; "" for an owner's round
    note = Text(default="")
    registration_opens = Date()
    registration_closes = Date()
    period_start = Date()
    period_end = Date()
    announce_on = Date()
    excluded_days = JSONB(default=[])  # ISO dates without allocation (school holidays)
    eligible_programmes = JSONB(default=[])  # study programme ids; empty: every programme
    eligible_years = JSONB(default=[])  # school years 1-7; empty: every year
    max_days_per_school = Integer(null=True, default=None)
    max_days_per_group = Integer(null=True, default=None)
    max_days_per_resource = Integer(null=True, default=None)  # per pupil group and resource
    status = Varchar(length=10, choices=Status, default=Status.open, index=True)
    seed = BigInt(null=True, default=None)
    draw = JSONB(default=[])  # school ids in the order drawn
    priority = JSONB(default=[])  # school ids in the order served (earlier rounds, then the draw)
    history = JSONB(default={})  # school id -> days received in earlier rounds, as used
    allocated_at = Timestamptz(null=True, default=None)
    allocated_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    published_at = Timestamptz(null=True, default=None)
    published_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    created_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class RoundResource(Table, tablename="round_resource"):
    """A resource shared out in a round; `max_days_per_group` overrides the round's cap per
    pupil group and resource (the forklift workshop's 5 days)."""

    allocation_round = ForeignKey(AllocationRound, on_delete=OnDelete.cascade, index=True)
    resource = ForeignKey(Resource, on_delete=OnDelete.restrict, index=True)
    max_days_per_group = Integer(null=True, default=None)


class Registration(Table, tablename="round_registration"):
    """A school's request in a round: `days` days for one pupil group on a resource (or on any
    resource of the round in a category), on the weekdays and ISO weeks it accepts. Reserves
    nothing. `unmet_reason` is the allocation's reason for days not granted."""

    class Status(str, Enum):
        active = "active"
        withdrawn = "withdrawn"

    allocation_round = ForeignKey(AllocationRound, on_delete=OnDelete.cascade, index=True)
    school = ForeignKey(Organisation, on_delete=OnDelete.restrict, index=True)
    teacher = ForeignKey(User, on_delete=OnDelete.restrict, index=True)
    pupil_group = Varchar(length=80)
    resource = ForeignKey(Resource, null=True, on_delete=OnDelete.restrict)
    category = ForeignKey(Category, null=True, on_delete=OnDelete.restrict)
    days = Integer()
    group_size = Integer()
    study_programme = ForeignKey(StudyProgramme, null=True, on_delete=OnDelete.set_null)
    school_year = Integer(null=True, default=None)
    weekdays = JSONB(default=[])  # 0 = Monday; empty: any
    weeks = JSONB(default=[])  # ISO weeks as "2027-W03"; empty: any
    preference = Integer(default=1)
    note = Text(default="")
    status = Varchar(length=10, choices=Status, default=Status.active, index=True)
    unmet_reason = Varchar(length=20, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class RoundAllocation(Table, tablename="round_allocation"):
    """One day of a resource allocated to a registration (`by_hand` when RTC staff added it).
    Publishing books it: `booking` is the booking made, or `problem` says why it could not be."""

    allocation_round = ForeignKey(AllocationRound, on_delete=OnDelete.cascade, index=True)
    registration = ForeignKey(Registration, on_delete=OnDelete.cascade, index=True)
    school = ForeignKey(Organisation, on_delete=OnDelete.restrict)
    resource = ForeignKey(Resource, on_delete=OnDelete.restrict)
    day = Date()
    pass_number = Integer(default=0)  # 0: added by hand
    sequence = Integer(default=0)
    by_hand = Boolean(default=False)
    booking = ForeignKey(Booking, null=True, on_delete=OnDelete.set_null)
    problem = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
