"""Allocation rounds in the JSON API (INTERFACES.md): open a round, read it, register, change or
withdraw a registration, allocate (with a seed to replay), adjust by hand, publish. Study
programmes are named by slug, as in the bookings API; ids are accepted too."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, Response, delete, get, patch, post
from litestar.params import JSONBody

from accounts.auth import login_required
from allocation import allocating, overview, registrations, services
from allocation.inputs import RegistrationInput, RoundInput
from core.edge import Uow
from core.errors import ValidationFailed
from core.i18n import gettext as _
from core.problems import problems
from core.web import MAX_ID, ObjectId
from inventory.tables import StudyProgramme


async def _programme_ids(values: Any, field: str) -> Any:
    """Slugs (or ids) of study programmes -> ids; anything else is left for the parser to refuse."""
    items = values if isinstance(values, list) else [values] if values not in (None, "") else []
    slugs = [v for v in items if isinstance(v, str) and not v.strip().isdigit()]
    if not slugs:
        return values
    rows = await StudyProgramme.select(StudyProgramme.id, StudyProgramme.slug).where(StudyProgramme.slug.is_in(slugs))
    found = {row["slug"]: row["id"] for row in rows}
    unknown = [s for s in slugs if s not in found]
    if unknown:
        message = _("Unknown study programme: %(value)s.", value=", ".join(unknown))
        raise ValidationFailed(message, {field: message}, rule=field)
    ids = [found.get(v, v) if isinstance(v, str) else v for v in items]
    return ids if isinstance(values, list) else ids[0]


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def _object(data: Any) -> dict:
    if not isinstance(data, dict):
        raise ValidationFailed(_("Send a JSON object."), rule="body")
    return data


async def _registration_raw(data: dict) -> dict:
    raw = dict(data)
    if "study_programme" in raw:
        raw["study_programme"] = await _programme_ids(raw["study_programme"], "study_programme")
    return raw


async def _view(uow, round_id: int) -> dict[str, Any]:
    return (await overview.round_view(uow, round_id)).to_dict()


class RoundApiController(Controller):
    path = "/api/v1/rounds"
    tags = ["allocation"]
    guards = [login_required]

    @post("/", summary="Open an allocation round (RTC staff for resources in their region, or the resources' owner "
                       "staff)", responses=problems(401, 403, 422))
    async def create(self, uow: Uow, data: JSONBody[Any]) -> Response:
        raw = dict(_object(data))
        if "eligible_study_programmes" in raw:
            raw["eligible_programmes"] = await _programme_ids(raw.pop("eligible_study_programmes"),
                                                              "eligible_study_programmes")
        rnd = await services.open_round(uow, RoundInput.parse(raw))
        return Response(await _view(uow, rnd.id), status_code=201)

    @get("/", summary="The rounds the caller runs, or that are open to the caller's school", responses=problems(401))
    async def list_rounds(self, uow: Uow) -> list[dict[str, Any]]:
        return [{"id": item["round"].id, "name": item["round"].name, "state": item["state"],
                 "registration_opens": item["round"].registration_opens.isoformat(),
                 "registration_closes": item["round"].registration_closes.isoformat(),
                 "period_start": item["round"].period_start.isoformat(),
                 "period_end": item["round"].period_end.isoformat(), "manage": item["manage"],
                 "my_registrations": item["mine"]} for item in await overview.list_rounds(uow)]

    @get("/{round_id:int}", summary="The round: window, caps, demand and supply per resource and region, and after "
                                    "allocation who got what (a school sees its own registrations)",
         responses=problems(401, 404))
    async def read(self, uow: Uow, round_id: ObjectId) -> dict[str, Any]:
        return await _view(uow, round_id)

    @post("/{round_id:int}/registrations", summary="Register a request while the window is open (teacher or school "
                                                   "admin); reserves nothing", responses=problems(401, 403, 404, 409, 422))
    async def register(self, uow: Uow, round_id: ObjectId, data: JSONBody[Any]) -> Response:
        raw = await _registration_raw(_object(data))
        school = raw.get("school_id")
        if school is not None and not _is_id(school):
            message = _("Give the school's id.")
            raise ValidationFailed(message, {"school_id": message}, rule="school_id")
        registration = await registrations.register(uow, round_id, RegistrationInput.parse(raw, group_required=False),
                                                    school_id=school)
        view = await overview.round_view(uow, round_id)
        line = next(line for line in view.registrations if line.id == registration.id)
        return Response(overview.registration_dict(line), status_code=201)

    @patch("/{round_id:int}/registrations/{registration_id:int}", summary="Change a registration while the window is "
                                                                          "open", responses=problems(401, 404, 409, 422))
    async def change(self, uow: Uow, round_id: ObjectId, registration_id: ObjectId,
                     data: JSONBody[Any]) -> dict[str, Any]:
        current = await registrations.own_registration(uow, round_id, registration_id)
        raw = {**registrations.registration_values(current), **await _registration_raw(_object(data))}
        if "resource_id" in data and data["resource_id"] is not None:
            raw["category_id"] = None
        elif "category_id" in data and data["category_id"] is not None:
            raw["resource_id"] = None
        await registrations.change_registration(uow, round_id, registration_id,
                                                RegistrationInput.parse(raw, group_required=False))
        view = await overview.round_view(uow, round_id)
        return overview.registration_dict(next(line for line in view.registrations if line.id == registration_id))

    @delete("/{round_id:int}/registrations/{registration_id:int}", summary="Withdraw a registration while the window "
                                                                           "is open", status_code=204,
            responses=problems(401, 404, 409))
    async def withdraw(self, uow: Uow, round_id: ObjectId, registration_id: ObjectId) -> None:
        await registrations.withdraw_registration(uow, round_id, registration_id)

    @post("/{round_id:int}/allocate", summary="Compute the allocation once registration has closed; the seed is "
                                              "recorded (give it to replay)", status_code=200,
          responses=problems(401, 403, 404, 409, 422))
    async def allocate(self, uow: Uow, round_id: ObjectId, data: JSONBody[Any] = None) -> dict:
        seed = _object(data).get("seed") if data is not None else None
        await allocating.allocate_round(uow, round_id, seed)
        return await _view(uow, round_id)

    @post("/{round_id:int}/allocations", summary="Give a registration a day by hand (within the same rules)",
          responses=problems(401, 403, 404, 409, 422))
    async def add_day(self, uow: Uow, round_id: ObjectId, data: JSONBody[Any]) -> Response:
        raw = _object(data)
        registration_id, resource_id, day = raw.get("registration_id"), raw.get("resource_id"), raw.get("day")
        errors = {}
        if not _is_id(registration_id):
            errors["registration_id"] = _("Give the registration's id.")
        if not _is_id(resource_id):
            errors["resource_id"] = _("Give the resource's id.")
        try:
            day = date.fromisoformat(day) if isinstance(day, str) and len(day) == 10 else None
        except ValueError:
            day = None
        if day is None:
            errors["day"] = _("Enter a date as YYYY-MM-DD.")
        if errors:
            raise ValidationFailed(_("Check the fields marked in red."), errors, rule="input")
        row = await allocating.add_allocation(uow, round_id, registration_id, resource_id, day)
        return Response({"id": row.id, "registration_id": registration_id, "resource_id": resource_id,
                         "day": day.isoformat(), "by_hand": True}, status_code=201)

    @delete("/{round_id:int}/allocations/{allocation_id:int}", summary="Take an allocated day away by hand",
            status_code=204, responses=problems(401, 403, 404, 409))
    async def remove_day(self, uow: Uow, round_id: ObjectId, allocation_id: ObjectId) -> None:
        await allocating.remove_allocation(uow, round_id, allocation_id)

    @post("/{round_id:int}/publish", summary="Turn the allocation into confirmed bookings and mail the schools",
          status_code=200, responses=problems(401, 403, 404, 409))
    async def publish(self, uow: Uow, round_id: ObjectId) -> dict[str, Any]:
        published = await allocating.publish_round(uow, round_id)
        return {**await _view(uow, round_id), "booked": published.booked, "not_booked": published.problems}
