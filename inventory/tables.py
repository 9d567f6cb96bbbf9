"""What can be booked: facilities (sites) of an owner organisation and the resources in them
(workshops, labs, machines, equipment), with their rules, prices, opening hours, closures,
photos and the qualifications teachers need."""

from enum import Enum

from piccolo.columns import (
    JSONB,
    Boolean,
    Bytea,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Real,
    Text,
    Time,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from accounts.tables import Organisation, User


class Category(Table, tablename="category"):
    slug = Varchar(length=60, unique=True)
    name_nl = Varchar(length=120)
    name_en = Varchar(length=120)
    position = Integer(default=0)


class StudyProgramme(Table, tablename="study_programme"):
    """A study programme (studierichting) of the third grade or a 7th year / Se-n-Se."""

    class Finality(str, Enum):
        labour_market = "A"
        double = "D/A"
        seventh_year = "7"

    slug = Varchar(length=80, unique=True)
    name = Varchar(length=150)
    finality = Varchar(length=4, choices=Finality)


class Facility(Table, tablename="facility"):
    """A site with an address where an owner keeps resources."""

    owner = ForeignKey(Organisation, on_delete=OnDelete.restrict, index=True)
    external_id = Varchar(length=80, default="", index=True)
    name = Varchar(length=200)
    description = Text(default="")
    street = Varchar(length=200, default="")
    postal_code = Varchar(length=4, index=True)
    municipality = Varchar(length=100, default="")
    region_code = Varchar(length=8, default="", index=True)
    latitude = Real(null=True, default=None, index=True)
    longitude = Real(null=True, default=None, index=True)
    contact_email = Varchar(length=320, default="")
    phone = Varchar(length=40, default="")
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Qualification(Table, tablename="qualification"):
    """What a teacher needs before using a resource: a safety briefing, a 'wegwijssessie'."""

    owner = ForeignKey(Organisation, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=150)
    description = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class QualificationGrant(Table, tablename="qualification_grant"):
    qualification = ForeignKey(Qualification, on_delete=OnDelete.cascade, index=True)
    teacher = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    expires_on = Date(null=True, default=None)
    granted_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    granted_at = Timestamptz(default=TimestamptzNow())
    withdrawn_at = Timestamptz(null=True, default=None)


class Resource(Table, tablename="resource"):
    """A bookable workshop, lab, machine or piece of equipment, with its rules and prices.
    Money in integer euro cents."""

    class Kind(str, Enum):
        workshop = "workshop"
        lab = "lab"
        machine = "machine"
        equipment = "equipment"

    class PriceModel(str, Enum):
        free = "free"
        per_hour = "per_hour"
        per_half_day = "per_half_day"
        per_day = "per_day"
        per_pupil = "per_pupil"

    class Funding(str, Enum):
        sector = "sector"
        government = "government"
        company = "company"
        school = "school"

    class CostUnit(str, Enum):
        per_hour = "per_hour"
        per_session = "per_session"

    class Status(str, Enum):
        active = "active"
        retired = "retired"

    class PaymentMode(str, Enum):
        free = "free"  # nothing to pay, whatever the price says
        online = "online"  # the school pays on Werkbank (Stripe: card, Bancontact)
        invoice = "invoice"  # the owner invoices the school

    facility = ForeignKey(Facility, on_delete=OnDelete.restrict, index=True)
    external_id = Varchar(length=80, default="", index=True)
    name = Varchar(length=200, index=True)
    kind = Varchar(length=12, choices=Kind, default=Kind.machine)
    category = ForeignKey(Category, on_delete=OnDelete.restrict, index=True)
    description = Text(default="")
    capacity = Integer(default=12)
    accessories = Text(default="")
    required_qualification = ForeignKey(Qualification, null=True, on_delete=OnDelete.set_null)
    needs_approval = Boolean(default=True)
    min_notice_hours = Integer(default=48)
    max_advance_days = Integer(default=180)
    min_duration_minutes = Integer(default=60)
    max_duration_minutes = Integer(default=480)
    default_duration_minutes = Integer(default=120)  # what a click on the week grid proposes
    buffer_minutes = Integer(default=0)
    price_model = Varchar(length=14, choices=PriceModel, default=PriceModel.free)
    price_cents = Integer(default=0)
    instructor_fee_cents = Integer(default=0)
    payment_mode = Varchar(length=8, choices=PaymentMode, default=PaymentMode.invoice)
    funding = Varchar(length=12, choices=Funding, default=Funding.sector)
    alternative_cost_cents = Integer(default=0)
    alternative_cost_unit = Varchar(length=12, choices=CostUnit, default=CostUnit.per_hour)
    alternative_cost_source = Text(default="")
    status = Varchar(length=8, choices=Status, default=Status.active, index=True)
    request_expiry_days = Integer(default=5)
    free_cancellation_hours = Integer(default=72)
    late_cancellation_percent = Integer(default=50)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class ResourceProgramme(Table, tablename="resource_programme"):
    resource = ForeignKey(Resource, on_delete=OnDelete.cascade, index=True)
    programme = ForeignKey(StudyProgramme, on_delete=OnDelete.cascade, index=True)


class OpeningHours(Table, tablename="opening_hours"):
    """A wall-time interval on a weekday (0 = Monday), in Europe/Brussels."""

    resource = ForeignKey(Resource, on_delete=OnDelete.cascade, index=True)
    weekday = Integer(index=True)
    opens = Time()
    closes = Time()


class Closure(Table, tablename="closure"):
    """Maintenance, holidays: the resource cannot be booked in [starts_at, ends_at)."""

    resource = ForeignKey(Resource, on_delete=OnDelete.cascade, index=True)
    starts_at = Timestamptz(index=True)
    ends_at = Timestamptz(index=True)
    reason = Varchar(length=200, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Photo(Table, tablename="photo"):
    """An image of a resource, kept in the database so every app process can serve it."""

    resource = ForeignKey(Resource, on_delete=OnDelete.cascade, index=True)
    content_type = Varchar(length=40)
    content = Bytea()
    width = Integer()
    height = Integer()
    size = Integer()
    caption = Varchar(length=200, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class InventoryImport(Table, tablename="inventory_import"):
    """A large CSV import, done by the inventory.imports job; the owner follows its progress."""

    class Status(str, Enum):
        queued = "queued"
        running = "running"
        done = "done"
        failed = "failed"

    owner = ForeignKey(Organisation, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade)
    filename = Varchar(length=200, default="")
    content = Bytea()
    status = Varchar(length=10, choices=Status, default=Status.queued, index=True)
    total_rows = Integer(default=0)
    done_rows = Integer(default=0)
    report = JSONB(default={})
    error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)


class SearchRecord(Table, tablename="search_record"):
    """A search for free time that found nothing free: unmet demand for the regional report.
    Who searched is not kept, nor the words typed: only the filters chosen, the region searched in
    (asked, or that of the place the search measured from), a postal code only when one was typed,
    and how many resources matched apart from being taken. The hour is kept, not the moment; the
    same filters for the same days in the same hour count once (`fingerprint`)."""

    fingerprint = Varchar(length=64, unique=True)
    searched_at = Timestamptz(index=True)  # the hour
    category = Varchar(length=80, default="", index=True)
    study_programme = Varchar(length=80, default="")
    region_code = Varchar(length=12, default="", index=True)
    postal_code = Varchar(length=4, default="")
    radius_km = Integer(null=True, default=None)
    free_from = Timestamptz()  # indexed (search_record_free_from) by a raw migration: reports read periods
    free_to = Timestamptz()
    matched = Integer(default=0)  # resources that fit the filters but were not free
    found = Integer(default=0)  # free ones found (0: that is why it is kept)
