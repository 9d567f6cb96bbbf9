"""Where a request meets the unit of work: a middleware opens one per request (one database
connection for the request, reads in one read transaction on safe methods) before
authentication runs, and the `uow` dependency hands it, with the acting user, to handlers."""

from __future__ import annotations

from litestar import Request
from litestar.di import NamedDependency, Provide
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from core.registry import Werkbank
from core.uow import UnitOfWork
from core.web import full_path

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
NO_UNIT_OF_WORK = ("/static/", "/admin", "/schema")  # files, piccolo-admin (its own transactions)
# Reads that are one query (a calendar app polling its feed): a read transaction around it would
# only add two round trips. They get a connection without one.
ONE_QUERY_READS = ("/ical/",)


def werkbank_of(scope: Scope) -> Werkbank:
    return scope["litestar_app"].state.werkbank


class UnitOfWorkMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        path = full_path(scope)
        if path.startswith(NO_UNIT_OF_WORK):
            await next_app(scope, receive, send)
            return
        app = werkbank_of(scope)
        read_only = scope.get("method", "GET") in SAFE_METHODS and not path.startswith(ONE_QUERY_READS)
        async with app.unit_of_work(read_only=read_only) as uow:
            scope["uow"] = uow
            await next_app(scope, receive, send)


def provide_uow(request: Request) -> UnitOfWork:
    uow = request.scope.get("uow")
    if uow is None:  # a path the middleware leaves alone: a unit of work without a held connection
        uow = werkbank_of(request.scope).unit_of_work()
    uow.actor = request.scope.get("user")
    return uow


def dependencies() -> dict[str, Provide]:
    return {"uow": Provide(provide_uow, sync_to_thread=False)}


# What handlers declare: `uow: Uow` (an explicitly named dependency).
Uow = NamedDependency[UnitOfWork]
