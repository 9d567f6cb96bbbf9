"""The process that runs scheduled jobs (the outbox, expiry, reminders; later calendar imports
and payment deadlines). The web process runs one in-process unless told not to; `werkbank
worker` runs one on its own. Several may run at once: each job's lease row keeps it to one
process at a time."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from core.registry import Werkbank

log = logging.getLogger("werkbank.worker")

MAX_SLEEP_SECONDS = 5.0


class Worker:
    def __init__(self, app: Werkbank) -> None:
        self.app = app
        self._task: asyncio.Task | None = None
        self._stopping = False

    async def run_once(self):
        return await self.app.jobs.run_due()

    async def run_forever(self) -> None:
        jobs = self.app.jobs
        while not self._stopping:
            try:
                await jobs.run_due()
                wait = min(MAX_SLEEP_SECONDS, jobs.seconds_until_next(await jobs.states()))
            except Exception:  # keep the loop alive; the error is logged with its trace
                log.exception("worker round failed")
                wait = MAX_SLEEP_SECONDS
            await jobs.wait(wait)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run_forever(), name="werkbank-worker")

    async def stop(self) -> None:
        self._stopping = True
        self.app.jobs.wake("stop")
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
