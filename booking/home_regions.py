"""What booking adds to the home pages of provider staff and RTC staff: this quarter's counts
for their education network (the schools whose network is theirs) or their region (the schools
and the infrastructure in their province): schools, teachers, bookings, completed bookings,
pupils reached, bookings across networks and, for a region, the resources open to schools.

A handful of aggregate queries per network or region, in Piccolo's query builder (SQLite and
PostgreSQL alike); the quarter is the calendar quarter of uow.now() in Brussels."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from piccolo.query.functions.aggregate import Count, Sum

from accounts.labels import network_label
from accounts.tables import Membership, Organisation
from booking.tables import Booking
from core.i18n import BRUSSELS
from core.uow import UnitOfWork
from inventory.availability import wall_time
from inventory.tables import OpeningHours, Resource
from regions.geography import region_name

Role = Membership.Role
Status = Booking.Status
SCHOOL = Organisation.Kind.school.value
# Bookings that count for the quarter: asked for, agreed or done (not declined, cancelled,
# expired or no-show).
COUNTED = (Status.requested.value, Status.approved.value, Status.confirmed.value, Status.completed.value)


@dataclass
class Quarter:
    start: datetime  # UTC, midnight in Brussels on the first day
    end: datetime  # UTC, midnight in Brussels on the first day of the next quarter
    first_day: date
    last_day: date


def quarter_of(moment: datetime) -> Quarter:
    today = moment.astimezone(BRUSSELS).date()
    first = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    following = date(first.year + 1, 1, 1) if first.month == 10 else date(first.year, first.month + 3, 1)
    return Quarter(wall_time(first, time(0)), wall_time(following, time(0)), first, following - timedelta(days=1))


@dataclass
class AreaFigures:
    kind: str  # "network" or "region"
    code: str
    name: str
    schools: int = 0
    teachers: int = 0
    bookings: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    completed: int = 0
    pupils: int = 0
    across_networks: int = 0
    open_resources: int | None = None  # regions only


async def network_figures(network: str, quarter: Quarter) -> AreaFigures:
    figures = AreaFigures("network", network, network_label(network))
    await _fill(figures, Organisation.network == network, Membership.organisation.network == network,
                Booking.school.network == network, quarter)
    return figures


async def region_figures(region: str, quarter: Quarter) -> AreaFigures:
    figures = AreaFigures("region", region, region_name(region))
    await _fill(figures, Organisation.region_code == region, Membership.organisation.region_code == region,
                (Booking.school.region_code == region) | (Booking.resource.facility.region_code == region), quarter)
    figures.open_resources = await Resource.count().where(
        (Resource.status == Resource.Status.active) & (Resource.facility.active == True)  # noqa: E712
        & (Resource.facility.owner.active == True)  # noqa: E712
        & (Resource.facility.region_code == region)
        & Resource.id.is_in(OpeningHours.select(OpeningHours.resource)))  # without hours schools cannot book it
    return figures


async def _fill(figures: AreaFigures, schools_where, members_where, bookings_where, quarter: Quarter) -> None:
    figures.schools = await Organisation.count().where((Organisation.kind == SCHOOL) & schools_where)
    rows = await Membership.select(Count(distinct=[Membership.user], alias="n")).where(
        (Membership.role == Role.teacher) & (Membership.organisation.kind == SCHOOL)
        & (Membership.user.active == True) & members_where)  # noqa: E712
    figures.teachers = rows[0]["n"] if rows else 0
    # One grouped query for the quarter's bookings; a booking goes across networks when its
    # school books infrastructure of an owner of another network, or of no network (a sector).
    rows = await Booking.select(
        Booking.status, Booking.school.network.as_alias("school_network"),
        Booking.resource.facility.owner.network.as_alias("owner_network"),
        Count(alias="n"), Sum(Booking.group_size, alias="pupils"),
    ).where(bookings_where & Booking.status.is_in(list(COUNTED))
            & (Booking.start >= quarter.start) & (Booking.start < quarter.end)).group_by(
        Booking.status, Booking.school.network, Booking.resource.facility.owner.network)
    for row in rows:
        n = row["n"]
        figures.bookings += n
        figures.by_status[row["status"]] = figures.by_status.get(row["status"], 0) + n
        if row["status"] == Status.completed:
            figures.completed += n
            figures.pupils += row["pupils"] or 0
        if not row["owner_network"] or row["owner_network"] != row["school_network"]:
            figures.across_networks += n


async def region_panels(uow: UnitOfWork) -> list[dict]:
    """The counts of every network (provider staff) and region (RTC staff) the actor follows."""
    quarter = quarter_of(uow.now())
    areas: list[AreaFigures] = []
    seen: set[tuple[str, str]] = set()
    for grant in uow.actor.grants:
        if grant.role == Role.provider_staff and grant.organisation_network:
            key = ("network", grant.organisation_network)
            if key not in seen:
                seen.add(key)
                areas.append(await network_figures(grant.organisation_network, quarter))
        elif grant.role == Role.rtc_staff and grant.organisation_region:
            key = ("region", grant.organisation_region)
            if key not in seen:
                seen.add(key)
                areas.append(await region_figures(grant.organisation_region, quarter))
    if not areas:
        return []
    return [{"roles": [Role.provider_staff.value, Role.rtc_staff.value], "template": "booking/_home_region.html",
             "context": {"areas": areas, "quarter": quarter, "statuses": COUNTED}}]
