"""The phase-out dialogue: a school admin signals that a study programme will be phased out at
their school; the RTC staff of the school's region, the staff of owners whose infrastructure in
that region serves the programme (resources that list it), and the provider staff of the
school's network are mailed; a dialogue page collects their responses and the agreed follow-up.

Who sees a dialogue: the school's teachers and admins, the RTC staff of its region, the provider
staff of its network, the staff of the owners it concerns (as above), platform admins. All of
them may respond. The follow-up is recorded by the region's RTC staff, the school's admins or a
platform admin."""

from __future__ import annotations

from dataclasses import dataclass, field

from accounts.services import Actor
from accounts.tables import Membership, Organisation
from core import audit
from core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from core.i18n import gettext as _
from core.i18n import lazy_gettext as _l
from core.uow import Event, UnitOfWork
from inventory.tables import Resource, ResourceProgramme, StudyProgramme
from needs.tables import PhaseOut, PhaseOutResponse

Role = Membership.Role
Status = PhaseOut.Status
MAX_TEXT = 4000
FIRST_YEAR, LAST_YEAR = 2020, 2100

STATUS_LABELS = {
    Status.open: _l("in dialogue"),
    Status.agreed: _l("follow-up agreed"),
    Status.closed: _l("closed"),
}


def phase_out_status_label(value: str) -> str:
    return str(STATUS_LABELS.get(value, value))


@dataclass(frozen=True)
class PhaseOutSignalled(Event):
    phase_out_id: int


def _not_found() -> NotFound:
    return NotFound(_("This phase-out dialogue does not exist, or you may not see it."))


def may_signal(actor: Actor | None) -> bool:
    return actor is not None and actor.has_role(Role.school_admin)


async def concerned_owners(school: Organisation, programme_id: int) -> set[int]:
    """Owners with an active resource in the school's region that lists the programme."""
    rows = await ResourceProgramme.select(ResourceProgramme.resource.facility.owner.as_alias("owner")).where(
        (ResourceProgramme.programme == programme_id) & (ResourceProgramme.resource.status == Resource.Status.active)
        & (ResourceProgramme.resource.facility.region_code == school.region_code)
        & (ResourceProgramme.resource.facility.active == True)  # noqa: E712
    )
    return {row["owner"] for row in rows}


@dataclass
class PhaseOutView:
    phase_out: PhaseOut
    school: Organisation
    programme: StudyProgramme
    owner_ids: set[int]
    responses: list[dict] = field(default_factory=list)


def can_see(actor: Actor | None, v: PhaseOutView) -> bool:
    if actor is None:
        return False
    return (actor.is_platform_admin or v.school.id in actor.organisation_ids(Role.teacher, Role.school_admin)
            or (bool(v.phase_out.region_code) and v.phase_out.region_code in actor.regions(Role.rtc_staff))
            or (bool(v.school.network) and v.school.network in actor.networks(Role.provider_staff))
            or bool(v.owner_ids & actor.organisation_ids(Role.owner_staff)))


def can_agree(actor: Actor | None, v: PhaseOutView) -> bool:
    if actor is None or v.phase_out.status == Status.closed:
        return False
    return (actor.is_platform_admin or v.school.id in actor.organisation_ids(Role.school_admin)
            or (bool(v.phase_out.region_code) and v.phase_out.region_code in actor.regions(Role.rtc_staff)))


def _text(value: str, name: str, errors: dict[str, str], required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        errors[name] = _("Write something here.")
    elif len(text) > MAX_TEXT:
        errors[name] = _("Write at most %(n)s characters.", n=MAX_TEXT)
    return text


def _invalid(errors: dict[str, str]) -> ValidationFailed:
    first = next(iter(errors.values()))
    return ValidationFailed(first if len(errors) == 1 else _("Some fields need attention."), errors, rule="phase_out")


async def signal(uow: UnitOfWork, programme: str, last_school_year: int | str | None = None, note: str = "",
                 school_id: int | None = None) -> PhaseOut:
    """A school admin signals that `programme` (a slug) will be phased out at their school."""
    actor = uow.actor
    if not may_signal(actor):
        raise NotAllowed(_("Only school administrators signal that a study programme is phased out."))
    schools = sorted(actor.organisation_ids(Role.school_admin))
    if school_id is None:
        school_id = schools[0]
    elif school_id not in schools:
        raise NotAllowed(_("You can only signal this for your own school."))
    errors: dict[str, str] = {}
    row = await StudyProgramme.select(StudyProgramme.id).where(StudyProgramme.slug == (programme or "").strip()).first()
    if row is None:
        errors["study_programme"] = _("Choose the study programme.")
    year = None
    if str(last_school_year or "").strip():
        try:
            year = int(str(last_school_year).strip())
        except ValueError:
            year = None
        if year is None or not FIRST_YEAR <= year <= LAST_YEAR:
            errors["last_school_year"] = _("Give the year the last school year starts in, for example 2027.")
    text = _text(note, "note", errors)
    if errors:
        raise _invalid(errors)
    school = await Organisation.objects().where(Organisation.id == school_id).first()
    try:
        return await _open_dialogue(uow, school, row["id"], programme, year, text)
    except Exception as exc:  # two signals at once: the partial unique index lets one through
        if _is_unique_violation(exc):
            raise _already_open() from None
        raise


def _already_open() -> Conflict:
    return Conflict(_("A dialogue about this study programme at your school is already open."))


def _is_unique_violation(exc: BaseException) -> bool:
    return getattr(exc, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(exc)


async def _open_dialogue(uow: UnitOfWork, school: Organisation, programme_id: int, programme: str, year: int | None,
                         text: str) -> PhaseOut:
    actor, school_id = uow.actor, school.id
    async with uow.transaction():
        open_one = await PhaseOut.exists().where((PhaseOut.school == school_id) & (PhaseOut.study_programme == programme_id)
                                                 & (PhaseOut.status != Status.closed))
        if open_one:
            raise _already_open()
        moment = uow.now()
        phase_out = PhaseOut(school=school_id, study_programme=programme_id, last_school_year=year,
                             region_code=school.region_code or "", note=text, signalled_by=actor.user.id,
                             status=Status.open, created_at=moment, updated_at=moment)
        await phase_out.save()
        await audit.record(actor, "phase_out.signalled", "phase_out", phase_out.id, school=school_id,
                           programme=programme, last_school_year=year)
        uow.record(PhaseOutSignalled(phase_out.id))
    return phase_out


async def view(uow: UnitOfWork, phase_out_id: int) -> PhaseOutView:
    phase_out = await PhaseOut.objects().where(PhaseOut.id == phase_out_id).first()
    if phase_out is None:
        raise _not_found()
    school = await Organisation.objects().where(Organisation.id == phase_out.school).first()
    programme = await StudyProgramme.objects().where(StudyProgramme.id == phase_out.study_programme).first()
    current = PhaseOutView(phase_out, school, programme, await concerned_owners(school, programme.id))
    if not can_see(uow.actor, current):
        raise _not_found()
    current.responses = await PhaseOutResponse.select(
        PhaseOutResponse.all_columns(), PhaseOutResponse.author.first_name.as_alias("author_first_name"),
        PhaseOutResponse.author.last_name.as_alias("author_last_name"),
        PhaseOutResponse.organisation.name.as_alias("organisation_name"),
    ).where(PhaseOutResponse.phase_out == phase_out_id).order_by(PhaseOutResponse.created_at).order_by(PhaseOutResponse.id)
    return current


async def list_visible(uow: UnitOfWork, limit: int = 200) -> list[dict]:
    """The dialogues the acting user may see, newest first."""
    actor = uow.actor
    if actor is None:
        return []
    rows = await PhaseOut.select(
        PhaseOut.all_columns(), PhaseOut.school.name.as_alias("school_name"),
        PhaseOut.school.network.as_alias("school_network"), PhaseOut.study_programme.name.as_alias("programme_name"),
    ).order_by(PhaseOut.created_at, ascending=False).order_by(PhaseOut.id, ascending=False).limit(5000)
    if actor.is_platform_admin:
        return rows[:limit]
    schools = actor.organisation_ids(Role.teacher, Role.school_admin)
    regions, networks = actor.regions(Role.rtc_staff), actor.networks(Role.provider_staff)
    owners = actor.organisation_ids(Role.owner_staff)
    served: set[tuple[str, int]] = set()
    if owners:  # (region, programme) pairs the actor's organisations serve
        for row in await ResourceProgramme.select(
                ResourceProgramme.programme, ResourceProgramme.resource.facility.region_code.as_alias("region")).where(
                ResourceProgramme.resource.facility.owner.is_in(sorted(owners))
                & (ResourceProgramme.resource.status == Resource.Status.active)
                & (ResourceProgramme.resource.facility.active == True)):  # noqa: E712
            served.add((row["region"], row["programme"]))
    visible = [row for row in rows if row["school"] in schools or (row["region_code"] and row["region_code"] in regions)
               or (row["school_network"] and row["school_network"] in networks)
               or (row["region_code"], row["study_programme"]) in served]
    return visible[:limit]


async def respond(uow: UnitOfWork, phase_out_id: int, message: str) -> PhaseOutResponse:
    errors: dict[str, str] = {}
    text = _text(message, "message", errors, required=True)
    async with uow.transaction():
        current = await view(uow, phase_out_id)
        if current.phase_out.status == Status.closed:
            raise Conflict(_("This dialogue is closed."))
        if errors:
            raise _invalid(errors)
        actor = uow.actor
        organisation = _speaking_for(actor, current)
        response = PhaseOutResponse(phase_out=phase_out_id, author=actor.user.id, organisation=organisation,
                                    message=text, created_at=uow.now())
        await response.save()
        await audit.record(actor, "phase_out.responded", "phase_out", phase_out_id, response=response.id)
    return response


def _speaking_for(actor: Actor, v: PhaseOutView) -> int | None:
    """The organisation a response speaks for: the school, the owner concerned, the RTC or the
    provider, in that order."""
    for ids in (actor.organisation_ids(Role.teacher, Role.school_admin) & {v.school.id},
                actor.organisation_ids(Role.owner_staff) & v.owner_ids):
        if ids:
            return sorted(ids)[0]
    for grant in actor.grants:
        if grant.role == Role.rtc_staff and grant.organisation_region == v.phase_out.region_code:
            return grant.organisation_id
        if grant.role == Role.provider_staff and grant.organisation_network and grant.organisation_network == v.school.network:
            return grant.organisation_id
    return None


async def agree(uow: UnitOfWork, phase_out_id: int, follow_up: str, close: bool = False) -> PhaseOut:
    """Records the agreed follow-up (status agreed), or closes the dialogue with it."""
    errors: dict[str, str] = {}
    text = _text(follow_up, "follow_up", errors, required=not close)
    async with uow.transaction():
        current = await view(uow, phase_out_id)
        if current.phase_out.status == Status.closed:
            raise Conflict(_("This dialogue is closed."))
        if not can_agree(uow.actor, current):
            raise NotAllowed(_("The region's RTC or the school's administrators record the follow-up."))
        if errors:
            raise _invalid(errors)
        status = Status.closed if close else Status.agreed
        changes = {PhaseOut.status: status, PhaseOut.updated_at: uow.now(), PhaseOut.follow_up_by: uow.actor.user.id}
        if text:
            changes[PhaseOut.follow_up] = text
        await PhaseOut.update(changes).where(PhaseOut.id == phase_out_id)
        await audit.record(uow.actor, "phase_out.closed" if close else "phase_out.agreed", "phase_out", phase_out_id,
                           follow_up=text)
    return await PhaseOut.objects().where(PhaseOut.id == phase_out_id).first()


async def recipients(phase_out: PhaseOut) -> list[dict]:
    """Who is told of a signal: RTC staff of the region, staff of the owners concerned, provider
    staff of the school's network (active users, each once)."""
    school = await Organisation.objects().where(Organisation.id == phase_out.school).first()
    owners = sorted(await concerned_owners(school, phase_out.study_programme))
    condition = ((Membership.role == Role.rtc_staff) & (Membership.organisation.kind == Organisation.Kind.rtc)
                 & (Membership.organisation.region_code == (phase_out.region_code or "-")))
    if school.network:
        condition = condition | ((Membership.role == Role.provider_staff)
                                 & (Membership.organisation.kind == Organisation.Kind.provider)
                                 & (Membership.organisation.network == school.network))
    if owners:
        condition = condition | ((Membership.role == Role.owner_staff) & Membership.organisation.is_in(owners))
    rows = await Membership.select(Membership.user.id.as_alias("id"), Membership.user.email.as_alias("email"),
                                   Membership.user.language.as_alias("language"), Membership.role).where(
        condition & (Membership.user.active == True)).order_by(Membership.user.id)  # noqa: E712
    seen, people = set(), []
    for row in rows:
        if row["id"] not in seen:
            seen.add(row["id"])
            people.append(row)
    return people
