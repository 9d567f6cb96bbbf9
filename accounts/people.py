"""The people of an organisation: school admins invite teachers of their school, owner staff
invite colleagues of their organisation, platform admins invite anyone anywhere (and create
organisations in piccolo-admin). An invitation is a mailed single-use link, valid a few days, to
set a password; members' roles change within what the inviter holds, and people are removed."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta, timezone

from accounts.services import (
    EMAIL_RE,
    ROLE_ORGANISATION_KINDS,
    Actor,
    hash_password,
    hash_token,
    normalise_email,
    revoke_sessions,
    validate_password,
)
from accounts.tables import Invitation, Membership, Organisation, User
from core import audit
from core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from core.i18n import gettext as _
from core.i18n import lazy_gettext as _l
from core.i18n import normalise_language
from core.mail import queue_mail
from core.uow import UnitOfWork

Role = Membership.Role
INVITATION_DAYS = 7

# Which roles a member may hand out in their own organisation (platform admins: every role).
GRANTS: dict[Role, tuple[Role, ...]] = {
    Role.school_admin: (Role.teacher, Role.school_admin),
    Role.owner_staff: (Role.owner_staff,),
    Role.provider_staff: (Role.provider_staff,),
    Role.rtc_staff: (Role.rtc_staff,),
}


def grantable(actor: Actor, organisation: Organisation) -> list[Role]:
    """The roles `actor` may give in that organisation (empty: they may not manage its people)."""
    fitting = [role for role, kinds in ROLE_ORGANISATION_KINDS.items() if organisation.kind in kinds]
    if actor.is_platform_admin:
        return fitting
    roles: list[Role] = []
    for grant in actor.grants:
        if grant.organisation_id == organisation.id:
            roles += [r for r in GRANTS.get(grant.role, ()) if r in fitting and r not in roles]
    return roles


def managed_organisations(actor: Actor) -> list[int]:
    return sorted({g.organisation_id for g in actor.grants if g.organisation_id and g.role in GRANTS})


async def organisation_for_people(uow: UnitOfWork, organisation_id: int | None) -> Organisation:
    """The organisation whose people the actor manages (their own when none is named)."""
    actor = uow.actor
    if organisation_id is None:
        own = managed_organisations(actor)
        if not own:
            raise NotAllowed(_("Your role does not give access to this page."))
        organisation_id = own[0]
    organisation = await Organisation.objects().where(Organisation.id == organisation_id).first()
    if organisation is None or not grantable(actor, organisation):
        raise NotFound(_("This organisation does not exist, or you may not manage its people."))
    return organisation


@dataclass
class People:
    organisation: Organisation
    members: list[dict]
    invitations: list[Invitation]
    roles: list[Role]


async def people(uow: UnitOfWork, organisation_id: int | None = None) -> People:
    organisation = await organisation_for_people(uow, organisation_id)
    members = await Membership.select(
        Membership.id, Membership.role, Membership.user.id, Membership.user.first_name, Membership.user.last_name,
        Membership.user.email, Membership.user.active, Membership.user.last_login,
    ).where(Membership.organisation == organisation.id).order_by(Membership.user.last_name)
    for member in members:  # piccolo's BaseUser keeps last_login as UTC without a zone
        if member["user.last_login"] is not None and member["user.last_login"].tzinfo is None:
            member["user.last_login"] = member["user.last_login"].replace(tzinfo=timezone.utc)
    invitations = await Invitation.objects().where(
        (Invitation.organisation == organisation.id) & Invitation.accepted_at.is_null()
        & Invitation.withdrawn_at.is_null() & (Invitation.expires_at > uow.now())).order_by(Invitation.created_at)
    return People(organisation, members, invitations, grantable(uow.actor, organisation))


def _role(value: str, allowed: list[Role]) -> Role:
    try:
        role = Role(value)
    except ValueError:
        role = None
    if role not in allowed:
        message = _("Choose one of the roles you may give here.")
        raise ValidationFailed(message, {"role": message})
    return role


async def invite(uow: UnitOfWork, organisation_id: int, email: str, role: str, first_name: str = "",
                 last_name: str = "") -> Invitation:
    """Mails a single-use link to join `organisation_id` as `role`."""
    organisation = await organisation_for_people(uow, organisation_id)
    granted = _role(role, grantable(uow.actor, organisation))
    email = normalise_email(email)
    if not EMAIL_RE.match(email) or len(email) > 320:
        message = _("Enter a valid e-mail address.")
        raise ValidationFailed(message, {"email": message})
    if await User.exists().where(User.email == email):
        message = _("This address already has a Werkbank account; a platform admin adds it to your organisation.")
        raise ValidationFailed(message, {"email": message})
    token = secrets.token_urlsafe(32)
    async with uow.transaction():
        await Invitation.update({Invitation.withdrawn_at: uow.now()}).where(
            (Invitation.email == email) & (Invitation.organisation == organisation.id)
            & Invitation.accepted_at.is_null() & Invitation.withdrawn_at.is_null())
        invitation = Invitation(email=email, organisation=organisation.id, role=granted,
                                first_name=(first_name or "").strip()[:100], last_name=(last_name or "").strip()[:100],
                                invited_by=uow.actor.user.id, token_hash=hash_token(token), created_at=uow.now(),
                                expires_at=uow.now() + timedelta(days=INVITATION_DAYS))
        await invitation.save()
        inviter = uow.actor.user
        await queue_mail(uow, email, _l("You are invited to Werkbank"), "accounts/mail/invitation.txt",
                         language=inviter.language or "nl", organisation=organisation.name,
                         inviter=inviter.display_name, role=granted.value,
                         link=f"{uow.settings.base_url}/invitations/{token}", days=INVITATION_DAYS)
        await audit.record(uow.actor, "invitation.sent", "organisation", organisation.id, email=email,
                           role=granted.value)
    return invitation


async def withdraw(uow: UnitOfWork, invitation_id: int) -> int:
    row = await Invitation.objects().where(Invitation.id == invitation_id).first()
    if row is None:
        raise NotFound(_("This invitation does not exist."))
    organisation = await organisation_for_people(uow, row.organisation)
    async with uow.transaction():
        await Invitation.update({Invitation.withdrawn_at: uow.now()}).where(Invitation.id == row.id)
        await audit.record(uow.actor, "invitation.withdrawn", "organisation", organisation.id, email=row.email)
    return organisation.id


async def open_invitation(uow: UnitOfWork, token: str) -> Invitation | None:
    if not token or len(token) > 100:
        return None
    return await Invitation.objects(Invitation.organisation).where(
        (Invitation.token_hash == hash_token(token)) & Invitation.accepted_at.is_null()
        & Invitation.withdrawn_at.is_null() & (Invitation.expires_at > uow.now())).first()


async def accept(uow: UnitOfWork, token: str, password: str, confirm: str, first_name: str = "",
                 last_name: str = "") -> User:
    """The invited person sets a password: their account and membership exist from now on."""
    invitation = await open_invitation(uow, token)
    if invitation is None:
        raise NotFound(_("This invitation is not valid any more. Ask for a new one."))
    validate_password(password, confirm, "new_password")
    hashed = await hash_password(password)
    async with uow.transaction():
        used = await Invitation.update({Invitation.accepted_at: uow.now()}).where(
            (Invitation.id == invitation.id) & Invitation.accepted_at.is_null()).returning(Invitation.id)
        if not used or await User.exists().where(User.email == invitation.email):
            raise Conflict(_("This invitation is not valid any more. Ask for a new one."))
        role = Role(invitation.role)
        user = User(username=invitation.email, email=invitation.email, password=hashed,
                    first_name=((first_name or invitation.first_name).strip())[:100],
                    last_name=((last_name or invitation.last_name).strip())[:100],
                    language=normalise_language("nl"), active=True, admin=role == Role.platform_admin,
                    superuser=role == Role.platform_admin)
        await user.save()
        await Membership.insert(Membership(user=user.id, organisation=invitation.organisation.id, role=role))
        await audit.record(user, "user.created", "user", user.id, email=user.email, role=role.value,
                           organisation=invitation.organisation.slug, invitation=invitation.id)
    return user


async def _membership(uow: UnitOfWork, membership_id: int) -> tuple[Membership, Organisation]:
    membership = await Membership.objects().where(Membership.id == membership_id).first()
    if membership is None or membership.organisation is None:
        raise NotFound(_("This person is not a member here, or you may not manage them."))
    organisation = await organisation_for_people(uow, membership.organisation)
    return membership, organisation


async def change_role(uow: UnitOfWork, membership_id: int, role: str) -> int:
    membership, organisation = await _membership(uow, membership_id)
    allowed = grantable(uow.actor, organisation)
    if Role(membership.role) not in allowed:
        raise NotAllowed(_("You may not change the role of this person."))
    new = _role(role, allowed)
    async with uow.transaction():
        await Membership.update({Membership.role: new}).where(Membership.id == membership.id)
        await audit.record(uow.actor, "membership.role_changed", "user", membership.user, organisation=organisation.id,
                           role=new.value, before=membership.role)
    return organisation.id


async def remove(uow: UnitOfWork, membership_id: int) -> int:
    """Takes someone out of the organisation; without other memberships their account closes
    (it is kept for the history of their bookings) and their sessions end."""
    membership, organisation = await _membership(uow, membership_id)
    if Role(membership.role) not in grantable(uow.actor, organisation):
        raise NotAllowed(_("You may not remove this person."))
    if membership.user == uow.actor.user.id:
        raise ValidationFailed(_("You cannot remove yourself; ask a colleague."))
    async with uow.transaction():
        await Membership.delete().where(Membership.id == membership.id)
        if not await Membership.exists().where(Membership.user == membership.user):
            await User.update({User.active: False}).where(User.id == membership.user)
            await revoke_sessions(uow, membership.user)
        await audit.record(uow.actor, "membership.removed", "user", membership.user, organisation=organisation.id,
                           role=membership.role)
    return organisation.id
