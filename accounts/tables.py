"""Who acts: users, organisations, memberships with roles, sessions, API tokens."""

from enum import Enum

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import (
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Real,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class User(BaseUser, tablename="account_user"):
    """A person. Extends Piccolo's BaseUser (PBKDF2-SHA256 password hashing), so that the same
    accounts and sessions let platform admins into piccolo-admin. Login name is the e-mail."""

    language = Varchar(length=5, default="nl")
    created_at = Timestamptz(default=TimestamptzNow())

    @property
    def display_name(self) -> str:
        name = f"{self.first_name or ''} {self.last_name or ''}".strip()
        return name or self.email


class Organisation(Table, tablename="organisation"):
    """A school, a sector fund, a training centre, a company, a government body, an education
    provider (network) or a Regional Technological Centre."""

    class Kind(str, Enum):
        school = "school"
        sector_fund = "sector_fund"
        training_centre = "training_centre"
        company = "company"
        government = "government"
        provider = "provider"
        rtc = "rtc"

    class Network(str, Enum):
        none = ""
        katholiek = "katholiek"  # Katholiek Onderwijs Vlaanderen
        go = "go"  # GO! onderwijs van de Vlaamse Gemeenschap
        ovsg = "ovsg"  # municipal schools
        pov = "pov"  # provincial schools
        oko = "oko"  # small providers

    name = Varchar(length=200)
    slug = Varchar(length=80, unique=True)
    kind = Varchar(length=20, choices=Kind, index=True)
    network = Varchar(length=12, choices=Network, default=Network.none)
    institution_number = Varchar(length=12, default="", index=True)
    street = Varchar(length=200, default="")
    postal_code = Varchar(length=4, default="", index=True)
    municipality = Varchar(length=100, default="")
    region_code = Varchar(length=8, default="", index=True)
    latitude = Real(null=True, default=None)
    longitude = Real(null=True, default=None)
    pupil_count = Integer(default=0)
    email = Varchar(length=320, default="")
    phone = Varchar(length=40, default="")
    website = Varchar(length=200, default="")
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Membership(Table, tablename="membership"):
    """A role a user holds, within an organisation (none for platform admins)."""

    class Role(str, Enum):
        teacher = "teacher"
        school_admin = "school_admin"
        owner_staff = "owner_staff"
        provider_staff = "provider_staff"
        rtc_staff = "rtc_staff"
        platform_admin = "platform_admin"

    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    organisation = ForeignKey(Organisation, null=True, on_delete=OnDelete.cascade, index=True)
    role = Varchar(length=20, choices=Role, index=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Session(Table, tablename="account_session"):
    """A browser session. The cookie holds a random token; only its SHA-256 is stored, so a
    leaked table opens no sessions. Lives in the database: survives restarts, works across
    processes, and logout revokes it."""

    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    user_agent = Varchar(length=300, default="")
    ip_address = Varchar(length=45, default="")


class ApiToken(Table, tablename="api_token"):
    """A bearer token for the JSON API: shown once, stored hashed, revocable."""

    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=100)
    prefix = Varchar(length=12)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class LoginAttempt(Table, tablename="login_attempt"):
    """Every login try, for the rate limit (shared by all processes through the database)."""

    email = Varchar(length=320, index=True)
    ip_address = Varchar(length=45, default="", index=True)
    succeeded = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class PasswordResetToken(Table, tablename="password_reset_token"):
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class PasswordResetRequest(Table, tablename="password_reset_request"):
    """Someone asked for a reset link for this address. The form answers the same whether or not
    an account has it; the accounts.password_resets job looks the address up afterwards and
    mails a link (at most a few per address per hour)."""

    email = Varchar(length=320, index=True)
    ip_address = Varchar(length=45, default="", index=True)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    processed_at = Timestamptz(null=True, default=None, index=True)
    mailed = Boolean(default=False)


class Invitation(Table, tablename="invitation"):
    """A colleague asked to join an organisation in a role. The mailed link holds a random token
    (only its SHA-256 is stored); it works once, until it expires or is withdrawn."""

    email = Varchar(length=320, index=True)
    organisation = ForeignKey(Organisation, on_delete=OnDelete.cascade, index=True)
    role = Varchar(length=20, choices=Membership.Role)
    first_name = Varchar(length=100, default="")
    last_name = Varchar(length=100, default="")
    invited_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    accepted_at = Timestamptz(null=True, default=None)
    withdrawn_at = Timestamptz(null=True, default=None)


class SchoolBill(Table, tablename="school_bill"):
    """What a school charges per pupil for a school year (its "schoolfactuur") in one study
    programme, as its admin records it. The regional report sets the savings of shared
    infrastructure against it. `programme` is a study programme's slug (the programmes belong to
    inventory, above accounts); `school_year` is its first calendar year (2026: 2026-2027)."""

    school = ForeignKey(Organisation, on_delete=OnDelete.cascade, index=True)
    programme = Varchar(length=80)
    school_year = Integer()
    cents_per_pupil = Integer()
    updated_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    updated_at = Timestamptz(default=TimestamptzNow())


class OwnerInvitation(Table, tablename="owner_invitation"):
    """A company, sector fund, training centre or government body not yet on Werkbank, invited by
    RTC staff to open its infrastructure to schools. The mailed link (only the token's SHA-256 is
    stored) leads to a sign-up form filled in with what the RTC knew; accepting creates the
    organisation and its first owner staff account (`organisation`), once, before it expires."""

    email = Varchar(length=320, index=True)
    organisation_name = Varchar(length=200)
    kind = Varchar(length=20, choices=Organisation.Kind)
    postal_code = Varchar(length=4, default="")
    first_name = Varchar(length=100, default="")
    last_name = Varchar(length=100, default="")
    message = Text(default="")
    invited_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    invited_for = ForeignKey(Organisation, null=True, on_delete=OnDelete.set_null, index=True)  # the RTC
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    accepted_at = Timestamptz(null=True, default=None)
    withdrawn_at = Timestamptz(null=True, default=None)
    organisation = ForeignKey(Organisation, null=True, on_delete=OnDelete.set_null)  # made on accepting
