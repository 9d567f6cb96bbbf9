"""The everyday journeys in a real browser: a teacher books by clicking a free half hour of the
week grid and then moves the booking; the same with the keyboard alone; an owner works from the
planning board; a school admin invites a teacher who sets a password and logs in. Screenshots go
to test-artifacts/."""

import re
from datetime import datetime, timedelta

import pytest
from playwright.async_api import expect

from core.i18n import BRUSSELS
from tests.e2e.conftest import screenshot_path

# Journeys through the pages: the same HTML on either engine (the page and service tests hold the
# engines together), so they run on SQLite only to keep the suite fast.
pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("database", ["sqlite"], indirect=True)]


async def _login(page, base, email, password="werkbank-demo"):
    await page.goto(f"{base}/login")
    await page.get_by_label("E-mailadres").fill(email)
    await page.get_by_label("Wachtwoord").fill(password)
    await page.get_by_role("button", name="Aanmelden").click()


def _weekday_ahead(weeks: int, weekday: int):
    day = datetime.now(BRUSSELS).date() + timedelta(weeks=weeks)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


async def _new_page(browser, width=1280, height=900):
    context = await browser.new_context(locale="nl-BE", viewport={"width": width, "height": height})
    return await context.new_page()


async def _open_lasatelier_week(page, base, day):
    await page.goto(f"{base}/search?q=Lasatelier")
    await page.locator("ol.results h3 a").first.click()
    await page.locator("#week-date").fill(day.isoformat())
    await page.get_by_role("button", name="Tonen").click()
    await page.locator(f'td[data-at="{day.isoformat()}T09:00"]').wait_for()


async def test_a_teacher_books_by_clicking_the_week_grid_then_moves_the_booking(live_server, browser, db):
    page = await _new_page(browser)
    await _login(page, live_server, "leerkracht@demo.werkbank.be")
    wednesday, thursday = _weekday_ahead(8, 2), _weekday_ahead(8, 3)
    await _open_lasatelier_week(page, live_server, wednesday)
    assert "week=" in page.url  # htmx pushed the week into the address
    await page.locator(f'td[data-at="{wednesday.isoformat()}T13:00"] a').click()
    await expect(page.locator("#book-form input[name=start_time]")).to_have_value("13:00")
    form = page.locator("#book-form")
    assert await form.locator("input[name=day]").input_value() == wednesday.isoformat()
    end = await form.locator("input[name=end_time]").input_value()
    assert end > "13:00"
    assert "Je koos" in await form.inner_text()
    await expect(form.get_by_label("Leerlingen")).to_be_focused()  # the next thing to fill in
    await page.screenshot(path=str(screenshot_path(f"grid-picked-{db.kind}")), full_page=True)
    await form.get_by_label("Leerlingen").fill("8")
    await form.get_by_role("button", name="Aanvraag versturen").click()
    await page.wait_for_url(re.compile(r"/bookings/\d+$"))
    booking_url = page.url
    assert "Je aanvraag is verstuurd." in await page.content()

    await page.get_by_role("button", name="Naar een andere tijd verplaatsen…").click()
    await page.locator(f'td[data-at="{thursday.isoformat()}T09:00"] a').wait_for()
    own = page.locator(f'td[data-at="{wednesday.isoformat()}T13:00"]')
    assert "free" in (await own.get_attribute("class"))  # its own time does not stand in the way
    await page.locator(f'td[data-at="{thursday.isoformat()}T09:00"] a').click()
    await expect(page.locator("#move-form input[name=start_time]")).to_have_value("09:00")
    await page.screenshot(path=str(screenshot_path(f"move-picked-{db.kind}")), full_page=True)
    await page.get_by_role("button", name="Naar deze tijd verplaatsen").click()
    await page.wait_for_url(booking_url)
    text = await page.content()
    assert "De reservatie is verplaatst naar" in text and "verplaatst:" in text
    assert await page.locator("#status").inner_text() == "aangevraagd"
    await page.screenshot(path=str(screenshot_path(f"booking-moved-{db.kind}")), full_page=True)


async def test_the_week_grid_books_with_the_keyboard_alone(live_server, browser, db):
    page = await _new_page(browser)
    await _login(page, live_server, "leerkracht@demo.werkbank.be")
    tuesday = _weekday_ahead(9, 1)
    await _open_lasatelier_week(page, live_server, tuesday)
    await page.locator("#week-date").focus()  # from the week navigation, on with Tab only
    for _ in range(400):
        await page.keyboard.press("Tab")
        at = await page.evaluate(
            "document.activeElement.closest('td.cell.free') && document.activeElement.closest('td').dataset.at")
        if at and at.startswith(tuesday.isoformat()):
            break
    else:
        pytest.fail("Tab never reached a free half hour of that Tuesday")
    await page.keyboard.press("Enter")
    await expect(page.locator("#book-form input[name=group_size]")).to_be_focused()
    assert await page.locator("#book-form input[name=start_time]").input_value() == at[11:]
    await page.keyboard.type("6")
    await page.keyboard.press("Enter")  # submits the form
    await page.wait_for_url(re.compile(r"/bookings/\d+$"))
    assert "Je aanvraag is verstuurd." in await page.content()


async def test_an_owner_works_from_the_planning_board(live_server, browser, db):
    page = await _new_page(browser)
    await _login(page, live_server, "eigenaar@demo.werkbank.be")
    await page.goto(f"{live_server}/inventory/")
    await page.get_by_role("link", name="Planning").first.click()
    await page.locator("table.board").wait_for()
    # Find a week with bookings: the demo books the coming weeks.
    for _ in range(6):
        if await page.locator("a.board-item.booking").count():
            break
        await page.get_by_role("link", name="volgende week →").click()
        await page.wait_for_load_state("networkidle")
    items = page.locator("a.board-item.booking")
    assert await items.count() > 0
    label = await items.first.inner_text()
    assert re.match(r"\d\d:\d\d–\d\d:\d\d \S", label)  # time and school
    await page.screenshot(path=str(screenshot_path(f"board-owner-week-{db.kind}")), full_page=True)
    day_link = page.locator("table.board thead th a").nth(2)
    await day_link.click()
    await page.locator("table.board-day").wait_for()
    await page.screenshot(path=str(screenshot_path(f"board-owner-day-{db.kind}")), full_page=True)
    await page.go_back()
    await page.locator("a.board-item.booking").first.click()
    await page.wait_for_url(re.compile(r"/bookings/\d+$"))
    assert await page.locator("#status").count() == 1


async def test_a_school_admin_invites_a_teacher_who_sets_a_password_and_logs_in(live_server, browser, db):
    from core.tables import OutboxMessage

    admin = await _new_page(browser)
    await _login(admin, live_server, "directie@demo.werkbank.be")
    await admin.goto(f"{live_server}/people/")
    await admin.get_by_label("E-mailadres").fill("nieuwe.collega@sint-lucas.be")
    await admin.get_by_label("Voornaam").fill("Nora")
    await admin.get_by_label("Achternaam").fill("Peeters")
    await admin.get_by_role("button", name="Uitnodiging versturen").click()
    assert "nieuwe.collega@sint-lucas.be" in await admin.content()
    await admin.screenshot(path=str(screenshot_path(f"people-invited-{db.kind}")), full_page=True)
    mail = await OutboxMessage.objects().where(
        OutboxMessage.to_address == "nieuwe.collega@sint-lucas.be").output(load_json=True).first()
    link = mail.context["link"]
    path = link[link.index("/invitations/"):]

    newcomer = await _new_page(browser, 390, 844)
    await newcomer.goto(f"{live_server}{path}")
    await newcomer.get_by_label("Nieuw wachtwoord").fill("een-goed-wachtwoord-2026")
    await newcomer.get_by_label("Herhaal het nieuwe wachtwoord").fill("een-goed-wachtwoord-2026")
    await newcomer.get_by_role("button", name="Aansluiten").click()
    await newcomer.screenshot(path=str(screenshot_path(f"invitation-accepted-{db.kind}")), full_page=True)
    # The link is single-use; the new teacher logs in with the password they chose.
    again = await (await newcomer.context.new_page()).goto(f"{live_server}{path}")
    assert again.status in (404, 410) or "niet meer geldig" in (await again.text())
    fresh = await _new_page(browser)
    await _login(fresh, live_server, "nieuwe.collega@sint-lucas.be", "een-goed-wachtwoord-2026")
    assert "/login" not in fresh.url
    assert "Nora" in await fresh.content()
