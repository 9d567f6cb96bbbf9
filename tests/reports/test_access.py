"""Who sees which regional report, through the pages (a logged-in session) and the JSON API (bearer
tokens), on the dataset of tests/reports/conftest.py; the expected figures come from
tests/reports/test_figures.py, computed by hand."""

from __future__ import annotations

import copy
import html
from urllib.parse import urlencode

import pytest

from tests.conftest import login
from tests.reports.conftest import PERIOD
from tests.reports.test_figures import (
    ALL,
    NETWORK,
    VOV,
    differences,
    money_row,
    network,
    nl,
    pair,
    programme,
    quarter,
    school,
    status,
    supply_row,
    unmet_row,
    use_row,
    without_moment,
)
from tests.reports.test_figures import CATEGORY as CATEGORIES
from tests.reports.test_figures import FUNDING as FUNDINGS

API = "/api/v1/reports/regions"
PAGE = "/reports/regions"
NOT_FOR_YOU = "Regional reports are for education providers, RTCs and infrastructure owners."
OWN_REGION = "You see the figures of your own region: %(regions)s."
OTHER_SCHOOLS = ("Sint-Jozef Gent", "Sint-Victor Mechelen", "Stedelijk Lyceum Aalst")  # not of the GO! network


def query(**params) -> str:
    return urlencode({**PERIOD, **params}, doseq=True)


@pytest.fixture
async def people(report_world, create_org, create_user, uow_for):
    """One user of every kind, by role: e-mail (for the pages) and API headers."""
    from accounts import services as accounts

    orgs = report_world["orgs"]
    provider = await create_org(kind="provider", network="go", slug="go-onderwijs", name="GO! onderwijs",
                                postal_code="1000", municipality="Brussel", region_code="VBR")
    rtc = await create_org(kind="rtc", network="", slug="rtc-oost-vlaanderen", name="RTC Oost-Vlaanderen",
                           postal_code="9000", municipality="Gent", region_code="VOV")
    users = {
        "teacher": await create_user("teacher", org=orgs["G1"], email="leraar@go-gent.be"),
        "school_admin": await create_user("school_admin", org=orgs["K1"], email="directie@sint-jozef.be"),
        "provider": await create_user("provider_staff", org=provider, email="staf@go.be"),
        "rtc": await create_user("rtc_staff", org=rtc, email="staf@rtc-ov.be"),
        "owner": await create_user("owner_staff", org=orgs["vdab"], email="staf@vdab.be"),
        "admin": await create_user("platform_admin", email="beheer@werkbank.be"),
    }
    found = {}
    for role, user in users.items():
        _row, token = await accounts.create_api_token(uow_for(await accounts.load_actor(user)), "rapport")
        found[role] = {"email": user.email, "api": {"Authorization": f"Bearer {token}"}}
    return found


def translated(message: str, **variables) -> str:
    """The Dutch text, which must exist (not the English msgid)."""
    text = nl(message, **variables)
    english = message % variables if variables else message
    assert text != english, f"no Dutch for {message!r}"
    return text


# --- no report ------------------------------------------------------------------------------------

async def test_anonymous_visitors_are_sent_to_log_in_and_the_api_says_401(people, client):
    page = await client.get(f"{PAGE}?{query()}")
    assert page.url.path == "/login" and page.history and page.history[0].status_code in (302, 303)
    assert page.url.params.get("next", "").startswith("/reports/regions?from=2026-07-01")  # back here after logging in
    for path in (f"{PAGE}.csv?{query()}", f"{PAGE}.xlsx?{query()}"):
        download = await client.get(path)
        assert download.url.path == "/login", path
    api = await client.get(f"{API}?{query()}")
    assert api.status_code == 401
    assert api.headers["content-type"].startswith("application/problem+json") and api.json()["status"] == 401
    refused = await client.get(f"{API}?{query()}", headers={"Authorization": "Bearer wb_not-a-token"})
    assert refused.status_code == 401


@pytest.mark.parametrize("role", ["teacher", "school_admin"])
async def test_schools_get_no_report(people, client, role):
    message = translated(NOT_FOR_YOU)
    api = await client.get(f"{API}?{query()}", headers=people[role]["api"])
    assert api.status_code == 403
    assert api.headers["content-type"].startswith("application/problem+json")
    assert api.json()["detail"] == message and "supply" not in api.json()
    await login(client, people[role]["email"])
    page = await client.get(f"{PAGE}?{query()}")
    assert page.status_code == 403
    assert message in html.unescape(page.text) and 'data-figure="' not in page.text
    for suffix in (".csv", ".xlsx"):
        download = await client.get(f"{PAGE}{suffix}?{query()}")
        assert download.status_code == 403 and "text/html" in download.headers["content-type"], suffix


# --- provider staff: every region, their own network's schools by name --------------------------

def provider_view(expected: dict) -> dict:
    """The platform's figures as GO! provider staff see them: the same numbers, other networks'
    schools counted but not named."""
    seen = copy.deepcopy(expected)
    seen["scope"], seen["scope_label"] = "provider", nl("Schools of your network by name, those of other networks counted.")
    named = [row for row in seen["reach"]["schools_named"] if row["network"] == "go"]
    seen["reach"]["schools_not_named"] = sum(row["schools"] for row in seen["reach"]["by_network"] if row["key"] != "go")
    seen["reach"]["schools_named"] = named
    for row in seen["collaboration"]["pairs"]:
        if row["school_network"] != "go":
            row["school"] = nl("A school of %(network)s", network=NETWORK[row["school_network"]])
        if row["owner_kind"] == "school" and row["owner"] == "Sint-Jozef Gent":  # a katholiek school as owner
            row["owner"] = nl("A school of %(network)s", network=NETWORK["katholiek"])
    return seen


async def test_provider_staff_see_every_region_but_name_only_their_own_schools(people, client):
    response = await client.get(f"{API}?{query()}", headers=people["provider"]["api"])
    assert response.status_code == 200, response.text
    got = without_moment(response.json())
    expected = provider_view(ALL)
    assert expected["reach"]["schools_named"] == [school("G1", 3, 26, 36000), school("G2", 1, 14, -1000)]
    assert expected["reach"]["schools_not_named"] == 3  # K1, K2 (katholiek), O1 (ovsg)
    problems = differences(got, expected)
    assert not problems, "\n".join(problems)
    assert [p["school"] for p in got["collaboration"]["pairs"]] == [
        "GO! Atheneum Gent", translated("A school of %(network)s", network="OVSG"), "GO! Atheneum Gent",
        nl("A school of %(network)s", network="Katholiek Onderwijs Vlaanderen"),
        nl("A school of %(network)s", network="Katholiek Onderwijs Vlaanderen"),
        nl("A school of %(network)s", network="Katholiek Onderwijs Vlaanderen"),
        nl("A school of %(network)s", network="Katholiek Onderwijs Vlaanderen"),
        "GO! Technisch Atheneum Antwerpen", "GO! Technisch Atheneum Antwerpen",
        nl("A school of %(network)s", network="OVSG")]
    # any region, a province of another RTC too
    other = await client.get(f"{API}?{query(region='VAN')}", headers=people["provider"]["api"])
    assert other.status_code == 200 and other.json()["regions"][0]["code"] == "VAN"
    vov = await client.get(f"{API}?{query(region='VOV')}", headers=people["provider"]["api"])
    assert not differences(without_moment(vov.json()), provider_view(VOV))


async def test_provider_staff_never_read_another_networks_school_name(people, client):
    """Not in the named schools, not as the school of a pair, not as the owner of a pair either:
    `Sint-Jozef Gent`, which opens its own workshop, would otherwise show up beside "A school of
    Katholiek Onderwijs Vlaanderen" in its own-school pair (and by_boundary.own_school gives away
    that it is the same school)."""
    response = await client.get(f"{API}?{query()}", headers=people["provider"]["api"])
    got = response.json()
    named_in_reach = [row["name"] for row in got["reach"]["schools_named"]]
    named_in_pairs = [row["school"] for row in got["collaboration"]["pairs"]]
    assert not set(OTHER_SCHOOLS) & set(named_in_reach + named_in_pairs)
    owners = [row["owner"] for row in got["collaboration"]["pairs"]]
    assert not set(OTHER_SCHOOLS) & set(owners), f"schools of other networks named as owners: {owners}"


async def test_the_providers_page_names_only_its_own_schools(people, client):
    await login(client, people["provider"]["email"])
    page = await client.get(f"{PAGE}?{query()}")
    assert page.status_code == 200
    assert "GO! Atheneum Gent" in page.text and "GO! Technisch Atheneum Antwerpen" in page.text
    for name in ("Sint-Victor Mechelen", "Stedelijk Lyceum Aalst"):  # schools that own nothing
        assert name not in page.text
    assert nl("A school of %(network)s", network="OVSG") in html.unescape(page.text)
    assert 'data-figure="reach.schools_not_named">3<' in page.text
    csv_text = (await client.get(f"{PAGE}.csv?{query()}")).content.decode("utf-8-sig")
    for name in ("Sint-Victor Mechelen", "Stedelijk Lyceum Aalst"):
        assert name not in csv_text
    assert "reach,schools_not_named,,,3,count" in csv_text


# --- RTC staff: their own region ------------------------------------------------------------------

def rtc_view(expected: dict) -> dict:
    seen = copy.deepcopy(expected)
    seen["scope"], seen["scope_label"] = "rtc", nl("Your region: %(regions)s.", regions="Oost-Vlaanderen")
    return seen


async def test_rtc_staff_see_their_own_province_by_default(people, client):
    headers = people["rtc"]["api"]
    default = await client.get(f"{API}?{query()}", headers=headers)
    assert default.status_code == 200, default.text
    problems = differences(without_moment(default.json()), rtc_view(VOV))
    assert not problems, "\n".join(problems)
    chosen = await client.get(f"{API}?{query(region='VOV')}", headers=headers)
    assert without_moment(chosen.json()) == without_moment(default.json())
    assert default.json()["scope_label"] == translated("Your region: %(regions)s.", regions="Oost-Vlaanderen")


async def test_rtc_staff_may_not_see_another_province(people, client):
    message = translated(OWN_REGION, regions="Oost-Vlaanderen")
    for regions in ("VAN", ["VOV", "VAN"], "VAN,VOV"):
        api = await client.get(f"{API}?{query(region=regions)}", headers=people["rtc"]["api"])
        assert api.status_code == 403, regions
        assert api.json()["detail"] == message and "use" not in api.json()
    await login(client, people["rtc"]["email"])
    page = await client.get(f"{PAGE}?{query(region='VAN')}")
    assert page.status_code == 403 and message in html.unescape(page.text)
    assert 'data-figure="' not in page.text
    download = await client.get(f"{PAGE}.csv?{query(region='VAN')}")
    assert download.status_code == 403


async def test_a_custom_region_across_the_border_is_cut_to_the_rtcs_province(people, client):
    """ZONE-GM is Gent (VOV) and Mechelen (VAN): the RTC of Oost-Vlaanderen sees Gent's part only.
    In Gent: facilities F1 and F4, schools G1 and K1. That is Oost-Vlaanderen's report without B17
    (O1 of Aalst at R4 in Mechelen: cancelled) and with only the searches that typed a Gent postal
    code (S1, not S2 which typed none). B8 and B13 (Mechelen schools at Mechelen infrastructure),
    which the uncut region counts, stay out."""
    expected = rtc_view(VOV)
    expected["regions"] = [{"code": "ZONE-GM", "name": "Zone Gent-Mechelen", "custom": True, "cut_to_scope": True}]
    expected["use"]["by_status"] = [row for row in expected["use"]["by_status"] if row["key"] != "cancelled"]
    expected["unmet"]["searches"], expected["unmet"]["searches_matched"] = 1, 1
    expected["unmet"]["rows"] = [unmet_row("welding", "VOV", declined=1, waitlist=1, searches=1, matched=1),
                                 unmet_row("cobots-robotics", "VAN", declined=1, waitlist=1),
                                 unmet_row("electrical-installations", "VOV", expired=1, waitlist=1)]
    response = await client.get(f"{API}?{query(region='ZONE-GM')}", headers=people["rtc"]["api"])
    assert response.status_code == 200, response.text
    got = without_moment(response.json())
    problems = differences(got, expected)
    assert not problems, "\n".join(problems)
    assert got["use"]["by_status"][3] == status("completed", 6, 1115)  # the platform sees 7 in ZONE-GM (B8)
    await login(client, people["rtc"]["email"])
    page = await client.get(f"{PAGE}?{query(region='ZONE-GM')}")
    assert page.status_code == 200
    assert translated("only the part in your region") in html.unescape(page.text)
    assert 'data-figure="use.by_status.completed.bookings">6<' in page.text


# --- owner staff: their own infrastructure --------------------------------------------------------

OWNER_VDAB = {
    "first": "2026-07-01", "last": "2026-12-31", "regions": [], "filters": {}, "scope": "owner",
    "scope_label": nl("Your own infrastructure and the schools that use it."),
    # VDAB Mechelen: R4 (open) and R5 (retired); bookings B7, B8 (R5), B13, B17
    "supply": {"facilities": 1, "resources": 1, "open_minutes": 11640, "closed_minutes": 1080,
               "by_funding": [supply_row("government", 1, 1, 11640, FUNDINGS)],
               "by_category": [supply_row("plc-automation", 1, 1, 11640, CATEGORIES)]},
    "use": {"bookings": 3, "minutes": 575,  # B7 225 + B8 200 + B13 150
            "supply_minutes": 375, "open_minutes": 11640, "utilisation": 3.2,  # 375 / 11640 = 3.22
            "by_status": [status("completed", 2, 425), status("no_show", 1, 150), status("cancelled", 1, 95)],
            "by_category": [use_row("cnc", 1, 200, 0, 0, None), use_row("plc-automation", 2, 375, 375, 11640, 3.2)]},
    "reach": {"bookings": 2, "pupils": 16, "schools": 2,
              "by_network": [network("go", 1, 1, 6), network("katholiek", 1, 1, 10)],
              "programmes": [programme("mechatronica", 1, 1, 6), programme("", 1, 1, 10)],
              "schools_named": [school("G1", 1, 6, 9000), school("K2", 1, 10, 4000)],  # the schools that use it, named
              "schools_not_named": 0},
    "collaboration": {"bookings": 2, "crossing": 2, "crossing_share": 100.0,
                      "by_boundary": [{"key": "government", "label": nl("Government-funded infrastructure"),
                                       "crossing": True, "bookings": 2, "pupils": 16, "minutes": 425}],
                      "pairs": [pair("G1", "vdab", True, 1, 6, 225), pair("K2", "vdab", True, 1, 10, 200)],
                      "pair_count": 2},
    "money": {"bookings": 2, "pupils": 16, "alternative_cents": 22000, "paid_cents": 9000, "savings_cents": 13000,
              "savings_per_pupil_cents": 813,  # 13000 / 16 = 812.5: half up
              "bill_pupils": 0, "bill_savings_cents": 0, "bill_cents": 0, "bill_share": None,
              "schools": 2, "schools_with_bill": 0, "without_alternative": 0,
              "by_programme": [money_row("mechatronica", 1, 6, 15000, 6000, 9000, 1500),
                               money_row("", 1, 10, 7000, 3000, 4000, 400)]},
    "unmet": {"declined": 0, "expired": 0, "waitlist": 0, "searches": 0, "searches_matched": 0, "round_days": 0,
              "searches_counted": False, "rows": []},  # W5 was cancelled; searches know no owner
    "quarters": [quarter(3, bookings=1, minutes=200, completed=1, pupils=10, schools=1, savings=4000, crossing=1),
                 quarter(4, bookings=2, minutes=375, completed=1, pupils=6, schools=1, savings=9000, crossing=1)],
}


async def test_owner_staff_see_only_their_own_infrastructure(people, client):
    headers = people["owner"]["api"]
    response = await client.get(f"{API}?{query()}", headers=headers)
    assert response.status_code == 200, response.text
    problems = differences(without_moment(response.json()), OWNER_VDAB)
    assert not problems, "\n".join(problems)
    # another owner's infrastructure through the owner filter: nothing of it
    other = (await client.get(f"{API}?{query(owner='metaal')}", headers=headers)).json()
    assert other["supply"]["resources"] == 0 and other["use"]["by_status"] == [] and other["money"]["savings_cents"] == 0
    assert other["collaboration"]["pairs"] == [] and other["unmet"]["rows"] == []
    # a region without their infrastructure: nothing either (G1's B7 at R4 counts in VOV for the platform)
    vov = (await client.get(f"{API}?{query(region='VOV')}", headers=headers)).json()
    assert vov["supply"]["resources"] == 0 and vov["use"]["bookings"] == 1  # B7: G1 lies in VOV
    assert [row["name"] for row in vov["reach"]["schools_named"]] == ["GO! Atheneum Gent"]
    await login(client, people["owner"]["email"])
    page = await client.get(f"{PAGE}?{query()}")
    assert page.status_code == 200
    assert 'data-figure="supply.resources">1<' in page.text and 'data-figure="use.bookings">3<' in page.text
    assert "Lasatelier" not in page.text and "Sectorfonds Metaal" not in page.text


async def test_platform_admins_see_everything(people, client):
    response = await client.get(f"{API}?{query()}", headers=people["admin"]["api"])
    assert response.status_code == 200
    assert not differences(without_moment(response.json()), ALL)
    van = await client.get(f"{API}?{query(region='VAN')}", headers=people["admin"]["api"])
    assert van.status_code == 200 and van.json()["scope"] == "platform"


# --- bad input ------------------------------------------------------------------------------------

BAD = [
    ({"from": "2026-12-31", "to": "2026-07-01"}, "to", "The period ends before it starts."),
    ({"from": "garbage", "to": "2026-12-31"}, "from", "Give a date as 2026-09-01 or 1/9/2026."),
    ({"from": "2026-02-30", "to": "2026-12-31"}, "from", "Give a date as 2026-09-01 or 1/9/2026."),
    ({**PERIOD, "region": "<script>alert(1)</script>"}, "region", None),
    ({**PERIOD, "region": "NOPE"}, "region", "Unknown region: %(code)s."),
    ({"from": "2020-01-01", "to": "2026-12-31"}, "to", "A report covers at most five years."),
    ({**PERIOD, "owner": "bestaat-niet"}, "owner", "There is no infrastructure owner %(value)s."),
    ({**PERIOD, "owner": "Robert'); DROP TABLE booking;--"}, "owner", None),
    ({**PERIOD, "network": "anders"}, "network", "Unknown network: %(value)s."),
    ({**PERIOD, "funding": "crowdfunding"}, "funding", "Unknown funding type: %(value)s."),
    ({**PERIOD, "category": "bestaat-niet"}, "category", "Unknown category: %(value)s."),
    ({**PERIOD, "programme": "bestaat-niet"}, "programme", "Unknown study programme: %(value)s."),
]


def bad_message(params: dict, field: str, message: str | None) -> str | None:
    if message is None:
        return None
    return translated(message, code=params.get("region", ""), value=params.get(field, ""))


@pytest.fixture
async def checkers(db, create_org, create_user, uow_for):
    """A platform admin and RTC staff (API headers), without the dataset: input is refused before it
    is looked up."""
    from accounts import services as accounts

    rtc = await create_org(kind="rtc", network="", slug="rtc-oost-vlaanderen", name="RTC Oost-Vlaanderen",
                           postal_code="9000", municipality="Gent", region_code="VOV")
    found = {}
    for role, user in (("admin", await create_user("platform_admin", email="beheer@werkbank.be")),
                       ("rtc", await create_user("rtc_staff", org=rtc, email="staf@rtc-ov.be"))):
        _row, token = await accounts.create_api_token(uow_for(await accounts.load_actor(user)), "rapport")
        found[role] = {"email": user.email, "api": {"Authorization": f"Bearer {token}"}}
    return found


async def test_bad_input_is_refused_with_a_message_per_field(checkers, client):
    """422 with the field's Dutch message: problem+json on the API, the page (and its downloads) in
    Dutch, never a 500, never the input unescaped; for RTC staff too (input is read before scope)."""
    await login(client, checkers["admin"]["email"])
    failures = []
    for params, field, message in BAD:
        text = bad_message(params, field, message)
        for who in ("admin", "rtc"):
            api = await client.get(f"{API}?{urlencode(params)}", headers=checkers[who]["api"])
            body = api.json()
            if api.status_code != 422 or not api.headers["content-type"].startswith("application/problem+json"):
                failures.append(f"{params} {who}: API {api.status_code} {api.text[:200]}")
                continue
            if field not in body.get("errors", {}) or (text and body["errors"][field] != text):
                failures.append(f"{params} {who}: API errors {body.get('errors')} (expected {field}: {text!r})")
                continue
        shown = text or body["errors"][field]  # the same message on the page and the downloads
        for path in (PAGE, f"{PAGE}.csv", f"{PAGE}.xlsx"):
            page = await client.get(f"{path}?{urlencode(params)}")
            if page.status_code != 422 or "text/html" not in page.headers["content-type"]:
                failures.append(f"{params}: {path} {page.status_code} {page.headers['content-type']}")
            elif "<script>alert" in page.text or "<SCRIPT>ALERT" in page.text:
                failures.append(f"{params}: {path} shows the input unescaped")
            elif shown not in html.unescape(page.text):
                failures.append(f"{params}: {path} lacks {shown!r}")
            elif path == PAGE and 'data-figure="' in page.text:
                failures.append(f"{params}: figures under a refusal")
    assert not failures, "\n".join(failures)
