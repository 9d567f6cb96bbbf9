"""Owner pages: the inventory of an organisation, facility and resource forms, closures,
photos, qualifications, CSV import and export."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Stream

from accounts.auth import role_required
from accounts.tables import Membership
from core.edge import Uow
from core.errors import NotAllowed, ValidationFailed
from core.i18n import gettext as _
from core.money import euro_input
from core.web import MAX_ID, ObjectId, QueryId, render, uploaded_file
from core.web import redirect as go
from inventory import csvio, services
from inventory.hours import format_intervals
from inventory.tables import Facility, Resource

owner_required = role_required(Membership.Role.owner_staff)
OwnerId = Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)]  # ?owner=, when staff serve several


async def _owner(uow: Uow, owner: int | None) -> tuple[Any, list]:
    owners = await services.owner_organisations(uow)
    if not owners:
        raise NotAllowed(_("Your account belongs to no organisation that offers infrastructure."))
    chosen = next((o for o in owners if o.id == owner), owners[0]) if owner else owners[0]
    if owner and chosen.id != owner:
        raise NotAllowed(_("Only the staff of its owner may see this inventory."))
    return chosen, owners


async def _form_data(request: Request) -> tuple[dict[str, str], list[str]]:
    form = await request.form()
    data = {k: v for k, v in form.items() if isinstance(v, str)}
    programmes = [v for v in form.getall("study_programmes") if isinstance(v, str)] if "study_programmes" in form else []
    return data, programmes


def _resource_form_data(resource: Resource, category_slug: str, week: dict, programme_slugs: list[str]) -> dict[str, str]:
    data = {
        "name": resource.name, "kind": resource.kind, "description": resource.description,
        "category": category_slug, "facility": str(resource.facility),
        "capacity": str(resource.capacity), "accessories": resource.accessories,
        "qualification": str(resource.required_qualification or ""),
        "needs_approval": "on" if resource.needs_approval else "",
        "min_notice_hours": str(resource.min_notice_hours), "max_advance_days": str(resource.max_advance_days),
        "min_duration_minutes": str(resource.min_duration_minutes),
        "max_duration_minutes": str(resource.max_duration_minutes),
        "default_duration_minutes": str(resource.default_duration_minutes), "buffer_minutes": str(resource.buffer_minutes),
        "request_expiry_days": str(resource.request_expiry_days),
        "free_cancellation_hours": str(resource.free_cancellation_hours),
        "late_cancellation_percent": str(resource.late_cancellation_percent),
        "price_model": resource.price_model, "price": euro_input(resource.price_cents), "payment_mode": resource.payment_mode,
        "instructor_fee": euro_input(resource.instructor_fee_cents), "funding": resource.funding,
        "alternative_cost": euro_input(resource.alternative_cost_cents),
        "alternative_cost_unit": resource.alternative_cost_unit,
        "alternative_cost_source": resource.alternative_cost_source, "external_id": resource.external_id,
    }
    for day in range(7):
        data[f"hours_{day}"] = format_intervals(week.get(day, []))
    data["_programmes"] = programme_slugs
    return data


class InventoryController(Controller):
    include_in_schema = False  # pages, not the API: /schema documents /api/v1
    path = "/inventory"
    guards = [owner_required]

    @get("/", name="inventory")
    async def index(self, request: Request, uow: Uow, owner: OwnerId = None) -> Response:
        if request.scope["user"].is_platform_admin and not await services.owner_organisations(uow):
            return render(request, "inventory/index.html", {"owner": None, "owners": [], "overview": []})
        chosen, owners = await _owner(uow, owner)
        overview = await services.inventory_overview(uow, chosen.id)
        return render(request, "inventory/index.html", {"owner": chosen, "owners": owners, "overview": overview})

    # --- facilities ------------------------------------------------------------------------

    @get("/facilities/new", name="facility_new")
    async def facility_new(self, request: Request, uow: Uow, owner: OwnerId = None) -> Response:
        chosen, _owners = await _owner(uow, owner)
        return render(request, "inventory/facility_form.html", {"owner": chosen, "facility": None, "data": {}, "errors": {}})

    @get("/facilities/{facility_id:int}/edit", name="facility_edit")
    async def facility_edit(self, request: Request, uow: Uow, facility_id: ObjectId) -> Response:
        facility = await services.facility_for_edit(uow, facility_id)
        chosen, _owners = await _owner(uow, facility.owner)
        return render(request, "inventory/facility_form.html",
                      {"owner": chosen, "facility": facility, "data": facility.to_dict(), "errors": {}})

    @post("/facilities", name="facility_create")
    async def facility_create(self, request: Request, uow: Uow, owner: OwnerId = None) -> Response:
        return await self._save_facility(request, uow, owner, None)

    @post("/facilities/{facility_id:int}", name="facility_update")
    async def facility_update(self, request: Request, uow: Uow, facility_id: ObjectId) -> Response:
        facility = await services.facility_for_edit(uow, facility_id)
        return await self._save_facility(request, uow, facility.owner, facility)

    async def _save_facility(self, request: Request, uow: Uow, owner: int | None, facility: Facility | None) -> Response:
        chosen, _owners = await _owner(uow, owner)
        data, _programmes = await _form_data(request)
        try:
            saved = await services.save_facility(uow, chosen.id, data,
                                                 facility.id if facility else None)
        except ValidationFailed as exc:
            return render(request, "inventory/facility_form.html", {
                "owner": chosen, "facility": facility, "data": data, "errors": exc.fields, "error": str(exc),
            }, status_code=422)
        return go(request, f"/inventory/?owner={chosen.id}", _("%(name)s is saved.", name=saved.name))

    # --- resources -------------------------------------------------------------------------

    async def _resource_form(self, request: Request, uow: Uow, facility: Facility, resource: Resource | None,
                             data: dict, errors: dict, status_code: int = 200, error: str = "") -> Response:
        chosen, _owners = await _owner(uow, facility.owner)
        context = {
            "owner": chosen, "facility": facility, "resource": resource, "data": data, "errors": errors,
            "error": error, "categories": await services.categories(),
            "programmes": await services.study_programmes(),
            "qualifications": await services.qualifications(uow, facility.owner),
            "facilities": await services.list_facilities(uow, facility.owner),
            "payment_modes": services.payment_modes(uow),
        }
        if resource is not None:
            detail = await services.resource_detail(uow, resource.id)
            context.update(closures=detail.closures, photo_ids=detail.photo_ids)
        return render(request, "inventory/resource_form.html", context, status_code=status_code)

    @get("/resources/new", name="resource_new")
    async def resource_new(self, request: Request, uow: Uow, facility: QueryId) -> Response:
        place = await services.facility_for_edit(uow, facility)
        defaults = {"capacity": "12", "needs_approval": "on", "min_notice_hours": "48", "max_advance_days": "180",
                    "min_duration_minutes": "60", "max_duration_minutes": "480",
                    "default_duration_minutes": "120", "buffer_minutes": "0",
                    "request_expiry_days": "5", "free_cancellation_hours": "72", "late_cancellation_percent": "50",
                    "hours_0": "08:30-16:30", "hours_1": "08:30-16:30", "hours_2": "08:30-12:30",
                    "hours_3": "08:30-16:30", "hours_4": "08:30-16:30", "_programmes": []}
        return await self._resource_form(request, uow, place, None, defaults, {})

    @get("/resources/{resource_id:int}/edit", name="resource_edit")
    async def resource_edit(self, request: Request, uow: Uow, resource_id: ObjectId) -> Response:
        resource = await services.resource_for_edit(uow, resource_id)
        detail = await services.resource_detail(uow, resource_id)
        data = _resource_form_data(detail.resource, detail.category.slug, detail.week, [p.slug for p in detail.programmes])
        return await self._resource_form(request, uow, resource.facility, detail.resource, data, {})

    @post("/resources", name="resource_create")
    async def resource_create(self, request: Request, uow: Uow) -> Response:
        return await self._save_resource(request, uow, None)

    @post("/resources/{resource_id:int}", name="resource_update")
    async def resource_update(self, request: Request, uow: Uow, resource_id: ObjectId) -> Response:
        return await self._save_resource(request, uow, resource_id)

    async def _save_resource(self, request: Request, uow: Uow, resource_id: int | None) -> Response:
        data, programmes = await _form_data(request)
        data.setdefault("needs_approval", "")  # an unticked checkbox sends nothing
        raw = data.get("facility") or ""
        facility_id = int(raw) if raw.isdigit() and int(raw) <= MAX_ID else 0
        facility = await services.facility_for_edit(uow, facility_id)
        resource = await services.resource_for_edit(uow, resource_id) if resource_id else None
        try:
            saved = await services.save_resource(uow, facility.id, data, programmes=programmes,
                                                 resource_id=resource_id, week_from_days=True)
        except ValidationFailed as exc:
            return await self._resource_form(request, uow, facility, resource, {**data, "_programmes": programmes},
                                             exc.fields, 422, str(exc))
        return go(request, f"/inventory/resources/{saved.id}/edit", _("%(name)s is saved.", name=saved.name))

    @post("/resources/{resource_id:int}/retire", name="resource_retire")
    async def retire(self, request: Request, uow: Uow, resource_id: ObjectId) -> Response:
        resource = await services.set_status(uow, resource_id, "retired")
        return go(request, f"/inventory/resources/{resource_id}/edit",
                  _("%(name)s is retired: teachers no longer find it.", name=resource.name))

    @post("/resources/{resource_id:int}/reopen", name="resource_reopen")
    async def reopen(self, request: Request, uow: Uow, resource_id: ObjectId) -> Response:
        resource = await services.set_status(uow, resource_id, "active")
        return go(request, f"/inventory/resources/{resource_id}/edit",
                  _("%(name)s is open for bookings again.", name=resource.name))

    # --- closures and photos ----------------------------------------------------------------

    @post("/resources/{resource_id:int}/closures", name="closure_add")
    async def closure_add(self, request: Request, uow: Uow, resource_id: ObjectId) -> Response:
        data, _programmes = await _form_data(request)
        try:
            await services.add_closure(uow, resource_id, data.get("starts_at", ""),
                                       data.get("ends_at", ""), data.get("reason", ""))
        except ValidationFailed as exc:
            return go(request, f"/inventory/resources/{resource_id}/edit#closures", str(exc), "error")
        return go(request, f"/inventory/resources/{resource_id}/edit#closures", _("The closure is added."))

    @post("/closures/{closure_id:int}/delete", name="closure_delete")
    async def closure_delete(self, request: Request, uow: Uow, closure_id: ObjectId) -> Response:
        resource_id = await services.delete_closure(uow, closure_id)
        return go(request, f"/inventory/resources/{resource_id}/edit#closures", _("The closure is removed."))

    @post("/resources/{resource_id:int}/photos", name="photo_add")
    async def photo_add(self, request: Request, uow: Uow, resource_id: ObjectId) -> Response:
        content, fields = await uploaded_file(request, "photo")
        try:
            await services.add_photo(uow, resource_id, content, fields.get("caption", ""))
        except ValidationFailed as exc:
            return go(request, f"/inventory/resources/{resource_id}/edit#photos", str(exc), "error")
        return go(request, f"/inventory/resources/{resource_id}/edit#photos", _("The photo is added."))

    @post("/photos/{photo_id:int}/delete", name="photo_delete")
    async def photo_delete(self, request: Request, uow: Uow, photo_id: ObjectId) -> Response:
        resource_id = await services.delete_photo(uow, photo_id)
        return go(request, f"/inventory/resources/{resource_id}/edit#photos", _("The photo is removed."))

    # --- qualifications ---------------------------------------------------------------------

    @get("/qualifications", name="qualifications")
    async def qualifications(self, request: Request, uow: Uow, owner: OwnerId = None) -> Response:
        chosen, owners = await _owner(uow, owner)
        rows = await services.qualifications(uow, chosen.id)
        grants = await services.grants([q.id for q in rows])
        return render(request, "inventory/qualifications.html", {
            "owner": chosen, "owners": owners, "qualifications": rows, "grants": grants,
        }, block="qualifications")

    @post("/qualifications", name="qualification_create")
    async def qualification_create(self, request: Request, uow: Uow, owner: OwnerId = None) -> Response:
        chosen, _owners = await _owner(uow, owner)
        data, _p = await _form_data(request)
        try:
            await services.create_qualification(uow, chosen.id, data.get("name", ""),
                                                data.get("description", ""))
        except ValidationFailed as exc:
            return go(request, f"/inventory/qualifications?owner={chosen.id}", str(exc), "error")
        return go(request, f"/inventory/qualifications?owner={chosen.id}", _("The qualification is created."))

    @post("/qualifications/{qualification_id:int}/grants", name="qualification_grant")
    async def grant(self, request: Request, uow: Uow, qualification_id: ObjectId) -> Response:
        data, _p = await _form_data(request)
        try:
            grant = await services.grant_qualification(uow, qualification_id, data.get("teacher_email", ""),
                                                       data.get("expires_on", ""))
        except ValidationFailed as exc:
            return go(request, "/inventory/qualifications", str(exc), "error")
        del grant
        return go(request, "/inventory/qualifications", _("The qualification is granted."))

    @post("/grants/{grant_id:int}/withdraw", name="qualification_withdraw")
    async def withdraw(self, request: Request, uow: Uow, grant_id: ObjectId) -> Response:
        await services.withdraw_grant(uow, grant_id)
        return go(request, "/inventory/qualifications", _("The qualification is withdrawn."))

    # --- CSV -------------------------------------------------------------------------------

    @get("/import", name="inventory_import")
    async def import_form(self, request: Request, uow: Uow, owner: OwnerId = None) -> Response:
        chosen, _owners = await _owner(uow, owner)
        return render(request, "inventory/import.html", {"owner": chosen, "columns": csvio.COLUMNS, "report": None})

    @post("/import", name="inventory_import_post")
    async def import_file(self, request: Request, uow: Uow, owner: OwnerId = None) -> Response:
        chosen, _owners = await _owner(uow, owner)
        content, _fields = await uploaded_file(request, "file")
        context = {"owner": chosen, "columns": csvio.COLUMNS, "report": None}
        if not content:
            return render(request, "inventory/import.html", {**context, "error": _("Choose a CSV file.")}, status_code=422)
        try:
            queued = await csvio.queue_import(uow, chosen.id, _fields.get("_filename", ""), content)
            if queued is not None:  # a large file: the inventory.imports job does it, the owner follows
                return go(request, f"/inventory/imports/{queued}",
                          _("Your file is being imported; this page shows how far it is."))
            report = await csvio.import_inventory(uow, chosen.id, content)
        except ValidationFailed as exc:
            return render(request, "inventory/import.html", {**context, "error": str(exc)}, status_code=422)
        return render(request, "inventory/import.html", {**context, "report": report})

    @get("/imports/{import_id:int}", name="inventory_import_status")
    async def import_status(self, request: Request, uow: Uow, import_id: ObjectId) -> Response:
        job = await csvio.import_status(uow, import_id)
        chosen, _owners = await _owner(uow, job.owner)
        return render(request, "inventory/import_status.html", {"owner": chosen, "job": job}, block="progress")

    @get("/export.csv", name="inventory_export")
    async def export(self, request: Request, uow: Uow, owner: OwnerId = None) -> Response:
        chosen, _owners = await _owner(uow, owner)  # checked before the answer starts

        async def chunks():
            yield "\ufeff"  # Excel reads UTF-8 with its byte order mark
            async for chunk in csvio.export_inventory(uow, chosen.id):
                yield chunk

        return Stream(chunks(), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="werkbank-{chosen.slug}.csv"'})
