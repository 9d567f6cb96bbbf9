"""Two allocation rounds of RTC Oost-Vlaanderen for the demo, so every step can be tried:
one whose registration is open now (the demo teacher's school has registered; others too), and
one whose registration closed yesterday with more days asked than there are, ready for the RTC
to allocate, adjust and publish. Rows are written directly (the demo is history, as in
booking's demo); the days themselves come from the real allocation when the RTC runs it."""

from __future__ import annotations

import random
from datetime import date, timedelta

from accounts.tables import Membership, Organisation
from allocation.tables import AllocationRound, Registration, RoundResource
from core.i18n import BRUSSELS
from core.uow import UnitOfWork
from inventory.tables import Resource, ResourceProgramme

GROUPS = ("5 Elektromechanica", "6 Elektromechanica", "6 Industriële wetenschappen", "7 Lassen-constructie",
          "6 Mechanische vormgeving", "5 Lassen")


def _next_monday(day: date, weeks: int) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7 + 7 * weeks)


async def _region_resources(category: str, limit: int) -> list[dict]:
    return await Resource.select(Resource.id, Resource.capacity).where(
        (Resource.facility.region_code == "VOV") & (Resource.category.slug == category)
        & (Resource.status == Resource.Status.active)).order_by(Resource.id).limit(limit)


async def load(uow: UnitOfWork) -> None:
    rtc = await Organisation.select(Organisation.id).where(Organisation.slug == "rtc-oost-vlaanderen").first()
    if rtc is None:
        return
    today = uow.now().astimezone(BRUSSELS).date()
    schools = await Organisation.select(Organisation.id, Organisation.slug).where(
        (Organisation.kind == Organisation.Kind.school) & (Organisation.region_code == "VOV")).order_by(Organisation.id)
    teachers = {row["organisation"]: row["user"] for row in await Membership.select(
        Membership.organisation, Membership.user).where(Membership.role == "teacher").order_by(Membership.id)}
    schools = [s for s in schools if s["id"] in teachers]
    if not schools:
        return
    dice = random.Random(13)
    welding = await _region_resources("welding", 3)
    cnc = await _region_resources("cnc", 2)
    rounds = []
    if welding:
        start = _next_monday(today, 10)
        rounds.append((AllocationRound(
            name="10-dagenregeling lassen, voorjaar", organiser=rtc["id"], region_code="VOV",
            note="Inschrijven via het RTC; hoogstens 10 dagen per klasgroep, 5 per werkplaats.",
            registration_opens=today - timedelta(days=7), registration_closes=today + timedelta(days=21),
            period_start=start, period_end=start + timedelta(days=25), announce_on=today + timedelta(days=28),
            eligible_years=[5, 6, 7], max_days_per_group=10, max_days_per_resource=5, status="open",
            created_at=uow.now(), updated_at=uow.now()), welding, 3))
    if cnc:
        start = _next_monday(today, 6)
        rounds.append((AllocationRound(
            name="CNC-dagen, eerste trimester", organiser=rtc["id"], region_code="VOV",
            note="De inschrijving is gesloten: het RTC verdeelt de dagen.",
            registration_opens=today - timedelta(days=30), registration_closes=today - timedelta(days=1),
            period_start=start, period_end=start + timedelta(days=11), announce_on=today + timedelta(days=3),
            max_days_per_school=4, max_days_per_group=3, status="open", created_at=uow.now(),
            updated_at=uow.now()), cnc, 6))
    for rnd, resources, count in rounds:
        await rnd.save()
        await RoundResource.insert(*[RoundResource(allocation_round=rnd.id, resource=r["id"]) for r in resources])
        programmes = [row["programme"] for row in await ResourceProgramme.select(ResourceProgramme.programme).where(
            ResourceProgramme.resource == resources[0]["id"]).order_by(ResourceProgramme.id)]
        category = (await Resource.select(Resource.category).where(Resource.id == resources[0]["id"]).first())["category"]
        chosen = [s for s in schools if s["slug"] == "sint-lucas-gent"][:1] if rnd.registration_closes >= today else []
        chosen += dice.sample([s for s in schools if s not in chosen], min(count, len(schools) - len(chosen)))
        rows = []
        for index, school in enumerate(chosen):
            by_category = index % 3 == 2
            rows.append(Registration(
                allocation_round=rnd.id, school=school["id"], teacher=teachers[school["id"]],
                pupil_group=GROUPS[index % len(GROUPS)],
                resource=None if by_category else resources[index % len(resources)]["id"],
                category=category if by_category else None, days=dice.randint(2, 5),
                group_size=min(dice.randint(8, 14), min(r["capacity"] for r in resources)),
                study_programme=programmes[0] if programmes else None, school_year=6,
                weekdays=[] if index % 2 else [1, 2, 3], preference=1, status="active",
                created_at=uow.now() - timedelta(days=dice.randint(1, 6)), updated_at=uow.now()))
        if rows:
            await Registration.insert(*rows)
