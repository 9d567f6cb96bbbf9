import pytest

from tests.e2e.conftest import screenshot_path

pytestmark = pytest.mark.e2e


async def test_a_teacher_logs_in_and_reaches_the_dutch_home_page(live_server, page, db):
    await page.goto(f"{live_server}/")
    await page.get_by_role("link", name="Aanmelden").first.click()
    await page.get_by_label("E-mailadres").fill("leerkracht@demo.werkbank.be")
    await page.get_by_label("Wachtwoord").fill("werkbank-demo")
    await page.get_by_role("button", name="Aanmelden").click()
    heading = page.get_by_role("heading", level=1)
    assert await heading.inner_text() == "Welkom, Sofie Claes"
    assert "Sint-Lucasinstituut voor Techniek" in await page.content()
    assert "RTC Oost-Vlaanderen" in await page.content()
    await page.screenshot(path=str(screenshot_path(f"teacher-home-{db.kind}")), full_page=True)

    await page.get_by_role("button", name="English").click()
    assert await page.get_by_role("heading", level=1).inner_text() == "Welcome, Sofie Claes"
    await page.get_by_role("button", name="Nederlands").click()

    await page.get_by_role("button", name="Afmelden").click()
    assert "Je bent afgemeld." in await page.content()
    await page.goto(f"{live_server}/account")
    assert page.url.endswith("/login?next=/account")


async def test_an_api_token_made_in_the_browser_with_htmx(live_server, page, db):
    import httpx

    await page.goto(f"{live_server}/login")
    await page.get_by_label("E-mailadres").fill("eigenaar@demo.werkbank.be")
    await page.get_by_label("Wachtwoord").fill("werkbank-demo")
    await page.get_by_role("button", name="Aanmelden").click()
    await page.get_by_role("link", name="Mijn account").click()
    await page.get_by_label("Naam van het token").fill("agenda-koppeling")
    await page.get_by_role("button", name="Token aanmaken").click()
    token = await page.locator("#new-token").inner_text()
    assert page.url.endswith("/account")  # swapped in place by htmx, no page load
    await page.screenshot(path=str(screenshot_path(f"account-token-{db.kind}")), full_page=True)
    me = httpx.get(f"{live_server}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["roles"][0]["organisation"] == "metaalcampus-gent"
