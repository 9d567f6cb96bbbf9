"""The accounts part of the JSON API (/api/v1)."""

from __future__ import annotations

from litestar import Controller, Request, get

from accounts.auth import login_required
from accounts.labels import role_label
from accounts.schemas import Me, RoleOut
from core.problems import problems


class MeController(Controller):
    path = "/api/v1/me"
    tags = ["accounts"]

    @get("/", guards=[login_required], summary="The caller: e-mail, name and roles with their organisations",
         responses=problems(401))
    async def me(self, request: Request) -> Me:
        actor = request.scope["user"]
        return Me(
            id=actor.user.id,
            email=actor.user.email,
            name=actor.user.display_name,
            language=actor.user.language,
            roles=[
                RoleOut(
                    role=grant.role.value,
                    role_label=role_label(grant.role),
                    organisation=grant.organisation_slug or None,
                    organisation_name=grant.organisation_name or None,
                    organisation_kind=grant.organisation_kind or None,
                )
                for grant in actor.grants
            ],
        )
