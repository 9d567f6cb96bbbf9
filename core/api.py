"""Core API endpoints: health."""

from __future__ import annotations

import msgspec
from litestar import Controller, Response, get

from core.db import engine_kind
from core.edge import Uow
from core.problems import problems


class Health(msgspec.Struct):
    status: str
    database: str


class HealthController(Controller):
    path = "/api/v1/health"
    tags = ["core"]

    @get("/", summary="Health check without authentication", responses=problems())
    async def health(self, uow: Uow) -> Response[Health]:
        try:
            await uow.engine.run_ddl("SELECT 1")
        except Exception as exc:  # the database is unreachable: say so, do not crash
            return Response(Health(status=f"error: {type(exc).__name__}", database=engine_kind(uow.engine)),
                            status_code=503)
        return Response(Health(status="ok", database=engine_kind(uow.engine)))
