"""Owner staff keep their own inventory through the pages; nobody else may."""

import re
from datetime import datetime

from core.tables import AuditEntry
from inventory.tables import Closure, Facility, OpeningHours, Resource, ResourceProgramme
from tests.conftest import csrf, login
from tests.inventory.conftest import RESOURCE_FORM


async def _owner_logged_in(client, create_user, owner_org, slug="metaal"):
    org = await owner_org(slug=slug, name=f"Centrum {slug}")
    await create_user("owner_staff", org=org, email=f"staff@{slug}.be")
    await login(client, f"staff@{slug}.be")
    return org


async def test_an_owner_adds_a_facility_and_a_resource(client, create_user, owner_org):
    org = await _owner_logged_in(client, create_user, owner_org)
    token = await csrf(client, "/inventory/")
    response = await client.post(f"/inventory/facilities?owner={org.id}", data={
        "name": "Metaalcampus", "street": "Technologiepark 40", "postal_code": "9052", "_csrf_token": token})
    assert "Metaalcampus is bewaard." in response.text
    facility = await Facility.objects().first()
    assert facility.municipality == "Gent" and facility.region_code == "VOV"
    assert facility.latitude is not None and facility.external_id == f"F{facility.id}"

    form = {**RESOURCE_FORM, "facility": str(facility.id), "_csrf_token": token,
            "hours_0": "08:00-12:00, 13:00-16:00", "hours_2": "08:00-12:00"}
    form.pop("opening_hours")
    response = await client.post("/inventory/resources", data={
        **form, "study_programmes": ["mechatronica", "mechanische-vormgeving"]})
    assert "CNC-draaibank is bewaard." in response.text
    resource = await Resource.objects().first()
    assert (resource.price_cents, resource.alternative_cost_cents, resource.buffer_minutes) == (3500, 9000, 15)
    assert await ResourceProgramme.count() == 2
    hours = await OpeningHours.select(OpeningHours.weekday).order_by(OpeningHours.weekday)
    assert [h["weekday"] for h in hours] == [0, 0, 2]
    page = await client.get(f"/resources/{resource.id}")
    assert "€ 35,00 per uur" in page.text.replace("\xa0", " ")
    assert "Mechatronica" in page.text


async def test_a_wrong_form_says_what_and_saves_nothing(client, create_user, owner_org, create_facility):
    org = await _owner_logged_in(client, create_user, owner_org)
    facility = await create_facility(org)
    token = await csrf(client, "/inventory/")
    response = await client.post("/inventory/resources", data={
        **RESOURCE_FORM, "facility": str(facility.id), "_csrf_token": token, "price": "veel",
        "capacity": "-3", "hours_1": "16:00-08:00", "min_duration_minutes": "300", "max_duration_minutes": "60"})
    assert response.status_code == 422
    assert "Niet bewaard" in response.text
    assert "Geef een bedrag in euro, zoals 12,50." in response.text
    assert "Geef een getal van 1 tot 500." in response.text
    assert "het einde voor het begin" in response.text
    assert "De langste reservatie kan niet korter zijn dan de kortste." in response.text
    assert 'value="CNC-draaibank"' in response.text  # what was typed stays
    assert await Resource.count() == 0


async def test_owner_staff_edit_only_their_own_organisation(client, create_user, owner_org, create_facility,
                                                            create_resource):
    other = await owner_org(slug="bouw", name="Bouwcampus")
    theirs = await create_facility(other, name="Bouwhal")
    their_resource = await create_resource(theirs)
    await _owner_logged_in(client, create_user, owner_org)
    token = await csrf(client, "/inventory/")
    assert (await client.get(f"/inventory/facilities/{theirs.id}/edit")).status_code == 403
    response = await client.post(f"/inventory/facilities/{theirs.id}", data={
        "name": "Gekaapt", "postal_code": "2800", "_csrf_token": token})
    assert response.status_code == 403
    assert "Alleen de medewerkers van de eigenaar" in response.text
    response = await client.post(f"/inventory/resources/{their_resource.id}", data={
        **RESOURCE_FORM, "facility": str(theirs.id), "name": "Gekaapt", "_csrf_token": token})
    assert response.status_code == 403
    assert (await client.post(f"/inventory/resources/{their_resource.id}/retire",
                              data={"_csrf_token": token})).status_code == 403
    assert (await client.get(f"/inventory/?owner={other.id}")).status_code == 403
    assert (await Facility.objects().where(Facility.id == theirs.id).first()).name == "Bouwhal"
    assert (await Resource.objects().where(Resource.id == their_resource.id).first()).status == "active"


async def test_teachers_cannot_edit_anything(client, create_user, owner_org, create_facility, create_resource):
    org = await owner_org()
    resource = await create_resource(await create_facility(org))
    await create_user("teacher", email="t@school.be")
    await login(client, "t@school.be")
    token = await csrf(client, "/")
    assert (await client.get("/inventory/")).status_code == 403
    response = await client.post(f"/inventory/resources/{resource.id}/retire", data={"_csrf_token": token})
    assert response.status_code == 403
    assert (await client.get(f"/resources/{resource.id}")).status_code == 200  # reading is fine


async def test_retire_and_reopen(client, create_user, owner_org, create_facility, create_resource):
    org = await _owner_logged_in(client, create_user, owner_org)
    resource = await create_resource(await create_facility(org))
    token = await csrf(client, "/inventory/")
    response = await client.post(f"/inventory/resources/{resource.id}/retire", data={"_csrf_token": token})
    assert "uit gebruik genomen" in response.text
    assert (await Resource.objects().first()).status == "retired"
    actions = [r["action"] for r in await AuditEntry.select(AuditEntry.action)]
    assert "resource.retired" in actions
    response = await client.post(f"/inventory/resources/{resource.id}/reopen", data={"_csrf_token": token})
    assert "kan weer gereserveerd worden" in response.text


async def test_a_retired_resource_is_gone_for_teachers(client, create_user, owner_org, create_facility,
                                                       create_resource, uow_for):
    from accounts.services import system_actor
    from inventory import services

    resource = await create_resource(await create_facility(await owner_org()))
    await services.set_status(uow_for(system_actor()), resource.id, "retired")
    await create_user("teacher", email="t@school.be")
    await login(client, "t@school.be")
    assert (await client.get(f"/resources/{resource.id}")).status_code == 404
    assert "CNC-draaibank" not in (await client.get("/search?q=CNC")).text


async def test_closures_in_brussels_time_and_the_hour_that_does_not_exist(client, create_user, owner_org,
                                                                          create_facility, create_resource):
    org = await _owner_logged_in(client, create_user, owner_org)
    resource = await create_resource(await create_facility(org))
    token = await csrf(client, "/inventory/")
    response = await client.post(f"/inventory/resources/{resource.id}/closures", data={
        "starts_at": "2027-03-28T02:30", "ends_at": "2027-03-28T10:00", "reason": "Onderhoud", "_csrf_token": token})
    assert "bestaat niet in België" in response.text
    assert await Closure.count() == 0
    response = await client.post(f"/inventory/resources/{resource.id}/closures", data={
        "starts_at": "2027-07-01T08:00", "ends_at": "2027-07-01T12:00", "reason": "Onderhoud", "_csrf_token": token})
    assert "De sluiting is toegevoegd." in response.text
    closure = await Closure.objects().first()
    assert closure.starts_at == datetime.fromisoformat("2027-07-01T06:00:00+00:00")  # summer time: UTC+2
    closure_id = re.search(r"/inventory/closures/(\d+)/delete", response.text).group(1)
    response = await client.post(f"/inventory/closures/{closure_id}/delete", data={"_csrf_token": token})
    assert "De sluiting is verwijderd." in response.text and await Closure.count() == 0


async def test_qualifications_granted_and_withdrawn(client, create_user, owner_org):
    from inventory.services import is_qualified
    from inventory.tables import Qualification, QualificationGrant

    org = await _owner_logged_in(client, create_user, owner_org)
    teacher = await create_user("teacher", email="sofie@school.be", first_name="Sofie", last_name="Claes")
    token = await csrf(client, "/inventory/")
    await client.post(f"/inventory/qualifications?owner={org.id}", data={
        "name": "Veiligheidsinstructie lassen", "_csrf_token": token})
    qualification = await Qualification.objects().first()
    response = await client.post(f"/inventory/qualifications/{qualification.id}/grants", data={
        "teacher_email": "niemand@school.be", "_csrf_token": token})
    assert "Geen enkele leerkracht op Werkbank heeft het e-mailadres niemand@school.be." in response.text
    response = await client.post(f"/inventory/qualifications/{qualification.id}/grants", data={
        "teacher_email": "sofie@school.be", "expires_on": "2030-06-30", "_csrf_token": token})
    assert "De kwalificatie is toegekend." in response.text and "Sofie Claes" in response.text
    from datetime import date
    assert await is_qualified(teacher.id, qualification.id, date(2030, 6, 30))
    assert not await is_qualified(teacher.id, qualification.id, date(2030, 7, 1))
    grant = await QualificationGrant.objects().first()
    await client.post(f"/inventory/grants/{grant.id}/withdraw", data={"_csrf_token": token})
    assert not await is_qualified(teacher.id, qualification.id, date(2029, 1, 1))


async def test_names_with_html_are_shown_escaped(client, create_user, owner_org, create_facility, create_resource):
    resource = await create_resource(await create_facility(await owner_org()),
                                     name="<img src=x onerror=alert(1)>", description="<b>vet</b>")
    await create_user("teacher", email="t@school.be")
    await login(client, "t@school.be")
    for page in (f"/resources/{resource.id}", "/search?q=img"):
        text = (await client.get(page)).text
        assert "<img src=x onerror=alert(1)>" not in text
        assert "&lt;img src=x onerror=alert(1)&gt;" in text
