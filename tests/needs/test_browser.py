"""In a real browser, on the demo data: a school records a need, the owner answers it with an
offer of its welding workshop, and the school books the offered resource from the need's page.
Selectors are ids, names and data attributes; the booking form is booking's own, with its Dutch
labels. The pages are the same HTML on either engine, so it runs on SQLite only (as tests/e2e/)."""

import re
from datetime import datetime, timedelta

import pytest

from core.i18n import BRUSSELS
from tests.e2e.conftest import browser, chromium, db, live_server, screenshot_path  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("database", ["sqlite"], indirect=True)]


async def _login(browser, base, email):  # noqa: F811
    page = await (await browser.new_context(locale="nl-BE", viewport={"width": 1280, "height": 900})).new_page()
    await page.goto(f"{base}/login")
    await page.get_by_label("E-mailadres").fill(email)
    await page.get_by_label("Wachtwoord").fill("werkbank-demo")
    await page.get_by_role("button", name="Aanmelden").click()
    return page


async def test_a_school_records_a_need_the_owner_offers_and_the_school_books(live_server, browser, db):  # noqa: F811
    teacher = await _login(browser, live_server, "leerkracht@demo.werkbank.be")
    await teacher.goto(f"{live_server}/needs")
    form = teacher.locator('form[data-form="record-need"]')
    await form.locator("#f-category").select_option("welding")
    await form.locator("#f-study_programme").select_option("lassen-constructie")
    await form.locator("#f-pupils").fill("10")
    await form.locator("#f-days_per_year").fill("4")
    await form.locator("#f-reason").select_option("outdated")
    await form.locator("#f-equipment").fill("MIG/MAG-lasposten")
    await form.locator('button[type="submit"]').click()
    await teacher.wait_for_url(re.compile(r"/needs/\d+$"))
    need_url = teacher.url
    assert await teacher.locator("[data-match]").count() >= 1  # suggestions with why
    await teacher.screenshot(path=str(screenshot_path(f"need-recorded-{db.kind}")), full_page=True)

    owner = await _login(browser, live_server, "eigenaar@demo.werkbank.be")
    await owner.goto(f"{live_server}/needs")
    need_id = need_url.rsplit("/", 1)[1]
    assert await owner.locator(f'[data-need="{need_id}"]').count() == 1
    assert await owner.locator(f'[data-suggestion-need="{need_id}"]').count() == 1
    await owner.screenshot(path=str(screenshot_path(f"needs-owner-{db.kind}")), full_page=True)
    await owner.goto(need_url)
    answer = owner.locator('form[data-form="answer-need"]')
    options = await answer.locator("#f-resource option").all_inner_texts()
    workshop = next(text for text in options if "Lasatelier" in text)
    await answer.locator("#f-resource").select_option(label=workshop)
    await answer.locator("#f-message").fill("We kunnen ons lasatelier op woensdagnamiddag openen.")
    await answer.locator('button[type="submit"]').click()
    await owner.locator("[data-offer]").first.wait_for()
    assert "woensdagnamiddag" in await owner.locator("[data-offer]").first.inner_text()

    await teacher.goto(need_url)
    assert await teacher.locator('[data-need-status="answered"]').count() == 1
    await teacher.locator("a.book-offer").first.click()
    await teacher.wait_for_url(re.compile(r"/resources/\d+"))
    day = datetime.now(BRUSSELS).date() + timedelta(weeks=8)
    day += timedelta(days=(2 - day.weekday()) % 7)  # a Wednesday eight weeks ahead: past the demo's bookings
    await teacher.get_by_label("Dag", exact=True).fill(day.isoformat())
    await teacher.get_by_label("Van", exact=True).fill("13:00")
    await teacher.get_by_label("Tot", exact=True).fill("15:00")
    await teacher.get_by_label("Leerlingen").fill("10")
    await teacher.get_by_label("Doel").fill("Lassen op de aangeboden lasposten")
    await teacher.get_by_role("button", name="Aanvraag versturen").click()
    await teacher.wait_for_url(re.compile(r"/bookings/\d+"))
    assert "Je aanvraag is verstuurd." in await teacher.content()
    await teacher.screenshot(path=str(screenshot_path(f"need-offer-booked-{db.kind}")), full_page=True)
