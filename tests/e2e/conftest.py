"""A real Werkbank server (`werkbank serve` in a subprocess) on this test's own copy of the demo
data (tests/demo_server.py), and Debian's chromium driven by Playwright: one chromium for the
session, in which every test works in its own browser contexts, closed after it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.demo_server import demo_copy, demo_server

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
async def db(database, demo_template, tmp_path):
    """Here: the demo data in a database of this test's own (what `werkbank demo` makes in an
    empty database), bound to every table; `live_server` serves it."""
    from core import db as core_db

    async with demo_copy(demo_template, tmp_path) as copy:
        core_db.bind_engine(copy.engine)
        try:
            yield copy
        finally:
            core_db.bind_engine(database.engine)


@pytest.fixture
def live_server(db, tmp_path):
    with demo_server(db.url, tmp_path) as url:
        yield url


@pytest.fixture(scope="session")
async def chromium():
    """One chromium for the session."""
    path = chromium_path()
    if path is None:
        pytest.skip("chromium is not installed (make test installs Debian's chromium with apt-get)")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def browser(chromium):
    """The session's chromium; the contexts a test opens (its cookies, storage, pages) are closed
    after it."""
    assert not chromium.contexts, "a browser context was left open by an earlier test"
    try:
        yield chromium
    finally:
        for context in list(chromium.contexts):
            await context.close()


@pytest.fixture
async def page(browser):
    context = await browser.new_context(locale="nl-BE", viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    yield page
    await context.close()


def screenshot_path(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / f"{name}.png"


from tests.calendars.conftest import radicale  # noqa: E402, F401  (a real CalDAV server for calendar journeys)
