"""Pages for the people of an organisation (invite, change a role, remove) and for accepting an
invitation."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, QueryParameter

from accounts import owner_invitations, people, services
from accounts.auth import login_required
from accounts.controllers import _client_ip, _session_cookie
from core.edge import Uow
from core.errors import DomainError, ValidationFailed
from core.i18n import gettext as _
from core.web import MAX_ID, ObjectId, form_data, redirect, render

OrganisationId = Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)]


class PeopleController(Controller):
    include_in_schema = False  # pages, not the API: /schema documents /api/v1
    path = "/people"
    guards = [login_required]

    async def _page(self, request: Request, uow: Uow, organisation: int | None, status_code: int = 200,
                    **extra) -> Response:
        found = await people.people(uow, organisation)
        return render(request, "accounts/people.html", {"p": found, "form": {}, "fields": {}, **extra},
                      status_code=status_code)

    @get("/", name="people")
    async def index(self, request: Request, uow: Uow, organisation: OrganisationId = None) -> Response:
        return await self._page(request, uow, organisation)

    @post("/invite", name="people_invite")
    async def invite(self, request: Request, uow: Uow, organisation: OrganisationId = None) -> Response:
        data = await form_data(request)
        found = await people.organisation_for_people(uow, organisation)
        try:
            invitation = await people.invite(uow, found.id, data.get("email", ""), data.get("role", ""),
                                             data.get("first_name", ""), data.get("last_name", ""))
        except ValidationFailed as exc:
            return await self._page(request, uow, found.id, 422, error=str(exc), form=data, fields=exc.fields)
        return redirect(request, f"/people/?organisation={found.id}",
                        _("%(email)s gets a mail with a link to join.", email=invitation.email))

    @post("/invitations/{invitation_id:int}/withdraw", name="people_withdraw")
    async def withdraw(self, request: Request, uow: Uow, invitation_id: ObjectId) -> Response:
        organisation = await people.withdraw(uow, invitation_id)
        return redirect(request, f"/people/?organisation={organisation}", _("The invitation is withdrawn."))

    @post("/{membership_id:int}/role", name="people_role")
    async def role(self, request: Request, uow: Uow, membership_id: ObjectId) -> Response:
        data = await form_data(request)
        organisation = await people.change_role(uow, membership_id, data.get("role", ""))
        return redirect(request, f"/people/?organisation={organisation}", _("The role is changed."))

    @post("/{membership_id:int}/remove", name="people_remove")
    async def remove(self, request: Request, uow: Uow, membership_id: ObjectId) -> Response:
        organisation = await people.remove(uow, membership_id)
        return redirect(request, f"/people/?organisation={organisation}", _("The person is removed."))


class InvitationController(Controller):
    include_in_schema = False
    path = "/invitations"

    @get("/{token:str}", name="invitation")
    async def show(self, request: Request, uow: Uow, token: FromPath[str]) -> Response:
        invitation = await people.open_invitation(uow, token)
        return render(request, "accounts/invitation.html", {"invitation": invitation, "token": token, "form": {}},
                      status_code=200 if invitation else 404)

    @post("/{token:str}", name="invitation_accept")
    async def accept(self, request: Request, uow: Uow, token: FromPath[str]) -> Response:
        data = await form_data(request)
        try:
            user = await people.accept(uow, token, data.get("new_password", ""), data.get("confirm_password", ""),
                                       data.get("first_name", ""), data.get("last_name", ""))
        except DomainError as exc:
            invitation = await people.open_invitation(uow, token)
            return render(request, "accounts/invitation.html", {
                "invitation": invitation, "token": token, "form": data, "error": str(exc),
                "fields": getattr(exc, "fields", {})}, status_code=exc.status_code)
        settings = request.app.state.settings
        session = await services.create_session(uow, user, days=settings.session_days,
                                                user_agent=request.headers.get("user-agent", ""),
                                                ip_address=_client_ip(request))
        response = redirect(request, "/", _("Welcome to Werkbank. Your account is ready."))
        response.set_cookie(_session_cookie(request, session, settings.session_days))
        return response


class OwnerSignUpController(Controller):
    """The sign-up an invited owner's link leads to: the organisation as the RTC described it, to
    confirm or correct, and the contact's password."""

    include_in_schema = False
    path = "/join"

    @get("/{token:str}", name="owner_join")
    async def show(self, request: Request, uow: Uow, token: FromPath[str]) -> Response:
        invitation = await owner_invitations.open_owner_invitation(uow, token)
        return render(request, "accounts/owner_join.html", {
            "invitation": invitation, "token": token, "form": {}, "fields": {},
            "kinds": owner_invitations.OWNER_KINDS}, status_code=200 if invitation else 404)

    @post("/{token:str}", name="owner_join_accept")
    async def accept(self, request: Request, uow: Uow, token: FromPath[str]) -> Response:
        data = await form_data(request)
        try:
            user = await owner_invitations.accept_owner_invitation(uow, token, data)
        except DomainError as exc:
            invitation = await owner_invitations.open_owner_invitation(uow, token)
            return render(request, "accounts/owner_join.html", {
                "invitation": invitation, "token": token, "form": data, "error": str(exc),
                "fields": getattr(exc, "fields", {}), "kinds": owner_invitations.OWNER_KINDS},
                status_code=exc.status_code if invitation else 404)
        settings = request.app.state.settings
        session = await services.create_session(uow, user, days=settings.session_days,
                                                user_agent=request.headers.get("user-agent", ""),
                                                ip_address=_client_ip(request))
        response = redirect(request, "/inventory/", _("Welcome to Werkbank. Add your first site and what schools can "
                                                     "book there."))
        response.set_cookie(_session_cookie(request, session, settings.session_days))
        return response
