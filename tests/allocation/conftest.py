"""A region's allocation round as people meet it: RTC Oost-Vlaanderen shares out a forklift
workshop and a welding workshop of a training centre in Gent (open Monday to Friday 08:00-16:30)
over two school weeks in September 2027; three schools of the province and one from Antwerp
take part. The app runs on a frozen clock that the tests move past the window."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from accounts import services as accounts
from booking.tables import Booking
from core.i18n import BRUSSELS
from core.uow import FrozenClock
from tests.conftest import PASSWORD, csrf, login

NOW = datetime(2027, 5, 20, 10, 0, tzinfo=BRUSSELS)  # a Thursday in the registration window
PERIOD = (date(2027, 9, 6), date(2027, 9, 17))  # Monday 6 to Friday 17 September: 10 school days
BOOKED_DAY = date(2027, 9, 8)  # the forklift workshop is already booked that Wednesday morning
ROUND_FORM = {
    "name": "10-dagenregeling najaar", "registration_opens": "2027-05-15", "registration_closes": "2027-06-15",
    "announce_on": "2027-06-28", "period_start": "2027-09-06", "period_end": "2027-09-17",
    "max_days_per_group": "10", "max_days_per_resource": "", "note": "Inschrijven via je RTC.",
}


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
async def app(settings, db, clock):
    from app import create_app

    return create_app(settings, engine=db.engine, clock=clock)


@pytest.fixture
async def region(owner_org, create_org, create_facility, create_resource, create_user, uow_for):
    owner = await owner_org(slug="logistiek", name="Opleidingscentrum Logistiek", kind="training_centre")
    facility = await create_facility(owner, name="Campus Gent", postal_code="9000")
    forklift = await create_resource(facility, name="Heftruckatelier", category="forklifts-logistics", capacity="12",
                                     price_model="free", price="0")
    welding = await create_resource(facility, name="Lasatelier", category="welding", capacity="10",
                                    price_model="free", price="0")
    rtc = await create_org(kind="rtc", slug="rtc-ovl", name="RTC Oost-Vlaanderen", network="", region_code="VOV")
    schools = {
        "a": await create_org(slug="vti-gent", name="VTI Gent", region_code="VOV"),
        "b": await create_org(slug="go-aalst", name="GO! Aalst", postal_code="9300", region_code="VOV"),
        "c": await create_org(slug="sint-lucas", name="Sint-Lucas Eeklo", postal_code="9900", region_code="VOV"),
        "far": await create_org(slug="kta-antwerpen", name="KTA Antwerpen", postal_code="2000", region_code="VAN"),
    }
    users = {
        "rtc": await create_user("rtc_staff", org=rtc, email="coordinator@rtc-ovl.be"),
        "staff": await create_user("owner_staff", org=owner, email="planning@logistiek.be"),
        "a": await create_user("teacher", org=schools["a"], email="sofie@vti.be", first_name="Sofie"),
        "a_admin": await create_user("school_admin", org=schools["a"], email="directie@vti.be"),
        "b": await create_user("teacher", org=schools["b"], email="jan@go-aalst.be", first_name="Jan"),
        "c": await create_user("teacher", org=schools["c"], email="an@sint-lucas.be", first_name="An"),
        "far": await create_user("teacher", org=schools["far"], email="piet@kta.be"),
    }
    teacher_a = users["a"]
    taken = Booking(resource=forklift.id, school=schools["a"].id, teacher=teacher_a.id,
                    start=datetime(2027, 9, 8, 9, 0, tzinfo=BRUSSELS), end=datetime(2027, 9, 8, 11, 0, tzinfo=BRUSSELS),
                    hold_end=datetime(2027, 9, 8, 11, 0, tzinfo=BRUSSELS), status="confirmed", group_size=8,
                    created_at=NOW - timedelta(days=30), updated_at=NOW - timedelta(days=30))
    await taken.save()
    tokens = {}
    for name in ("rtc", "a", "b", "c", "far", "staff"):
        _row, token = await accounts.create_api_token(uow_for(await accounts.load_actor(users[name])), "api")
        tokens[name] = {"Authorization": f"Bearer {token}"}
    return {"owner": owner, "facility": facility, "forklift": forklift, "welding": welding, "rtc": rtc,
            "schools": schools, "users": users, "tokens": tokens, "taken": taken}


async def as_user(client, email: str):
    client.cookies.clear()
    response = await login(client, email, PASSWORD)
    assert response.status_code == 200
    return await csrf(client, "/rounds/")
