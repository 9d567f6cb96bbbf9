"""The unit of work, opened at the edge (an HTTP request, a CLI command, a scheduled job, a
webhook) and handed to every service it calls. It carries the settings, the clock, the acting
user, one database connection, the write transaction (nested work gets a SAVEPOINT) and the
domain events that services record.

- Reads run on the unit's one connection. A safe request (GET, HEAD) reads in one read
  transaction: on SQLite a deferred transaction (no write lock, one snapshot), on PostgreSQL a
  read-only repeatable-read one. Other requests read on the same connection in autocommit.
- `async with uow.transaction():` is the write. The outermost one takes the write lock once
  (SQLite: BEGIN IMMEDIATE, after ending a read transaction), runs the subscribers that write
  (outbox rows, audit) before COMMIT, and after COMMIT the subscribers with side effects (waking
  the jobs that must react). A nested one is a SAVEPOINT: a failure inside rolls back only that
  part, and the events it recorded with it.
- A change that fails leaves nothing: no row, no event, no mail.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from piccolo.engine.postgres import PostgresEngine

if TYPE_CHECKING:
    from core.registry import Werkbank

log = logging.getLogger("werkbank.uow")


class Clock:
    """Wall-clock time in UTC; the one `now()` of Werkbank (through `uow.now()`)."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FrozenClock(Clock):
    """A clock that stands still until moved: for tests."""

    def __init__(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("a frozen clock needs an aware datetime")
        self.moment = moment.astimezone(timezone.utc)

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@dataclass(frozen=True)
class Event:
    """Something that happened in a domain; subscribers react to it (see Werkbank.subscribe)."""


class _Held:
    """What Piccolo's engines look for in `current_transaction`: the connection its queries use."""

    __slots__ = ("connection", "_parent")

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self._parent = None


class UnitOfWork:
    def __init__(self, app: Werkbank, actor: Any = None, *, read_only: bool = False) -> None:
        self.app = app
        self.settings = app.settings
        self.actor = actor
        self.read_only = read_only
        self.events: list[Event] = []
        self._connection: Any = None
        self._context_token: Any = None
        self._state: str | None = None  # None (autocommit), "read" or "write"
        self._savepoints = 0

    # --- what services read from it -----------------------------------------------------------

    def now(self) -> datetime:
        return self.app.clock.now()

    @property
    def engine(self):
        return self.app.engine

    @property
    def is_postgres(self) -> bool:
        return isinstance(self.engine, PostgresEngine)

    def record(self, event: Event) -> None:
        """Record a domain event; it is published when the outermost transaction commits (and
        dropped with the savepoint or transaction it was recorded in, if that fails)."""
        if self._state != "write":
            raise RuntimeError(f"{type(event).__name__} recorded outside a transaction")
        self.events.append(event)

    def as_actor(self, actor: Any) -> UnitOfWork:
        """The same unit of work acting for someone else (e.g. the system in a job)."""
        self.actor = actor
        return self

    # --- the connection -----------------------------------------------------------------------

    async def __aenter__(self) -> UnitOfWork:
        await self._acquire()
        if self.read_only:
            await self._begin_read()
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        try:
            if self._state == "read":
                await self._execute("COMMIT")
                self._state = None
        finally:
            await self._release()

    async def _acquire(self) -> None:
        engine = self.engine
        if isinstance(engine, PostgresEngine):
            self._connection = await (engine.pool.acquire() if engine.pool else engine.get_new_connection())
        elif self.app.sqlite_idle:
            self._connection = self.app.sqlite_idle.pop()
        else:
            self._connection = await engine.get_connection()
        self._context_token = engine.current_transaction.set(_Held(self._connection))

    async def _release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        engine = self.engine
        try:
            engine.current_transaction.reset(self._context_token)
        except ValueError:  # reset from another context (a cancelled task): clear it instead
            engine.current_transaction.set(None)
        self._state = None
        if isinstance(engine, PostgresEngine):
            if engine.pool:
                await engine.pool.release(connection)
            else:
                await connection.close()
        elif (self.app.sqlite_idle is not None and len(self.app.sqlite_idle) < self.app.MAX_IDLE_SQLITE
              and not connection.in_transaction):
            self.app.sqlite_idle.append(connection)
        else:
            await connection.close()

    async def _execute(self, sql: str) -> None:
        await self._connection.execute(sql)

    async def _begin_read(self) -> None:
        if self.is_postgres:
            await self._execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        else:
            await self._execute("BEGIN DEFERRED")
        self._state = "read"

    # --- the write ----------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[UnitOfWork]:
        if self._state == "write":
            async with self._savepoint():
                yield self
            return
        # SQLite has one writer at a time: writers of this process queue here, in order, instead
        # of in SQLite's busy handler, which sleeps in growing steps and makes long tails.
        async with contextlib.nullcontext() if self.is_postgres else self.app.sqlite_writer:
            async with self._write() as uow:
                yield uow

    @contextlib.asynccontextmanager
    async def _write(self) -> AsyncIterator[UnitOfWork]:
        owned = self._connection is None
        if owned:
            await self._acquire()
        try:
            if self._state == "read":
                await self._execute("COMMIT")
            await self._execute("BEGIN" if self.is_postgres else "BEGIN IMMEDIATE")
            self._state = "write"
            mark = len(self.events)
            try:
                yield self
                await self.app.events.publish_inside(self, mark)
            except BaseException:
                del self.events[mark:]
                self._state = None
                with contextlib.suppress(Exception):
                    await self._execute("ROLLBACK")
                raise
            await self._execute("COMMIT")
            self._state = None
            committed = self.events[mark:]
            if self.read_only and not owned:
                await self._begin_read()
        finally:
            if owned:
                await self._release()
        await self.app.events.publish_after_commit(self, committed)

    @contextlib.asynccontextmanager
    async def _savepoint(self) -> AsyncIterator[None]:
        self._savepoints += 1
        name = f"wb_{self._savepoints}"
        mark = len(self.events)
        await self._execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            del self.events[mark:]
            await self._execute(f"ROLLBACK TO SAVEPOINT {name}")
            await self._execute(f"RELEASE SAVEPOINT {name}")
            raise
        await self._execute(f"RELEASE SAVEPOINT {name}")

    @property
    def in_transaction(self) -> bool:
        return self._state == "write"
