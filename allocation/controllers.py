"""The rounds' pages: the list, a new round (staff), and a round's page, where schools register
while the window is open and staff allocate, adjust and publish. Plain forms (POST, then a
redirect with a message) that work without JavaScript; with htmx a form swaps the page's main
block. A refused form is shown again with its messages and what was typed."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get, post

from accounts.auth import login_required
from accounts.tables import Membership, Organisation
from allocation import access, allocating, overview, registrations, services
from allocation.inputs import RegistrationInput, RoundInput, period_weeks
from allocation.labels import reason_label, weekday_label
from allocation.loading import as_list
from core.edge import Uow
from core.errors import NotAllowed, ValidationFailed
from core.i18n import format_date, get_language
from core.i18n import gettext as _
from core.web import ObjectId, ascii_digits, form_id, is_htmx, redirect, render
from inventory.tables import Category, Resource, StudyProgramme

Role = Membership.Role
MULTI = ("resource_ids", "eligible_programmes", "eligible_years", "weekdays", "weeks")


async def _form(request: Request) -> dict[str, Any]:
    """The form's fields; the ones that may repeat (checkboxes, multiple selects) as lists."""
    form = await request.form()
    data: dict[str, Any] = {}
    for key in form:
        values = [v for v in form.getall(key) if isinstance(v, str)]
        data[key] = values if key in MULTI else (values[-1] if values else "")
    return data


async def _offerable(uow: Uow) -> list[dict]:
    """The resources the actor may put in a round: in their RTC's region, or their own."""
    actor = uow.actor
    condition = Resource.status == Resource.Status.active
    if not actor.is_platform_admin:
        regions = sorted(actor.regions(Role.rtc_staff))
        owners = sorted(actor.organisation_ids(Role.owner_staff))
        condition &= (Resource.facility.region_code.is_in(regions or ["-"])
                      | Resource.facility.owner.is_in(owners or [-1]))
    return await Resource.select(
        Resource.id, Resource.name, Resource.capacity, Resource.facility.name.as_alias("facility"),
        Resource.facility.owner.name.as_alias("owner"), Resource.facility.region_code.as_alias("region"),
    ).where(condition).order_by(Resource.facility.owner.name).order_by(Resource.name).limit(500)


async def _programmes() -> list[dict]:
    return await StudyProgramme.select(StudyProgramme.id, StudyProgramme.name, StudyProgramme.slug).order_by(
        StudyProgramme.name)


class RoundPagesController(Controller):
    include_in_schema = False
    path = "/rounds"
    guards = [login_required]

    @get("/", name="rounds")
    async def index(self, request: Request, uow: Uow) -> Response:
        return render(request, "allocation/rounds.html", {
            "rounds": await overview.list_rounds(uow), "may_open": access.may_organise(uow.actor)})

    async def _new_page(self, request: Request, uow: Uow, typed: dict, status_code: int = 200,
                        error: str = "", fields: dict | None = None) -> Response:
        if not access.may_organise(uow.actor):
            raise NotAllowed(_("Allocation rounds are opened by RTC staff, or by the owner of the resources."))
        return render(request, "allocation/new.html", {
            "resources": await _offerable(uow), "programmes": await _programmes(), "typed": typed,
            "error": error, "fields": fields or {}}, status_code=status_code)

    @get("/new", name="round_new")
    async def new(self, request: Request, uow: Uow) -> Response:
        return await self._new_page(request, uow, {"resource_ids": [], "eligible_programmes": [],
                                                   "eligible_years": []})

    @post("/", name="round_create")
    async def create(self, request: Request, uow: Uow) -> Response:
        data = await _form(request)
        try:
            rnd = await services.open_round(uow, RoundInput.parse(data))
        except ValidationFailed as exc:
            return await self._new_page(request, uow, data, 422, str(exc), exc.fields)
        return redirect(request, f"/rounds/{rnd.id}", _("The round is open for registration from %(day)s.",
                                                         day=format_date(rnd.registration_opens)))

    async def _page(self, request: Request, uow: Uow, round_id: int, status_code: int = 200, **extra) -> Response:
        view = await overview.round_view(uow, round_id)
        schools = await Organisation.objects().where(
            Organisation.id.is_in(access.school_ids(uow.actor) or [-1])).order_by(Organisation.name)
        eligible = [s for s in schools if access.may_register_school(view.round, s)]
        column = Category.name_en if get_language() == "en" else Category.name_nl
        programme_ids = as_list(view.round.eligible_programmes)
        programmes = [p for p in await _programmes() if not programme_ids or p["id"] in programme_ids]
        context = {
            "view": view, "rnd": view.round, "schools": eligible, "programmes": programmes,
            "weeks": period_weeks(view.round.period_start, view.round.period_end),
            "weekday_label": weekday_label, "reason_label": reason_label, "typed": {}, "fields": {}, "error": "",
            "categories": await Category.select(Category.id, column.as_alias("name")).where(
                Category.id.is_in([c["id"] for c in view.categories] or [-1])).order_by(column),
            "years": as_list(view.round.eligible_years) or list(range(1, 8)),
            "registration_open": view.state == "open" and bool(eligible),
            **extra}
        return render(request, "allocation/round.html", context, block="round", status_code=status_code)

    @get("/{round_id:int}", name="round")
    async def page(self, request: Request, uow: Uow, round_id: ObjectId) -> Response:
        return await self._page(request, uow, round_id)

    @get("/{round_id:int}/registrations/{registration_id:int}", name="round_registration")
    async def registration(self, request: Request, uow: Uow, round_id: ObjectId, registration_id: ObjectId) -> Response:
        current = await registrations.own_registration(uow, round_id, registration_id)
        return await self._page(request, uow, round_id, editing=current.id,
                                typed=_typed(registrations.registration_values(current)))

    @post("/{round_id:int}/registrations", name="round_register")
    async def register(self, request: Request, uow: Uow, round_id: ObjectId) -> Response:
        data = _target(await _form(request))
        school = _school_id(data)
        try:
            await registrations.register(uow, round_id, RegistrationInput.parse(data), school_id=school)
        except ValidationFailed as exc:
            return await self._page(request, uow, round_id, 422, typed=data, fields=exc.fields, error=str(exc))
        return _back(request, round_id, "mine", _("Registered. This reserves nothing yet: the days are "
                                                               "allocated after registration closes."))

    @post("/{round_id:int}/registrations/{registration_id:int}", name="round_registration_change")
    async def change(self, request: Request, uow: Uow, round_id: ObjectId, registration_id: ObjectId) -> Response:
        data = _target(await _form(request))
        try:
            await registrations.change_registration(uow, round_id, registration_id, RegistrationInput.parse(data))
        except ValidationFailed as exc:
            return await self._page(request, uow, round_id, 422, editing=registration_id, typed=data,
                                    fields=exc.fields, error=str(exc))
        return _back(request, round_id, "mine", _("Your registration is changed."))

    @post("/{round_id:int}/registrations/{registration_id:int}/withdraw", name="round_registration_withdraw")
    async def withdraw(self, request: Request, uow: Uow, round_id: ObjectId, registration_id: ObjectId) -> Response:
        await registrations.withdraw_registration(uow, round_id, registration_id)
        return _back(request, round_id, "mine", _("Your registration is withdrawn."))

    @post("/{round_id:int}/allocate", name="round_allocate")
    async def allocate(self, request: Request, uow: Uow, round_id: ObjectId) -> Response:
        data = await _form(request)
        raw = (data.get("seed") or "").strip()
        if raw and not ascii_digits(raw, 19):
            return await self._page(request, uow, round_id, 422, error=_("The seed is a whole number."),
                                    fields={"seed": _("The seed is a whole number.")})
        try:
            rnd = await allocating.allocate_round(uow, round_id, int(raw) if raw else None)
        except ValidationFailed as exc:
            return await self._page(request, uow, round_id, 422, error=str(exc), fields=exc.fields)
        return _back(request, round_id, "result",
                     _("Allocated with seed %(seed)s. Review it, adjust it if needed, then publish.", seed=rnd.seed))

    @post("/{round_id:int}/allocations", name="round_add_day")
    async def add_day(self, request: Request, uow: Uow, round_id: ObjectId) -> Response:
        data = await _form(request)
        fields = {}
        numbers = {}
        for key in ("registration_id", "resource_id"):
            value = (data.get(key) or "").strip()
            numbers[key] = form_id(value)
            if numbers[key] is None:
                fields[key] = _("Choose one.")
        try:
            day = date.fromisoformat((data.get("day") or "").strip())
        except ValueError:
            day = None
            fields["day"] = _("Enter a date as YYYY-MM-DD.")
        try:
            if fields:
                raise ValidationFailed(_("Check the fields marked in red."), fields)
            await allocating.add_allocation(uow, round_id, numbers["registration_id"], numbers["resource_id"], day)
        except ValidationFailed as exc:
            return await self._page(request, uow, round_id, 422, error=str(exc), fields=exc.fields, adding=data)
        return _back(request, round_id, "result", _("The day is added."))

    @post("/{round_id:int}/allocations/{allocation_id:int}/remove", name="round_remove_day")
    async def remove_day(self, request: Request, uow: Uow, round_id: ObjectId, allocation_id: ObjectId) -> Response:
        await allocating.remove_allocation(uow, round_id, allocation_id)
        return _back(request, round_id, "result", _("The day is taken away."))

    @post("/{round_id:int}/publish", name="round_publish")
    async def publish(self, request: Request, uow: Uow, round_id: ObjectId) -> Response:
        published = await allocating.publish_round(uow, round_id)
        message = _("Published: %(n)s days booked, the schools are mailed.", n=published.booked)
        if published.problems:
            message += " " + _("%(n)s days could not be booked; see below.", n=published.problems)
        return _back(request, round_id, "result", message,
                        "info" if published.problems else "success")

    @post("/{round_id:int}/cancel", name="round_cancel")
    async def cancel(self, request: Request, uow: Uow, round_id: ObjectId) -> Response:
        await services.cancel_round(uow, round_id)
        return redirect(request, f"/rounds/{round_id}", _("The round is cancelled."))


def _back(request: Request, round_id: int, anchor: str, message: str, kind: str = "success") -> Response:
    """To the round's page after a change, at the part that changed. htmx is sent to the page
    without the anchor: a browser only scrolls, without loading, to an anchor on the same page."""
    target = f"/rounds/{round_id}" if is_htmx(request) else f"/rounds/{round_id}#{anchor}"
    return redirect(request, target, message, kind)


def _target(data: dict[str, Any]) -> dict[str, Any]:
    """The form's one "target" select: `r12` (a resource) or `c3` (any resource of a category)."""
    target = (data.get("target", "") or "").strip()
    if target[:1] == "r":
        data["resource_id"] = target[1:]
    elif target[:1] == "c":
        data["category_id"] = target[1:]
    return data


def _school_id(data: dict[str, Any]) -> int | None:
    value = (data.get("school") or "").strip()
    return form_id(value)



def _typed(values: dict) -> dict:
    """A registration's values as the form shows them."""
    typed = {k: ("" if v is None else v) for k, v in values.items()}
    typed["target"] = f"r{values['resource_id']}" if values.get("resource_id") else f"c{values.get('category_id')}"
    typed["weekdays"] = [str(d) for d in values.get("weekdays") or []]
    return typed
