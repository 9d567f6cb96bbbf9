"""A real Werkbank server (`werkbank serve` in a subprocess, with the demo data) on the test's
database, and Debian's chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.postgres import free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@contextmanager
def demo_server(database_url: str, data_dir: Path):
    """`werkbank demo` into the database, then `werkbank serve` (no worker) on a free port of
    127.0.0.1 until it answers; yields its URL and stops it afterwards."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "WERKBANK_DATABASE_URL": database_url,
        "WERKBANK_DATA_DIR": str(data_dir),
        "WERKBANK_ENV": "development",
        "WERKBANK_IN_PROCESS_WORKER": "0",
        "WERKBANK_CALENDAR_ALLOW_PRIVATE": "1",  # the tests' Radicale listens on loopback
        "WERKBANK_BASE_URL": url,  # links in mails and feed addresses
    }
    werkbank = str(Path(sys.executable).parent / "werkbank")
    loaded = subprocess.run([werkbank, "demo"], env=env, capture_output=True, cwd=ROOT, text=True)
    if loaded.returncode != 0:
        raise RuntimeError(f"werkbank demo failed ({loaded.returncode}):\n{loaded.stdout}\n{loaded.stderr}")
    log_path = data_dir / "server.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([werkbank, "serve", "--port", str(port), "--no-worker"], env=env, cwd=ROOT,
                                   stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"werkbank serve did not start: {log_path.read_text()}")
            time.sleep(0.2)
        try:
            yield url
        finally:
            process.terminate()
            process.wait(10)


@pytest.fixture
def live_server(db, tmp_path):
    with demo_server(db.url, tmp_path) as url:
        yield url


@pytest.fixture
async def browser():
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
async def page(browser):
    context = await browser.new_context(locale="nl-BE", viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    yield page
    await context.close()


def screenshot_path(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / f"{name}.png"


from tests.calendars.conftest import radicale  # noqa: E402, F401  (a real CalDAV server for calendar journeys)
