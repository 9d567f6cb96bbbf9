"""Calendar pages and feeds: `/ical/{token}.ics` (the token is the key; ETag and 304 for clients
that poll), the page where people create, copy and revoke their feeds, and the feeds API."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, HttpMethod, Request, Response, delete, get, patch, post, route
from litestar.datastructures import Cookie
from litestar.params import JSONBody, PathParameter

from accounts.auth import login_required, role_required
from accounts.tables import Membership
from calendars import feeds, linking, secrets
from core.edge import Uow
from core.errors import ValidationFailed, not_found
from core.i18n import BRUSSELS
from core.i18n import gettext as _
from core.problems import problems
from core.web import ObjectId, form_data, render
from core.web import redirect as go

ICS = "text/calendar"  # Litestar adds "; charset=utf-8"
NEW_FEED_COOKIE = "werkbank_new_feed"
NEW_FEED_SECONDS = 300


class FeedController(Controller):
    """The feed itself: no login, the secret in the URL is the key."""

    include_in_schema = False
    path = "/ical"

    @route("/{name:str}", http_method=[HttpMethod.GET, HttpMethod.HEAD], name="ical_feed")
    async def feed(self, request: Request, uow: Uow, name: Annotated[str, PathParameter(max_length=120)]) -> Response:
        if not name.endswith(".ics"):
            raise not_found()
        cache = uow.app.feed_cache
        found = await feeds.feed_state(uow, cache, name[:-4])
        tag = found.etag
        headers = {"ETag": tag, "Cache-Control": "private, max-age=300, must-revalidate",
                   "X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"}
        # Weak comparison (RFC 9110 13.1.2): a proxy that compresses the answer marks the tag W/.
        wanted = [t.strip().removeprefix("W/") for t in request.headers.get("if-none-match", "").split(",") if t.strip()]
        if tag in wanted or "*" in wanted:
            return Response(content=b"", status_code=304, headers=headers)
        body = await feeds.render(uow, cache, found)
        headers["Content-Disposition"] = 'inline; filename="werkbank.ics"'
        return Response(content=body, media_type=ICS, headers=headers)


class CalendarPagesController(Controller):
    include_in_schema = False
    path = "/calendars"
    guards = [login_required]

    async def _page(self, request: Request, uow: Uow, status_code: int = 200, **extra) -> Response:
        return render(request, "calendars/feeds.html", {
            "feeds": await feeds.my_feeds(uow), "choices": await feeds.choices(uow), **extra}, status_code=status_code)

    @get("/", name="calendars")
    async def page(self, request: Request, uow: Uow) -> Response:
        created = await self._just_created(request, uow)
        response = await self._page(request, uow, **created)
        if request.cookies.get(NEW_FEED_COOKIE):
            response.delete_cookie(NEW_FEED_COOKIE, path="/calendars/")
        return response

    async def _just_created(self, request: Request, uow: Uow) -> dict:
        """The feed created just before the redirect here, with its address: shown this once."""
        sealed = request.cookies.get(NEW_FEED_COOKIE)
        opened = secrets.unseal(uow.settings.secret_key, sealed, secrets.NEW_FEED, NEW_FEED_SECONDS) if sealed else None
        feed_id, _sep, token = (opened or "").partition(":")
        mine = {f.id: f for f in await feeds.my_feeds(uow)}
        if not feed_id.isdigit() or int(feed_id) not in mine or not token:
            return {}
        return {"created": mine[int(feed_id)], "created_url": feeds.feed_url(uow.settings.base_url, token)}

    @post("/feeds", name="feed_create")
    async def create(self, request: Request, uow: Uow) -> Response:
        data = await form_data(request)
        scope, _sep, object_id = (data.get("choice") or "").partition(":")
        try:
            feed, token = await feeds.create_feed(uow, scope, int(object_id) if object_id.isdigit() else None,
                                                  data.get("name", ""))
        except ValidationFailed as exc:
            return await self._page(request, uow, exc.status_code, error=str(exc), fields=exc.fields)
        # Redirect after the POST (a reload must not make a second feed); the address travels once,
        # encrypted, in a cookie only this page reads, and is never stored.
        response = go(request, "/calendars/", _("Your feed is created."))
        response.set_cookie(Cookie(
            key=NEW_FEED_COOKIE, value=secrets.seal(uow.settings.secret_key, f"{feed.id}:{token}", secrets.NEW_FEED),
            path="/calendars/", httponly=True, samesite="lax", secure=uow.settings.secure_cookies,
            max_age=NEW_FEED_SECONDS))
        return response

    @post("/feeds/{feed_id:int}/revoke", name="feed_revoke")
    async def revoke(self, request: Request, uow: Uow, feed_id: ObjectId) -> Response:
        await feeds.revoke_feed(uow, feed_id)
        return go(request, "/calendars/", _("The feed is revoked: calendars that used it no longer receive anything."))


# INTERFACES.md: {kind: resource|school|user, target_id}; `facility` (all of a site) is the one
# kind the issue added. `user` is the caller's own bookings (target_id may be left out).
API_KINDS = {"user": "mine", "school": "school", "resource": "resource", "facility": "facility"}
KIND_OF_SCOPE = {scope: kind for kind, scope in API_KINDS.items()}


class FeedIn(msgspec.Struct):
    kind: Annotated[str, msgspec.Meta(max_length=10)]
    target_id: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)] | None = None
    name: Annotated[str, msgspec.Meta(max_length=200)] = ""


class FeedOut(msgspec.Struct):
    id: int
    kind: str
    target_id: int
    name: str
    created_at: str
    url: str | None = None  # only when created: the token is not kept


class FeedApiController(Controller):
    path = "/api/v1/feeds"
    tags = ["calendars"]
    guards = [login_required]

    @get("/", summary="The caller's calendar feeds (without their secret URLs)", responses=problems(401))
    async def list_feeds(self, uow: Uow) -> list[FeedOut]:
        return [_out(feed) for feed in await feeds.my_feeds(uow)]

    @post("/", summary="A new calendar feed: kind user (your own bookings), school, resource or facility, and its "
                       "target_id; the answer holds its secret URL once", responses=problems(401, 403, 422))
    async def create(self, uow: Uow, data: JSONBody[FeedIn]) -> Response:
        if data.kind not in API_KINDS:
            message = _("The kind of a feed is user, school, resource or facility.")
            raise ValidationFailed(message, {"kind": message})
        feed, token = await feeds.create_feed(uow, API_KINDS[data.kind], data.target_id, data.name)
        return Response(_out(feed, feeds.feed_url(uow.settings.base_url, token)), status_code=201)

    @delete("/{feed_id:int}", status_code=204, summary="Revoke a feed: its URL answers 404 from now on",
            responses=problems(401, 404))
    async def revoke(self, uow: Uow, feed_id: ObjectId) -> None:
        await feeds.revoke_feed(uow, feed_id)


def _out(feed, url: str | None = None) -> FeedOut:
    return FeedOut(id=feed.id, kind=KIND_OF_SCOPE.get(feed.scope, feed.scope), target_id=feed.object_id, name=feed.name,
                   created_at=_when(feed.created_at), url=url)


# --- linked calendars through the API ------------------------------------------------------------

class CalendarIn(msgspec.Struct):
    target_kind: Annotated[str, msgspec.Meta(max_length=10)]
    target_id: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
    url: Annotated[str, msgspec.Meta(max_length=2000)]
    kind: Annotated[str, msgspec.Meta(max_length=10)] = ""  # ics or caldav; left out: caldav when credentials come
    username: Annotated[str, msgspec.Meta(max_length=200)] = ""
    password: Annotated[str, msgspec.Meta(max_length=500)] = ""
    write_back: bool = False
    name: Annotated[str, msgspec.Meta(max_length=200)] = ""


class CredentialsIn(msgspec.Struct):
    username: Annotated[str, msgspec.Meta(max_length=200)]
    password: Annotated[str, msgspec.Meta(max_length=500)]


class ConflictOut(msgspec.Struct):
    booking_id: int
    resource: str
    school: str
    start: str
    end: str
    summary: str


class CalendarOut(msgspec.Struct):
    id: int
    target_kind: str
    target_id: int
    target_name: str
    kind: str
    name: str
    host: str
    url: str  # as stored: a user name and password never are
    has_credentials: bool
    write_back: bool
    state: str  # pending (not read yet), syncing, ok, failing
    last_success_at: str | None
    last_attempt_at: str | None
    next_sync_at: str | None
    last_error: str
    write_error: str
    failures: int
    busy_events: int
    conflicts: list[ConflictOut]


class LinkedCalendarApiController(Controller):
    path = "/api/v1/calendars"
    tags = ["calendars"]
    guards = [role_required(Membership.Role.owner_staff)]

    @get("/", summary="The linked calendars of the caller's organisations, with their state", responses=problems(401, 403))
    async def list_calendars(self, uow: Uow) -> list[CalendarOut]:
        return [_calendar_out(v) for v in await linking.linked(uow)]

    @post("/", summary="Link an owner's calendar (a published ICS address, or CalDAV with username and password) to a "
                       "resource or a facility; it is tried before it is saved", responses=problems(401, 403, 422))
    async def link(self, uow: Uow, data: JSONBody[CalendarIn]) -> Response:
        if data.target_kind not in ("resource", "facility"):
            message = _("The target of a linked calendar is a resource or a facility.")
            raise ValidationFailed(message, {"target_kind": message})
        kind = data.kind or ("caldav" if data.username or data.password or data.write_back else "ics")
        calendar = await linking.link_calendar(uow, f"{data.target_kind}:{data.target_id}", kind, data.url,
                                               data.username, data.password, data.write_back, data.name)
        return Response(_calendar_out(await linking.view(uow, calendar.id)), status_code=201)

    @get("/{calendar_id:int}", summary="A linked calendar: its state, the time of its last good sync, its last error "
                                       "and its conflicts", responses=problems(401, 403, 404))
    async def show(self, uow: Uow, calendar_id: ObjectId) -> CalendarOut:
        return _calendar_out(await linking.view(uow, calendar_id))

    @patch("/{calendar_id:int}", summary="New credentials for a linked calendar (tried before they are stored)",
           responses=problems(401, 403, 404, 422))
    async def change(self, uow: Uow, calendar_id: ObjectId, data: JSONBody[CredentialsIn]) -> CalendarOut:
        await linking.change_credentials(uow, calendar_id, data.username, data.password)
        return _calendar_out(await linking.view(uow, calendar_id))

    @post("/{calendar_id:int}/sync", status_code=200, summary="Read the calendar now and answer with its state "
          "(409 while another process is reading it)", responses=problems(401, 403, 404, 409))
    async def sync(self, uow: Uow, calendar_id: ObjectId) -> CalendarOut:
        return _calendar_out(await linking.sync_here(uow, calendar_id))

    @delete("/{calendar_id:int}", status_code=204, summary="Unlink: its busy time stops blocking at once",
            responses=problems(401, 403, 404))
    async def unlink(self, uow: Uow, calendar_id: ObjectId) -> None:
        await linking.unlink(uow, calendar_id)


def _when(moment) -> str | None:
    return moment.astimezone(BRUSSELS).isoformat() if moment else None


def _calendar_out(view: linking.LinkedView) -> CalendarOut:
    c = view.calendar
    return CalendarOut(
        id=c.id, target_kind="resource" if c.resource else "facility", target_id=c.resource or c.facility,
        target_name=view.target, kind=c.kind, name=c.name, host=view.host, url=c.url, has_credentials=bool(c.username),
        write_back=c.write_back, state=view.state, last_success_at=_when(c.last_success_at),
        last_attempt_at=_when(c.last_attempt_at), next_sync_at=_when(c.next_sync_at), last_error=c.last_error,
        write_error=c.write_error, failures=c.failures or 0, busy_events=c.busy_count or 0,
        conflicts=[ConflictOut(booking_id=x["booking"], resource=x["resource"] or "", school=x["school"] or "",
                               start=_when(x["start"]), end=_when(x["end"]), summary=x["summary"] or "")
                   for x in view.conflicts])


class LinkedCalendarsController(Controller):
    """Owner staff: their calendars that block time, their state, conflicts, and linking."""

    include_in_schema = False
    path = "/calendars/linked"
    guards = [role_required(Membership.Role.owner_staff)]

    async def _page(self, request: Request, uow: Uow, status_code: int = 200, **extra) -> Response:
        return render(request, "calendars/linked.html", {
            "calendars": await linking.linked(uow), "targets": await linking.targets(uow),
            "sync_minutes": uow.settings.calendar_sync_minutes, "form": {}, "fields": {},
            "credentials_error": {},
            "credentials_form": {}, **extra},
            status_code=status_code)

    @get("/", name="linked_calendars")
    async def page(self, request: Request, uow: Uow) -> Response:
        return await self._page(request, uow)

    @post("/", name="link_calendar")
    async def link(self, request: Request, uow: Uow) -> Response:
        data = await form_data(request)
        try:
            calendar = await linking.link_calendar(
                uow, data.get("target", ""), data.get("kind", ""), data.get("url", ""), data.get("username", ""),
                data.get("password", ""), data.get("write_back") == "on", data.get("name", ""))
        except ValidationFailed as exc:
            form = {k: v for k, v in data.items() if k != "password"}  # never sent back to the page
            form["url"] = _without_userinfo(form.get("url", ""))
            return await self._page(request, uow, exc.status_code, form=form, fields=exc.fields, error=str(exc))
        return go(request, "/calendars/linked/", _("%(name)s is linked; its busy time is read in now and every "
                                                   "%(n)s minutes.", name=calendar.name, n=uow.settings.calendar_sync_minutes))

    @post("/{calendar_id:int}/sync", name="linked_calendar_sync")
    async def sync(self, request: Request, uow: Uow, calendar_id: ObjectId) -> Response:
        await linking.sync_now(uow, calendar_id)
        return go(request, "/calendars/linked/", _("The calendar is read again in a moment."))

    @post("/{calendar_id:int}/credentials", name="linked_calendar_credentials")
    async def credentials(self, request: Request, uow: Uow, calendar_id: ObjectId) -> Response:
        data = await form_data(request)
        try:
            calendar = await linking.change_credentials(uow, calendar_id, data.get("username", ""), data.get("password", ""))
        except ValidationFailed as exc:
            return await self._page(request, uow, exc.status_code, credentials_error={calendar_id: str(exc)},
                                    credentials_form={calendar_id: {"username": data.get("username", "")}})
        return go(request, "/calendars/linked/", _("The new user name and password of %(name)s work; the calendar is "
                                                   "read again now.", name=calendar.name))

    @post("/{calendar_id:int}/unlink", name="linked_calendar_unlink")
    async def unlink(self, request: Request, uow: Uow, calendar_id: ObjectId) -> Response:
        if await linking.unlink(uow, calendar_id):
            return go(request, "/calendars/linked/", _(
                "The calendar is unlinked; its busy time no longer blocks anything. The bookings Werkbank wrote into "
                "it are removed from it in a moment."))
        return go(request, "/calendars/linked/", _("The calendar is unlinked; its busy time no longer blocks anything."))


def _without_userinfo(url: str) -> str:
    """An address as typed, without a user name and password in it (those are never echoed)."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        if "@" in parts.netloc:
            return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
    except ValueError:
        return ""
    return url
