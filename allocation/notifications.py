"""The mails of a published round: every school hears, in one mail per person (the teachers who
registered and the school's admins), what each of its registrations got and what it did not get,
with the reason; every owner's staff hear which days of their resources were booked. Queued in
the publishing transaction; rendered after commit in each recipient's language, from what the
round holds then (`load_mail_context`)."""

from __future__ import annotations

from accounts.tables import Membership, Organisation, User
from allocation.events import RoundPublished
from allocation.tables import AllocationRound, Registration, RoundAllocation, RoundResource
from core.i18n import lazy_gettext as _l
from core.mail import Mail, queue
from core.uow import UnitOfWork

Role = Membership.Role


class _Subject:
    def __init__(self, message, **values):
        self.message, self.values = message, values

    def __str__(self) -> str:
        return str(self.message) % self.values


async def on_published(uow: UnitOfWork, event: RoundPublished) -> None:
    rnd = await AllocationRound.objects().where(AllocationRound.id == event.round_id).first()
    registrations = await Registration.select(Registration.school, Registration.teacher).where(
        (Registration.allocation_round == rnd.id) & (Registration.status == Registration.Status.active))
    schools = sorted({row["school"] for row in registrations})
    teachers = {(row["school"], row["teacher"]) for row in registrations}
    admins = await Membership.select(Membership.organisation, Membership.user).where(
        Membership.organisation.is_in(schools or [-1]) & (Membership.role == Role.school_admin))
    people = teachers | {(row["organisation"], row["user"]) for row in admins}
    owners = await RoundResource.select(RoundResource.resource.facility.owner.as_alias("owner")).where(
        RoundResource.allocation_round == rnd.id)
    owner_ids = sorted({row["owner"] for row in owners})
    staff = await Membership.select(Membership.organisation, Membership.user).where(
        Membership.organisation.is_in(owner_ids or [-1]) & (Membership.role == Role.owner_staff))
    user_ids = sorted({user for _org, user in people} | {row["user"] for row in staff})
    users = {row["id"]: row for row in await User.select(User.id, User.email, User.language, User.active).where(
        User.id.is_in(user_ids or [-1]))}
    mails = []
    for school, user in sorted(people):
        person = users.get(user)
        if person and person["active"]:
            mails.append(Mail(person["email"], _Subject(_l("Allocation published: %(round)s"), round=rnd.name),
                              "allocation/mail/school.txt", person["language"] or "nl",
                              {"round_id": rnd.id, "school_id": school, "user_id": user}, loader="allocation"))
    for row in sorted(staff, key=lambda r: (r["organisation"], r["user"])):
        person = users.get(row["user"])
        if person and person["active"]:
            mails.append(Mail(person["email"], _Subject(_l("Days booked by allocation round %(round)s"), round=rnd.name),
                              "allocation/mail/owner.txt", person["language"] or "nl",
                              {"round_id": rnd.id, "owner_id": row["organisation"], "user_id": row["user"]},
                              loader="allocation"))
    await queue(uow, mails)


async def load_mail_context(uow: UnitOfWork, data: dict) -> dict:
    """What the round's mails show, read when the outbox renders them."""
    from allocation.overview import round_view

    rnd = await AllocationRound.objects().where(AllocationRound.id == data["round_id"]).first()
    if rnd is None:
        raise LookupError(f"round {data['round_id']} is gone")
    person = await User.objects().where(User.id == data["user_id"]).first()
    view = await round_view(uow, rnd.id, system=True)
    base = uow.settings.base_url
    context = {"round": rnd, "person": person, "link": f"{base}/rounds/{rnd.id}", "bookings_link": f"{base}/bookings"}
    if "school_id" in data:
        school = await Organisation.objects().where(Organisation.id == data["school_id"]).first()
        context.update(school=school, lines=[line for line in view.registrations
                                             if line.school_id == data["school_id"] and line.status == "active"])
    else:
        owner = await Organisation.objects().where(Organisation.id == data["owner_id"]).first()
        resources = {row["id"] for row in await RoundResource.select(RoundResource.resource.as_alias("id")).where(
            (RoundResource.allocation_round == rnd.id) & (RoundResource.resource.facility.owner == data["owner_id"]))}
        days = await RoundAllocation.select(
            RoundAllocation.day, RoundAllocation.resource.name.as_alias("resource"),
            RoundAllocation.school.name.as_alias("school"), RoundAllocation.registration.pupil_group.as_alias("group"),
            RoundAllocation.booking, RoundAllocation.problem,
        ).where((RoundAllocation.allocation_round == rnd.id) & RoundAllocation.resource.is_in(sorted(resources) or [-1])
                ).order_by(RoundAllocation.day).order_by(RoundAllocation.resource.name)
        context.update(owner=owner, days=days)
    return context

