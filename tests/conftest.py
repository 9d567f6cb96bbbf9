"""Test set-up: every test that touches the database runs on SQLite and on a throwaway
PostgreSQL (started here from the installed binaries, or WERKBANK_TEST_POSTGRES_URL). Where no
PostgreSQL can be had, those tests are skipped and the summary says so loudly; with
WERKBANK_REQUIRE_POSTGRES=1 they fail instead."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import urlparse, urlunparse

import asyncpg
import httpx
import pytest

from accounts.tables import User
from core import db as core_db
from core.settings import Settings
from tests.postgres import PostgresUnavailable, ThrowawayPostgres

# Fast password hashing in tests; production keeps Piccolo's 600,000 PBKDF2 rounds.
User._pbkdf2_iteration_count = 1_000

REQUIRE_POSTGRES = os.environ.get("WERKBANK_REQUIRE_POSTGRES") == "1"
_postgres_state: dict[str, str] = {}


@dataclass
class TestDatabase:
    kind: str
    url: str
    engine: object


def _with_database(url: str, name: str) -> str:
    parsed = urlparse(url)
    return urlunparse(parsed._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def postgres_server():
    url = os.environ.get("WERKBANK_TEST_POSTGRES_URL")
    if url:
        _postgres_state["source"] = "WERKBANK_TEST_POSTGRES_URL"
        yield url
        return
    try:
        server = ThrowawayPostgres()
        url = server.start()
    except PostgresUnavailable as exc:
        _postgres_state["skipped"] = str(exc)
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required (WERKBANK_REQUIRE_POSTGRES=1) but could not start: {exc}")
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    _postgres_state["source"] = f"throwaway cluster on port {server.port}"
    try:
        yield url
    finally:
        server.stop()


async def _fresh_postgres_database(server_url: str, name: str) -> str:
    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return _with_database(server_url, name)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
async def database(request, tmp_path_factory):
    """A migrated database of each engine, bound to every table."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'werkbank.sqlite3'}"
    else:
        server_url = request.getfixturevalue("postgres_server")
        url = await _fresh_postgres_database(server_url, "werkbank_test")
    engine = core_db.engine_from_url(url)
    await core_db.migrate(engine)
    yield TestDatabase(kind=request.param, url=url, engine=engine)


@pytest.fixture(scope="session")
async def demo_template(request, database, tmp_path_factory):
    """`werkbank demo` once per engine and session, into a database that is only copied from
    (tests/demo_server.py: each browser test and the API contract test serve a copy of it)."""
    from tests.demo_server import make_demo_template

    server = request.getfixturevalue("postgres_server") if database.kind == "postgresql" else ""
    return await make_demo_template(database.kind, tmp_path_factory.mktemp(f"demo-template-{database.kind}"), server)


def _tables_children_first() -> list:
    from piccolo.apps.migrations.tables import Migration
    from piccolo.table import sort_table_classes

    return list(reversed(sort_table_classes([t for t in core_db.table_classes() if t is not Migration])))


# Every sequence owned by a column of the given tables (serial and identity columns): the ones
# TRUNCATE ... RESTART IDENTITY restarts.
_RESTART_OWNED_SEQUENCES = """
SELECT setval(s.seqrelid, s.seqstart, false)
FROM pg_sequence s JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid
 AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
WHERE d.refobjid IN ({tables})"""


async def truncate_all(database: TestDatabase) -> None:
    """Every table but Piccolo's migrations emptied, in one transaction on one connection: the
    rows deleted children first and, on PostgreSQL, the tables' sequences back at their start, as
    TRUNCATE ... RESTART IDENTITY CASCADE leaves them (on tables this small DELETE is many times
    faster than TRUNCATE, which makes new files for every table and index)."""
    tables = _tables_children_first()
    engine = database.engine
    async with engine.transaction():
        for table in tables:
            await engine.run_ddl(f'DELETE FROM "{table._meta.tablename}"')
        if database.kind == "postgresql":
            names = ", ".join(f"""'"{t._meta.tablename}"'::regclass""" for t in tables)
            await engine.run_ddl(_RESTART_OWNED_SEQUENCES.format(tables=names))


@pytest.fixture
async def db(database):
    """An empty, migrated database for one test."""
    from inventory.taxonomy import sync_taxonomy

    core_db.bind_engine(database.engine)
    async with database.engine.transaction():  # one connection, one commit
        await truncate_all(database)
        await sync_taxonomy()  # reference data that migrations put in every database
    yield database


@pytest.fixture
def settings(db, tmp_path) -> Settings:
    return Settings(
        environment="test",
        database_url=db.url,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        base_url="http://testserver.local",
        data_dir=tmp_path,
        mail_dir=tmp_path / "mail",
        in_process_worker=False,
    )


@pytest.fixture
async def app(settings, db):
    from app import create_app

    return create_app(settings, engine=db.engine)


@pytest.fixture
def wb(settings, db):
    """The app's parts without the web app: for calling services directly."""
    from app import build_werkbank

    return build_werkbank(settings, db.engine)


@pytest.fixture
def uow_for(wb):
    """`uow_for(actor)`: a unit of work acting for `actor` (without a held connection: each
    service opens its own transaction, as the CLI and the jobs do)."""

    def make(actor=None):
        return wb.unit_of_work(actor)

    return make


@pytest.fixture
async def client(app):
    """An HTTP client that runs the app in the test's own event loop (with its lifespan), so
    the app and the test share the database connections' loop."""
    for hook in app.on_startup:
        await hook(app)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local",
                                     follow_redirects=True) as client:
            yield client
    finally:
        for hook in app.on_shutdown:
            await hook(app)


# --- factories -------------------------------------------------------------------------------

@pytest.fixture
def create_org(db):
    from accounts.tables import Organisation

    counter = {"n": 0}

    async def make(**overrides) -> Organisation:
        counter["n"] += 1
        values = dict(
            name=f"Testschool {counter['n']}", slug=f"testschool-{counter['n']}", kind="school",
            network="go", postal_code="9000", municipality="Gent", region_code="VOV", pupil_count=300,
        )
        values.update(overrides)
        org = Organisation(**values)
        await org.save()
        return org

    return make


PASSWORD = "correct horse battery"


@pytest.fixture
def create_user(db, create_org, uow_for):
    from accounts import services

    counter = {"n": 0}

    async def make(role: str = "teacher", org=None, email: str | None = None, password: str = PASSWORD, **kw):
        counter["n"] += 1
        if org is None and role != "platform_admin":
            kind = {"teacher": "school", "school_admin": "school", "owner_staff": "training_centre",
                    "provider_staff": "provider", "rtc_staff": "rtc"}[role]
            org = await create_org(kind=kind, name=f"Org {counter['n']}", slug=f"org-{role}-{counter['n']}")
        email = email or f"{role}{counter['n']}@example.be"
        return await services.create_user(uow_for(), email, password, role, org.slug if org else None,
                                          first_name=kw.get("first_name", "Test"), last_name=kw.get("last_name", role))

    return make


# --- inventory factories ----------------------------------------------------------------------

RESOURCE_FORM = {
    "name": "CNC-draaibank", "kind": "machine", "category": "cnc", "capacity": "6", "needs_approval": "on",
    "min_notice_hours": "24", "max_advance_days": "120", "min_duration_minutes": "60",
    "max_duration_minutes": "240", "buffer_minutes": "15", "price_model": "per_hour", "price": "35,00",
    "funding": "sector", "alternative_cost": "90", "alternative_cost_unit": "per_hour",
    "alternative_cost_source": "Offertes 2025", "opening_hours": "ma-vr 08:00-16:30",
}


@pytest.fixture
def owner_org(create_org):
    async def make(slug="metaal", name="Opleidingscentrum Metaal", kind="sector_fund"):
        return await create_org(slug=slug, name=name, kind=kind, network="")

    return make


@pytest.fixture
def create_facility(db, uow_for):
    async def make(owner, postal_code="9000", name="Campus", **extra):
        from accounts.services import system_actor
        from inventory import services

        return await services.save_facility(uow_for(system_actor()), owner.id, {"name": name, "postal_code": postal_code,
                                                              "street": "Straat 1", **extra})

    return make


@pytest.fixture
def create_resource(db, uow_for):
    async def make(facility, programmes=None, **fields):
        from accounts.services import system_actor
        from inventory import services

        return await services.save_resource(uow_for(system_actor()), facility.id, {**RESOURCE_FORM, **fields},
                                            programmes=programmes)

    return make


CSRF_RE = re.compile(r'name="_csrf_token" value="([^"]+)"')


async def csrf(client, path: str = "/login") -> str:
    response = await client.get(path)
    match = CSRF_RE.search(response.text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


GRID_CELL_RE = re.compile(r'<td class="cell (\w+)[^"]*" data-at="([^"]+)"')


def grid_states(html: str) -> dict[str, str]:
    """The week grid of a resource's page as {"2026-12-08T09:00": "free", ...} (Brussels time)."""
    return {at: state for state, at in GRID_CELL_RE.findall(html)}


async def login(client, email: str, password: str = PASSWORD):
    token = await csrf(client)
    return await client.post("/login", data={"email": email, "password": password, "_csrf_token": token})


# --- the loud summary ------------------------------------------------------------------------

def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if "skipped" in _postgres_state:
        line = "!" * 78
        terminalreporter.write_line(line, red=True, bold=True)
        terminalreporter.write_line(
            f"PostgreSQL tests were SKIPPED: {_postgres_state['skipped']}", red=True, bold=True)
        terminalreporter.write_line(
            "Install PostgreSQL's server binaries or set WERKBANK_TEST_POSTGRES_URL; "
            "CI sets WERKBANK_REQUIRE_POSTGRES=1 and fails instead.", red=True)
        terminalreporter.write_line(line, red=True, bold=True)
    elif "source" in _postgres_state:
        terminalreporter.write_line(f"PostgreSQL tests ran against a {_postgres_state['source']}.", green=True)
