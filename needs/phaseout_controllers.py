"""The phase-out pages: the list of dialogues (and, for school admins, the form to signal a
phase-out), and a dialogue's page with its responses and the agreed follow-up. Plain forms with
POST-redirect-GET; with htmx a form swaps only its own block."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post

from accounts.auth import login_required
from core.edge import Uow
from core.errors import NotAllowed, ValidationFailed
from core.i18n import gettext as _
from core.web import ObjectId, form_data, is_htmx, render
from core.web import redirect as go
from inventory.tables import StudyProgramme
from needs import phaseout, services


class PhaseOutPagesController(Controller):
    include_in_schema = False
    path = "/needs/phase-outs"
    guards = [login_required]

    async def _list(self, request: Request, uow: Uow, *, form: dict | None = None, errors: dict | None = None,
                    error: str = "", status_code: int = 200, block: str | None = None) -> Response:
        if not services.may_see_needs(uow.actor):
            raise NotAllowed(_("Needs are for schools, infrastructure owners, RTCs and education providers."))
        programmes = await StudyProgramme.select(StudyProgramme.slug, StudyProgramme.name).order_by(StudyProgramme.name)
        return render(request, "needs/phase_outs.html", {
            "rows": await phaseout.list_visible(uow), "may_signal": phaseout.may_signal(uow.actor),
            "programme_options": [(p["slug"], p["name"]) for p in programmes],
            "form": form or {}, "errors": errors or {}, "error": error,
        }, status_code=status_code, block=block)

    @get("/", name="phase_outs")
    async def index(self, request: Request, uow: Uow) -> Response:
        return await self._list(request, uow)

    @post("/", name="phase_out_signal")
    async def signal(self, request: Request, uow: Uow) -> Response:
        data = await form_data(request)
        try:
            row = await phaseout.signal(uow, data.get("study_programme", ""), data.get("last_school_year"),
                                        data.get("note", ""))
        except ValidationFailed as exc:
            return await self._list(request, uow, form=data, errors=exc.fields, error=str(exc),
                                    status_code=200 if is_htmx(request) else exc.status_code, block="signal_form")
        return go(request, f"/needs/phase-outs/{row.id}",
                  _("The phase-out is signalled: the region's RTC, the owners concerned and your network are told."))

    async def _detail(self, request: Request, uow: Uow, phase_out_id: int, *, form: dict | None = None,
                      errors: dict | None = None, error: str = "", status_code: int = 200,
                      block: str | None = None) -> Response:
        current = await phaseout.view(uow, phase_out_id)
        return render(request, "needs/phase_out.html", {
            "v": current, "can_agree": phaseout.can_agree(uow.actor, current),
            "can_respond": current.phase_out.status != phaseout.Status.closed,
            "form": form or {}, "errors": errors or {}, "error": error,
        }, status_code=status_code, block=block)

    @get("/{phase_out_id:int}", name="phase_out")
    async def detail(self, request: Request, uow: Uow, phase_out_id: ObjectId) -> Response:
        return await self._detail(request, uow, phase_out_id)

    @post("/{phase_out_id:int}/responses", name="phase_out_respond")
    async def respond(self, request: Request, uow: Uow, phase_out_id: ObjectId) -> Response:
        data = await form_data(request)
        try:
            await phaseout.respond(uow, phase_out_id, data.get("message", ""))
        except ValidationFailed as exc:
            return await self._detail(request, uow, phase_out_id, form=data, errors=exc.fields, error=str(exc),
                                      status_code=200 if is_htmx(request) else exc.status_code, block="respond_form")
        return go(request, f"/needs/phase-outs/{phase_out_id}", _("Your response is added to the dialogue."))

    @post("/{phase_out_id:int}/follow-up", name="phase_out_agree")
    async def agree(self, request: Request, uow: Uow, phase_out_id: ObjectId) -> Response:
        data = await form_data(request)
        try:
            await phaseout.agree(uow, phase_out_id, data.get("follow_up", ""), close=data.get("close") == "1")
        except ValidationFailed as exc:
            return await self._detail(request, uow, phase_out_id, form=data, errors=exc.fields, error=str(exc),
                                      status_code=200 if is_htmx(request) else exc.status_code, block="follow_up_form")
        return go(request, f"/needs/phase-outs/{phase_out_id}", _("The follow-up is recorded."))
