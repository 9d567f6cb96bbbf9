"""Core API endpoints: health."""

from __future__ import annotations

import msgspec
from litestar import Controller, Response, get

from core.db import current_engine, engine_kind


class Health(msgspec.Struct):
    status: str
    database: str


class HealthController(Controller):
    path = "/api/v1/health"
    tags = ["core"]

    @get("/", summary="Health check without authentication")
    async def health(self) -> Response[Health]:
        engine = current_engine()
        try:
            await engine.run_ddl("SELECT 1")
        except Exception as exc:  # the database is unreachable: say so, do not crash
            return Response(Health(status=f"error: {type(exc).__name__}", database=engine_kind(engine)), status_code=503)
        return Response(Health(status="ok", database=engine_kind(engine)))
