"""The school bill ("schoolfactuur"): what a school charges per pupil for a school year, per
study programme, as its admin records it. The regional report sets the savings of shared
infrastructure against it (only where schools recorded it, and saying how many did)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from accounts.services import Actor
from accounts.tables import Membership, Organisation, SchoolBill
from core import audit
from core.errors import NotAllowed, NotFound, ValidationFailed
from core.i18n import gettext as _
from core.i18n import local
from core.money import parse_euro
from core.uow import UnitOfWork

Role = Membership.Role
MOST_PER_PUPIL = 1_000_000  # EUR 10,000 a year: more is a typing error
FIRST_YEAR = 2015


def school_year_of(day: date) -> int:
    """The school year a day falls in, by its first calendar year (1 September starts it)."""
    return day.year if day.month >= 9 else day.year - 1


def school_year_label(year: int) -> str:
    return f"{year}-{year + 1}"


def finality_label(code: str) -> str:
    return {"A": _("labour market (A)"), "D/A": _("double (D/A)"), "7": _("7th year")}.get(code, code)


@dataclass(frozen=True)
class Programme:
    slug: str
    name: str
    finality: str


@dataclass
class Bill:
    school: Organisation
    school_year: int
    programmes: list[Programme]
    cents: dict[str, int]  # programme slug -> cents per pupil (only those recorded)
    years: list[int]  # the school years one may choose


def programmes(uow: UnitOfWork) -> list[Programme]:
    """The study programmes (inventory's, through the `accounts.study_programmes` hook)."""
    found: list[Programme] = []
    for hook in uow.app.hooks.get("accounts.study_programmes"):
        found += [Programme(*row) for row in hook()]
    return found


def can_edit(actor: Actor, school_id: int) -> bool:
    return actor.is_platform_admin or school_id in actor.organisation_ids(Role.school_admin)


async def _school(uow: UnitOfWork, school_id: int | None) -> Organisation:
    actor = uow.actor
    if school_id is None:
        mine = sorted(actor.organisation_ids(Role.school_admin))
        if not mine:
            raise NotAllowed(_("Only a school's admin records its school bill."))
        school_id = mine[0]
    school = await Organisation.objects().where(
        (Organisation.id == school_id) & (Organisation.kind == Organisation.Kind.school)).first()
    if school is None or not can_edit(actor, school.id):
        raise NotFound(_("This school does not exist, or you may not see it."))
    return school


def this_school_year(uow: UnitOfWork) -> int:
    return school_year_of(local(uow.now()).date())  # Brussels' calendar


def offered_years(uow: UnitOfWork) -> list[int]:
    """This school year, the next one and the four before it."""
    current = this_school_year(uow)
    return list(range(current + 1, max(FIRST_YEAR, current - 4) - 1, -1))


async def bill(uow: UnitOfWork, school_id: int | None, school_year: int | None = None) -> Bill:
    """The school's bill for `school_year` (one of the offered years; otherwise this one)."""
    school = await _school(uow, school_id)
    years = offered_years(uow)
    year = school_year if school_year in years else this_school_year(uow)
    rows = await SchoolBill.select(SchoolBill.programme, SchoolBill.cents_per_pupil).where(
        (SchoolBill.school == school.id) & (SchoolBill.school_year == year))
    return Bill(school, year, programmes(uow), {r["programme"]: r["cents_per_pupil"] for r in rows}, years)


async def save(uow: UnitOfWork, school_id: int | None, school_year: int, values: dict[str, str]) -> Bill:
    """Records the bill per programme from a form (`bill_<slug>` fields in euro): a filled field
    sets it, an emptied one removes it. All or nothing; a field message per wrong amount."""
    found = await bill(uow, school_id, school_year)
    if school_year not in found.years:
        message = _("Choose one of the school years offered.")
        raise ValidationFailed(message, {"school_year": message})
    known = {p.slug for p in found.programmes}
    errors: dict[str, str] = {}
    wanted: dict[str, int | None] = {}
    for slug in known:
        raw = (values.get(f"bill_{slug}") or "").strip()
        if raw == "":
            wanted[slug] = None
            continue
        cents = parse_euro(raw, most=MOST_PER_PUPIL)
        if cents is None or cents == 0:
            errors[f"bill_{slug}"] = _("Enter what the school charges per pupil for the year in euro, like 185,00 "
                                       "(at most 10000 euro).")
        else:
            wanted[slug] = cents
    if errors:
        raise ValidationFailed(_("Check the marked amounts; nothing was saved."), errors)
    moment = uow.now()
    async with uow.transaction():
        if uow.is_postgres:  # two saves at once (a double click) wait for each other, not for a unique violation
            await Organisation.raw("SELECT id FROM organisation WHERE id = {} FOR UPDATE", found.school.id)
        await SchoolBill.delete().where((SchoolBill.school == found.school.id) & (SchoolBill.school_year == school_year)
                                        & SchoolBill.programme.is_in(sorted(known)))
        rows = [SchoolBill(school=found.school.id, programme=slug, school_year=school_year, cents_per_pupil=cents,
                           updated_by=uow.actor.user.id, updated_at=moment)
                for slug, cents in sorted(wanted.items()) if cents is not None]
        if rows:
            await SchoolBill.insert(*rows)
        await audit.record(uow.actor, "school_bill.saved", "organisation", found.school.id,
                           school_year=school_year, programmes=len(rows))
    return await bill(uow, found.school.id, school_year)
