"""Needs for the demo, so the needs page, its demand-next-to-supply table, the match suggestions
and a phase-out dialogue can be tried at once: a dozen needs of schools in every region (the demo
teacher's school among them), two of them answered by the demo owner with its welding workshop,
and one phase-out dialogue in East Flanders with a response. Rows are written directly (the demo
is history, as in booking's demo); mails are not sent for them.

To use: `await needs_demo.load(uow)` at the end of demo.load (after allocation's)."""

from __future__ import annotations

import random
from datetime import timedelta

from accounts.tables import Membership, Organisation
from core.uow import UnitOfWork
from inventory.tables import Category, Resource, StudyProgramme
from needs.tables import Need, NeedOffer, PhaseOut, PhaseOutResponse

# (category, programme or "", pupils, days a year, reason, equipment)
NEEDS = [
    ("welding", "lassen-constructie", 14, 6, "outdated", "MIG/MAG-lasposten"),
    ("cnc", "mechanische-vormgeving", 12, 4, "too_expensive", "5-assige freesmachine"),
    ("plc-automation", "elektromechanische-technieken", 16, 5, "missing", ""),
    ("cobots-robotics", "mechatronica", 10, 3, "missing", "Cobot met grijper"),
    ("electrical-installations", "elektrische-installaties", 18, 8, "outdated", "Keuringsbanken AREI"),
    ("refrigeration-heating", "koelinstallaties", 8, 4, "too_expensive", "Warmtepompopstelling"),
    ("automotive", "autotechnieken", 12, 5, "outdated", "Diagnosetoestel hybride wagens"),
    ("process-technology", "chemische-procestechnieken", 9, 5, "missing", "Destillatiekolom"),
    ("wood-processing", "houttechnieken", 14, 4, "too_expensive", "CNC-bewerkingscentrum hout"),
    ("welding", "", 20, 3, "missing", ""),
    ("bakery-food", "bakkerijtechnieken", 12, 6, "outdated", ""),
    ("forklifts-logistics", "", 16, 2, "missing", "Heftruck"),
]


async def load(uow: UnitOfWork) -> None:
    rng = random.Random(14)
    now = uow.now()
    schools = await Organisation.select(Organisation.id, Organisation.slug, Organisation.region_code).where(
        Organisation.kind == Organisation.Kind.school).order_by(Organisation.id)
    if not schools:
        return
    categories = {row["slug"]: row["id"] for row in await Category.select(Category.id, Category.slug)}
    programmes = {row["slug"]: row["id"] for row in await StudyProgramme.select(StudyProgramme.id, StudyProgramme.slug)}
    members = await Membership.select(Membership.organisation, Membership.user, Membership.role).where(
        Membership.role.is_in(["teacher", "school_admin", "owner_staff", "rtc_staff"])).order_by(Membership.id)
    person = {(row["organisation"], row["role"]): row["user"] for row in reversed(members)}  # the first of each
    demo_school = next((s for s in schools if s["slug"] == "sint-lucas-gent"), schools[0])
    by_region: dict[str, list[dict]] = {}
    for school in schools:
        by_region.setdefault(school["region_code"], []).append(school)
    regions = sorted(code for code in by_region if code)
    needs = []
    for n, (category, programme, pupils, days, reason, equipment) in enumerate(NEEDS):
        if category not in categories:
            continue
        if n == 0:
            school = demo_school
        else:
            pool = by_region[regions[n % len(regions)]] if regions else schools
            school = pool[rng.randrange(len(pool))]
        moment = now - timedelta(days=3 + 5 * n)
        need = Need(school=school["id"], recorded_by=person.get((school["id"], "teacher")), category=categories[category],
                    equipment=equipment, study_programme=programmes.get(programme), pupils=pupils, days_per_year=days,
                    region_code=school["region_code"] or "", reason=reason, status=Need.Status.open, created_at=moment,
                    updated_at=moment)
        await need.save()
        needs.append(need)
    owner = await Organisation.select(Organisation.id).where(Organisation.slug == "metaalcampus-gent").first()
    if owner is not None:
        workshop = await Resource.select(Resource.id).where(
            (Resource.facility.owner == owner["id"]) & (Resource.category.slug == "welding")
            & (Resource.status == Resource.Status.active)).order_by(Resource.id).first()
        for need in [n for n in needs if n.category == categories.get("welding")][:2]:
            await NeedOffer(need=need.id, owner=owner["id"], resource=workshop["id"] if workshop else None,
                            message="We kunnen ons lasatelier op woensdagnamiddag openen voor scholen.",
                            made_by=person.get((owner["id"], "owner_staff")), created_at=need.created_at + timedelta(days=1)).save()
            await Need.update({Need.status: Need.Status.answered}).where(Need.id == need.id)
    programme = programmes.get("koetswerk")
    if programme is not None:
        phase_out = PhaseOut(school=demo_school["id"], study_programme=programme, last_school_year=now.year + 1,
                             region_code=demo_school["region_code"] or "", status=PhaseOut.Status.open,
                             note="Te weinig inschrijvingen; de spuitcabine moet vervangen worden.",
                             signalled_by=person.get((demo_school["id"], "school_admin")),
                             created_at=now - timedelta(days=12), updated_at=now - timedelta(days=12))
        await phase_out.save()
        rtc = await Organisation.select(Organisation.id).where(Organisation.slug == "rtc-oost-vlaanderen").first()
        if rtc is not None:
            await PhaseOutResponse(phase_out=phase_out.id, author=person.get((rtc["id"], "rtc_staff")),
                                   organisation=rtc["id"], created_at=now - timedelta(days=10),
                                   message="We zoeken samen met de sector een koetswerkatelier in de buurt.").save()
