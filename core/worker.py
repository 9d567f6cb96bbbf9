"""Background jobs: the outbox now; calendar imports, reminders and expiry join later. Several
workers may run at once (row leases keep a job from running twice). The web process runs one
in-process unless told not to; `werkbank worker` runs one on its own."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from core import db, mail
from core.settings import Settings

log = logging.getLogger("werkbank.worker")

POLL_SECONDS = 5.0


class Worker:
    def __init__(self, settings: Settings, jobs: list | None = None) -> None:
        """`jobs`: coroutine functions of the domains, run each round (expiry, reminders...)."""
        self.settings = settings
        self.jobs = list(jobs or [])
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    async def run_once(self) -> int:
        for job in self.jobs:
            try:
                await job()
            except Exception:  # one failing job must not stop the others; the trace is logged
                log.exception("job %s failed", getattr(job, "__name__", job))
        return await mail.send_pending(self.settings)

    async def run_forever(self) -> None:
        db.on_commit(self.wake)
        while not self._stopping:
            try:
                await self.run_once()
            except Exception:  # keep the loop alive; the error is logged with its trace
                log.exception("worker round failed")
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=POLL_SECONDS)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run_forever(), name="werkbank-worker")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
