"""Inviting an owner that is not on Werkbank yet: RTC staff (or a platform admin) send a company,
sector fund, training centre or government body a single-use link to a sign-up form filled in
with what they know (name, kind, postal code, contact). Accepting creates the organisation, in
the region of its postal code, and its first owner staff account, in one transaction; from there
the new owner lists facilities and resources like any other."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from accounts.services import (
    EMAIL_RE,
    Actor,
    hash_password,
    hash_token,
    normalise_email,
    validate_password,
)
from accounts.tables import Membership, Organisation, OwnerInvitation, User
from core import audit
from core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from core.i18n import gettext as _
from core.i18n import lazy_gettext as _l
from core.inputs import check_text
from core.mail import queue_mail
from core.uow import UnitOfWork
from regions.geocoding import postal_code_point
from regions.geography import UnknownPostalCode, locate

Role = Membership.Role
Kind = Organisation.Kind
OWNER_KINDS = (Kind.company, Kind.sector_fund, Kind.training_centre, Kind.government)
INVITATION_DAYS = 30
MAX_MESSAGE = 2000


def may_invite_owners(actor: Actor | None) -> bool:
    return actor is not None and (actor.is_platform_admin or actor.has_role(Role.rtc_staff))


def _text(errors: dict, data: dict, name: str, limit: int, required: bool = False) -> str:
    value = data.get(name)
    value = value.strip() if isinstance(value, str) else ""
    try:
        check_text(value, name)
    except ValidationFailed as exc:
        errors[name] = str(exc)
        return ""
    if required and not value:
        errors[name] = _("Fill this in.")
    elif len(value) > limit:
        errors[name] = _("Use at most %(n)s characters.", n=limit)
    return value


def _kind(errors: dict, data: dict) -> str:
    value = data.get("kind")
    if value not in {k.value for k in OWNER_KINDS}:
        errors["kind"] = _("Choose a company, sector fund, training centre or government body.")
        return ""
    return value


def _postal_code(errors: dict, data: dict, required: bool) -> str:
    value = _text(errors, data, "postal_code", 4, required)
    if value and "postal_code" not in errors:
        try:
            locate(value)
        except UnknownPostalCode:
            errors["postal_code"] = _("Enter a Belgian postal code of four digits.")
    return value


async def invite_owner(uow: UnitOfWork, data: dict) -> OwnerInvitation:
    """Mails a single-use sign-up link to `data["email"]` for the organisation described."""
    actor = uow.actor
    if not may_invite_owners(actor):
        raise NotAllowed(_("RTC staff invite companies and sectors to open their infrastructure."))
    errors: dict[str, str] = {}
    email = normalise_email(data.get("email") if isinstance(data.get("email"), str) else "")
    if not EMAIL_RE.match(email) or len(email) > 320:
        errors["email"] = _("Enter a valid e-mail address.")
    elif await User.exists().where(User.email == email):
        errors["email"] = _("This address already has a Werkbank account.")
    name = _text(errors, data, "organisation_name", 200, required=True)
    kind = _kind(errors, data)
    postal_code = _postal_code(errors, data, required=False)
    first_name = _text(errors, data, "first_name", 100)
    last_name = _text(errors, data, "last_name", 100)
    message = _text(errors, data, "message", MAX_MESSAGE)
    if errors:
        raise ValidationFailed(_("Check the fields marked in red."), errors, rule="input")
    rtcs = sorted(actor.organisation_ids(Role.rtc_staff))
    token = secrets.token_urlsafe(32)
    async with uow.transaction():
        await OwnerInvitation.update({OwnerInvitation.withdrawn_at: uow.now()}).where(
            (OwnerInvitation.email == email) & OwnerInvitation.accepted_at.is_null()
            & OwnerInvitation.withdrawn_at.is_null())
        invitation = OwnerInvitation(
            email=email, organisation_name=name, kind=kind, postal_code=postal_code, first_name=first_name,
            last_name=last_name, message=message, invited_by=actor.user.id, invited_for=rtcs[0] if rtcs else None,
            token_hash=hash_token(token), created_at=uow.now(), expires_at=uow.now() + timedelta(days=INVITATION_DAYS))
        await invitation.save()
        inviter = actor.user
        rtc = await Organisation.select(Organisation.name).where(Organisation.id == invitation.invited_for).first()
        await queue_mail(uow, email, _l("Open your infrastructure to schools on Werkbank"),
                         "accounts/mail/owner_invitation.txt", language=inviter.language or "nl",
                         organisation=name, inviter=inviter.display_name, rtc=rtc["name"] if rtc else "Werkbank",
                         message=message, link=f"{uow.settings.base_url}/join/{token}", days=INVITATION_DAYS)
        await audit.record(actor, "owner_invitation.sent", "owner_invitation", invitation.id, email=email,
                           organisation=name, kind=kind)
    return invitation


async def invitations_sent(uow: UnitOfWork) -> list[OwnerInvitation]:
    """The invitations of the actor's RTC(s) (a platform admin: all), newest first."""
    actor = uow.actor
    if not may_invite_owners(actor):
        raise NotAllowed(_("RTC staff invite companies and sectors to open their infrastructure."))
    query = OwnerInvitation.objects()
    if not actor.is_platform_admin:
        query = query.where(OwnerInvitation.invited_for.is_in(sorted(actor.organisation_ids(Role.rtc_staff)) or [-1]))
    return await query.order_by(OwnerInvitation.created_at, ascending=False).order_by(
        OwnerInvitation.id, ascending=False).limit(200)


async def open_owner_invitation(uow: UnitOfWork, token: str) -> OwnerInvitation | None:
    if not isinstance(token, str) or not token or len(token) > 100:
        return None
    return await OwnerInvitation.objects().where(
        (OwnerInvitation.token_hash == hash_token(token)) & OwnerInvitation.accepted_at.is_null()
        & OwnerInvitation.withdrawn_at.is_null() & (OwnerInvitation.expires_at > uow.now())).first()


async def _free_slug(name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "eigenaar"
    slug, n = base, 1
    while await Organisation.exists().where(Organisation.slug == slug):
        n += 1
        slug = f"{base}-{n}"
    return slug


async def accept_owner_invitation(uow: UnitOfWork, token: str, data: dict) -> User:
    """The invited contact confirms (or corrects) the organisation and sets a password: the
    organisation, the account and its owner staff membership exist from now on."""
    invitation = await open_owner_invitation(uow, token)
    if invitation is None:
        raise NotFound(_("This invitation is not valid any more. Ask for a new one."))
    errors: dict[str, str] = {}
    name = _text(errors, data, "organisation_name", 200, required=True)
    kind = _kind(errors, data)
    street = _text(errors, data, "street", 200)
    postal_code = _postal_code(errors, data, required=True)
    website = _text(errors, data, "website", 200)
    first_name = _text(errors, data, "first_name", 100, required=True)
    last_name = _text(errors, data, "last_name", 100, required=True)
    try:
        validate_password(data.get("new_password", "") or "", data.get("confirm_password", "") or "", "new_password")
    except ValidationFailed as exc:
        errors.update(exc.fields or {"new_password": str(exc)})
    if errors:
        raise ValidationFailed(_("Check the fields marked in red."), errors, rule="input")
    hashed = await hash_password(data["new_password"])
    area = locate(postal_code)
    point = postal_code_point(postal_code)
    async with uow.transaction():
        used = await OwnerInvitation.update({OwnerInvitation.accepted_at: uow.now()}).where(
            (OwnerInvitation.id == invitation.id) & OwnerInvitation.accepted_at.is_null()).returning(OwnerInvitation.id)
        if not used or await User.exists().where(User.email == invitation.email):
            raise Conflict(_("This invitation is not valid any more. Ask for a new one."))
        organisation = Organisation(
            name=name, slug=await _free_slug(name), kind=kind, street=street, postal_code=postal_code,
            municipality=area.municipality, region_code=area.region.code if area.region else "",
            latitude=point[0] if point else None, longitude=point[1] if point else None, website=website,
            email=invitation.email, created_at=uow.now())
        await organisation.save()
        user = User(username=invitation.email, email=invitation.email, password=hashed, first_name=first_name,
                    last_name=last_name, language="nl", active=True, admin=False, superuser=False)
        await user.save()
        await Membership.insert(Membership(user=user.id, organisation=organisation.id, role=Role.owner_staff))
        await OwnerInvitation.update({OwnerInvitation.organisation: organisation.id}).where(
            OwnerInvitation.id == invitation.id)
        await audit.record(user, "owner_invitation.accepted", "owner_invitation", invitation.id,
                           organisation=organisation.slug, kind=kind)
    return user
