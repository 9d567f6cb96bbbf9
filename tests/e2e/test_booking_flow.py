import re
from datetime import datetime, timedelta

import pytest

from core.i18n import BRUSSELS
from tests.e2e.conftest import screenshot_path

pytestmark = pytest.mark.e2e


async def _login(page, base, email):
    await page.goto(f"{base}/login")
    await page.get_by_label("E-mailadres").fill(email)
    await page.get_by_label("Wachtwoord").fill("werkbank-demo")
    await page.get_by_role("button", name="Aanmelden").click()


async def test_a_teacher_requests_and_the_owner_approves_in_place(live_server, browser, db):
    teacher = await (await browser.new_context(locale="nl-BE", viewport={"width": 1280, "height": 900})).new_page()
    await _login(teacher, live_server, "leerkracht@demo.werkbank.be")
    await teacher.goto(f"{live_server}/search?q=Lasatelier")
    await teacher.locator("ol.results h3 a").first.click()
    resource_url = teacher.url
    # A Wednesday seven weeks ahead: past the demo's bookings, within the rules.
    day = datetime.now(BRUSSELS).date() + timedelta(weeks=7)
    day += timedelta(days=(2 - day.weekday()) % 7)
    await teacher.get_by_label("Dag", exact=True).fill(day.isoformat())
    await teacher.get_by_label("Van", exact=True).fill("13:00")
    await teacher.get_by_label("Tot", exact=True).fill("15:00")
    await teacher.get_by_label("Leerlingen").fill("8")
    await teacher.get_by_label("Doel").fill("Oefenen voor de GIP")
    await teacher.get_by_role("button", name="Aanvraag versturen").click()
    assert "Je aanvraag is verstuurd." in await teacher.content()
    booking_url = teacher.url
    booking_id = re.search(r"/bookings/(\d+)", booking_url).group(1)
    await teacher.screenshot(path=str(screenshot_path(f"booking-requested-{db.kind}")), full_page=True)

    owner = await (await browser.new_context(locale="nl-BE", viewport={"width": 1280, "height": 900})).new_page()
    await _login(owner, live_server, "eigenaar@demo.werkbank.be")
    await owner.get_by_role("navigation").get_by_role("link", name="Aanvragen", exact=True).click()
    row = owner.locator(f"#request-{booking_id}")
    await row.get_by_role("button", name="Goedkeuren").click()
    await owner.locator(f"#request-{booking_id} .status").wait_for()
    assert "bevestigd" in await owner.locator(f"#request-{booking_id}").inner_text()
    assert owner.url.endswith("/bookings/inbox")  # approved in place
    await owner.screenshot(path=str(screenshot_path(f"owner-inbox-{db.kind}")), full_page=True)

    await teacher.goto(booking_url)
    assert await teacher.locator("#status").inner_text() == "bevestigd"
    await teacher.goto(resource_url + f"?week={day.isoformat()}")
    await teacher.screenshot(path=str(screenshot_path(f"resource-week-booked-{db.kind}")), full_page=True)
