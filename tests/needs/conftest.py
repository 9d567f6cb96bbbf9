"""A small world for needs: two schools (Gent and Aalst, East Flanders), owners with welding
workshops in Gent, Aalst and Antwerpen, and a person of every role. People come as units of
work acting for them (what the services take) and as API headers."""

import pytest

from accounts import services as accounts


@pytest.fixture
async def needs_world(owner_org, create_org, create_facility, create_resource, create_user, uow_for):
    metaal = await owner_org()  # Opleidingscentrum Metaal, sector fund
    gent = await create_facility(metaal, name="Metaalcampus", postal_code="9000")
    lasatelier = await create_resource(gent, name="Lasatelier", category="welding", capacity="12",
                                       programmes=["lassen-constructie"])
    robotix = await owner_org(slug="robotix", name="Robotix NV", kind="company")
    antwerpen = await create_facility(robotix, name="Robotix Antwerpen", postal_code="2000")
    lasrobot = await create_resource(antwerpen, name="Lasrobotcel", category="welding", capacity="8")
    school = await create_org(slug="vti-gent", name="VTI Gent", network="katholiek", postal_code="9000")
    other_school = await create_org(slug="go-aalst", name="GO! Aalst", network="go", postal_code="9300",
                                    municipality="Aalst")
    rtc_vov = await create_org(slug="rtc-ov", name="RTC Oost-Vlaanderen", kind="rtc", network="", region_code="VOV")
    rtc_van = await create_org(slug="rtc-a", name="RTC Antwerpen", kind="rtc", network="", region_code="VAN",
                               postal_code="2440")
    kov = await create_org(slug="kov", name="Katholiek Onderwijs Vlaanderen", kind="provider", network="katholiek",
                           postal_code="1040", region_code="VBR")
    go = await create_org(slug="go", name="GO!", kind="provider", network="go", postal_code="1081", region_code="VBR")
    robotix.region_code = "VAN"
    await robotix.save()
    people = {
        "teacher": await create_user("teacher", org=school, email="sofie@vti.be"),
        "colleague": await create_user("teacher", org=school, email="jan@vti.be"),
        "school_admin": await create_user("school_admin", org=school, email="directie@vti.be"),
        "stranger": await create_user("teacher", org=other_school, email="an@go.be"),
        "staff": await create_user("owner_staff", org=metaal, email="staff@metaal.be"),
        "robotix_staff": await create_user("owner_staff", org=robotix, email="staff@robotix.be"),
        "rtc_vov": await create_user("rtc_staff", org=rtc_vov, email="rtc@ov.be"),
        "rtc_van": await create_user("rtc_staff", org=rtc_van, email="rtc@antwerpen.be"),
        "kov": await create_user("provider_staff", org=kov, email="staff@kov.be"),
        "go": await create_user("provider_staff", org=go, email="staff@go.be"),
        "admin": await create_user("platform_admin", email="admin@werkbank.be"),
    }
    world = {"metaal": metaal, "robotix": robotix, "lasatelier": lasatelier, "lasrobot": lasrobot, "school": school,
             "other_school": other_school, "users": people}
    for name, user in people.items():
        world[name] = uow_for(await accounts.load_actor(user))
    return world


@pytest.fixture
def api_headers(needs_world):
    """`await api_headers("teacher")`: bearer headers for that person."""

    async def make(name: str) -> dict:
        _row, token = await accounts.create_api_token(needs_world[name], "api")
        return {"Authorization": f"Bearer {token}"}

    return make


NEED = {"category": "welding", "study_programme": "lassen-constructie", "pupils": 10, "days_per_year": 6,
        "reason": "outdated"}
