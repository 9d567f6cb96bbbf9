"""What one running Werkbank is made of: settings, engine, clock, and what the domain plugins
add to it (event subscribers, hooks, scheduled jobs, admin tables, template globals, mail
context loaders). create_app() makes one per app; nothing of it lives at module level."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from jinja2 import Environment
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

from core.settings import Settings
from core.uow import Clock, Event, UnitOfWork

log = logging.getLogger("werkbank.events")

Subscriber = Callable[[UnitOfWork, Any], Awaitable[None]]


class EventBus:
    """Subscribers per event type. `inside` ones run in the transaction before COMMIT (they
    write: outbox rows, audit, SEQUENCE bumps; a failure rolls the whole change back); `after`
    ones run after COMMIT (side effects: waking jobs; a failure is logged, the change stands)."""

    def __init__(self) -> None:
        self._inside: dict[type, list[Subscriber]] = defaultdict(list)
        self._after: dict[type, list[Subscriber]] = defaultdict(list)

    def subscribe(self, event_type: type[Event], handler: Subscriber, *, after_commit: bool = False) -> None:
        target = self._after if after_commit else self._inside
        if handler not in target[event_type]:
            target[event_type].append(handler)

    def _handlers(self, table: dict[type, list[Subscriber]], event: Event) -> list[Subscriber]:
        found: list[Subscriber] = []
        for kind in type(event).__mro__:
            found += table.get(kind, [])
        return found

    async def publish_inside(self, uow: UnitOfWork, mark: int) -> None:
        index = mark
        while index < len(uow.events):  # subscribers may record further events
            event = uow.events[index]
            for handler in self._handlers(self._inside, event):
                await handler(uow, event)
            index += 1

    async def publish_after_commit(self, uow: UnitOfWork, events: list[Event]) -> None:
        for event in events:
            for handler in self._handlers(self._after, event):
                try:
                    await handler(uow, event)
                except Exception:  # the change is committed; a failed side effect is logged
                    log.exception("after-commit subscriber %s failed for %s", handler, event)


class Hooks:
    """Named extension points a lower domain offers and higher ones fill in their plugin (e.g.
    inventory's search asks `search.free_window` for extra SQL conditions)."""

    def __init__(self) -> None:
        self._hooks: dict[str, list[Callable]] = defaultdict(list)

    def add(self, name: str, function: Callable) -> None:
        if function not in self._hooks[name]:
            self._hooks[name].append(function)

    def get(self, name: str) -> list[Callable]:
        return list(self._hooks.get(name, []))


class Werkbank:
    def __init__(self, settings: Settings, engine: Engine, clock: Clock | None = None) -> None:
        from core.jobs import JobRegistry
        from core.templating import make_environment

        self.settings = settings
        self.engine = engine
        self.clock = clock or Clock()
        self.events = EventBus()
        self.hooks = Hooks()
        self.jobs = JobRegistry(self)
        self.templates: Environment = make_environment()
        self.admin_tables: list = []
        self.mail_contexts: dict[str, Callable[[UnitOfWork, dict], Awaitable[dict]]] = {}
        self.locator: Any = None  # the geocoder (regions plugin, from WERKBANK_GEOCODER)
        self.stripe: Any = None  # the Stripe gateway (payments plugin, from the WERKBANK_STRIPE_* settings)
        self.feed_cache: Any = None  # feed keys and rendered feeds (calendars plugin; content-addressed, never stale)
        # Idle SQLite connections kept between units of work while the app runs (open()/close();
        # PostgreSQL has its own pool). Opening one costs a thread and a file open.
        self.sqlite_idle: list | None = None
        self.sqlite_writer = asyncio.Lock()  # this process's SQLite writers, one at a time (core.uow)

    MAX_IDLE_SQLITE = 8

    async def open(self) -> None:
        if not isinstance(self.engine, PostgresEngine):
            self.sqlite_idle = []

    async def close(self) -> None:
        idle, self.sqlite_idle = self.sqlite_idle or [], None
        for connection in idle:
            await connection.close()

    def unit_of_work(self, actor: Any = None, *, read_only: bool = False) -> UnitOfWork:
        return UnitOfWork(self, actor, read_only=read_only)

    def subscribe(self, event_type: type[Event], handler: Subscriber, *, after_commit: bool = False) -> None:
        self.events.subscribe(event_type, handler, after_commit=after_commit)
