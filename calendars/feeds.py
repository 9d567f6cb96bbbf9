"""Calendar feeds: a secret URL (`/ical/{token}.ics`) a calendar app subscribes to. A teacher's own
bookings or their school's; a resource's or a facility's for its owner's staff. The token is shown
once and kept hashed; a revoked feed (or one whose user lost the right to see it) answers 404.
The feed is answered with an ETag computed from the bookings' last change before the calendar is
built, so a client that polls gets 304 for the price of one small query."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from piccolo.query.functions.aggregate import Count, Max, Sum

from accounts.services import Actor, hash_token, load_actor
from accounts.tables import Membership, Organisation, User
from booking import ical
from booking.tables import HOLDING_STATUSES, Booking
from calendars.tables import CalendarFeed
from core.errors import NotAllowed, NotFound, ValidationFailed
from core.i18n import gettext as _
from core.i18n import use_language
from core.uow import UnitOfWork
from inventory.tables import Facility, Resource

Role = Membership.Role
Scope = CalendarFeed.Scope
SCHOOL_ROLES = (Role.teacher, Role.school_admin)
CANCELLED_KEPT = timedelta(days=30)  # cancelled bookings stay in a feed this long, so clients remove them
PAST_KEPT = timedelta(days=180)
FEED_STATUSES = [*HOLDING_STATUSES, Booking.Status.completed, Booking.Status.no_show]
GONE_STATUSES = [Booking.Status.cancelled, Booking.Status.declined, Booking.Status.expired]
MAX_FEEDS_PER_USER = 50


@dataclass
class FeedChoice:
    scope: str
    object_id: int
    name: str


async def choices(uow: UnitOfWork) -> list[FeedChoice]:
    """The feeds the acting user may create."""
    actor = uow.actor
    found: list[FeedChoice] = []
    if actor.has_role(*SCHOOL_ROLES):
        found.append(FeedChoice(Scope.mine.value, actor.user.id, _("My bookings")))
        schools = sorted(actor.organisation_ids(*SCHOOL_ROLES))
        for row in await Organisation.select(Organisation.id, Organisation.name).where(
                Organisation.id.is_in(schools or [0])).order_by(Organisation.name):
            found.append(FeedChoice(Scope.school.value, row["id"], _("Bookings of %(name)s", name=row["name"])))
    owners = sorted(actor.organisation_ids(Role.owner_staff))
    if owners:
        for row in await Facility.select(Facility.id, Facility.name).where(
                Facility.owner.is_in(owners) & (Facility.active == True)).order_by(Facility.name):  # noqa: E712
            found.append(FeedChoice(Scope.facility.value, row["id"], _("All bookings of %(name)s", name=row["name"])))
        for row in await Resource.select(Resource.id, Resource.name, Resource.facility.name).where(
                Resource.facility.owner.is_in(owners) & (Resource.status == Resource.Status.active)
        ).order_by(Resource.facility.name).order_by(Resource.name):
            found.append(FeedChoice(Scope.resource.value, row["id"], f'{row["name"]} ({row["facility.name"]})'))
    return found


async def _allowed(actor: Actor, scope: str, object_id: int) -> bool:
    if scope == Scope.mine:
        return object_id == actor.user.id and actor.has_role(*SCHOOL_ROLES)
    if scope == Scope.school:
        return object_id in actor.organisation_ids(*SCHOOL_ROLES)
    owners = actor.organisation_ids(Role.owner_staff)
    if scope == Scope.facility:
        row = await Facility.select(Facility.owner).where(Facility.id == object_id).first()
    elif scope == Scope.resource:
        row = await Resource.select(Resource.facility.owner.as_alias("owner")).where(Resource.id == object_id).first()
    else:
        return False
    return row is not None and row["owner"] in owners


def _invalid(message: str, field: str = "scope") -> ValidationFailed:
    return ValidationFailed(message, {field: message})


async def create_feed(uow: UnitOfWork, scope: str, object_id: int | None = None, name: str = "") -> tuple[CalendarFeed, str]:
    """A new feed for the acting user; returns it and its token (shown once, stored hashed)."""
    actor = uow.actor
    if scope not in Scope._value2member_map_:
        raise _invalid(_("Choose what the feed shows: mine, school, resource or facility."))
    if scope == Scope.mine:
        object_id = actor.user.id
    if object_id is None:
        raise _invalid(_("Choose the school, resource or facility of the feed."), "object_id")
    if not await _allowed(actor, scope, object_id):
        raise NotAllowed(_("You may not follow these bookings."))
    name = (name or "").strip()[:200] or next(
        (c.name for c in await choices(uow) if c.scope == scope and c.object_id == object_id), "")
    token = secrets.token_urlsafe(32)
    async with uow.transaction():
        count = await CalendarFeed.count().where(
            (CalendarFeed.user == actor.user.id) & CalendarFeed.revoked_at.is_null())
        if count >= MAX_FEEDS_PER_USER:
            raise _invalid(_("You have %(n)s feeds; revoke one you no longer use first.", n=count))
        feed = CalendarFeed(user=actor.user.id, scope=scope, object_id=object_id, name=name,
                            token_hash=hash_token(token), created_at=uow.now())
        await feed.save()
    return feed, token


async def my_feeds(uow: UnitOfWork) -> list[CalendarFeed]:
    return await CalendarFeed.objects().where(
        (CalendarFeed.user == uow.actor.user.id) & CalendarFeed.revoked_at.is_null()).order_by(CalendarFeed.created_at)


async def revoke_feed(uow: UnitOfWork, feed_id: int) -> None:
    async with uow.transaction():
        feed = await CalendarFeed.objects().where(
            (CalendarFeed.id == feed_id) & CalendarFeed.revoked_at.is_null()).first()
        if feed is None or (feed.user != uow.actor.user.id and not uow.actor.is_platform_admin):
            raise NotFound(_("This feed does not exist."))
        await CalendarFeed.update({CalendarFeed.revoked_at: uow.now()}).where(CalendarFeed.id == feed_id)


def feed_url(base_url: str, token: str) -> str:
    return f"{base_url}/ical/{token}.ics"


# --- serving a feed ------------------------------------------------------------------------------

@dataclass
class FeedRequest:
    feed: CalendarFeed
    user: User
    query: object  # a Booking.select with the feed's filters


async def open_feed(token: str, now: datetime) -> FeedRequest:
    """The live feed of `token`, or NotFound (unknown, revoked, or the user may no longer see it)."""
    if not token or len(token) > 100:
        raise NotFound(_("This feed does not exist."))
    feed = await CalendarFeed.objects().where(
        (CalendarFeed.token_hash == hash_token(token)) & CalendarFeed.revoked_at.is_null()).first()
    if feed is None:
        raise NotFound(_("This feed does not exist."))
    user = await User.objects().where((User.id == feed.user) & (User.active == True)).first()  # noqa: E712
    if user is None or not await _allowed(await load_actor(user), feed.scope, feed.object_id):
        raise NotFound(_("This feed does not exist."))
    return FeedRequest(feed, user, _filters(feed, now))


def _filters(feed: CalendarFeed, now: datetime):
    condition = (Booking.start >= now - PAST_KEPT) & (
        Booking.status.is_in(FEED_STATUSES)
        | (Booking.status.is_in(GONE_STATUSES) & (Booking.updated_at >= now - CANCELLED_KEPT)))
    if feed.scope == Scope.mine:
        condition &= Booking.teacher == feed.object_id
    elif feed.scope == Scope.school:
        condition &= Booking.school == feed.object_id
    elif feed.scope == Scope.resource:
        condition &= Booking.resource == feed.object_id
    else:
        condition &= Booking.resource.facility == feed.object_id
    return condition


async def etag(request: FeedRequest) -> str:
    """Changes whenever a booking of the feed changes, comes or goes (one aggregate query)."""
    row = await Booking.select(Count(Booking.id, alias="n"), Max(Booking.updated_at, alias="changed"),
                               Sum(Booking.sequence, alias="seq")).where(request.query).first()
    raw = f"{request.feed.id}:{request.user.language}:{row['n']}:{row['changed']}:{row['seq']}:v1"
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:32] + '"'


async def events_of(condition) -> list[ical.EventData]:
    rows = await Booking.select(*ical.EVENT_COLUMNS).where(condition).order_by(Booking.start)
    return [ical.event_data(dict(row)) for row in rows]


async def render(request: FeedRequest, base_url: str) -> bytes:
    data = await events_of(request.query)
    with use_language(request.user.language or "nl"):
        events = [ical.event(item, base_url) for item in data]
        return ical.calendar_bytes(events, name=request.feed.name or "Werkbank")
