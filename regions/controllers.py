"""The platform admin's page for custom regions (sets of municipalities beside the provinces)."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post

from core.edge import Uow
from core.errors import NotAllowed, NotAuthenticated, ValidationFailed
from core.i18n import gettext as _
from core.web import ObjectId, form_data, redirect, render
from regions import custom
from regions.geography import REGIONS


def platform_admin_required(connection, _handler) -> None:
    """Regions sit below accounts: the guard asks the acting user (set by accounts' middleware)."""
    actor = connection.scope.get("user")
    if actor is None:
        raise NotAuthenticated(_("Log in to continue."))
    if not actor.is_platform_admin:
        raise NotAllowed(_("Only platform admins manage custom regions."))


class CustomRegionsController(Controller):
    include_in_schema = False
    path = "/regions"
    guards = [platform_admin_required]

    async def _page(self, request: Request, uow: Uow, editing=None, status_code: int = 200, **extra) -> Response:
        regions = await custom.listing(uow)
        return render(request, "regions/custom.html", {
            "regions": regions, "provinces": list(REGIONS.values()), "editing": editing,
            "municipality": custom.municipality, "form": {}, "fields": {}, **extra}, status_code=status_code)

    @get("/", name="custom_regions")
    async def index(self, request: Request, uow: Uow) -> Response:
        return await self._page(request, uow)

    @post("/", name="custom_region_create")
    async def create(self, request: Request, uow: Uow) -> Response:
        data = await form_data(request)
        try:
            region = await custom.save(uow, data)
        except ValidationFailed as exc:
            return await self._page(request, uow, None, 422, error=str(exc), fields=exc.fields, form=data)
        return redirect(request, "/regions/", _("Region %(name)s is saved.", name=region.name))

    @get("/{region_id:int}", name="custom_region")
    async def edit(self, request: Request, uow: Uow, region_id: ObjectId) -> Response:
        region = await custom.one(uow, region_id)
        if region is None:
            return redirect(request, "/regions/", _("There is no such region."), "error")
        form = {"code": region.code, "name": region.name, "description": region.description,
                "municipalities": "\n".join(m.name for m in map(custom.municipality, region.municipalities or []) if m)}
        return await self._page(request, uow, region, form=form)

    @post("/{region_id:int}", name="custom_region_update")
    async def update(self, request: Request, uow: Uow, region_id: ObjectId) -> Response:
        data = await form_data(request)
        try:
            region = await custom.save(uow, data, region_id)
        except ValidationFailed as exc:
            return await self._page(request, uow, await custom.one(uow, region_id), 422, error=str(exc),
                                    fields=exc.fields, form=data)
        return redirect(request, "/regions/", _("Region %(name)s is saved.", name=region.name))

    @post("/{region_id:int}/remove", name="custom_region_remove")
    async def remove(self, request: Request, uow: Uow, region_id: ObjectId) -> Response:
        name = await custom.remove(uow, region_id)
        return redirect(request, "/regions/", _("Region %(name)s is removed.", name=name))
