"""The home pages to act from, as each role sees them: a school admin's coming bookings and the
school's people; provider staff's counts of their network and RTC staff's of their region for
the current quarter (in Brussels time, from the app's clock, frozen here)."""

import re
from datetime import datetime, timedelta, timezone

import pytest

from accounts.tables import Membership, Organisation
from booking.home_regions import quarter_of
from booking.tables import Booking
from core.i18n import BRUSSELS
from core.uow import FrozenClock
from inventory.tables import Facility, Resource
from tests.conftest import login

NOW = datetime(2026, 8, 20, 10, 0, tzinfo=BRUSSELS)  # the third quarter: 1 July - 30 September 2026


@pytest.fixture
async def app(settings, db):
    """The web app on a frozen clock (the `client` fixture runs this one)."""
    from app import create_app

    return create_app(settings, engine=db.engine, clock=FrozenClock(NOW))


def local(year, month, day, hour=9, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BRUSSELS)


async def book(resource, school, teacher_id, start, status, group=8, hours=2) -> Booking:
    booking = Booking(resource=resource.id, school=school.id, teacher=teacher_id, start=start,
                      end=start + timedelta(hours=hours), hold_end=start + timedelta(hours=hours), status=status,
                      group_size=group, pupils_attended=group - 1 if status == "completed" else None)
    await booking.save()
    return booking


def figure(html: str, area: str, name: str) -> int:
    """The number shown for `name` in the panel of `area` ("network-go", "region-VOV")."""
    panel = re.search(rf'<article class="area-figures" data-area="{area}">(.*?)</article>', html, re.S)
    assert panel, f"no panel for {area}"
    found = re.search(rf'data-figure="{name}">(\d+)<', panel.group(1))
    assert found, f"no figure {name} in the panel for {area}"
    return int(found.group(1))


def test_the_quarter_is_the_one_of_brussels_wall_time():
    # 22:30 UTC on 30 September is already 1 October in Brussels: the fourth quarter.
    q = quarter_of(datetime(2026, 9, 30, 22, 30, tzinfo=timezone.utc))
    assert (q.first_day.isoformat(), q.last_day.isoformat()) == ("2026-10-01", "2026-12-31")
    assert q.start == local(2026, 10, 1, 0)
    assert q.end == local(2027, 1, 1, 0)
    q = quarter_of(local(2026, 12, 31, 23, 59))
    assert q.last_day.isoformat() == "2026-12-31"
    assert quarter_of(local(2027, 1, 1, 0, 1)).first_day.isoformat() == "2027-01-01"


@pytest.fixture
async def network_and_region(world, create_org, create_user, create_facility, create_resource, owner_org):
    """Around the world's Gent workshop (owner of no network, in East Flanders, region VOV):

    - GO! schools: VTI Gent and GO! Aalst (both VOV) and GO! Genk (Limburg); a Catholic school
      in Oudenaarde (VOV) and one in Leuven (Flemish Brabant); a school of no network in Eeklo (VOV);
    - teachers: Sofie and Jan at VTI Gent (Jan also at GO! Aalst), An at GO! Aalst, Lies at
      GO! Genk, Wim in Leuven; a school admin at VTI Gent (not a teacher);
    - a GO! campus in Leuven (an owner of the GO! network) with a machine;
    - in VOV a second resource with opening hours, one without hours, a retired one, one on a
      closed site and one of an owner no longer active."""
    school, aalst = world["school"], world["other_school"]
    genk = await create_org(slug="go-genk", name="GO! Genk", postal_code="3600", municipality="Genk",
                            region_code="VLI")
    await create_org(slug="vti-oudenaarde", name="VTI Oudenaarde", network="katholiek", postal_code="9700")
    eeklo = await create_org(slug="vrije-school-eeklo", name="Vrije School Eeklo", network="", postal_code="9900")
    leuven = await create_org(slug="sint-jozef-leuven", name="Sint-Jozef Leuven", network="katholiek",
                              postal_code="3000", municipality="Leuven", region_code="VBR")
    lies = await create_user("teacher", org=genk, email="lies@go-genk.be", first_name="Lies", last_name="Aerts")
    wim = await create_user("teacher", org=leuven, email="wim@sj.be", first_name="Wim", last_name="Bos")
    await create_user("school_admin", org=school, email="directie@vti.be", first_name="Bart", last_name="Peeters")
    jan = world["colleague"].actor.user
    await Membership.insert(Membership(user=jan.id, organisation=aalst.id, role="teacher"))
    provider = await create_org(slug="go-onderwijs", name="GO! onderwijs", kind="provider", network="go",
                                postal_code="1000", municipality="Brussel", region_code="VBR")
    rtc = await create_org(slug="rtc-oost-vlaanderen", name="RTC Oost-Vlaanderen", kind="rtc", network="",
                           postal_code="9052", municipality="Gent", region_code="VOV")
    await create_user("provider_staff", org=provider, email="koepel@go.be", first_name="Koen", last_name="Maes")
    await create_user("rtc_staff", org=rtc, email="rtc@ov.be", first_name="Lien", last_name="Jacobs")
    go_owner = await owner_org(slug="go-campus-leuven", name="GO! Campus Leuven", kind="government")
    await Organisation.update({Organisation.network: "go", Organisation.region_code: "VBR"}).where(
        Organisation.id == go_owner.id)
    leuven_site = await create_facility(go_owner, postal_code="3000", name="Campus Leuven")
    assert leuven_site.region_code == "VBR"
    leuven_machine = await create_resource(leuven_site, name="Freesmachine Leuven")
    gent = world["facility"]
    assert gent.region_code == "VOV"
    await create_resource(gent, name="Plooibank")
    await create_resource(gent, name="Buigpers zonder uren", opening_hours="")
    retired = await create_resource(gent, name="Oude draaibank")
    await Resource.update({Resource.status: "retired"}).where(Resource.id == retired.id)
    closed_site = await create_facility(world["owner"], postal_code="9000", name="Oude hal")
    await create_resource(closed_site, name="Lasrobot oude hal")
    await Facility.update({Facility.active: False}).where(Facility.id == closed_site.id)
    gone = await owner_org(slug="gesloten-centrum", name="Gesloten centrum")
    await create_resource(await create_facility(gone, postal_code="9000", name="Gesloten hal"), name="Draaibank")
    await Organisation.update({Organisation.active: False}).where(Organisation.id == gone.id)

    lasatelier, sofie, an = world["resource"], world["teacher"].actor.user, world["stranger"].actor.user
    # Counted in the third quarter, for the GO! network and/or region VOV:
    await book(lasatelier, school, sofie.id, local(2026, 7, 1, 0, 30), "completed", 10)  # 30 June 22:30 UTC
    await book(lasatelier, school, jan.id, local(2026, 7, 8), "completed", 8)
    await book(lasatelier, aalst, an.id, local(2026, 9, 1), "confirmed", 12)
    await book(lasatelier, aalst, an.id, local(2026, 9, 2), "requested", 6)
    await book(leuven_machine, school, sofie.id, local(2026, 7, 15), "completed", 5)  # GO! school at a GO! owner
    await book(lasatelier, leuven, wim.id, local(2026, 8, 5), "completed", 7)  # Leuven school, Gent workshop
    await book(lasatelier, school, sofie.id, local(2026, 8, 11), "approved", 4)
    await book(lasatelier, eeklo, wim.id, local(2026, 8, 17), "completed", 3)  # no network at a sector: across
    # Not counted: other statuses, other quarters (in Brussels time), neither network nor region.
    await book(lasatelier, school, sofie.id, local(2026, 8, 10), "cancelled", 9)
    await book(lasatelier, aalst, an.id, local(2026, 8, 12), "declined", 9)
    await book(lasatelier, aalst, an.id, local(2026, 8, 13), "no_show", 9)
    await book(lasatelier, school, sofie.id, local(2026, 6, 30, 23, 30), "completed", 11)
    await book(lasatelier, school, sofie.id, local(2026, 10, 1, 0, 30), "requested", 11)  # 30 Sept 22:30 UTC
    await book(leuven_machine, leuven, wim.id, local(2026, 8, 6), "completed", 20)
    await book(leuven_machine, genk, lies.id, local(2026, 4, 2), "completed", 20)
    return world


async def test_provider_staff_see_this_quarter_in_their_network(client, network_and_region):
    await login(client, "koepel@go.be")
    html = (await client.get("/")).text
    assert "GO!" in html and "1 juli 2026" in html and "30 september 2026" in html
    assert figure(html, "network-go", "schools") == 3  # VTI Gent, GO! Aalst, GO! Genk
    assert figure(html, "network-go", "teachers") == 4  # Sofie, Jan (counted once), An, Lies
    assert figure(html, "network-go", "bookings") == 6
    assert figure(html, "network-go", "completed") == 3
    assert figure(html, "network-go", "pupils") == 10 + 8 + 5  # group sizes (attended: one fewer each)
    assert figure(html, "network-go", "across_networks") == 5  # all but the one at the GO! campus
    assert 'data-figure="open_resources"' not in html  # a network has no region
    assert 'data-area="region-' not in html
    assert "aangevraagd: 1 · goedgekeurd, te betalen: 1 · bevestigd: 1 · afgewerkt: 3" in html


async def test_rtc_staff_see_this_quarter_in_their_region(client, network_and_region):
    await login(client, "rtc@ov.be")
    html = (await client.get("/")).text
    assert "Oost-Vlaanderen" in html and "1 juli 2026" in html
    assert figure(html, "region-VOV", "schools") == 4  # VTI Gent, GO! Aalst, VTI Oudenaarde, Vrije School Eeklo
    assert figure(html, "region-VOV", "teachers") == 3  # Sofie, Jan, An
    assert figure(html, "region-VOV", "bookings") == 8  # the region's schools anywhere, anyone in the region
    assert figure(html, "region-VOV", "completed") == 5
    assert figure(html, "region-VOV", "pupils") == 10 + 8 + 5 + 7 + 3  # group sizes (attended: one fewer each)
    assert figure(html, "region-VOV", "across_networks") == 7
    assert figure(html, "region-VOV", "open_resources") == 2  # Lasatelier and Plooibank
    assert 'data-area="network-' not in html


async def test_other_roles_see_no_regional_counts(client, network_and_region):
    for email in ("sofie@vti.be", "directie@vti.be", "staff@metaal.be"):
        await login(client, email)
        html = (await client.get("/")).text
        assert "Welkom" in html and "area-figures" not in html, email
        client.cookies.clear()


async def test_a_school_admin_sees_the_coming_weeks_and_the_school_people(client, world, create_user):
    school, sofie, jan = world["school"], world["teacher"].actor.user, world["colleague"].actor.user
    await create_user("school_admin", org=school, email="directie@vti.be", first_name="Bart", last_name="Peeters")
    resource, an = world["resource"], world["stranger"].actor.user
    # Nine confirmed bookings of the school first, then a request: all within three weeks.
    for day in range(9):
        await book(resource, school, sofie.id if day % 2 else jan.id, local(2026, 8, 21) + timedelta(days=day),
                   "confirmed")
    request = await book(resource, school, jan.id, local(2026, 9, 1, 13), "requested")
    cancelled = await book(resource, school, sofie.id, local(2026, 9, 2, 13), "cancelled")
    later = await book(resource, school, sofie.id, local(2026, 10, 20), "confirmed")
    other_school = await book(resource, world["other_school"], an.id, local(2026, 8, 21, 14), "requested")
    await Booking.update({Booking.expires_at: local(2026, 8, 25, 12)}).where(Booking.id == request.id)
    offer = await book(resource, school, sofie.id, local(2026, 9, 3, 13), "requested")  # the school answers it
    await Booking.update({Booking.waitlist_offer: True}).where(Booking.id == offer.id)

    await login(client, "directie@vti.be")
    html = (await client.get("/")).text
    assert f'href="/bookings/{request.id}"' in html
    assert "Wacht op een antwoord: 1" in html  # the tenth coming booking is the request waiting
    assert f'href="/bookings/{offer.id}"' in html  # coming, but not waiting for the owner
    assert f'href="/bookings/{cancelled.id}"' not in html
    assert f'href="/bookings/{later.id}"' not in html  # more than three weeks ahead
    assert f'href="/bookings/{other_school.id}"' not in html
    # The school's people, with when they last logged in and a way to invite or manage them.
    people = re.search(r"Mensen van je school op Werkbank: 3</header>(.*?)</article>", html, re.S)
    assert people, "no people panel"
    rows = re.findall(r"<tr>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>", people.group(1))
    assert sorted(rows) == [("Bart Peeters", "directie@vti.be", "Schoolbeheerder", "20/08/2026, 10:00"),
                            ("Jan Peeters", "jan@vti.be", "Leerkracht", "nooit"),
                            ("Sofie Claes", "sofie@vti.be", "Leerkracht", "nooit")]
    assert "an@go.be" not in html
    assert f'href="/people/?organisation={school.id}"' in people.group(1)


async def test_a_teacher_sees_their_own_coming_bookings_and_no_people(client, world):
    school, sofie, jan = world["school"], world["teacher"].actor.user, world["colleague"].actor.user
    mine = await book(world["resource"], school, sofie.id, local(2026, 8, 24), "requested")
    colleagues = await book(world["resource"], school, jan.id, local(2026, 8, 25), "confirmed")
    await login(client, "sofie@vti.be")
    html = (await client.get("/")).text
    assert f'href="/bookings/{mine.id}"' in html and f'href="/bookings/{colleagues.id}"' not in html
    assert "Wacht op een antwoord: 1" in html
    assert "Mensen van VTI Gent:" not in html and 'href="/people/' not in html
