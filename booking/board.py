"""The planning board: resources as rows, the days of a week (or the hours of a day) as columns.
Owner staff (and platform admins) see, for the resources of their organisation, the bookings
with school and status, closures and their imported calendar; everybody else sees free and taken
time only (never another school's name). Free time links to the resource's booking form."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from accounts.tables import Membership
from booking import rules
from booking.tables import HOLDING_STATUSES, Booking, BusyBlock
from core.i18n import BRUSSELS, format_time
from core.i18n import gettext as _
from core.uow import UnitOfWork
from inventory.availability import GRID_STEP, subtract, wall_time, week_grid
from inventory.tables import Facility, Resource

SHOWN_STATUSES = [*HOLDING_STATUSES, Booking.Status.completed, Booking.Status.no_show]


@dataclass
class Item:
    """Something in a cell: a booking, closure, the owner's calendar, or free or taken time."""

    kind: str  # booking, closure, busy, taken, free
    start: datetime
    end: datetime
    label: str = ""
    href: str = ""
    status: str = ""


@dataclass
class Cell:
    items: list[Item] = field(default_factory=list)
    state: str = ""  # day view: the hour's state (free, taken, closed, ...); week view: closed-day or ""
    href: str = ""


@dataclass
class Row:
    resource_id: int
    name: str
    place: str
    details: bool  # the actor sees bookings and closures of this resource
    cells: list[Cell]


@dataclass
class Board:
    view: str  # week or day
    columns: list  # days (week view) or hours as time (day view)
    rows: list[Row]
    first: date


def _span_text(start: datetime, end: datetime) -> str:
    return f"{format_time(start)}–{format_time(end)}"


def _merge(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _slot(moment: datetime) -> str:
    local = moment.astimezone(BRUSSELS)
    return f"{local.date().isoformat()}T{local:%H:%M}"


def _book_link(resource_id: int, start: datetime) -> str:
    week = start.astimezone(BRUSSELS).date()
    week -= timedelta(days=week.weekday())
    return f"/resources/{resource_id}?week={week.isoformat()}&slot={_slot(start)}#book-form"


async def board(uow: UnitOfWork, resource_ids: list[int], first: date, view: str = "week") -> Board:
    """The board of `resource_ids` (in that order) for the week starting `first` (a Monday) or,
    in the day view, for the day `first`."""
    actor, moment = uow.actor, uow.now()
    count = 7 if view == "week" else 1
    start, end = wall_time(first, time(0)), wall_time(first + timedelta(days=count), time(0))
    rows_ = await Resource.select(
        Resource.all_columns(), Resource.facility.owner.as_alias("owner_id"),
        Resource.facility.name.as_alias("facility_name"), Resource.facility.municipality.as_alias("municipality"),
    ).where(Resource.id.is_in(resource_ids or [0]) & (Resource.status == Resource.Status.active))
    by_id = {r["id"]: r for r in rows_}
    ordered = [by_id[i] for i in resource_ids if i in by_id]
    own = {r["id"] for r in ordered
           if actor.is_platform_admin or r["owner_id"] in actor.organisation_ids(Membership.Role.owner_staff)}
    bookings: dict[int, list[dict]] = {}
    titles: dict[tuple, str] = {}  # the owner's own appointments by (resource, start, end): their titles
    if own:
        for b in await Booking.select(
            Booking.id, Booking.resource, Booking.start, Booking.end, Booking.status, Booking.group_size,
            Booking.school.name,
        ).where(Booking.resource.is_in(sorted(own)) & Booking.status.is_in(SHOWN_STATUSES)
                & (Booking.start < end) & (Booking.end > start)).order_by(Booking.start):
            bookings.setdefault(b["resource"], []).append(b)
        for b in await BusyBlock.select(BusyBlock.resource, BusyBlock.start, BusyBlock.end, BusyBlock.summary).where(
                BusyBlock.resource.is_in(sorted(own)) & (BusyBlock.start < end) & (BusyBlock.end > start)
                & (BusyBlock.summary != "")):
            titles[(b["resource"], b["start"], b["end"])] = b["summary"]
    times_of = {}
    for row in ordered:
        resource = Resource(**{k: v for k, v in row.items() if k not in ("owner_id", "facility_name", "municipality")})
        times = await rules.load_times(resource, start, end, moment)
        times.drop(set(times.overdue_ids))
        times_of[row["id"]] = (resource, times)
    opens = [a for _r, t in times_of.values() for spans in t.week.values() for a, _b in spans]
    closes = [b for _r, t in times_of.values() for spans in t.week.values() for _a, b in spans]
    top = min(opens).hour if opens else 8
    bottom = (max(closes).hour + (1 if max(closes).minute else 0)) if closes else 17
    columns: list = ([first + timedelta(days=n) for n in range(count)] if view == "week"
                     else [time(h) for h in range(top, bottom)])
    result = []
    for row in ordered:
        resource, times = times_of[row["id"]]
        details = row["id"] in own
        if view == "week":
            cells = [_day_cell(resource, times, day, moment, details, bookings.get(row["id"], []), titles)
                     for day in columns]
        else:
            cells = _hour_cells(resource, times, first, moment, details, bookings.get(row["id"], []), top, bottom)
        result.append(Row(row["id"], row["name"], f'{row["facility_name"]}, {row["municipality"]}', details, cells))
    return Board(view=view, columns=columns, rows=result, first=first)


def _bookable(resource: Resource, times: rules.ResourceTimes, moment: datetime) -> tuple[datetime, datetime, timedelta]:
    earliest = moment + timedelta(hours=resource.min_notice_hours)
    latest = moment + timedelta(days=resource.max_advance_days)
    return earliest, latest, timedelta(minutes=resource.min_duration_minutes)


def _day_cell(resource: Resource, times: rules.ResourceTimes, day: date, moment: datetime, details: bool,
              bookings: list[dict], titles: dict[tuple, str]) -> Cell:
    day_start, day_end = wall_time(day, time(0)), wall_time(day + timedelta(days=1), time(0))
    opened = [(wall_time(day, a), wall_time(day, b)) for a, b in times.week.get(day.weekday(), [])]
    closures = [(max(a, day_start), min(b, day_end)) for a, b in times.closures if a < day_end and b > day_start]
    taken = [(max(a, day_start), min(b, day_end)) for a, b in rules.taken_spans(times) if a < day_end and b > day_start]
    cell = Cell(state="past-day" if day_end <= moment else ("" if opened else "closed-day"))
    items: list[Item] = []
    if details:
        for b in bookings:
            if b["start"] < day_end and b["end"] > day_start:
                items.append(Item("booking", b["start"], b["end"], f'{_span_text(b["start"], b["end"])} {b["school.name"]}',
                                  f'/bookings/{b["id"]}', b["status"]))
        for a, z in times.busy:
            if a < day_end and z > day_start:
                calendar = titles.get((resource.id, a, z)) or _("owner's calendar")
                items.append(Item("busy", a, z, f"{_span_text(max(a, day_start), min(z, day_end))} {calendar}"))
    else:
        for a, z in _merge(taken):
            items.append(Item("taken", a, z, f'{_span_text(a, z)} {_("taken")}'))
    for a, z in closures:
        items.append(Item("closure", a, z, f'{_span_text(a, z)} {_("closed")}'))
    earliest, latest, shortest = _bookable(resource, times, moment)
    for a, z in subtract(opened, closures + taken):
        if not details:
            a = max(a, earliest)
            a += timedelta(seconds=(-a.timestamp()) % GRID_STEP.total_seconds())  # on the half hour
            if a > latest or z - a < max(shortest, GRID_STEP):
                continue
        elif z <= moment:
            continue
        items.append(Item("free", a, z, f'{_span_text(a, z)} {_("free")}',
                          "" if details else _book_link(resource.id, a)))
    items.sort(key=lambda item: item.start)
    cell.items = items
    return cell


def _hour_cells(resource: Resource, times: rules.ResourceTimes, day: date, moment: datetime, details: bool,
                bookings: list[dict], top: int, bottom: int) -> list[Cell]:
    earliest, latest, shortest = _bookable(resource, times, moment)
    grid = week_grid(times.week, day, 1, closures=times.closures, taken=rules.taken_spans(times), now=moment,
                     earliest=earliest, latest=latest, shortest=shortest,
                     usual=timedelta(minutes=resource.default_duration_minutes), step=timedelta(hours=1),
                     top=top, bottom=bottom)
    cells = []
    for _t, (grid_cell,) in grid.rows:
        cell = Cell(state=grid_cell.state)
        if details:
            for b in bookings:
                if b["start"] < grid_cell.end and b["end"] > grid_cell.start:
                    cell.items.append(Item("booking", b["start"], b["end"], b["school.name"], f'/bookings/{b["id"]}',
                                           b["status"]))
            if cell.items:
                cell.state = "booking"
            elif any(a < grid_cell.end and grid_cell.start < z for a, z in times.busy):
                cell.state = "busy"
        elif grid_cell.state == "free":
            cell.href = _book_link(resource.id, grid_cell.start)
        cells.append(cell)
    return cells


async def facility_resources(facility_id: int) -> tuple[Facility | None, list[int]]:
    facility = await Facility.objects().where(Facility.id == facility_id).first()
    if facility is None:
        return None, []
    rows = await Resource.select(Resource.id).where(
        (Resource.facility == facility_id) & (Resource.status == Resource.Status.active)).order_by(Resource.name)
    return facility, [r["id"] for r in rows]
