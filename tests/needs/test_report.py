"""The needs section for the regional report (offered to reports through the `report.sections`
hook), the home panel, and the whole way: a school records a need, an owner answers it with an
offer, and the school books the offered resource (the browser test's path, over HTTP)."""

import re
from datetime import date, timedelta

from core.i18n import use_language
from core.templating import render
from needs import phaseout, report, services
from reports.request import ReportRequest
from reports.scope import scope_for
from tests.booking.conftest import at, next_weekday
from tests.conftest import login
from tests.needs.conftest import NEED


async def _offer_then_book(client, needs_world, api_headers) -> int:
    teacher = await api_headers("teacher")
    need_id = (await client.post("/api/v1/needs", headers=teacher, json=NEED)).json()["id"]
    offer = await client.post(f"/api/v1/needs/{need_id}/offers", headers=await api_headers("staff"), json={
        "message": "Woensdag is het lasatelier vrij voor scholen.", "resource_id": needs_world["lasatelier"].id})
    assert offer.status_code == 201
    resource_id = offer.json()["resource_id"]
    day = next_weekday(2)  # a Wednesday, at least a week ahead
    booked = await client.post("/api/v1/bookings", headers=teacher, json={
        "resource_id": resource_id, "start": at(day, 9).isoformat(), "end": at(day, 11).isoformat(), "group_size": 10,
        "study_programme": "lassen-constructie"})
    assert booked.status_code == 201, booked.text
    return need_id


async def test_a_school_books_the_offered_resource_from_the_need(client, needs_world, api_headers):
    """Through the pages: the need's page links the offered resource; its page has the booking form."""
    need_id = await _offer_then_book(client, needs_world, api_headers)
    await login(client, "sofie@vti.be")
    detail = await client.get(f"/needs/{need_id}")
    link = re.search(r'href="(/resources/\d+)" role="button" class="book-offer"', detail.text)
    assert link and link.group(1) == f"/resources/{needs_world['lasatelier'].id}"
    assert (await client.get(link.group(1))).status_code == 200


async def test_the_report_section_counts_needs_offers_bookings_and_dialogues(client, needs_world, api_headers):
    await _offer_then_book(client, needs_world, api_headers)
    await services.record_need(needs_world["stranger"], services.NeedInput(category="cnc", pupils=8, days_per_year=2,
                                                                          reason="missing"))
    await phaseout.signal(needs_world["school_admin"], "lassen-constructie", 2027)
    today = date.today()
    period = ReportRequest(first=today - timedelta(days=1), last=today + timedelta(days=1))
    rtc = await report.report_section(needs_world["rtc_vov"], scope_for(needs_world["rtc_vov"].actor), period)
    assert (rtc.open, rtc.answered, rtc.closed, rtc.offers, rtc.offers_booked) == (1, 1, 0, 1, 1)
    assert rtc.phase_outs == {"open": 1} and len(rtc.phase_out_rows) == 1
    # The Antwerp RTC: nothing of East Flanders.
    van = await report.report_section(needs_world["rtc_van"], scope_for(needs_world["rtc_van"].actor), period)
    assert (van.open, van.answered, van.offers, van.phase_outs) == (0, 0, 0, {})
    # An owner: only the needs it answered.
    owner = await report.report_section(needs_world["staff"], scope_for(needs_world["staff"].actor), period)
    assert (owner.open, owner.answered, owner.offers, owner.offers_booked) == (0, 1, 1, 1)
    # GO!'s provider staff: the dialogue of a katholiek school is counted, not named.
    go = await report.report_section(needs_world["go"], scope_for(needs_world["go"].actor), period)
    assert go.phase_outs == {"open": 1} and go.phase_out_rows == []
    # Another period: nothing.
    before = ReportRequest(first=today - timedelta(days=30), last=today - timedelta(days=20))
    assert (await report.report_section(needs_world["admin"], scope_for(needs_world["admin"].actor), before)).offers == 0
    sections = await report.report_sections(needs_world["rtc_vov"], scope_for(needs_world["rtc_vov"].actor), period)
    with use_language("en"):
        html = render("needs/_report_section.html", env=needs_world["admin"].app.templates, section=sections[0])
    assert 'data-section-figure="needs.offers_booked">1<' in html and 'data-section-figure="phase_outs.open"' in html


async def test_the_home_page_shows_the_way_to_the_needs(client, needs_world, api_headers):
    await client.post("/api/v1/needs", headers=await api_headers("teacher"), json=NEED)
    await login(client, "rtc@ov.be")
    home = await client.get("/")
    assert 'data-panel="needs"' in home.text
    assert re.search(r'data-figure="open-needs">\D*1\D', home.text)
    client.cookies.clear()
    await login(client, "rtc@antwerpen.be")
    assert re.search(r'data-figure="open-needs">\D*0\D', (await client.get("/")).text)



async def test_a_custom_region_keeps_an_rtc_to_its_own_province_and_counts_by_postal_code(
        client, needs_world, api_headers):
    from regions.tables import CustomRegion

    await CustomRegion(code="ZONE-GM", name="Zone Gent-Mechelen", description="Gent en Mechelen",
                       municipalities=["44021", "12025"]).save()  # Gent (VOV) and Mechelen (VAN)
    await client.post("/api/v1/needs", headers=await api_headers("teacher"), json=NEED)  # VTI Gent, East Flanders
    today = date.today()
    zone = ReportRequest(first=today - timedelta(days=1), last=today + timedelta(days=1), regions=("ZONE-GM",))
    admin = await report.report_section(needs_world["admin"], scope_for(needs_world["admin"].actor), zone)
    assert admin.open == 1  # Gent lies in the zone: counted by the school's postal code
    antwerp_rtc = needs_world["rtc_van"]
    cut = await report.report_section(antwerp_rtc, scope_for(antwerp_rtc.actor), zone)
    assert (cut.open, cut.answered, cut.phase_out_rows) == (0, 0, [])  # the zone is cut to Antwerp's province
