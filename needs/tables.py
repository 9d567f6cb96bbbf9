"""What schools lack: needs a school records (a category or a kind of equipment, for a study
programme, so many pupils and days a year, in a region, and why), and the offers owners answer
them with. Needs derived from searches and allocation rounds are computed, not stored
(needs.derived)."""

from enum import Enum

from piccolo.columns import ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from accounts.tables import Organisation, User
from inventory.tables import Category, Resource, StudyProgramme


class Need(Table, tablename="need"):
    """A school's need for infrastructure it lacks. `status`: open (waiting for an answer),
    answered (at least one offer came), closed (the school closed it: met, or no longer needed)."""

    class Reason(str, Enum):
        outdated = "outdated"  # what the school has is outdated
        missing = "missing"  # the school has nothing of the kind
        too_expensive = "too_expensive"  # too expensive to buy or maintain

    class Status(str, Enum):
        open = "open"
        answered = "answered"
        closed = "closed"

    school = ForeignKey(Organisation, on_delete=OnDelete.cascade, index=True)
    recorded_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    category = ForeignKey(Category, on_delete=OnDelete.restrict, index=True)
    equipment = Varchar(length=200, default="")  # a specific kind of equipment, in the school's words
    study_programme = ForeignKey(StudyProgramme, null=True, on_delete=OnDelete.set_null)
    pupils = Integer()
    days_per_year = Integer()
    region_code = Varchar(length=8, default="", index=True)
    reason = Varchar(length=14, choices=Reason)
    note = Text(default="")
    status = Varchar(length=10, choices=Status, default=Status.open, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class NeedOffer(Table, tablename="need_offer"):
    """An owner's answer to a need: "we can open our welding workshop on Wednesdays", with the
    resource it offers (if one)."""

    need = ForeignKey(Need, on_delete=OnDelete.cascade, index=True)
    owner = ForeignKey(Organisation, on_delete=OnDelete.cascade, index=True)
    resource = ForeignKey(Resource, null=True, on_delete=OnDelete.set_null)
    message = Text(default="")
    made_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())


class PhaseOut(Table, tablename="phase_out"):
    """A school admin's signal that a study programme will be phased out at their school, and
    the dialogue it opens with the region's RTC, the owners whose infrastructure serves that
    programme and the providers of the school's network. `status`: open (in dialogue), agreed
    (a follow-up is agreed, written in `follow_up`), closed."""

    class Status(str, Enum):
        open = "open"
        agreed = "agreed"
        closed = "closed"

    school = ForeignKey(Organisation, on_delete=OnDelete.cascade, index=True)
    study_programme = ForeignKey(StudyProgramme, on_delete=OnDelete.restrict, index=True)
    last_school_year = Integer(null=True, default=None)  # first calendar year of the last school year (2027: 2027-2028)
    region_code = Varchar(length=8, default="", index=True)
    note = Text(default="")
    signalled_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    status = Varchar(length=10, choices=Status, default=Status.open, index=True)
    follow_up = Text(default="")
    follow_up_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class PhaseOutResponse(Table, tablename="phase_out_response"):
    """A response in a phase-out dialogue, by someone of an RTC, an owner, a provider or the school."""

    phase_out = ForeignKey(PhaseOut, on_delete=OnDelete.cascade, index=True)
    author = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    organisation = ForeignKey(Organisation, null=True, on_delete=OnDelete.set_null)
    message = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
