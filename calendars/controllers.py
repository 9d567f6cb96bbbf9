"""Calendar pages and feeds: `/ical/{token}.ics` (the token is the key; ETag and 304 for clients
that poll), the page where people create, copy and revoke their feeds, and the feeds API."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.params import JSONBody, PathParameter

from accounts.auth import login_required, role_required
from accounts.tables import Membership
from calendars import feeds, linking
from core.edge import Uow
from core.errors import ValidationFailed, not_found
from core.i18n import gettext as _
from core.problems import problems
from core.web import ObjectId, form_data, render
from core.web import redirect as go

ICS = "text/calendar; charset=utf-8"


class FeedController(Controller):
    """The feed itself: no login, the secret in the URL is the key."""

    include_in_schema = False
    path = "/ical"

    @get("/{name:str}", name="ical_feed")
    async def feed(self, request: Request, uow: Uow, name: Annotated[str, PathParameter(max_length=120)]) -> Response:
        if not name.endswith(".ics"):
            raise not_found()
        found = await feeds.open_feed(name[:-4], uow.now())
        tag = await feeds.etag(found)
        headers = {"ETag": tag, "Cache-Control": "private, max-age=300, must-revalidate",
                   "X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"}
        wanted = [t.strip() for t in request.headers.get("if-none-match", "").split(",") if t.strip()]
        if tag in wanted or "*" in wanted:
            return Response(content=b"", status_code=304, headers=headers)
        body = await feeds.render(found, uow.settings.base_url)
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
        return await self._page(request, uow)

    @post("/feeds", name="feed_create")
    async def create(self, request: Request, uow: Uow) -> Response:
        data = await form_data(request)
        scope, _sep, object_id = (data.get("choice") or "").partition(":")
        try:
            feed, token = await feeds.create_feed(uow, scope, int(object_id) if object_id.isdigit() else None,
                                                  data.get("name", ""))
        except ValidationFailed as exc:
            return await self._page(request, uow, exc.status_code, error=str(exc), fields=exc.fields)
        return await self._page(request, uow, 201, created=feed, created_url=feeds.feed_url(uow.settings.base_url, token))

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
                   created_at=feed.created_at.isoformat(), url=url)


class LinkedCalendarsController(Controller):
    """Owner staff: their calendars that block time, their state, conflicts, and linking."""

    include_in_schema = False
    path = "/calendars/linked"
    guards = [role_required(Membership.Role.owner_staff)]

    async def _page(self, request: Request, uow: Uow, status_code: int = 200, **extra) -> Response:
        return render(request, "calendars/linked.html", {
            "calendars": await linking.linked(uow), "targets": await linking.targets(uow),
            "sync_minutes": uow.settings.calendar_sync_minutes, "form": {}, "fields": {}, **extra},
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

    @post("/{calendar_id:int}/unlink", name="linked_calendar_unlink")
    async def unlink(self, request: Request, uow: Uow, calendar_id: ObjectId) -> Response:
        await linking.unlink(uow, calendar_id)
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
