"""Calendar feeds: a secret URL (`/ical/{token}.ics`) a calendar app subscribes to. A teacher's own
bookings or their school's; a resource's or a facility's for its owner's staff. The token is shown
once and kept hashed; a revoked feed (or one whose user lost the right to see it) answers 404.
The feed is answered with an ETag computed from the bookings' last change before the calendar is
built, so a client that polls gets 304 for the price of one query."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import cachetools

from accounts.services import Actor, hash_token
from accounts.tables import Membership, Organisation
from booking import ical
from booking.tables import HOLDING_STATUSES, Booking
from calendars.tables import CalendarFeed
from core import audit
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
        await audit.record(actor, "feed.created", "calendar_feed", feed.id, scope=scope, target=object_id)
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
        await audit.record(uow.actor, "feed.revoked", "calendar_feed", feed_id)


def feed_url(base_url: str, token: str) -> str:
    return f"{base_url}/ical/{token}.ics"


# --- serving a feed ------------------------------------------------------------------------------
#
# A calendar app polls every feed a few times an hour, most times for nothing new. So a poll is one
# query: the feed (not revoked, its user active and still allowed to see it) and the aggregate its
# ETag is made of. Two per-process caches make that cheap and are safe with several processes,
# because neither can go stale: a token's feed id, scope and object never change, and a rendered
# feed is kept under the ETag it was rendered for (content-addressed).

PERMISSION = {  # the SQL twin of _allowed, for the feed's user (tests/calendars/test_feeds.py holds them together)
    Scope.mine: "f.object_id = f.\"user\" AND EXISTS (SELECT 1 FROM membership m WHERE m.\"user\" = f.\"user\" "
                "AND m.role IN ('teacher', 'school_admin'))",
    Scope.school: "EXISTS (SELECT 1 FROM membership m WHERE m.\"user\" = f.\"user\" AND m.organisation = f.object_id "
                  "AND m.role IN ('teacher', 'school_admin'))",
    Scope.resource: "EXISTS (SELECT 1 FROM membership m JOIN facility fa ON fa.owner = m.organisation "
                    "JOIN resource r ON r.facility = fa.id WHERE m.\"user\" = f.\"user\" AND m.role = 'owner_staff' "
                    "AND r.id = f.object_id)",
    Scope.facility: "EXISTS (SELECT 1 FROM membership m JOIN facility fa ON fa.owner = m.organisation "
                    "WHERE m.\"user\" = f.\"user\" AND m.role = 'owner_staff' AND fa.id = f.object_id)",
}
BOOKINGS_OF = {
    Scope.mine: "b.teacher = f.object_id",
    Scope.school: "b.school = f.object_id",
    Scope.resource: "b.resource = f.object_id",
    Scope.facility: "b.resource IN (SELECT id FROM resource WHERE facility = f.object_id)",
}


def _statuses(statuses) -> str:
    return ", ".join(f"'{Booking.Status(s).value}'" for s in statuses)


# When a resource or a site in the feed was last edited (its name and address are in the events):
# for one resource or one site straight from its row, for a person's or a school's bookings
# through the resources they booked.
PLACES_CHANGED = {
    Scope.resource: ("(SELECT updated_at FROM resource WHERE id = f.object_id)",
                     "(SELECT fa.updated_at FROM facility fa JOIN resource r ON r.facility = fa.id WHERE r.id = f.object_id)",
                     ""),
    Scope.facility: ("(SELECT MAX(updated_at) FROM resource WHERE facility = f.object_id)",
                     "(SELECT updated_at FROM facility WHERE id = f.object_id)", ""),
}
THROUGH_BOOKINGS = ("MAX(r.updated_at)", "MAX(fa.updated_at)",
                    "LEFT JOIN resource r ON r.id = b.resource LEFT JOIN facility fa ON fa.id = r.facility ")
STATE_SQL = {scope: (
    "SELECT u.language AS language, f.name AS name, f.last_fetched_at AS fetched, COUNT(b.id) AS n, "
    f"MAX(b.updated_at) AS changed, SUM(b.sequence) AS seq, {PLACES_CHANGED.get(scope, THROUGH_BOOKINGS)[0]} "
    f"AS resource_changed, {PLACES_CHANGED.get(scope, THROUGH_BOOKINGS)[1]} AS facility_changed FROM calendar_feed f "
    "JOIN account_user u ON u.id = f.\"user\" AND u.active "
    f"LEFT JOIN booking b ON {BOOKINGS_OF[scope]} AND b.\"start\" >= {{}} AND (b.status IN ({_statuses(FEED_STATUSES)}) "
    f"OR (b.status IN ({_statuses(GONE_STATUSES)}) AND b.updated_at >= {{}})) "
    f"{PLACES_CHANGED.get(scope, THROUGH_BOOKINGS)[2]}"
    f"WHERE f.id = {{}} AND f.revoked_at IS NULL AND {PERMISSION[scope]} "
    "GROUP BY u.language, f.name, f.last_fetched_at, f.object_id") for scope in Scope}
FETCH_NOTED_EVERY = timedelta(hours=1)  # how often a poll is written down (the feeds page shows it)


@dataclass(frozen=True)
class FeedKey:
    """What never changes about a feed."""

    feed_id: int
    scope: str
    object_id: int


@dataclass(frozen=True)
class FeedState:
    key: FeedKey
    etag: str
    language: str
    name: str


class FeedCache:
    """Per app process (on the Werkbank): feed keys by token hash, rendered feeds by ETag."""

    def __init__(self, keys: int = 20_000, body_bytes: int = 64 * 2**20) -> None:
        self.keys: cachetools.LRUCache = cachetools.LRUCache(maxsize=keys)
        self.bodies: cachetools.LRUCache = cachetools.LRUCache(maxsize=body_bytes, getsizeof=len)

    def body(self, state: FeedState) -> bytes | None:
        return self.bodies.get((state.key.feed_id, state.etag))

    def keep(self, state: FeedState, body: bytes) -> None:
        if len(body) <= self.bodies.maxsize // 4:  # one huge feed must not push out all the others
            self.bodies[(state.key.feed_id, state.etag)] = body


async def _key(cache: FeedCache, token_hash: str) -> FeedKey | None:
    key = cache.keys.get(token_hash)
    if key is None:
        row = await CalendarFeed.select(CalendarFeed.id, CalendarFeed.scope, CalendarFeed.object_id).where(
            CalendarFeed.token_hash == token_hash).first()
        if row is None:
            return None
        key = cache.keys[token_hash] = FeedKey(row["id"], row["scope"], row["object_id"])
    return key


async def feed_state(uow: UnitOfWork, cache: FeedCache, token: str) -> FeedState:
    """The live feed of `token` and its ETag, or NotFound (unknown, revoked, its user inactive or
    no longer allowed to see these bookings). The ETag changes whenever a booking of the feed
    changes, comes or goes, or the feed's name or its user's language does."""
    if not token or len(token) > 100:
        raise NotFound(_("This feed does not exist."))
    key = await _key(cache, hash_token(token))
    if key is None or key.scope not in STATE_SQL:
        raise NotFound(_("This feed does not exist."))
    now = uow.now()
    rows = await CalendarFeed.raw(STATE_SQL[key.scope], now - PAST_KEPT, now - CANCELLED_KEPT, key.feed_id)
    if not rows:
        raise NotFound(_("This feed does not exist."))
    row = rows[0]
    fetched = row["fetched"]
    if fetched is None or _aware(fetched) < now - FETCH_NOTED_EVERY:
        async with uow.transaction():
            await CalendarFeed.update({CalendarFeed.last_fetched_at: now}).where(CalendarFeed.id == key.feed_id)
    # The names and addresses in the events (a renamed resource, a moved facility) count too.
    raw = (f"{key.feed_id}:{row['language']}:{row['name']}:{row['n']}:{row['changed']}:{row['seq']}:"
           f"{row['resource_changed']}:{row['facility_changed']}:v3")
    return FeedState(key, '"' + hashlib.sha256(raw.encode()).hexdigest()[:32] + '"', row["language"] or "nl",
                     row["name"] or "")


def _aware(moment) -> datetime:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _filters(key: FeedKey, now: datetime):
    condition = (Booking.start >= now - PAST_KEPT) & (
        Booking.status.is_in(FEED_STATUSES)
        | (Booking.status.is_in(GONE_STATUSES) & (Booking.updated_at >= now - CANCELLED_KEPT)))
    if key.scope == Scope.mine:
        condition &= Booking.teacher == key.object_id
    elif key.scope == Scope.school:
        condition &= Booking.school == key.object_id
    elif key.scope == Scope.resource:
        condition &= Booking.resource == key.object_id
    else:
        condition &= Booking.resource.facility == key.object_id
    return condition


async def events_of(condition) -> list[ical.EventData]:
    rows = await Booking.select(*ical.EVENT_COLUMNS).where(condition).order_by(Booking.start)
    return [ical.event_data(dict(row)) for row in rows]


async def render(uow: UnitOfWork, cache: FeedCache, state: FeedState) -> bytes:
    """The feed as iCalendar bytes: from the cache when nothing changed since it was rendered."""
    body = cache.body(state)
    if body is None:
        data = await events_of(_filters(state.key, uow.now()))
        base_url = uow.settings.base_url
        with use_language(state.language):
            body = ical.calendar_bytes([ical.event(item, base_url) for item in data], name=state.name or "Werkbank")
        cache.keep(state, body)
    return body
