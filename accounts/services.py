"""Account rules: logging in (with a rate limit), sessions, passwords, API tokens, users and
organisations. Services take plain values and the acting user and raise domain errors."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from accounts.tables import (
    ApiToken,
    LoginAttempt,
    Membership,
    Organisation,
    PasswordResetRequest,
    PasswordResetToken,
    Session,
    User,
)
from core import audit
from core.errors import NotAllowed, NotAuthenticated, NotFound, RateLimited, ValidationFailed
from core.i18n import gettext as _
from core.i18n import lazy_gettext as _l
from core.i18n import normalise_language
from core.mail import queue_mail
from core.uow import Event, UnitOfWork

Role = Membership.Role
Kind = Organisation.Kind

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128
RESET_TOKEN_HOURS = 2
IP_FAILURE_LIMIT = 100  # failures from one address over all accounts (a school's NAT: many people)
ACCOUNT_FAILURE_LIMIT = 20  # failures for one account from all addresses (guessing spread over many)
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Which kinds of organisation a role belongs to.
ROLE_ORGANISATION_KINDS: dict[Role, tuple[Kind, ...]] = {
    Role.teacher: (Kind.school,),
    Role.school_admin: (Kind.school,),
    Role.owner_staff: (Kind.sector_fund, Kind.training_centre, Kind.company, Kind.government),
    Role.provider_staff: (Kind.provider,),
    Role.rtc_staff: (Kind.rtc,),
    Role.platform_admin: (),
}
# The kinds of organisation that open infrastructure (own facilities and resources).
OWNER_KINDS: tuple[str, ...] = tuple(kind.value for kind in ROLE_ORGANISATION_KINDS[Role.owner_staff])


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- the acting user -------------------------------------------------------------------------

@dataclass(frozen=True)
class RoleGrant:
    role: Role
    organisation_id: int | None
    organisation_name: str = ""
    organisation_kind: str = ""
    organisation_slug: str = ""
    organisation_network: str = ""
    organisation_region: str = ""


@dataclass
class Actor:
    """A logged-in user with their roles, loaded once per request. Object-level checks ask it
    what the user may do with a given organisation's objects."""

    user: User
    grants: list[RoleGrant] = field(default_factory=list)
    session_token: str | None = None

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def email(self) -> str:
        return self.user.email

    @property
    def roles(self) -> set[Role]:
        return {grant.role for grant in self.grants}

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_platform_admin(self) -> bool:
        return Role.platform_admin in self.roles

    def organisation_ids(self, *roles: Role) -> set[int]:
        return {g.organisation_id for g in self.grants if g.organisation_id and (not roles or g.role in roles)}

    def networks(self, *roles: Role) -> set[str]:
        """The education networks of the organisations where the user holds one of `roles`."""
        return {g.organisation_network for g in self.grants
                if g.organisation_network and (not roles or g.role in roles)}

    def regions(self, *roles: Role) -> set[str]:
        """The region codes of the organisations where the user holds one of `roles`."""
        return {g.organisation_region for g in self.grants
                if g.organisation_region and (not roles or g.role in roles)}

    def acts_for(self, organisation_id: int | None, *roles: Role) -> bool:
        """True when the user holds one of `roles` in that organisation (platform admins: always)."""
        if self.is_platform_admin:
            return True
        return organisation_id is not None and organisation_id in self.organisation_ids(*roles)

    def require(self, allowed: bool, message: str | None = None) -> None:
        if not allowed:
            raise NotAllowed(message or _("You are not allowed to do this."))

    @property
    def primary_role(self) -> Role | None:
        order = list(Role)[::-1]  # platform_admin first
        for role in order:
            if role in self.roles:
                return role
        return None


def system_actor() -> Actor:
    """The command line acts as the platform (audit entries name it werkbank-cli)."""
    user = User(email="werkbank-cli", first_name="werkbank", last_name="cli", active=True)
    user.id = None
    return Actor(user=user, grants=[RoleGrant(role=Role.platform_admin, organisation_id=None)])


async def load_actor(user: User, session_token: str | None = None) -> Actor:
    rows = await Membership.select(
        Membership.role,
        Membership.organisation.id,
        Membership.organisation.name,
        Membership.organisation.kind,
        Membership.organisation.slug,
        Membership.organisation.network,
        Membership.organisation.region_code,
    ).where(Membership.user == user.id).order_by(Membership.id)
    grants = [
        RoleGrant(
            role=Role(row["role"]),
            organisation_id=row["organisation.id"],
            organisation_name=row["organisation.name"] or "",
            organisation_kind=row["organisation.kind"] or "",
            organisation_slug=row["organisation.slug"] or "",
            organisation_network=row["organisation.network"] or "",
            organisation_region=row["organisation.region_code"] or "",
        )
        for row in rows
    ]
    return Actor(user=user, grants=grants, session_token=session_token)


# --- passwords -------------------------------------------------------------------------------

def validate_password(password: str, confirm: str | None = None, field_name: str = "password") -> None:
    if confirm is not None and password != confirm:
        raise ValidationFailed(_("The two passwords are not the same."), {field_name: _("The two passwords are not the same.")})
    if len(password) < MIN_PASSWORD_LENGTH:
        message = _("The password needs at least %(n)s characters.", n=MIN_PASSWORD_LENGTH)
        raise ValidationFailed(message, {field_name: message})
    if len(password) > MAX_PASSWORD_LENGTH:
        message = _("The password may have at most %(n)s characters.", n=MAX_PASSWORD_LENGTH)
        raise ValidationFailed(message, {field_name: message})


def apply_test_password_rounds(settings) -> None:
    """The one place that lowers the PBKDF2 rounds of new password hashes: in a `werkbank` process
    that the tests start with WERKBANK_TEST_PASSWORD_ROUNDS (Settings refuses that variable in
    production, and production settings are never lowered here). Checking a password always uses
    the rounds stored with its hash."""
    if settings.test_password_rounds and not settings.is_production:
        User._pbkdf2_iteration_count = settings.test_password_rounds


async def hash_password(password: str) -> str:
    # PBKDF2 with hundreds of thousands of rounds: off the event loop.
    return await asyncio.to_thread(User.hash_password, password)


async def verify_password(stored: str, password: str) -> bool:
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        _algorithm, iterations, salt, _hashed = User.split_stored_password(stored)
        candidate = await asyncio.to_thread(User.hash_password, password, salt, int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(candidate, stored)


# --- logging in ------------------------------------------------------------------------------

def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


async def _lock(uow: UnitOfWork, *keys: str) -> None:
    """Serialise the writers that decide on the same keys. SQLite's BEGIN IMMEDIATE already
    serialises every writer; PostgreSQL takes transaction-scoped advisory locks, in a fixed order
    so two attempts never wait on each other crosswise."""
    if uow.is_postgres:
        for key in sorted(set(keys)):
            await LoginAttempt.raw("SELECT pg_advisory_xact_lock(hashtext({}))", key)


async def authenticate(uow: UnitOfWork, email: str, password: str, ip_address: str = "", *, max_failures: int = 5,
                       window_minutes: int = 15) -> User:
    """The user with that e-mail and password, or RateLimited / NotAuthenticated (one message for
    a wrong e-mail or password, so addresses cannot be probed). The limits hold under parallel
    requests: counting, deciding and recording the attempt happen in one transaction under a
    lock, before the (slow) password check, and an attempt counts as failed until it succeeded.
    - `max_failures` failures for this account from this address in the window: that address
      waits (someone else, elsewhere, still gets in with the right password);
    - ACCOUNT_FAILURE_LIMIT failures for this account from anywhere: the account waits;
    - IP_FAILURE_LIMIT failures from this address over all accounts: the address may still try
      accounts it has not failed on (a colleague behind the school's NAT gets in), not others."""
    email = normalise_email(email)[:320]
    ip_address = (ip_address or "")[:45]
    async with uow.transaction():
        await _lock(uow, f"login:{email}", f"login-ip:{ip_address}")
        moment = uow.now()
        since = moment - timedelta(minutes=window_minutes)
        recent = await LoginAttempt.select(LoginAttempt.email, LoginAttempt.ip_address, LoginAttempt.created_at).where(
            (LoginAttempt.succeeded == False) & (LoginAttempt.created_at >= since)  # noqa: E712
            & ((LoginAttempt.email == email) | (LoginAttempt.ip_address == ip_address))
        ).order_by(LoginAttempt.created_at)
        mine = [r for r in recent if r["email"] == email]
        here = [r for r in mine if r["ip_address"] == ip_address]
        from_address = [r for r in recent if r["ip_address"] == ip_address] if ip_address else []
        blocking = None
        if len(here) >= max_failures:
            blocking = here
        elif len(mine) >= ACCOUNT_FAILURE_LIMIT:
            blocking = mine
        elif len(from_address) >= IP_FAILURE_LIMIT and here:
            blocking = from_address
        if blocking is not None:
            wait = max(60, int((blocking[0]["created_at"] + timedelta(minutes=window_minutes) - moment).total_seconds()))
            raise RateLimited(_("Too many failed attempts. Try again in %(minutes)s minutes, or reset your password.",
                                minutes=(wait + 59) // 60), retry_after_seconds=wait)
        attempt = (await LoginAttempt.insert(LoginAttempt(email=email, ip_address=ip_address, succeeded=False,
                                                          created_at=moment)).returning(LoginAttempt.id))[0]["id"]
    user = await User.objects().where(User.email == email).first()
    ok = False
    if user is None:
        await hash_password(password[:MAX_PASSWORD_LENGTH])  # same time as a real check
    else:
        ok = user.active and await verify_password(user.password, password)
    if not ok:
        raise NotAuthenticated(_("The e-mail address or the password is not right."))
    async with uow.transaction():
        await LoginAttempt.update({LoginAttempt.succeeded: True}).where(LoginAttempt.id == attempt)
        # piccolo's BaseUser keeps last_login without a zone: it is stored as UTC.
        await User.update({User.last_login: uow.now().replace(tzinfo=None)}).where(User.id == user.id)
    return user


async def create_session(uow: UnitOfWork, user: User, *, days: int = 14, user_agent: str = "", ip_address: str = "") -> str:
    token = secrets.token_urlsafe(32)
    async with uow.transaction():
        await Session.insert(Session(
            user=user.id,
            token_hash=hash_token(token),
            expires_at=uow.now() + timedelta(days=days),
            user_agent=user_agent[:300],
            ip_address=ip_address[:45],
        ))
        await audit.record(user, "session.created", "user", user.id, ip_address=ip_address)
    return token


async def user_for_session(uow: UnitOfWork, token: str) -> User | None:
    if not token or len(token) > 100:
        return None
    moment = uow.now()
    # One query for the session and its user (this runs on every request).
    session = await Session.objects(Session.user).where(
        (Session.token_hash == hash_token(token)) & (Session.revoked_at.is_null()) & (Session.expires_at > moment)
        & (Session.user.active == True)  # noqa: E712
    ).first()
    if session is None:
        return None
    if moment - session.last_seen_at > timedelta(minutes=5):
        async with uow.transaction():
            await Session.update({Session.last_seen_at: moment}).where(Session.id == session.id)
    return session.user


async def revoke_session(uow: UnitOfWork, token: str) -> None:
    async with uow.transaction():
        await Session.update({Session.revoked_at: uow.now()}).where(
            (Session.token_hash == hash_token(token)) & (Session.revoked_at.is_null())
        )


async def revoke_sessions(uow: UnitOfWork, user_id: int, keep_token: str | None = None) -> None:
    """All sessions of that user but `keep_token`'s (call inside the caller's transaction)."""
    query = Session.update({Session.revoked_at: uow.now()}).where(
        (Session.user == user_id) & (Session.revoked_at.is_null())
    )
    if keep_token:
        query = query.where(Session.token_hash != hash_token(keep_token))
    await query


# --- password change and reset ---------------------------------------------------------------

async def change_password(uow: UnitOfWork, current: str, new: str, confirm: str) -> None:
    actor = uow.actor
    if not await verify_password(actor.user.password, current):
        message = _("Your current password is not right.")
        raise ValidationFailed(message, {"current_password": message})
    validate_password(new, confirm, "new_password")
    hashed = await hash_password(new)
    async with uow.transaction():
        await User.update({User.password: hashed}).where(User.id == actor.user.id)
        await revoke_sessions(uow, actor.user.id, keep_token=actor.session_token)
        await audit.record(actor, "user.password_changed", "user", actor.user.id)


RESET_MAILS_PER_HOUR = 3  # reset mails to one address
RESET_REQUESTS_PER_HOUR = 20  # reset requests from one network address


@dataclass(frozen=True)
class PasswordResetRequested(Event):
    """Wakes the accounts.password_resets job after commit."""


async def request_password_reset(uow: UnitOfWork, email: str, ip_address: str = "") -> None:
    """Records that a reset link was asked for this address. The answer, and the time it takes,
    are the same whether or not an account has that address: the lookup and the mail happen
    afterwards, in the accounts.password_resets job. One address asking too often is told to
    wait (that says nothing about any account)."""
    email = normalise_email(email)
    if not EMAIL_RE.match(email) or len(email) > 320:
        message = _("Enter a valid e-mail address.")
        raise ValidationFailed(message, {"email": message})
    ip_address = (ip_address or "")[:45]
    async with uow.transaction():
        await _lock(uow, f"reset-ip:{ip_address}")
        moment = uow.now()
        if ip_address and await PasswordResetRequest.count().where(
                (PasswordResetRequest.ip_address == ip_address)
                & (PasswordResetRequest.created_at > moment - timedelta(hours=1))) >= RESET_REQUESTS_PER_HOUR:
            raise RateLimited(_("Too many requests. Wait a moment and try again."), retry_after_seconds=3600)
        await PasswordResetRequest.insert(PasswordResetRequest(email=email, ip_address=ip_address, created_at=moment))
        uow.record(PasswordResetRequested())


async def password_resets_job(uow: UnitOfWork, batch: int) -> int:
    """Mails a reset link for each request whose address belongs to an active account, at most
    RESET_MAILS_PER_HOUR per address per hour; every request is marked handled."""
    pending = await PasswordResetRequest.objects().where(PasswordResetRequest.processed_at.is_null()).order_by(
        PasswordResetRequest.id).limit(batch)
    for request in pending:
        async with uow.transaction():
            moment = uow.now()
            taken = await PasswordResetRequest.update({PasswordResetRequest.processed_at: moment}).where(
                (PasswordResetRequest.id == request.id) & PasswordResetRequest.processed_at.is_null()
            ).returning(PasswordResetRequest.id)
            if not taken:  # another worker handled it
                continue
            user = await User.objects().where((User.email == request.email) & (User.active == True)).first()  # noqa: E712
            recent = await PasswordResetRequest.count().where(
                (PasswordResetRequest.email == request.email) & (PasswordResetRequest.mailed == True)  # noqa: E712
                & (PasswordResetRequest.processed_at > moment - timedelta(hours=1)))
            if user is None or recent >= RESET_MAILS_PER_HOUR:
                continue
            token = secrets.token_urlsafe(32)
            await PasswordResetToken.insert(PasswordResetToken(
                user=user.id, token_hash=hash_token(token), expires_at=moment + timedelta(hours=RESET_TOKEN_HOURS)))
            await PasswordResetRequest.update({PasswordResetRequest.mailed: True}).where(
                PasswordResetRequest.id == request.id)
            await queue_mail(uow, user.email, _l("Reset your Werkbank password"), "accounts/mail/password_reset.txt",
                             language=user.language, user={"display_name": user.display_name},
                             link=f"{uow.settings.base_url}/password/reset/{token}", hours=RESET_TOKEN_HOURS)
            await audit.record(None, "user.password_reset_requested", "user", user.id)
    return len(pending)


async def reset_token_is_valid(uow: UnitOfWork, token: str) -> bool:
    return await _reset_row(uow, token) is not None


async def _reset_row(uow: UnitOfWork, token: str) -> PasswordResetToken | None:
    if not token or len(token) > 100:
        return None
    return await PasswordResetToken.objects().where(
        (PasswordResetToken.token_hash == hash_token(token))
        & (PasswordResetToken.used_at.is_null())
        & (PasswordResetToken.expires_at > uow.now())
    ).first()


async def reset_password(uow: UnitOfWork, token: str, new: str, confirm: str) -> User:
    row = await _reset_row(uow, token)
    if row is None:
        raise NotFound(_("This reset link is not valid any more. Ask for a new one."))
    validate_password(new, confirm, "new_password")
    hashed = await hash_password(new)
    async with uow.transaction():
        used = await PasswordResetToken.update({PasswordResetToken.used_at: uow.now()}).where(
            (PasswordResetToken.id == row.id) & (PasswordResetToken.used_at.is_null())
        ).returning(PasswordResetToken.id)
        if not used:
            raise NotFound(_("This reset link is not valid any more. Ask for a new one."))
        await User.update({User.password: hashed}).where(User.id == row.user)
        await revoke_sessions(uow, row.user)
        await LoginAttempt.delete().where(
            LoginAttempt.email == (await User.select(User.email).where(User.id == row.user).first())["email"]
        )
        await audit.record(None, "user.password_reset", "user", row.user)
    return await User.objects().where(User.id == row.user).first()


# --- API tokens ------------------------------------------------------------------------------

TOKEN_PREFIX = "wb_"


async def create_api_token(uow: UnitOfWork, name: str, user: User | None = None) -> tuple[ApiToken, str]:
    """A new token for `user` (default: the acting user): returns the row and the token, which
    is shown once."""
    actor = uow.actor
    user = user or actor.user
    name = (name or "").strip() or _("API token")
    if len(name) > 100:
        message = _("The name may have at most %(n)s characters.", n=100)
        raise ValidationFailed(message, {"name": message})
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user=user.id, name=name, prefix=token[:10], token_hash=hash_token(token))
    async with uow.transaction():
        await row.save()
        await audit.record(actor, "api_token.created", "user", user.id, name=name, prefix=row.prefix)
    return row, token


async def list_api_tokens(uow: UnitOfWork) -> list[ApiToken]:
    return await ApiToken.objects().where(ApiToken.user == uow.actor.user.id).order_by(ApiToken.id, ascending=False)


async def revoke_api_token(uow: UnitOfWork, token_id: int) -> None:
    actor = uow.actor
    row = await ApiToken.objects().where(ApiToken.id == token_id).first()
    if row is None or (row.user != actor.user.id and not actor.is_platform_admin):
        raise NotFound(_("This token does not exist."))
    async with uow.transaction():
        await ApiToken.update({ApiToken.revoked_at: uow.now()}).where(
            (ApiToken.id == token_id) & (ApiToken.revoked_at.is_null())
        )
        await audit.record(actor, "api_token.revoked", "user", row.user, name=row.name, prefix=row.prefix)


async def revoke_api_tokens(uow: UnitOfWork, user: User, name: str | None = None) -> int:
    query = ApiToken.update({ApiToken.revoked_at: uow.now()}).where(
        (ApiToken.user == user.id) & (ApiToken.revoked_at.is_null())
    )
    if name:
        query = query.where(ApiToken.name == name)
    async with uow.transaction():
        revoked = await query.returning(ApiToken.id)
        await audit.record(uow.actor, "api_token.revoked", "user", user.id, name=name or "*", count=len(revoked))
    return len(revoked)


API_TOKEN_TOUCH = timedelta(minutes=1)


async def user_for_api_token(uow: UnitOfWork, token: str) -> tuple[User | None, int | None]:
    """The active user a live token belongs to (one query, nothing written), and the token's id
    when its last use should be written (at most once a minute; see touch_api_token)."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None, None
    row = await ApiToken.objects(ApiToken.user).where(
        (ApiToken.token_hash == hash_token(token)) & (ApiToken.revoked_at.is_null())
        & (ApiToken.user.active == True)  # noqa: E712
    ).first()
    if row is None:
        return None, None
    stale = row.last_used_at is None or uow.now() - row.last_used_at > API_TOKEN_TOUCH
    return row.user, (row.id if stale else None)


async def touch_api_token(uow: UnitOfWork, token_id: int) -> None:
    """Writes when a token was last used; called after the answer has gone out, so a busy
    database never delays or fails the request itself."""
    async with uow.transaction():
        await ApiToken.update({ApiToken.last_used_at: uow.now()}).where(ApiToken.id == token_id)


# --- users and organisations -----------------------------------------------------------------

async def create_user(
    uow: UnitOfWork,
    email: str,
    password: str,
    role: Role | str,
    organisation_slug: str | None = None,
    *,
    first_name: str = "",
    last_name: str = "",
    language: str = "nl",
) -> User:
    """Creates an active user holding `role` (in that organisation, which must be of a kind the
    role belongs to)."""
    email = normalise_email(email)
    if not EMAIL_RE.match(email) or len(email) > 320:
        message = _("Enter a valid e-mail address.")
        raise ValidationFailed(message, {"email": message})
    try:
        role = Role(role)
    except ValueError:
        raise ValidationFailed(
            _("Unknown role %(role)s; choose one of: %(roles)s.", role=role, roles=", ".join(r.value for r in Role))
        ) from None
    validate_password(password)
    organisation = await _organisation_for_role(role, organisation_slug)
    if await User.exists().where(User.email == email):
        message = _("A user with this e-mail address already exists.")
        raise ValidationFailed(message, {"email": message})
    hashed = await hash_password(password)
    actor = uow.actor
    async with uow.transaction():
        user = User(
            username=email,
            email=email,
            password=hashed,
            first_name=first_name.strip()[:100],
            last_name=last_name.strip()[:100],
            language=normalise_language(language),
            active=True,
            admin=role == Role.platform_admin,
            superuser=role == Role.platform_admin,
        )
        await user.save()
        await Membership.insert(Membership(user=user.id, organisation=organisation.id if organisation else None, role=role))
        await audit.record(actor, "user.created", "user", user.id, email=email, role=role.value,
                           organisation=organisation.slug if organisation else None)
    return user


async def _organisation_for_role(role: Role, slug: str | None) -> Organisation | None:
    kinds = ROLE_ORGANISATION_KINDS[role]
    if not kinds:
        if slug:
            raise ValidationFailed(_("A platform admin belongs to no organisation."))
        return None
    if not slug:
        raise ValidationFailed(_("The role %(role)s needs an organisation (--org SLUG).", role=role.value))
    organisation = await Organisation.objects().where(Organisation.slug == slug).first()
    if organisation is None:
        raise ValidationFailed(_("No organisation has the slug %(slug)s.", slug=slug))
    if Kind(organisation.kind) not in kinds:
        raise ValidationFailed(_(
            "The role %(role)s does not fit an organisation of kind %(kind)s.", role=role.value, kind=organisation.kind
        ))
    return organisation


async def set_language(uow: UnitOfWork, language: str) -> str:
    language = normalise_language(language)
    if uow.actor is not None:
        async with uow.transaction():
            await User.update({User.language: language}).where(User.id == uow.actor.user.id)
    return language


async def list_users(role: str | None = None) -> list[dict]:
    query = Membership.select(
        Membership.user.email, Membership.user.first_name, Membership.user.last_name, Membership.user.active,
        Membership.role, Membership.organisation.slug, Membership.organisation.name,
    ).order_by(Membership.user.email).order_by(Membership.role)
    if role:
        query = query.where(Membership.role == role)
    return await query


async def list_organisations(kind: str | None = None) -> list[Organisation]:
    query = Organisation.objects().order_by(Organisation.kind).order_by(Organisation.name)
    if kind:
        query = query.where(Organisation.kind == kind)
    return await query
