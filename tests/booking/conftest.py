from datetime import date, datetime, time, timedelta

import pytest

from accounts import services as accounts
from core.i18n import BRUSSELS


def next_weekday(weekday: int, weeks_ahead: int = 1) -> date:
    today = datetime.now(BRUSSELS).date()
    days = (weekday - today.weekday()) % 7 + 7 * weeks_ahead
    return today + timedelta(days=days)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), BRUSSELS)


@pytest.fixture
def tuesday() -> date:
    return next_weekday(1)


@pytest.fixture
async def world(owner_org, create_org, create_facility, create_resource, create_user, uow_for):
    """A welding workshop in Gent (approval needed, 15 minutes buffer, open ma-vr 08:00-16:30),
    its owner's staff, and two schools with a teacher each. People come as units of work acting
    for them (what the services take)."""
    owner = await owner_org()
    facility = await create_facility(owner, name="Metaalcampus")
    resource = await create_resource(facility, name="Lasatelier", category="welding", capacity="12",
                                     price_model="per_half_day", price="180", alternative_cost="95")
    staff = await create_user("owner_staff", org=owner, email="staff@metaal.be")
    school = await create_org(slug="vti-gent", name="VTI Gent")
    other_school = await create_org(slug="go-aalst", name="GO! Aalst", postal_code="9300")
    teacher = await create_user("teacher", org=school, email="sofie@vti.be", first_name="Sofie", last_name="Claes")
    colleague = await create_user("teacher", org=school, email="jan@vti.be", first_name="Jan", last_name="Peeters")
    stranger = await create_user("teacher", org=other_school, email="an@go.be")
    return {
        "owner": owner, "facility": facility, "resource": resource,
        "staff": uow_for(await accounts.load_actor(staff)), "teacher": uow_for(await accounts.load_actor(teacher)),
        "colleague": uow_for(await accounts.load_actor(colleague)),
        "stranger": uow_for(await accounts.load_actor(stranger)),
        "school": school, "other_school": other_school,
    }
