"""Inventory as CSV: owners load or update a whole inventory (rows matched on external ids, so
importing twice changes nothing the second time) and export it in the same format. Every
rejected row is reported with its line and reason; a file that cannot be read imports nothing."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from accounts.tables import Organisation
from core import audit
from core.errors import NotAllowed, NotFound, ValidationFailed
from core.i18n import gettext as _
from core.inputs import CONTROL, control_character_message
from core.money import euro_input
from core.uow import Event, UnitOfWork
from inventory import services
from inventory.fields import read_facility, read_resource
from inventory.hours import format_week
from inventory.tables import (
    Category,
    Facility,
    InventoryImport,
    OpeningHours,
    Qualification,
    Resource,
    ResourceProgramme,
)

log = logging.getLogger("werkbank.inventory.import")

COLUMNS = [
    "owner", "facility_id", "facility_name", "facility_street", "facility_postal_code", "facility_municipality",
    "facility_email", "facility_phone",
    "resource_id", "name", "kind", "category", "description", "capacity", "study_programmes", "accessories",
    "qualification", "needs_approval", "min_notice_hours", "max_advance_days", "min_duration_minutes",
    "max_duration_minutes", "default_duration_minutes", "buffer_minutes", "request_expiry_days", "free_cancellation_hours",
    "late_cancellation_percent", "opening_hours", "price_model", "price", "instructor_fee", "funding",
    "alternative_cost", "alternative_cost_unit", "alternative_cost_source", "status",
]
REQUIRED = {"facility_id", "facility_name", "facility_postal_code", "resource_id", "name", "category"}
MAX_BYTES = 10 * 1024 * 1024


@dataclass
class RejectedRow:
    line: int
    reason: str


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    facilities_created: int = 0
    facilities_updated: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged + len(self.rejected)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """A cell a spreadsheet would run as a formula (=, +, -, @, tab, CR at the start) gets a
    leading apostrophe: Excel and LibreOffice then show it as text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _unescape(value: str) -> str:
    """What spreadsheet_safe wrote comes back as the text it was (importing an export twice
    changes nothing); anything else stays as it is: text, never a formula."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def read_rows(content: bytes) -> list[tuple[int, dict[str, str]]]:
    """The rows with their line numbers. Raises ValidationFailed for a file that is not a CSV
    with the needed columns (then nothing is imported)."""
    if len(content) > MAX_BYTES:
        raise ValidationFailed(_("The file is larger than %(mb)s MB.", mb=MAX_BYTES // (1024 * 1024)))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("cp1252")
        except UnicodeDecodeError:
            raise ValidationFailed(_("The file cannot be read as text; save it as CSV (UTF-8).")) from None
    if "\x00" in text or not text.strip():
        raise ValidationFailed(_("The file cannot be read as text; save it as CSV (UTF-8)."))
    first_line = text.splitlines()[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = sorted(REQUIRED - set(header))
        if missing:
            raise ValidationFailed(_("The file lacks the columns: %(columns)s.", columns=", ".join(missing)))
        reader.fieldnames = header
        rows = []
        for row in reader:
            if None in row:
                rows.append((reader.line_num, {"__error__": _("This row has more fields than the header.")}))
                continue
            values = {k: _unescape((v or "").strip()) for k, v in row.items()}
            if any(CONTROL.search(v) for v in values.values()):
                rows.append((reader.line_num, {"__error__": control_character_message()}))
                continue
            rows.append((reader.line_num, values))
        return rows
    except csv.Error as exc:
        raise ValidationFailed(_("The file is not a valid CSV: %(error)s", error=str(exc))) from None


INLINE_ROWS = 200  # larger files are imported by the inventory.imports job, with progress


@dataclass(frozen=True)
class ImportQueued(Event):
    """Wakes the inventory.imports job."""

    import_id: int


async def queue_import(uow: UnitOfWork, owner_id: int, filename: str, content: bytes) -> int | None:
    """A file of more than INLINE_ROWS rows is checked (readable, under the row limit) and queued
    for the inventory.imports job; returns its id. A smaller one returns None: import it now."""
    if not services.can_manage(uow.actor, owner_id):
        raise NotAllowed(_("Only the staff of its owner may change this inventory."))
    rows = await asyncio.to_thread(read_rows, content)
    if len(rows) > uow.settings.import_max_rows:
        raise ValidationFailed(_("A file may have at most %(n)s rows; split it into smaller files.",
                                 n=uow.settings.import_max_rows))
    if len(rows) <= INLINE_ROWS:
        return None
    async with uow.transaction():
        row = InventoryImport(owner=owner_id, user=uow.actor.user.id, filename=(filename or "")[:200],
                              content=content, total_rows=len(rows), created_at=uow.now())
        await row.save()
        await audit.record(uow.actor, "inventory.import_queued", "organisation", owner_id, rows=len(rows),
                           filename=row.filename)
        uow.record(ImportQueued(row.id))
    return row.id


async def imports_job(uow: UnitOfWork, batch: int) -> int:
    """Runs the oldest queued import, as the user who sent it, noting its progress per batch."""
    from accounts.services import load_actor
    from accounts.tables import User

    async with uow.transaction():
        waiting = await InventoryImport.select(InventoryImport.id).where(
            InventoryImport.status == InventoryImport.Status.queued).order_by(InventoryImport.id).first()
        if waiting is None:
            return 0
        taken = await InventoryImport.update({InventoryImport.status: InventoryImport.Status.running}).where(
            (InventoryImport.id == waiting["id"]) & (InventoryImport.status == InventoryImport.Status.queued)
        ).returning(InventoryImport.id)
    if not taken:
        return 0
    job = await InventoryImport.objects().where(InventoryImport.id == waiting["id"]).first()
    user = await User.objects().where(User.id == job.user).first()
    uow.as_actor(await load_actor(user))

    async def note(done: int, total: int) -> None:
        async with uow.transaction():
            await InventoryImport.update({InventoryImport.done_rows: done}).where(InventoryImport.id == job.id)

    try:
        report = await import_inventory(uow, job.owner, bytes(job.content), on_batch=note)
    except ValidationFailed as exc:
        changes = {InventoryImport.status: InventoryImport.Status.failed, InventoryImport.error: str(exc)[:2000]}
    except Exception as exc:  # the job is marked failed for the owner, and the trace logged
        log.exception("import %s failed", job.id)
        changes = {InventoryImport.status: InventoryImport.Status.failed,
                   InventoryImport.error: f"{type(exc).__name__}: {exc}"[:2000]}
    else:
        changes = {InventoryImport.status: InventoryImport.Status.done, InventoryImport.done_rows: job.total_rows,
                   InventoryImport.report: {**{k: v for k, v in vars(report).items() if k != "rejected"},
                                            "rejected": [vars(r) for r in report.rejected]}}
    async with uow.transaction():
        await InventoryImport.update({**changes, InventoryImport.finished_at: uow.now(),
                                      InventoryImport.content: b""}).where(InventoryImport.id == job.id)
    return 1


async def import_status(uow: UnitOfWork, import_id: int) -> InventoryImport:
    row = await InventoryImport.objects().where(InventoryImport.id == import_id).first()
    if row is None or not services.can_manage(uow.actor, row.owner):
        raise NotFound(_("This import does not exist, or you may not see it."))
    if isinstance(row.report, str):
        row.report = json.loads(row.report or "{}")
    return row


def _facility_data(row: dict[str, str]) -> dict[str, str]:
    return {"external_id": row.get("facility_id", ""), "name": row.get("facility_name", ""),
            "street": row.get("facility_street", ""), "postal_code": row.get("facility_postal_code", ""),
            "municipality": row.get("facility_municipality", ""), "contact_email": row.get("facility_email", ""),
            "phone": row.get("facility_phone", "")}


def _resource_data(row: dict[str, str]) -> dict[str, str]:
    data = {k: v for k, v in row.items() if k in COLUMNS and not k.startswith("facility_")}
    data["external_id"] = row.get("resource_id", "")
    if not row.get("opening_hours"):
        data.pop("opening_hours", None)  # empty: keep the hours the resource has
    return data


IMPORT_BATCH = 100  # rows per transaction: the write lock is held for short stretches
_MISSING = object()


async def import_inventory(uow: UnitOfWork, owner_id: int, content: bytes,
                           progress: Callable[[int, int], None] | None = None,
                           on_batch: Callable[[int, int], Awaitable[None]] | None = None) -> ImportReport:
    """Creates or updates the owner's facilities and resources from a CSV file. The file is
    read and checked first, in a thread (an unreadable one, or one over the row limit, imports
    nothing); then rows are written IMPORT_BATCH to a transaction, each row in a savepoint, so
    other requests get the database between batches and a rejected row leaves nothing behind.
    Rows are matched on their ids, so importing the same file again changes nothing."""
    actor = uow.actor
    if not services.can_manage(actor, owner_id):
        raise NotAllowed(_("Only the staff of its owner may change this inventory."))
    rows = await asyncio.to_thread(read_rows, content)
    limit = uow.settings.import_max_rows
    if len(rows) > limit:
        raise ValidationFailed(_("A file may have at most %(n)s rows; split it into smaller files.", n=limit))
    report = ImportReport()
    owner_slug = (await Organisation.select(Organisation.slug).where(Organisation.id == owner_id).first() or {}).get("slug")
    facilities = {f.external_id: f for f in await Facility.objects().where(
        (Facility.owner == owner_id) & (Facility.external_id != ""))}
    resources = {r.external_id: r for r in await Resource.objects().where(
        (Resource.facility.owner == owner_id) & (Resource.external_id != ""))}
    seen_resources: set[str] = set()
    located: dict[tuple, dict] = {}
    for first in range(0, len(rows), IMPORT_BATCH):
        async with uow.transaction():
            for index, (line, row) in enumerate(rows[first:first + IMPORT_BATCH], start=first + 1):
                if progress:
                    progress(index, len(rows))
                if "__error__" in row:
                    report.rejected.append(RejectedRow(line, row["__error__"]))
                    continue
                if row.get("owner") and owner_slug and row["owner"] != owner_slug:
                    report.rejected.append(RejectedRow(line, _("This row belongs to %(owner)s, not to %(this)s.",
                                                               owner=row["owner"], this=owner_slug)))
                    continue
                external = row.get("resource_id", "")
                if not external:
                    report.rejected.append(RejectedRow(line, _("resource_id is empty.")))
                    continue
                if external in seen_resources:
                    report.rejected.append(RejectedRow(line, _("resource_id %(id)s appears twice in the file.",
                                                               id=external)))
                    continue
                seen_resources.add(external)
                facility_key = row.get("facility_id", "")
                before = (facilities.get(facility_key, _MISSING), resources.get(external, _MISSING),
                          {k: v for k, v in vars(report).items() if isinstance(v, int)})
                try:
                    async with uow.transaction():  # a savepoint: a rejected row leaves nothing behind
                        await _import_row(uow, owner_id, row, facilities, resources, report, located)
                except ValidationFailed as exc:
                    for table, key, value in ((facilities, facility_key, before[0]), (resources, external, before[1])):
                        if value is _MISSING:
                            table.pop(key, None)
                        else:
                            table[key] = value
                    vars(report).update(before[2])
                    detail = "; ".join(f"{name}: {message}" for name, message in exc.fields.items()) or str(exc)
                    report.rejected.append(RejectedRow(line, detail))
        if on_batch is not None:
            await on_batch(min(first + IMPORT_BATCH, len(rows)), len(rows))
    async with uow.transaction():
        await audit.record(actor, "inventory.imported", "organisation", owner_id, created=report.created,
                           updated=report.updated, unchanged=report.unchanged, rejected=len(report.rejected))
    return report


async def _import_row(uow: UnitOfWork, owner_id, row, facilities, resources, report, located) -> None:
    facility_parsed, errors = read_facility(_facility_data(row))
    if errors:
        raise ValidationFailed("", {f"facility_{k}": v for k, v in errors.items()})
    facility = facilities.get(facility_parsed.external_id)
    key = tuple(vars(facility_parsed).values())
    if key not in located:  # geocode each facility once per import, not once per row
        located[key] = services.facility_values(uow, facility_parsed)
    values = located[key]
    if facility is None:
        facility = Facility(owner=owner_id, **{column._meta.name: value for column, value in values.items()})
        await facility.save()
        facilities[facility.external_id] = facility
        report.facilities_created += 1
    elif any(getattr(facility, column._meta.name) != value for column, value in values.items()):
        await Facility.update(values).where(Facility.id == facility.id)
        facility = await Facility.objects().where(Facility.id == facility.id).first()  # a new object: a
        facilities[facility.external_id] = facility  # rejected row restores the old one
        report.facilities_updated += 1

    data = _resource_data(row)
    parsed, errors = read_resource(data)
    category_id, programme_ids, qualification_id = await services.resolve_references(owner_id, parsed, errors,
                                                                                       by_name=True)
    status = (row.get("status") or "active").strip().lower()
    if status not in ("active", "retired"):
        errors["status"] = _("Choose one of: %(choices)s.", choices="active, retired")
    if errors:
        raise ValidationFailed("", errors)
    values = {**parsed.values, "category": category_id, "required_qualification": qualification_id,
              "facility": facility.id, "status": status}
    existing = resources.get(parsed.values["external_id"])
    if existing is None:
        resource = Resource(**values)
        await resource.save()
        resources[resource.external_id] = resource
        await services.write_programmes(resource.id, programme_ids)
        if parsed.week is not None:
            await services.write_week(resource.id, parsed.week)
        report.created += 1
        return
    current_programmes = sorted(r["programme"] for r in await ResourceProgramme.select(ResourceProgramme.programme).where(
        ResourceProgramme.resource == existing.id))
    current_week = await _week_text(existing.id)
    changed = any(getattr(existing, k) != v for k, v in values.items())
    changed = changed or current_programmes != programme_ids
    changed = changed or (parsed.week is not None and format_week(parsed.week) != current_week)
    if not changed:
        report.unchanged += 1
        return
    await Resource.update({getattr(Resource, k): v for k, v in values.items()}).where(Resource.id == existing.id)
    await services.write_programmes(existing.id, programme_ids)
    if parsed.week is not None:
        await services.write_week(existing.id, parsed.week)
    report.updated += 1


async def _week_text(resource_id: int) -> str:
    week: dict = {}
    for row in await OpeningHours.objects().where(OpeningHours.resource == resource_id).order_by(OpeningHours.opens):
        week.setdefault(row.weekday, []).append((row.opens, row.closes))
    return format_week(week)


EXPORT_PAGE = 500


async def export_inventory(uow: UnitOfWork, owner_id: int) -> AsyncIterator[str]:
    """The owner's inventory in the import format (';'-separated, as Excel in Belgium reads it),
    as text chunks of EXPORT_PAGE resources: the queries select by owner and by a range of ids,
    so neither they nor the memory grow with the number of resources."""
    await services.list_facilities(uow, owner_id)  # the owner's staff only (raises otherwise)
    owner_slug = (await Organisation.select(Organisation.slug).where(Organisation.id == owner_id).first())["slug"]
    categories = {c["id"]: c["slug"] for c in await Category.select(Category.id, Category.slug)}
    qualifications = {q["id"]: q["name"] for q in await Qualification.select(Qualification.id, Qualification.name).where(
        Qualification.owner == owner_id)}
    facilities = {f.id: f for f in await Facility.objects().where(Facility.owner == owner_id)}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, delimiter=";", lineterminator="\n")
    writer.writeheader()
    yield out.getvalue()
    last = 0
    while True:
        resources = await Resource.objects().where(
            (Resource.facility.owner == owner_id) & (Resource.id > last)).order_by(Resource.id).limit(EXPORT_PAGE)
        if not resources:
            return
        first, last = resources[0].id, resources[-1].id
        links: dict[int, list[str]] = {}
        for row in await ResourceProgramme.select(ResourceProgramme.resource, ResourceProgramme.programme.slug).where(
                (ResourceProgramme.resource.facility.owner == owner_id)
                & (ResourceProgramme.resource >= first) & (ResourceProgramme.resource <= last)):
            links.setdefault(row["resource"], []).append(row["programme.slug"])
        weeks: dict[int, dict] = {}
        for row in await OpeningHours.select(OpeningHours.resource, OpeningHours.weekday, OpeningHours.opens,
                                             OpeningHours.closes).where(
                (OpeningHours.resource.facility.owner == owner_id)
                & (OpeningHours.resource >= first) & (OpeningHours.resource <= last)).order_by(OpeningHours.opens):
            weeks.setdefault(row["resource"], {}).setdefault(row["weekday"], []).append((row["opens"], row["closes"]))
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, delimiter=";", lineterminator="\n")
        for resource in resources:
            facility = facilities[resource.facility]
            writer.writerow({key: spreadsheet_safe(value) for key, value in {
                "owner": owner_slug, "facility_id": facility.external_id or f"F{facility.id}",
                "facility_name": facility.name, "facility_street": facility.street,
                "facility_postal_code": facility.postal_code, "facility_municipality": facility.municipality,
                "facility_email": facility.contact_email, "facility_phone": facility.phone,
                "resource_id": resource.external_id or f"R{resource.id}", "name": resource.name, "kind": resource.kind,
                "category": categories[resource.category], "description": resource.description,
                "capacity": resource.capacity, "study_programmes": ";".join(sorted(links.get(resource.id, []))),
                "accessories": resource.accessories,
                "qualification": qualifications.get(resource.required_qualification, ""),
                "needs_approval": "ja" if resource.needs_approval else "nee",
                "min_notice_hours": resource.min_notice_hours, "max_advance_days": resource.max_advance_days,
                "min_duration_minutes": resource.min_duration_minutes,
                "max_duration_minutes": resource.max_duration_minutes,
                "default_duration_minutes": resource.default_duration_minutes,
                "buffer_minutes": resource.buffer_minutes, "request_expiry_days": resource.request_expiry_days,
                "free_cancellation_hours": resource.free_cancellation_hours,
                "late_cancellation_percent": resource.late_cancellation_percent,
                "opening_hours": format_week(weeks.get(resource.id, {})),
                "price_model": resource.price_model, "price": euro_input(resource.price_cents),
                "instructor_fee": euro_input(resource.instructor_fee_cents), "funding": resource.funding,
                "alternative_cost": euro_input(resource.alternative_cost_cents),
                "alternative_cost_unit": resource.alternative_cost_unit,
                "alternative_cost_source": resource.alternative_cost_source, "status": resource.status,
            }.items()})
        yield out.getvalue()


def owners_named(content: bytes) -> set[str]:
    """The owner slugs a file's `owner` column names (for the command line, which has no page
    to choose the owner on)."""
    return {row.get("owner", "") for _line, row in read_rows(content) if row.get("owner")}
