"""Owner staff link their existing calendars to a resource or a facility: a published ICS URL or
a CalDAV calendar (user name and password, the password encrypted), optionally written back.
The address is tried before it is saved, so the owner hears at once what is wrong."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

from accounts.tables import Membership
from booking import ical
from booking import services as booking_services
from booking.tables import Booking
from calendars import caldav, secrets, sync
from calendars.fetch import FetchError, display_host, fetch_calendar, prepare_url
from calendars.ics_import import CalendarError, busy_spans
from calendars.sync import CalendarLinked, source_of
from calendars.tables import CalendarConflict, LinkedCalendar, WrittenEvent
from core import audit
from core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from core.i18n import gettext as _
from core.uow import UnitOfWork
from inventory.tables import Facility, Resource

Role = Membership.Role


@dataclass
class LinkedView:
    calendar: LinkedCalendar
    target: str  # the resource's or facility's name
    host: str
    conflicts: list[dict] = field(default_factory=list)
    reading: bool = False  # a process reads it right now
    due: bool = False  # it is read at the next run of the job (just linked, or "read now")

    @property
    def state(self) -> str:
        """pending (never read), syncing, ok, failing."""
        if self.reading:
            return "syncing"
        if self.calendar.last_error:
            return "failing"
        return "ok" if self.calendar.last_success_at else "pending"


def _owners(uow: UnitOfWork) -> list[int]:
    return sorted(uow.actor.organisation_ids(Role.owner_staff))


async def targets(uow: UnitOfWork) -> list[tuple[str, str]]:
    """What a calendar can be linked to: ("facility:3", "Metaalcampus (hele site)"), ("resource:7", ...)."""
    owners = _owners(uow)
    if not owners:
        return []
    found = []
    for f in await Facility.select(Facility.id, Facility.name).where(
            Facility.owner.is_in(owners) & (Facility.active == True)).order_by(Facility.name):  # noqa: E712
        found.append((f"facility:{f['id']}", _("%(name)s (every resource)", name=f["name"])))
        for r in await Resource.select(Resource.id, Resource.name).where(
                (Resource.facility == f["id"]) & (Resource.status == Resource.Status.active)).order_by(Resource.name):
            found.append((f"resource:{r['id']}", f"{f['name']} · {r['name']}"))
    return found


def _field(message: str, name: str = "url") -> ValidationFailed:
    return ValidationFailed(message, {name: message})


async def _target(uow: UnitOfWork, target: str) -> tuple[int, int | None, int | None, str]:
    """(owner, resource, facility, name) of "resource:7" / "facility:3", for the acting staff."""
    kind, _sep, raw = (target or "").partition(":")
    if not raw.isdigit() or kind not in ("resource", "facility"):
        raise _field(_("Choose the resource or the site the calendar blocks."), "target")
    if kind == "resource":
        row = await Resource.select(Resource.name, Resource.facility.owner.as_alias("owner")).where(
            Resource.id == int(raw)).first()
    else:
        row = await Facility.select(Facility.name, Facility.owner).where(Facility.id == int(raw)).first()
    if row is None:
        raise _field(_("Choose the resource or the site the calendar blocks."), "target")
    if row["owner"] not in _owners(uow):
        raise NotAllowed(_("Only the staff of its owner link calendars to it."))
    return row["owner"], int(raw) if kind == "resource" else None, int(raw) if kind == "facility" else None, row["name"]


async def link_calendar(uow: UnitOfWork, target: str, kind: str, url: str, username: str = "", password: str = "",
                        write_back: bool = False, name: str = "") -> LinkedCalendar:
    settings = uow.settings
    owner, resource_id, facility_id, target_name = await _target(uow, target)
    url, username = (url or "").strip(), (username or "").strip()
    if kind not in LinkedCalendar.Kind._value2member_map_:
        raise _field(_("Choose a published calendar (ICS) or a CalDAV calendar."), "kind")
    if not url or len(url) > 2000:
        raise _field(_("Paste the address of the calendar."))
    if write_back and kind != LinkedCalendar.Kind.caldav:
        raise _field(_("Only a CalDAV calendar can receive the bookings."), "write_back")
    try:  # user:password@ in the address goes to the encrypted fields, never into the stored URL
        clean, url_auth = prepare_url(url, allow_private=True)
    except FetchError as exc:
        raise _field(str(exc)) from None
    url = str(clean)
    if url_auth and not username:
        username, password = url_auth
    same = (LinkedCalendar.url == url) & (LinkedCalendar.active == True)  # noqa: E712
    same &= (LinkedCalendar.resource == resource_id) if resource_id else (LinkedCalendar.facility == facility_id)
    if await LinkedCalendar.exists().where(same):  # it would block the same time twice (and write each booking twice)
        raise _field(_("This calendar is already linked to %(name)s.", name=target_name))
    url, found = await _try(uow, kind, url, (username, password) if username else None, write_back)
    name = name or found
    moment = uow.now()
    async with uow.transaction():
        calendar = LinkedCalendar(
            owner=owner, resource=resource_id, facility=facility_id, kind=kind, name=(name or target_name)[:200],
            url=url, username=username[:200], password_encrypted=secrets.encrypt(settings.secret_key, password or ""),
            write_back=bool(write_back), created_by=uow.actor.user.id, created_at=moment, next_sync_at=moment)
        await calendar.save()
        await audit.record(uow.actor, "calendar.linked", "linked_calendar", calendar.id, kind=kind,
                           target=target, host=display_host(url), write_back=bool(write_back))
        uow.record(CalendarLinked(calendar.id))
    return calendar


async def _try(uow: UnitOfWork, kind: str, url: str, auth: tuple[str, str] | None,
               write_back: bool) -> tuple[str, str]:
    """Try the calendar before saving it, so the owner hears at once what is wrong. Returns its
    address (a CalDAV account's one calendar when the owner pasted the account's or the server's
    address) and the name a CalDAV server gives it ("" otherwise)."""
    settings, moment = uow.settings, uow.now()
    try:
        if kind == LinkedCalendar.Kind.caldav:
            checked = await caldav.check_calendar(url, auth, allow_private=settings.calendar_allow_private)
            if not checked.get("is_calendar"):
                url = await _the_one_calendar(uow, url, auth)
                checked = await caldav.check_calendar(url, auth, allow_private=settings.calendar_allow_private)
            if write_back and checked.get("writable") is False:
                raise _field(_("This account may only read the calendar; give it write access or leave write-back off."),
                             "write_back")
            return url, checked.get("displayname") or ""
        fetched = await fetch_calendar(url, auth=auth, allow_private=settings.calendar_allow_private,
                                       max_bytes=settings.calendar_max_bytes)
        await asyncio.to_thread(busy_spans, fetched.body, moment, moment + timedelta(days=30),
                                ignore_uid_prefix=ical.UID_PREFIX, max_bytes=settings.calendar_max_bytes)
        return url, ""
    except (FetchError, CalendarError) as exc:
        field = "password" if auth and getattr(exc, "status", None) in (401, 403) else "url"
        raise _field(str(exc), field) from None


async def _the_one_calendar(uow: UnitOfWork, url: str, auth) -> str:
    """An account's or a server's address instead of a calendar's: its only event calendar, or
    a message that names the calendars to choose from."""
    not_a_calendar = _field(_("The address at %(host)s is not a CalDAV calendar.", host=display_host(url)))
    try:
        found = await caldav.discover_calendars(url, auth, allow_private=uow.settings.calendar_allow_private)
    except FetchError:
        raise not_a_calendar from None
    if len(found) == 1:
        return found[0][0]
    if not found:
        raise not_a_calendar
    listed = "; ".join(f"{name}: {address}" for address, name in found[:10])
    raise _field(_("This account has %(n)s calendars. Paste the address of the one that blocks the time: %(list)s",
                   n=len(found), list=listed))


async def change_credentials(uow: UnitOfWork, calendar_id: int, username: str, password: str) -> LinkedCalendar:
    """A new user name and password (the old password stopped working): tried, then stored
    encrypted, and the calendar is read again at once."""
    calendar = await _own(uow, calendar_id)
    username = (username or "").strip()[:200]
    if not username or not password:
        raise _field(_("Enter the user name and the password."), "password")
    await _try(uow, calendar.kind, calendar.url, (username, password), calendar.write_back)
    async with uow.transaction():
        await LinkedCalendar.update({
            LinkedCalendar.username: username,
            LinkedCalendar.password_encrypted: secrets.encrypt(uow.settings.secret_key, password),
            LinkedCalendar.failures: 0, LinkedCalendar.last_error: "", LinkedCalendar.write_error: "",
            LinkedCalendar.etag: "", LinkedCalendar.next_sync_at: uow.now()}).where(LinkedCalendar.id == calendar.id)
        await audit.record(uow.actor, "calendar.credentials_changed", "linked_calendar", calendar.id)
        uow.record(CalendarLinked(calendar.id))
    return calendar


async def _own(uow: UnitOfWork, calendar_id: int) -> LinkedCalendar:
    calendar = await LinkedCalendar.objects().where(
        (LinkedCalendar.id == calendar_id) & (LinkedCalendar.active == True)).first()  # noqa: E712
    if calendar is None or calendar.owner not in _owners(uow):
        raise NotFound(_("This linked calendar does not exist."))
    return calendar


async def unlink(uow: UnitOfWork, calendar_id: int) -> bool:
    """The calendar stops blocking time at once (its busy blocks and conflicts go with it). The
    events Werkbank wrote into it are removed from it by the write-back job, which then forgets
    the calendar; True when there are such events."""
    async with uow.transaction():
        calendar = await _own(uow, calendar_id)
        await booking_services.replace_busy_blocks(uow, source_of(calendar.id), [], [])
        await CalendarConflict.delete().where(CalendarConflict.calendar == calendar.id)
        await audit.record(uow.actor, "calendar.unlinked", "linked_calendar", calendar.id, name=calendar.name)
        if not await WrittenEvent.exists().where(WrittenEvent.calendar == calendar.id):
            await LinkedCalendar.delete().where(LinkedCalendar.id == calendar.id)
            return False
        await LinkedCalendar.update({LinkedCalendar.active: False, LinkedCalendar.failures: 0}).where(
            LinkedCalendar.id == calendar.id)
        uow.record(CalendarLinked(calendar.id))  # wakes the write-back job
    return True


async def sync_here(uow: UnitOfWork, calendar_id: int) -> LinkedView:
    """Read the calendar now, in this request, and show what came of it (the API's "sync now")."""
    await _own(uow, calendar_id)
    if await sync.sync_one(uow, calendar_id) is None:
        raise Conflict(_("This calendar is being read right now; ask again in a moment."))
    return await view(uow, calendar_id)


async def view(uow: UnitOfWork, calendar_id: int) -> LinkedView:
    views = await linked(uow, calendar_id)  # only the acting staff's, only linked ones
    if not views:
        raise NotFound(_("This linked calendar does not exist."))
    return views[0]


async def sync_now(uow: UnitOfWork, calendar_id: int) -> None:
    """Ask the worker to read the calendar at once (the page's "read again")."""
    async with uow.transaction():
        calendar = await _own(uow, calendar_id)
        await LinkedCalendar.update({LinkedCalendar.next_sync_at: uow.now()}).where(LinkedCalendar.id == calendar.id)
        uow.record(CalendarLinked(calendar.id))


async def linked(uow: UnitOfWork, calendar_id: int | None = None) -> list[LinkedView]:
    """The acting staff's linked calendars (or the one of them), with their conflicts."""
    owners = _owners(uow)
    if not owners:
        return []
    condition = LinkedCalendar.owner.is_in(owners) & (LinkedCalendar.active == True)  # noqa: E712
    if calendar_id is not None:
        condition &= LinkedCalendar.id == calendar_id
    calendars = await LinkedCalendar.objects().where(condition).order_by(LinkedCalendar.id)
    names = {}
    for c in calendars:
        if c.resource:
            row = await Resource.select(Resource.name).where(Resource.id == c.resource).first()
        else:
            row = await Facility.select(Facility.name).where(Facility.id == c.facility).first()
        names[c.id] = row["name"] if row else ""
    conflicts = await CalendarConflict.select(
        CalendarConflict.calendar, CalendarConflict.start, CalendarConflict.end, CalendarConflict.summary,
        CalendarConflict.booking, CalendarConflict.booking.start.as_alias("booking_start"),
        CalendarConflict.booking.end.as_alias("booking_end"), CalendarConflict.booking.school.name.as_alias("school"),
        CalendarConflict.booking.resource.name.as_alias("resource"),
    ).where(CalendarConflict.calendar.is_in([c.id for c in calendars] or [0])
            & CalendarConflict.booking.status.is_in([Booking.Status.requested, Booking.Status.approved,
                                                     Booking.Status.confirmed])).order_by(CalendarConflict.start)
    now = uow.now()
    views = []
    for c in calendars:
        reading = bool(c.syncing_until and c.syncing_until > now)
        views.append(LinkedView(c, names[c.id], display_host(c.url), [x for x in conflicts if x["calendar"] == c.id],
                                reading=reading, due=not reading and bool(c.next_sync_at and c.next_sync_at <= now)))
    return views
