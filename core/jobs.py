"""Scheduled jobs. Each has a name, a schedule (every so long), a batch limit and a lease row in
the database (job_state), so that across several `werkbank serve` and `werkbank worker`
processes one process runs a job at a time. A job does at most `batch` items per run and is run
again at once when it filled its batch. A commit wakes only the jobs whose events it recorded
(e.g. the outbox after a mail was queued), never a global scan."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from core.tables import JobState
from core.uow import Event, UnitOfWork

if TYPE_CHECKING:
    from core.registry import Werkbank

log = logging.getLogger("werkbank.jobs")


@dataclass
class Job:
    name: str
    run: Callable[[UnitOfWork, int], Awaitable[int]]  # (uow, batch) -> how many items it handled
    every: timedelta
    batch: int = 100
    wake_on: tuple[type[Event], ...] = ()
    lease: timedelta = timedelta(minutes=5)
    description: str = ""


@dataclass
class JobRun:
    name: str
    ran: bool
    result: int = 0
    error: str = ""
    more: bool = False


@dataclass
class JobRegistry:
    app: Werkbank
    jobs: dict[str, Job] = field(default_factory=dict)
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    _woken: set[str] = field(default_factory=set)
    _signal: asyncio.Event | None = None

    def add(self, job: Job) -> None:
        self.jobs[job.name] = job
        for event_type in job.wake_on:
            self.app.subscribe(event_type, self._waker(job.name), after_commit=True)

    def _waker(self, name: str):
        async def wake(_uow: UnitOfWork, _event: Event) -> None:
            self.wake(name)

        wake.__qualname__ = f"wake_{name}"
        return wake

    # --- waking (process-local; other processes find the work on their schedule) ---------------

    def wake(self, name: str) -> None:
        self._woken.add(name)
        if self._signal is not None:
            self._signal.set()

    async def wait(self, timeout: float) -> None:
        if self._signal is None:
            self._signal = asyncio.Event()
        if self._woken:
            return
        try:
            await asyncio.wait_for(self._signal.wait(), timeout=max(0.0, timeout))
        except asyncio.TimeoutError:
            pass
        self._signal.clear()

    # --- running ------------------------------------------------------------------------------

    async def states(self) -> dict[str, JobState]:
        return {row.name: row for row in await JobState.objects()}

    async def run_due(self) -> list[JobRun]:
        """Runs each job that is due or was woken (those another process holds are left)."""
        moment = self.app.clock.now()
        states = await self.states()
        woken, self._woken = self._woken, set()
        runs = []
        for job in self.jobs.values():
            state = states.get(job.name)
            due = state is None or state.next_run_at is None or state.next_run_at <= moment
            if due or job.name in woken:
                run = await self.run(job.name)
                if run.more:
                    self._woken.add(job.name)
                runs.append(run)
        return runs

    def seconds_until_next(self, states: dict[str, JobState]) -> float:
        moment = self.app.clock.now()
        waits = []
        for job in self.jobs.values():
            state = states.get(job.name)
            if state is None or state.next_run_at is None:
                return 0.0
            waits.append((state.next_run_at - moment).total_seconds())
        return min(waits) if waits else 60.0

    async def run(self, name: str) -> JobRun:
        """One run of a job under its lease; a job another process holds is not run."""
        job = self.jobs[name]
        if not await self._take_lease(job):
            return JobRun(name, ran=False)
        error, result = "", 0
        try:
            async with self.app.unit_of_work() as uow:
                result = await job.run(uow, job.batch)
        except Exception as exc:  # one failing job must not stop the others; the trace is logged
            log.exception("job %s failed", name)
            error = f"{type(exc).__name__}: {exc}"[:2000]
        more = not error and result >= job.batch
        await self._finish(job, result, error, more)
        return JobRun(name, ran=True, result=result, error=error, more=more)

    async def _take_lease(self, job: Job) -> bool:
        async with self.app.unit_of_work() as uow:
            moment = uow.now()
            async with uow.transaction():
                await JobState.insert(JobState(name=job.name)).on_conflict(
                    target=JobState.name, action="DO NOTHING")
                taken = await JobState.update({
                    JobState.locked_until: moment + job.lease, JobState.locked_by: self.worker_id,
                    JobState.last_started_at: moment,
                }).where((JobState.name == job.name) & (
                    JobState.locked_until.is_null() | (JobState.locked_until < moment))).returning(JobState.name)
        return bool(taken)

    async def _finish(self, job: Job, result: int, error: str, more: bool) -> None:
        async with self.app.unit_of_work() as uow:
            moment = uow.now()
            async with uow.transaction():
                await JobState.update({
                    JobState.locked_until: None, JobState.locked_by: "", JobState.last_finished_at: moment,
                    JobState.next_run_at: moment if more else moment + job.every, JobState.last_result: result,
                    JobState.last_error: error, JobState.runs: JobState.runs + 1,
                }).where(JobState.name == job.name)

    async def overview(self) -> list[dict]:
        """For `werkbank jobs`: each job with its schedule, last run, next run and last error."""
        states = await self.states()
        rows = []
        for job in self.jobs.values():
            state = states.get(job.name)
            rows.append({
                "name": job.name, "every_seconds": int(job.every.total_seconds()), "batch": job.batch,
                "description": job.description,
                "last_run": _iso(state.last_finished_at if state else None),
                "next_run": _iso(state.next_run_at if state else None),
                "running_until": _iso(state.locked_until if state else None),
                "runs": state.runs if state else 0,
                "last_result": state.last_result if state else 0,
                "last_error": state.last_error if state else "",
            })
        return rows


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
