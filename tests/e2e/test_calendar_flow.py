"""Calendar journeys in a real browser: an owner links a CalDAV calendar (a real Radicale) and sees
its state after the sync; a teacher creates a feed, copies its address and the address serves
the calendar."""

import re
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from tests.e2e.conftest import screenshot_path

# Journeys through the pages: the same HTML on either engine (the page and service tests hold the
# engines together), so they run on SQLite only to keep the suite fast.
pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("database", ["sqlite"], indirect=True)]


async def _login(page, base, email):
    await page.goto(f"{base}/login")
    await page.get_by_label("E-mailadres").fill(email)
    await page.get_by_label("Wachtwoord").fill("werkbank-demo")
    await page.get_by_role("button", name="Aanmelden").click()


async def _sync(db, data_dir) -> None:
    """What the worker does every few minutes (the live server runs without one), with the
    server's own secret key (the CalDAV password is encrypted with it)."""
    from app import build_werkbank
    from calendars import sync
    from core.settings import Settings

    secret = (data_dir / "secret_key").read_text().strip()
    wb = build_werkbank(Settings(environment="test", database_url=db.url, secret_key=secret,
                                 calendar_allow_private=True, in_process_worker=False), db.engine)
    await sync.sync_due_job(wb.unit_of_work(), 10)


async def test_an_owner_links_a_calendar_and_sees_its_state(live_server, browser, db, radicale, tmp_path):
    calendar_url = radicale.make_calendar(displayname="Onderhoudsplanning")
    start = datetime.now(timezone.utc).replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(days=9)
    event = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//NL\r\nBEGIN:VEVENT\r\nUID:onderhoud-1\r\n"
             f"DTSTAMP:{start:%Y%m%dT%H%M%SZ}\r\nDTSTART:{start:%Y%m%dT%H%M%SZ}\r\n"
             f"DTEND:{start + timedelta(hours=2):%Y%m%dT%H%M%SZ}\r\nSUMMARY:Onderhoud\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    assert radicale.client.put(f"{calendar_url}onderhoud-1.ics", auth=radicale.auth, content=event.encode(),
                               headers={"Content-Type": "text/calendar"}).status_code == 201
    page = await (await browser.new_context(locale="nl-BE", viewport={"width": 1280, "height": 900})).new_page()
    await _login(page, live_server, "eigenaar@demo.werkbank.be")
    await page.goto(f"{live_server}/inventory/")
    await page.get_by_role("button", name="Gekoppelde agenda's").click()
    await page.get_by_label("Blokkeert de tijd van").select_option(index=1)  # the first site, as before
    await page.get_by_label("Een CalDAV-agenda").check()
    await page.get_by_label("Adres", exact=True).fill(calendar_url)
    await page.get_by_label("Gebruikersnaam (als de agenda erom vraagt)").fill(radicale.user)
    await page.get_by_label("Wachtwoord (als de agenda erom vraagt)").fill(radicale.password)
    await page.get_by_role("button", name="Agenda koppelen").click()
    assert "is gekoppeld" in await page.content()
    assert "Wacht op de eerste keer inlezen" in await page.content()
    await _sync(db, tmp_path)
    await page.reload()
    state = await page.locator("article.linked-calendar").first.inner_text()
    assert "Onderhoudsplanning" in state and re.search(r"Ingelezen .*: 1 bezette periode blokkeert tijd", state), state
    assert radicale.password not in await page.content()
    await page.screenshot(path=str(screenshot_path(f"linked-calendar-{db.kind}")), full_page=True)


async def test_a_teacher_creates_a_feed_and_copies_its_address(live_server, browser, db):
    context = await browser.new_context(locale="nl-BE", viewport={"width": 390, "height": 844})
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    page = await context.new_page()
    await _login(page, live_server, "leerkracht@demo.werkbank.be")
    await page.get_by_text("Menu").click()
    await page.get_by_role("link", name="In je agenda").click()
    await page.get_by_label("Welke reservaties").select_option(label="Mijn reservaties")
    await page.get_by_role("button", name="Feed aanmaken").click()
    address = await page.locator("#feed-url").input_value()
    assert re.fullmatch(re.escape(live_server) + r"/ical/[A-Za-z0-9_-]{40,}\.ics", address)
    await page.get_by_role("button", name="Kopiëren").click()
    await page.get_by_role("button", name="Gekopieerd").wait_for()
    assert await page.evaluate("navigator.clipboard.readText()") == address
    await page.screenshot(path=str(screenshot_path(f"feed-created-{db.kind}")), full_page=True)
    feed = httpx.get(address, timeout=10)
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    assert b"BEGIN:VCALENDAR" in feed.content and b"BEGIN:VTIMEZONE" in feed.content
