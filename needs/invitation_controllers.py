"""RTC staff invite a company or sector that is not on Werkbank yet to open its infrastructure
(the needs page links here from its gaps): a form and the invitations sent, with their state.
The invitation itself is accounts' (accounts/owner_invitations.py)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.params import QueryParameter

from accounts import owner_invitations
from accounts.auth import login_required
from core.edge import Uow
from core.errors import NotAllowed, ValidationFailed
from core.i18n import gettext as _
from core.web import form_data, redirect, render
from inventory.tables import Category


class OwnerInvitationsController(Controller):
    include_in_schema = False
    path = "/needs/invitations"
    guards = [login_required]

    async def _page(self, request: Request, uow: Uow, form: dict, status_code: int = 200, error: str = "",
                    fields: dict | None = None) -> Response:
        if not owner_invitations.may_invite_owners(uow.actor):
            raise NotAllowed(_("RTC staff invite companies and sectors to open their infrastructure."))
        return render(request, "needs/invitations.html", {
            "sent": await owner_invitations.invitations_sent(uow), "kinds": owner_invitations.OWNER_KINDS,
            "form": form, "error": error, "fields": fields or {}, "now": uow.now()}, status_code=status_code)

    @get("/", name="owner_invitations")
    async def index(self, request: Request, uow: Uow,
                    category: Annotated[str | None, QueryParameter(max_length=60)] = None) -> Response:
        form = {}
        if category:  # from a gap on the needs page: say which infrastructure the region lacks
            row = await Category.select(Category.name_nl).where(Category.slug == category).first()
            if row:
                form["message"] = _("Schools in our region lack %(category)s. Could you open yours to them?",
                                    category=row["name_nl"])
        return await self._page(request, uow, form)

    @post("/", name="owner_invite")
    async def invite(self, request: Request, uow: Uow) -> Response:
        data = await form_data(request)
        try:
            invitation = await owner_invitations.invite_owner(uow, data)
        except ValidationFailed as exc:
            return await self._page(request, uow, data, 422, str(exc), exc.fields)
        return redirect(request, "/needs/invitations/", _("The invitation is sent to %(email)s.", email=invitation.email))
