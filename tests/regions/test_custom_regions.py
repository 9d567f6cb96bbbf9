"""Custom regions: a platform admin names a set of municipalities (by name or postal code);
reports filter on it through the postal codes it covers, as on a province. Others may not."""

from __future__ import annotations

import pytest

from core.errors import NotFound
from regions import custom
from regions.tables import CustomRegion
from tests.conftest import csrf, login


def test_municipalities_by_name_or_postal_code():
    chosen, unknown = custom.parse_municipalities("Gent, 9830\nLochristi;  lochristi ; Parijs, 9999")
    assert [custom.municipality(nis).name for nis in chosen] == ["Gent", "Sint-Martens-Latem", "Lochristi"]
    assert unknown == ["Parijs", "9999"]


async def test_province_postal_codes_follow_the_mergers(db):
    east = await custom.postal_codes("VOV")
    assert {"9000", "9830", "2070"} <= east and "2000" not in east  # Beveren (2070) is East Flemish since 2025
    assert "1000" in await custom.postal_codes("VBR")  # Brussels is served by RTC Vlaams-Brabant
    with pytest.raises(NotFound):
        await custom.postal_codes("NOPE")


async def test_an_admin_makes_changes_and_removes_a_region(client, create_user):
    await create_user("platform_admin", email="beheer@werkbank.be")
    await login(client, "beheer@werkbank.be")
    page = await client.get("/regions/")
    assert page.status_code == 200 and "Oost-Vlaanderen (VOV)" in page.text
    token = await csrf(client, "/regions/")
    refused = await client.post("/regions/", data={"_csrf_token": token, "code": "VOV", "name": "",
                                                   "municipalities": "Gent, Atlantis"})
    assert refused.status_code == 422
    assert "code van een provincie" in refused.text and "Atlantis" in refused.text and await CustomRegion.count() == 0
    made = await client.post("/regions/", data={"_csrf_token": token, "code": "zone-gent", "name": "Onderwijszone Gent",
                                                "municipalities": "Gent\nMerelbeke-Melle\n9830"})
    assert made.status_code == 200 and "Onderwijszone Gent is bewaard" in made.text
    region = await CustomRegion.objects().output(load_json=True).first()
    assert region.code == "ZONE-GENT" and len(region.municipalities) == 3
    assert {"9000", "9820", "9090", "9830"} <= await custom.postal_codes("ZONE-GENT")
    assert [c.code for c in await custom.choices()][-1] == "ZONE-GENT"
    edit = await client.get(f"/regions/{region.id}")
    assert "Merelbeke-Melle" in edit.text
    await client.post(f"/regions/{region.id}", data={"_csrf_token": token, "code": "ZONE-GENT", "name": "Zone Gent",
                                                     "municipalities": "Gent"})
    assert await custom.postal_codes("ZONE-GENT") == set(custom.municipality("44021").postal_codes)
    recoded = await client.post(f"/regions/{region.id}", data={"_csrf_token": token, "code": "ZONE-X", "name": "Zone Gent",
                                                               "municipalities": "Gent"})
    assert recoded.status_code == 422 and "houdt haar code" in recoded.text
    gone = await client.post(f"/regions/{region.id}/remove", data={"_csrf_token": token})
    assert "Zone Gent is verwijderd" in gone.text and await CustomRegion.count() == 0


async def test_only_platform_admins(client, create_user, create_org):
    school = await create_org(slug="vti-gent", name="VTI Gent")
    await create_user("school_admin", org=school, email="directie@vti.be")
    await login(client, "directie@vti.be")
    assert (await client.get("/regions/")).status_code == 403
    token = await csrf(client, "/")
    refused = await client.post("/regions/", data={"_csrf_token": token, "code": "X1", "name": "X",
                                                   "municipalities": "Gent"})
    assert refused.status_code == 403 and await CustomRegion.count() == 0
