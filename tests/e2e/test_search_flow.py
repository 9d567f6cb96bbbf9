import pytest

from tests.e2e.conftest import screenshot_path

pytestmark = pytest.mark.e2e


async def test_a_teacher_finds_a_welding_workshop_near_school_and_opens_it(live_server, page, db):
    await page.goto(f"{live_server}/login")
    await page.get_by_label("E-mailadres").fill("leerkracht@demo.werkbank.be")
    await page.get_by_label("Wachtwoord").fill("werkbank-demo")
    await page.get_by_role("button", name="Aanmelden").click()
    await page.get_by_role("link", name="Zoeken").click()
    # htmx (a deferred script, after Leaflet's) wires the filters up only once the page has loaded;
    # a filter changed before that would change nothing.
    await page.wait_for_url("**/search", wait_until="load")
    assert "afstanden vanaf Sint-Lucasinstituut voor Techniek" in await page.content()

    # Filters update the results in place (htmx) and the address bar follows.
    await page.get_by_label("Categorie").select_option("welding")
    await page.wait_for_url("**/search?*category=welding*")
    await page.get_by_label("Binnen (km)").fill("30")
    await page.get_by_label("Binnen (km)").dispatch_event("change")
    await page.wait_for_url("**radius_km=30*")
    results = page.locator("ol.results h3")
    await results.first.wait_for()
    names = await results.all_inner_texts()
    assert names and all("las" in name.lower() for name in names)
    distances = [float(d.replace(" km", "").replace(",", ".")) for d in await page.locator(".distance").all_inner_texts()]
    assert distances == sorted(distances) and max(distances) <= 30
    await page.screenshot(path=str(screenshot_path(f"search-welding-{db.kind}")), full_page=True)

    await results.first.locator("a").click()
    assert await page.get_by_role("heading", level=1).inner_text() == names[0]
    assert "Veiligheidsinstructie lassen" in await page.content()
    await page.get_by_role("link", name="volgende week →").click()
    await page.wait_for_url("**week=*")
    await page.screenshot(path=str(screenshot_path(f"resource-page-{db.kind}")), full_page=True)


async def test_an_owner_imports_an_inventory_file_in_the_browser(live_server, page, db, tmp_path):
    await page.goto(f"{live_server}/login")
    await page.get_by_label("E-mailadres").fill("eigenaar@demo.werkbank.be")
    await page.get_by_label("Wachtwoord").fill("werkbank-demo")
    await page.get_by_role("button", name="Aanmelden").click()
    await page.get_by_role("link", name="Mijn aanbod").click()
    async with page.expect_download() as download_info:
        await page.get_by_role("button", name="CSV exporteren").click()
    exported = tmp_path / "export.csv"
    await (await download_info.value).save_as(exported)
    await page.get_by_role("button", name="CSV importeren").click()
    await page.set_input_files("input[name=file]", str(exported))
    await page.get_by_role("button", name="Importeren").click()
    report = await page.locator("#report").inner_text()
    assert "Nieuwe infrastructuur: 0" in report and "Geweigerde regels: 0" in report
    await page.screenshot(path=str(screenshot_path(f"import-report-{db.kind}")), full_page=True)
