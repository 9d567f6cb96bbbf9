"""A school admin records the school bill per study programme and school year; others cannot;
bad amounts get a message per field and save nothing."""

from __future__ import annotations

from datetime import date

import pytest

from accounts.school_bill import school_year_of
from accounts.tables import SchoolBill
from tests.conftest import csrf, login


@pytest.mark.parametrize("day, year", [(date(2026, 8, 31), 2025), (date(2026, 9, 1), 2026), (date(2027, 1, 15), 2026)])
def test_the_school_year_starts_on_the_first_of_september(day, year):
    assert school_year_of(day) == year


@pytest.fixture
async def school_people(create_org, create_user):
    school = await create_org(slug="vti-gent", name="VTI Gent")
    other = await create_org(slug="go-aalst", name="GO! Aalst", postal_code="9300")
    await create_user("school_admin", org=school, email="directie@vti.be")
    await create_user("teacher", org=school, email="sofie@vti.be")
    await create_user("school_admin", org=other, email="directie@go.be")
    return school, other


def this_school_year() -> int:
    from datetime import datetime

    from core.i18n import BRUSSELS

    return school_year_of(datetime.now(BRUSSELS).date())


async def test_a_school_admin_records_the_bill_per_programme(client, school_people):
    school, _other = school_people
    this = this_school_year()
    await login(client, "directie@vti.be")
    home = await client.get("/")
    assert f'href="/school/bill/?school={school.id}"' in home.text
    page = await client.get(f"/school/bill/?school={school.id}&year={this}")
    assert page.status_code == 200 and "Lassen-constructie" in page.text and f"{this}-{this + 1}" in page.text
    token = await csrf(client, f"/school/bill/?school={school.id}&year={this}")
    saved = await client.post(f"/school/bill/?school={school.id}&year={this}", data={
        "_csrf_token": token, "bill_lassen-constructie": "185,50", "bill_koelinstallaties": "€ 1.210,00",
        "bill_elektrische-installaties": ""})
    assert saved.status_code == 200 and "is bewaard" in saved.text
    rows = await SchoolBill.select(SchoolBill.programme, SchoolBill.school_year, SchoolBill.cents_per_pupil).order_by(
        SchoolBill.programme)
    assert rows == [{"programme": "koelinstallaties", "school_year": this, "cents_per_pupil": 121000},
                    {"programme": "lassen-constructie", "school_year": this, "cents_per_pupil": 18550}]
    assert 'value="185,50"' in saved.text
    # Emptying a field removes it; another year stays apart.
    await client.post(f"/school/bill/?school={school.id}&year={this - 1}", data={"_csrf_token": token,
                                                                           "bill_lassen-constructie": "170"})
    await client.post(f"/school/bill/?school={school.id}&year={this}", data={"_csrf_token": token,
                                                                           "bill_lassen-constructie": "185,50"})
    rows = await SchoolBill.select(SchoolBill.programme, SchoolBill.school_year).order_by(SchoolBill.school_year)
    assert [(r["school_year"], r["programme"]) for r in rows] == [(this - 1, "lassen-constructie"),
                                                                   (this, "lassen-constructie")]
    # A year that is not offered (a crafted or stale form) is refused, not saved into this year.
    far = await client.post(f"/school/bill/?school={school.id}&year={this - 9}", data={
        "_csrf_token": token, "bill_lassen-constructie": "1"})
    assert far.status_code == 422 and await SchoolBill.count() == 2


async def test_bad_amounts_save_nothing(client, school_people):
    school, _other = school_people
    await login(client, "directie@vti.be")
    token = await csrf(client, f"/school/bill/?school={school.id}")
    for bad in ("abc", "-5", "0", "12,345", "20000", "1e400", "∞", "1.210"):
        answer = await client.post(f"/school/bill/?school={school.id}", data={
            "_csrf_token": token, "bill_lassen-constructie": bad, "bill_koelinstallaties": "100"})
        assert answer.status_code == 422, bad
        assert 'aria-invalid="true"' in answer.text and f'value="{bad}"' in answer.text
    assert await SchoolBill.count() == 0


async def test_only_the_schools_admin_sees_and_records_it(client, school_people):
    school, other = school_people
    await login(client, "sofie@vti.be")  # a teacher
    assert (await client.get(f"/school/bill/?school={school.id}")).status_code == 404
    assert (await client.get("/school/bill/")).status_code == 403
    await client.post("/logout", data={"_csrf_token": await csrf(client, "/")})
    await login(client, "directie@go.be")  # another school's admin
    assert (await client.get(f"/school/bill/?school={school.id}")).status_code == 404
    token = await csrf(client, "/school/bill/")
    refused = await client.post(f"/school/bill/?school={school.id}", data={"_csrf_token": token,
                                                                           "bill_lassen-constructie": "1"})
    assert refused.status_code == 404 and await SchoolBill.count() == 0
    own = await client.get("/school/bill/")  # without ?school: their own
    assert own.status_code == 200 and "GO! Aalst" in own.text
