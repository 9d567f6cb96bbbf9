"""A real Werkbank server (`werkbank serve` in a subprocess) on a copy of the demo data, for the
browser tests (tests/e2e/) and the API contract test.

`werkbank demo` runs once per engine and session, into a template database (the `demo_template`
fixture of tests/conftest.py); a test gets its own copy of it (`demo_copy`: SQLite, a copy of the
file; PostgreSQL, CREATE DATABASE ... TEMPLATE), exactly what `werkbank demo` makes in an empty
database, without paying for the demo load each time; `demo_server` serves such a copy."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from contextlib import asynccontextmanager, closing, contextmanager
from dataclasses import dataclass
from itertools import count
from pathlib import Path

import asyncpg
import httpx

from tests.conftest import TestDatabase, _with_database
from tests.postgres import free_port

ROOT = Path(__file__).resolve().parents[1]
# The `werkbank` processes of the tests hash new passwords with fewer PBKDF2 rounds (the demo
# logins and any password set in a journey); production refuses this variable.
TEST_PASSWORD_ROUNDS = "1000"


def _werkbank() -> str:
    return str(Path(sys.executable).parent / "werkbank")


def werkbank_env(database_url: str, data_dir: Path, base_url: str | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "WERKBANK_DATABASE_URL": database_url,
        "WERKBANK_DATA_DIR": str(data_dir),
        "WERKBANK_ENV": "development",
        "WERKBANK_IN_PROCESS_WORKER": "0",
        "WERKBANK_CALENDAR_ALLOW_PRIVATE": "1",  # the tests' Radicale listens on loopback
        "WERKBANK_TEST_PASSWORD_ROUNDS": TEST_PASSWORD_ROUNDS,
    }
    if base_url:
        env["WERKBANK_BASE_URL"] = base_url  # links in mails and feed addresses
    return env


def load_demo(database_url: str, data_dir: Path) -> None:
    """`werkbank demo` into an empty database (it migrates it first)."""
    loaded = subprocess.run([_werkbank(), "demo"], env=werkbank_env(database_url, data_dir), capture_output=True,
                            cwd=ROOT, text=True)
    if loaded.returncode != 0:
        raise RuntimeError(f"werkbank demo failed ({loaded.returncode}):\n{loaded.stdout}\n{loaded.stderr}")


@contextmanager
def demo_server(database_url: str, data_dir: Path):
    """`werkbank serve` (no worker) on a database with the demo data (a `demo_copy`), on a free
    port of 127.0.0.1 until it answers; yields its URL and stops it afterwards."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = data_dir / "server.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([_werkbank(), "serve", "--port", str(port), "--no-worker"],
                                   env=werkbank_env(database_url, data_dir, url), cwd=ROOT, stdout=log,
                                   stderr=subprocess.STDOUT)
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
            time.sleep(0.1)
        try:
            yield url
        finally:
            process.terminate()
            process.wait(10)


@dataclass(frozen=True)
class DemoTemplate:
    kind: str
    url: str
    secret_key: Path  # the data folder's secret of the `werkbank demo` run
    server_url: str = ""  # PostgreSQL: where to create and drop databases


async def make_demo_template(kind: str, data_dir: Path, postgres_server: str = "") -> DemoTemplate:
    """`werkbank demo` into a new database of its own, which is only copied from."""
    if kind == "sqlite":
        path = data_dir / "werkbank.sqlite3"
        load_demo(f"sqlite:///{path}", data_dir)
        with closing(sqlite3.connect(path)) as connection:  # everything in the file itself, nothing in a -wal
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return DemoTemplate("sqlite", f"sqlite:///{path}", data_dir / "secret_key")
    name = "werkbank_demo_template"
    server = await asyncpg.connect(postgres_server)
    try:
        await server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await server.execute(f'CREATE DATABASE "{name}"')
    finally:
        await server.close()
    url = _with_database(postgres_server, name)
    load_demo(url, data_dir)
    return DemoTemplate("postgresql", url, data_dir / "secret_key", postgres_server)


_copies = count(1)


@asynccontextmanager
async def demo_copy(template: DemoTemplate, data_dir: Path):
    """A new database with the template's contents, and the template's secret in `data_dir` (as
    when `werkbank demo` and `werkbank serve` share one data folder); dropped afterwards."""
    from core import db as core_db

    shutil.copy(template.secret_key, data_dir / "secret_key")
    if template.kind == "sqlite":
        path = data_dir / "werkbank.sqlite3"
        shutil.copyfile(template.url[len("sqlite:///"):], path)
        url = f"sqlite:///{path}"
        yield TestDatabase("sqlite", url, core_db.engine_from_url(url))
        return
    name = f"werkbank_demo_copy_{next(_copies)}"
    template_name = template.url.rsplit("/", 1)[1]
    server = await asyncpg.connect(template.server_url)
    try:
        await server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await server.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')
    finally:
        await server.close()
    url = _with_database(template.server_url, name)
    try:
        yield TestDatabase("postgresql", url, core_db.engine_from_url(url))
    finally:
        server = await asyncpg.connect(template.server_url)
        try:
            await server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await server.close()
