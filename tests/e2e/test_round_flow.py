"""An allocation round in a real browser, on the demo's rounds of RTC Oost-Vlaanderen: a teacher
registers while the window is open (a refused form comes back with its message and what was
typed, through htmx, then the registration is listed and the page says it reserves nothing);
the RTC allocates the closed round with a seed, takes a day away by hand and publishes it.
Screenshots go to test-artifacts/."""

import re

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import screenshot_path

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("database", ["sqlite"], indirect=True)]


async def _login(browser, base, email, password="werkbank-demo"):
    context = await browser.new_context(locale="nl-BE", viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(f"{base}/login")
    await page.get_by_label("E-mailadres").fill(email)
    await page.get_by_label("Wachtwoord").fill(password)
    await page.get_by_role("button", name="Aanmelden").click()
    await page.wait_for_url(f"{base}/")
    return page


async def test_a_teacher_registers_and_the_rtc_allocates_adjusts_and_publishes(live_server, browser, db):
    page = await _login(browser, live_server, "leerkracht@demo.werkbank.be")
    await page.get_by_role("link", name="Toewijzing").first.click()
    await page.get_by_role("link", name="10-dagenregeling lassen, voorjaar").click()
    await expect(page.locator("[data-state]")).to_have_text("inschrijving open")
    assert "Inschrijven reserveert niets" in await page.content()
    form = page.locator("#register form")
    await form.get_by_label("Klasgroep").fill("6 Lassen B")
    await form.get_by_label("Gewenste dagen").fill("150")  # more than the period has
    await form.get_by_label("Leerlingen").fill("6")
    await form.get_by_label("Schooljaar").select_option("6")
    await form.get_by_label("Woensdag").check()
    await form.get_by_role("button", name="Inschrijven").click()
    await expect(page.locator("#e-days")).to_contain_text("schooldagen")  # swapped in by htmx
    assert await form.get_by_label("Klasgroep").input_value() == "6 Lassen B"
    assert await form.get_by_label("Woensdag").is_checked()
    await form.get_by_label("Gewenste dagen").fill("3")
    await form.get_by_role("button", name="Inschrijven").click()
    await expect(page.locator(".flash-success")).to_contain_text("Dit reserveert nog niets")
    mine = page.locator("#mine li[data-registration]")
    await expect(mine.filter(has_text="6 Lassen B")).to_contain_text("3 dagen")
    await page.screenshot(path=str(screenshot_path(f"round-registered-{db.kind}")), full_page=True)

    rtc = await _login(browser, live_server, "rtc@demo.werkbank.be")
    await rtc.get_by_role("link", name="CNC-dagen, eerste trimester").click()  # from the home page panel
    await rtc.get_by_label("Startwaarde (leeg: een nieuwe loting)").fill("2027")
    await rtc.get_by_role("button", name="Toewijzen").click()
    await expect(rtc.locator("[data-state]")).to_have_text("toegewezen, nog niet gepubliceerd")
    assert "Startwaarde van de loting: 2027" in await rtc.content()
    days = rtc.locator("li[data-allocation]")
    before = await days.count()
    assert before > 0
    await days.first.get_by_role("button", name="Weghalen").click()
    await expect(rtc.locator(".flash-success")).to_contain_text("De dag is weggehaald.")
    await expect(rtc.locator("li[data-allocation]")).to_have_count(before - 1)
    await rtc.get_by_role("button", name="Publiceren: de dagen reserveren en de scholen mailen").click()
    await expect(rtc.locator("[data-state]")).to_have_text("gepubliceerd")
    await expect(rtc.locator(".flash-success")).to_contain_text(re.compile(rf"{before - 1} dagen gereserveerd"))
    await expect(rtc.locator("li[data-allocation] a", has_text="reservatie")).to_have_count(before - 1)
    await rtc.screenshot(path=str(screenshot_path(f"round-published-{db.kind}")), full_page=True)
