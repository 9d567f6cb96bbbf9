"""Database helpers: the engine from a URL, binding it to every table, migrations. Transactions
belong to the unit of work (core/uow.py)."""

from __future__ import annotations

import contextlib
import io
import logging
from urllib.parse import urlparse

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine as PiccoloSQLiteEngine

log = logging.getLogger("werkbank.db")

SQLITE_TIMEOUT_SECONDS = 30


class SQLiteEngine(PiccoloSQLiteEngine):
    """Piccolo's SQLite engine, with a query inside a transaction in one trip to aiosqlite's
    thread: foreign keys are switched on once per connection (get_connection), not before
    every query, and the rows are fetched with the statement."""

    async def _run_in_existing_connection(self, connection, query: str, args=None, query_type: str = "generic",
                                          table=None):
        if query_type == "insert" and self.get_version_sync() < 3.35:  # no RETURNING: Piccolo's own way
            return await super()._run_in_existing_connection(connection, query, args, query_type, table)
        return list(await connection.execute_fetchall(query, args or []))


def engine_from_url(url: str) -> Engine:
    """`sqlite:///relative/path`, `sqlite:////absolute/path` or `postgresql://user:pass@host:port/db`."""
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):] or "werkbank.sqlite3"
        # timeout: how long a writer waits for the lock before "database is locked".
        return SQLiteEngine(path=path, timeout=SQLITE_TIMEOUT_SECONDS)
    if url.startswith(("postgresql://", "postgres://")):
        parsed = urlparse(url)
        if not parsed.path.strip("/"):
            raise ValueError("the PostgreSQL URL needs a database name: postgresql://user:pass@host:port/db")
        return PostgresEngine(config={"dsn": url})
    raise ValueError(f"unsupported database URL: {url!r}")


def engine_kind(engine: Engine) -> str:
    return "postgresql" if isinstance(engine, PostgresEngine) else "sqlite"


def table_classes() -> list:
    from piccolo.apps.migrations.tables import Migration
    from piccolo.conf.apps import Finder

    return [*Finder().get_table_classes(), Migration]


def bind_engine(engine: Engine) -> None:
    """Point piccolo_conf and every table at `engine` (the app and the tests choose it at run time)."""
    import piccolo_conf

    piccolo_conf.DB = engine
    for table in table_classes():
        table._meta.db = engine


def current_engine() -> Engine:
    import piccolo_conf

    return piccolo_conf.DB


async def migrate(engine: Engine | None = None, quiet: bool = True) -> None:
    """Apply every Piccolo migration of every app to `engine` (default: the bound one)."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    if engine is not None:
        bind_engine(engine)
    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        # WAL lets readers go on while one writer writes; it is a property of the file.
        await engine.run_ddl("PRAGMA journal_mode=WAL")
    out = io.StringIO()
    redirect = contextlib.redirect_stdout(out) if quiet else contextlib.nullcontext()
    with redirect:
        result = await run_forwards(app_name="all", migration_id="all")
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}\n{out.getvalue()}")


async def start(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=10)


async def stop(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()
