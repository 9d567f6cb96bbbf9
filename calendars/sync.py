"""Owners' calendars in and Werkbank's bookings written back.

In: the `calendars.sync` job fetches each linked calendar when it is due (every
WERKBANK_CALENDAR_SYNC_MINUTES; a failing one backs off), outside any transaction, parses it in
a thread with a deadline, and then replaces that calendar's busy blocks in one transaction
(booking's `replace_busy_blocks`). A calendar that fails keeps its last good busy blocks and
shows the owner the error and the time of the last good sync. Imported events overlapping a
booking that already holds the slot are listed as conflicts; nothing is cancelled.

Back: the `calendars.write_back` job, woken by booking events, puts each holding booking of a
resource with a write-back CalDAV calendar into it (a stable UID, SCHEDULE-AGENT=CLIENT) and
removes it again when the booking is cancelled, declined or expires. The importer skips those
UIDs, so written events never come back as busy time."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from booking import ical
from booking import services as booking_services
from booking.tables import HOLDING_STATUSES, Booking
from calendars import caldav, secrets
from calendars.fetch import FetchError, fetch_calendar
from calendars.ics_import import CalendarError, busy_spans
from calendars.tables import CalendarConflict, LinkedCalendar, WrittenEvent
from core.i18n import gettext as _
from core.uow import Event, UnitOfWork
from inventory.tables import Resource

log = logging.getLogger("werkbank.calendars")

MAX_BACKOFF = timedelta(hours=6)
HORIZON_CAP = timedelta(days=730)
PARSE_DEADLINE = 10.0  # seconds of parsing per calendar


@dataclass(frozen=True)
class CalendarLinked(Event):
    """Wakes the sync job after commit, so a new calendar blocks its time at once."""

    calendar_id: int


def source_of(calendar_id: int) -> str:
    return f"calendar:{calendar_id}"


async def resources_of(calendar: LinkedCalendar) -> list[Resource]:
    if calendar.resource:
        condition = Resource.id == calendar.resource
    else:
        condition = Resource.facility == calendar.facility
    return await Resource.objects().where(condition & (Resource.status == Resource.Status.active)).order_by(Resource.id)


def auth_of(uow: UnitOfWork, calendar: LinkedCalendar) -> tuple[str, str] | None:
    if not calendar.username:
        return None
    password = secrets.decrypt(uow.settings.secret_key, calendar.password_encrypted)
    if password is None:
        raise FetchError(_("The stored password can no longer be read; enter it again."))
    return calendar.username, password


def backoff(interval: timedelta, failures: int) -> timedelta:
    return min(interval * (2 ** max(0, failures - 1)), MAX_BACKOFF)


MAX_BUSY_ROWS = 200_000  # busy blocks one calendar may write: its appointments times the resources it blocks


def max_spans(resources: int) -> int:
    """A calendar linked to a whole facility writes each appointment once per resource."""
    return max(100, min(50_000, MAX_BUSY_ROWS // max(1, resources)))


CLAIM = timedelta(minutes=5)  # longer than a fetch and a parse can take (their own limits end them sooner)


async def _claim(uow: UnitOfWork, calendar_id: int) -> bool:
    """Hold the calendar while this process reads it: a worker and a "sync now" (or two workers)
    never fetch the same calendar at once. A claim left by a process that died runs out."""
    moment = uow.now()
    async with uow.transaction():
        taken = await LinkedCalendar.update({LinkedCalendar.syncing_until: moment + CLAIM}).where(
            (LinkedCalendar.id == calendar_id) & (LinkedCalendar.active == True)  # noqa: E712
            & (LinkedCalendar.syncing_until.is_null() | (LinkedCalendar.syncing_until <= moment))
        ).returning(LinkedCalendar.id)
    return bool(taken)


def busy_hash(resource_ids: list[int], spans) -> str:
    """Changes when the busy time would: other spans, titles or resources."""
    digest = hashlib.sha256(repr(sorted(resource_ids)).encode())
    for span in spans:
        digest.update(f"{span.start.isoformat()}|{span.end.isoformat()}|{span.uid}|{span.summary}\n".encode())
    return digest.hexdigest()


async def sync_one(uow: UnitOfWork, calendar_id: int) -> bool | None:
    """Fetch and import one calendar. True when it synced (or had not changed), False when it
    failed (the error is recorded), None when another process is reading it right now."""
    if not await _claim(uow, calendar_id):
        return None
    try:
        return await _sync_claimed(uow, calendar_id)
    finally:
        async with uow.transaction():
            await LinkedCalendar.update({LinkedCalendar.syncing_until: None}).where(LinkedCalendar.id == calendar_id)


async def _sync_claimed(uow: UnitOfWork, calendar_id: int) -> bool:
    settings, moment = uow.settings, uow.now()
    calendar = await LinkedCalendar.objects().where(LinkedCalendar.id == calendar_id).first()
    if calendar is None:
        return False
    interval = timedelta(minutes=settings.calendar_sync_minutes)
    resources = await resources_of(calendar)
    start = moment - timedelta(days=1)
    end = moment + min(HORIZON_CAP, timedelta(days=max([r.max_advance_days for r in resources] or [180]) + 1))
    succeeded = {LinkedCalendar.last_attempt_at: moment, LinkedCalendar.last_success_at: moment,
                 LinkedCalendar.failures: 0, LinkedCalendar.last_error: "", LinkedCalendar.next_sync_at: moment + interval}
    try:
        auth = auth_of(uow, calendar)
        if calendar.kind == LinkedCalendar.Kind.caldav:
            body = await caldav.calendar_events(calendar.url, auth, start, end, allow_private=settings.calendar_allow_private,
                                                max_bytes=settings.calendar_max_bytes)
            etag = last_modified = ""
        else:
            fetched = await fetch_calendar(calendar.url, etag=calendar.etag, last_modified=calendar.last_modified,
                                           auth=auth, allow_private=settings.calendar_allow_private,
                                           max_bytes=settings.calendar_max_bytes)
            if fetched.status == 304:
                async with uow.transaction():
                    await LinkedCalendar.update(succeeded).where(LinkedCalendar.id == calendar.id)
                return True
            body, etag, last_modified = fetched.body, fetched.etag, fetched.last_modified
        spans = await asyncio.to_thread(busy_spans, body, start, end, ignore_uid_prefix=ical.UID_PREFIX,
                                        max_bytes=settings.calendar_max_bytes, deadline_seconds=PARSE_DEADLINE,
                                        max_spans=max_spans(len(resources)))
    except (FetchError, CalendarError) as exc:
        await _failed(uow, calendar, str(exc), interval)
        return False
    resource_ids = [r.id for r in resources]
    digest = busy_hash(resource_ids, spans)
    async with uow.transaction():
        if digest != calendar.busy_hash:  # the same busy time as last time: nothing to rewrite
            conflicts = await booking_services.replace_busy_blocks(
                uow, source_of(calendar.id), resource_ids, [(s.start, s.end, s.uid, s.summary) for s in spans])
            await CalendarConflict.delete().where(CalendarConflict.calendar == calendar.id)
            if conflicts:
                await CalendarConflict.insert(*[CalendarConflict(
                    calendar=calendar.id, booking=c["id"], uid=c["uid"][:300], summary=(c["summary"] or "")[:300],
                    start=c["busy_start"], end=c["busy_end"], found_at=moment) for c in conflicts])
        await LinkedCalendar.update({
            **succeeded, LinkedCalendar.etag: etag[:300], LinkedCalendar.last_modified: last_modified[:100],
            LinkedCalendar.busy_count: len(spans), LinkedCalendar.busy_hash: digest}).where(LinkedCalendar.id == calendar.id)
    return True


async def _failed(uow: UnitOfWork, calendar: LinkedCalendar, message: str, interval: timedelta) -> None:
    """Keep the last good busy blocks; record the error and try again later, later each time."""
    moment = uow.now()
    failures = (calendar.failures or 0) + 1
    log.info("calendar %s failed (%s in a row): %s", calendar.id, failures, message)
    async with uow.transaction():
        await LinkedCalendar.update({
            LinkedCalendar.last_attempt_at: moment, LinkedCalendar.failures: failures,
            LinkedCalendar.last_error: message[:2000],
            LinkedCalendar.next_sync_at: moment + backoff(interval, failures)}).where(LinkedCalendar.id == calendar.id)


async def sync_due_job(uow: UnitOfWork, batch: int) -> int:
    """The linked calendars whose time has come, longest waiting first."""
    due = await LinkedCalendar.select(LinkedCalendar.id).where(
        (LinkedCalendar.active == True)  # noqa: E712
        & (LinkedCalendar.next_sync_at.is_null() | (LinkedCalendar.next_sync_at <= uow.now()))
    ).order_by(LinkedCalendar.next_sync_at).limit(batch)
    interval = timedelta(minutes=uow.settings.calendar_sync_minutes)
    for row in due:
        try:
            await sync_one(uow, row["id"])
        except Exception:  # a bug or a database error with one calendar must not starve the others
            log.exception("calendar %s could not be synchronised", row["id"])
            calendar = await LinkedCalendar.objects().where(LinkedCalendar.id == row["id"]).first()
            if calendar is not None:
                await _failed(uow, calendar, _("The calendar could not be read."), interval)
    return len(due)


# --- write-back ----------------------------------------------------------------------------------

WRITE_BACK_WINDOW = timedelta(days=1)  # bookings that ended longer ago are left as they are
GONE_STATUSES = [Booking.Status.cancelled, Booking.Status.declined, Booking.Status.expired]


async def write_back_job(uow: UnitOfWork, batch: int) -> int:
    """Bring each write-back calendar in line with its resources' bookings: put what is new or
    changed (SEQUENCE rose), remove what no longer holds its time. At most `batch` writes."""
    settings, moment = uow.settings, uow.now()
    done = await _clean_unlinked(uow, batch)
    calendars = await LinkedCalendar.objects().where(
        (LinkedCalendar.active == True) & (LinkedCalendar.write_back == True)  # noqa: E712
        & (LinkedCalendar.kind == LinkedCalendar.Kind.caldav))
    for calendar in calendars:
        if done >= batch:
            break
        resource_ids = [r.id for r in await resources_of(calendar)]
        if not resource_ids:
            continue
        written = {w.booking: w for w in await WrittenEvent.objects().where(WrittenEvent.calendar == calendar.id)}
        holding = await Booking.select(Booking.id, Booking.sequence).where(
            Booking.resource.is_in(resource_ids) & Booking.status.is_in(list(HOLDING_STATUSES))
            & (Booking.end > moment - WRITE_BACK_WINDOW))
        wanted = {row["id"]: row["sequence"] for row in holding}
        to_put = [i for i, seq in wanted.items() if i not in written or written[i].sequence != seq]
        # Removed only when the booking let go of its time; done and past bookings stay as history.
        gone = {row["id"] for row in await Booking.select(Booking.id).where(
            Booking.id.is_in(list(written) or [0]) & Booking.status.is_in(GONE_STATUSES))}
        to_delete = [w for i, w in written.items() if i in gone]
        try:
            auth = auth_of(uow, calendar)
            for booking_id in to_put[:batch - done]:
                await _put(uow, calendar, auth, booking_id, written.get(booking_id))
                done += 1
            for item in to_delete[:max(0, batch - done)]:
                await caldav.delete_event(calendar.url, auth, f"{item.uid}", allow_private=settings.calendar_allow_private)
                async with uow.transaction():
                    await WrittenEvent.delete().where(WrittenEvent.id == item.id)
                done += 1
            if calendar.write_error:
                async with uow.transaction():
                    await LinkedCalendar.update({LinkedCalendar.write_error: ""}).where(LinkedCalendar.id == calendar.id)
        except FetchError as exc:  # kept apart from reading: a calendar we may not write still blocks time
            log.info("write-back to calendar %s failed: %s", calendar.id, exc.detail or exc)
            async with uow.transaction():
                await LinkedCalendar.update({LinkedCalendar.write_error: str(exc)[:2000]}).where(
                    LinkedCalendar.id == calendar.id)
    return done


UNLINK_ATTEMPTS = 10  # then the calendar is forgotten and what could not be removed stays there


async def _clean_unlinked(uow: UnitOfWork, batch: int) -> int:
    """Unlinked calendars: remove the events Werkbank wrote into them, then forget them."""
    settings, done = uow.settings, 0
    for calendar in await LinkedCalendar.objects().where(LinkedCalendar.active == False):  # noqa: E712
        written = await WrittenEvent.objects().where(WrittenEvent.calendar == calendar.id).limit(max(0, batch - done))
        gave_up = False
        try:
            auth = auth_of(uow, calendar)
            for item in written:
                await caldav.delete_event(calendar.url, auth, item.uid, allow_private=settings.calendar_allow_private)
                async with uow.transaction():
                    await WrittenEvent.delete().where(WrittenEvent.id == item.id)
                done += 1
        except FetchError as exc:
            log.info("removing Werkbank's events from unlinked calendar %s failed: %s", calendar.id, exc.detail or exc)
            async with uow.transaction():
                await LinkedCalendar.update({LinkedCalendar.failures: LinkedCalendar.failures + 1}).where(
                    LinkedCalendar.id == calendar.id)
            gave_up = (calendar.failures or 0) + 1 >= UNLINK_ATTEMPTS
            if not gave_up:
                continue
        if gave_up or not await WrittenEvent.exists().where(WrittenEvent.calendar == calendar.id):
            async with uow.transaction():
                await LinkedCalendar.delete().where(LinkedCalendar.id == calendar.id)
        if done >= batch:
            break
    return done


async def _put(uow: UnitOfWork, calendar: LinkedCalendar, auth, booking_id: int, before: WrittenEvent | None) -> None:
    settings = uow.settings
    rows = await Booking.select(*ical.EVENT_COLUMNS).where(Booking.id == booking_id)
    if not rows:
        return
    data = ical.event_data(dict(rows[0]))
    uid = ical.uid(booking_id, settings.base_url)
    body = ical.calendar_bytes([ical.event(data, settings.base_url, schedule_agent_client=True)])
    etag = await caldav.put_event(calendar.url, auth, uid, body, overwrite=True,
                                  allow_private=settings.calendar_allow_private)
    async with uow.transaction():
        if before is None:
            await WrittenEvent.insert(WrittenEvent(calendar=calendar.id, booking=booking_id, uid=uid, etag=etag[:300],
                                                   sequence=data.booking.sequence, written_at=uow.now()))
        else:
            await WrittenEvent.update({WrittenEvent.etag: etag[:300], WrittenEvent.sequence: data.booking.sequence,
                                       WrittenEvent.written_at: uow.now()}).where(WrittenEvent.id == before.id)
