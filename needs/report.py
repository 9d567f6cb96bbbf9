"""What needs adds to the regional report and the home pages.

`report_section` is the needs section of the regional sharing report: needs recorded in the
period that are still open, those answered, offers that led to bookings, and phase-out
dialogues with their state. reports/ cannot import needs/ (needs sits above it), so the plugin
offers it through the `report.sections` hook: reports calls every function there with the unit
of work, its Scope and its ReportRequest and shows what comes back (template
"needs/_report_section.html", context under "needs").

Scope (reports/scope.py) is honoured: platform and provider staff see every region (provider
staff: schools of other networks only counted), RTC staff their regions, owner staff the needs
their organisation answered."""

from __future__ import annotations

from dataclasses import dataclass, field

from piccolo.query.functions.aggregate import Count

from core.uow import UnitOfWork
from needs import services
from needs.tables import Need, NeedOffer, PhaseOut
from regions import custom
from regions.geography import REGIONS

COUNTED_BOOKINGS = ("requested", "approved", "confirmed", "completed")


@dataclass
class NeedsSection:
    open: int = 0  # recorded in the period, still open
    answered: int = 0  # recorded in the period, answered with at least one offer
    closed: int = 0
    offers: int = 0  # offers made in the period
    offers_booked: int = 0  # offers after which the school booked the offered resource
    phase_outs: dict[str, int] = field(default_factory=dict)  # status -> dialogues signalled in the period
    phase_out_rows: list[dict] = field(default_factory=list)


async def _in_regions(scope, request):
    """The WHERE that keeps the report's regions, for a table with `region_code` and `school`:
    a province by its code, a custom region by the postal codes of its municipalities (where the
    school lies). RTC staff are always kept to their own region, whatever they asked."""
    asked = tuple(request.regions or ())

    async def where(table):
        found = None
        if asked:
            provinces = [code for code in asked if code in REGIONS]
            customs = [code for code in asked if code not in REGIONS]
            postal: set[str] = set()
            for code in customs:
                postal |= await custom.postal_codes(code)
            found = table.region_code.is_in(provinces or [""]) | table.school.postal_code.is_in(sorted(postal) or [""])
        if scope.kind == "rtc":
            mine = table.region_code.is_in(sorted(scope.regions) or [""])
            found = mine if found is None else found & mine
        return found

    return where


async def report_section(uow: UnitOfWork, scope, request) -> NeedsSection:
    """The figures for [request.first, request.last] in the regions asked (none: all the scope
    allows), each counted in SQL."""
    start, end = request.start, request.end
    where = await _in_regions(scope, request)
    in_period = (Need.created_at >= start) & (Need.created_at < end)
    region = await where(Need)
    if region is not None:
        in_period &= region
    if scope.kind == "owner":
        answered_by_them = NeedOffer.select(NeedOffer.need).where(NeedOffer.owner.is_in(sorted(scope.owner_ids) or [0]))
        in_period &= Need.id.is_in(answered_by_them)
    section = NeedsSection()
    for row in await Need.select(Need.status, Count(Need.id).as_alias("n")).where(in_period).group_by(Need.status):
        if row["status"] == services.Status.open:
            section.open = row["n"]
        elif row["status"] == services.Status.answered:
            section.answered = row["n"]
        else:
            section.closed = row["n"]
    offers = NeedOffer.need.is_in(Need.select(Need.id).where(in_period))
    if scope.kind == "owner":
        offers &= NeedOffer.owner.is_in(sorted(scope.owner_ids) or [0])
    section.offers = await NeedOffer.count().where(offers)
    booked = await NeedOffer.raw(
        "SELECT COUNT(*) AS n FROM need_offer o JOIN need n ON n.id = o.need WHERE o.id IN ({}) AND EXISTS ("
        "SELECT 1 FROM booking b WHERE b.resource = o.resource AND b.school = n.school AND b.created_at >= o.created_at "
        f"AND b.status IN ({', '.join(repr(s) for s in COUNTED_BOOKINGS)}))",
        NeedOffer.select(NeedOffer.id).where(offers & NeedOffer.resource.is_not_null()).querystrings[0])
    section.offers_booked = int(booked[0]["n"]) if booked else 0
    if scope.kind != "owner":
        phase_where = (PhaseOut.created_at >= start) & (PhaseOut.created_at < end)
        region = await where(PhaseOut)
        if region is not None:
            phase_where &= region
        phase = PhaseOut.select(PhaseOut.id, PhaseOut.status, PhaseOut.region_code, PhaseOut.follow_up,
                                PhaseOut.school.name.as_alias("school_name"), PhaseOut.school.network.as_alias("network"),
                                PhaseOut.study_programme.name.as_alias("programme_name")).where(phase_where)
        for row in await phase.order_by(PhaseOut.created_at).order_by(PhaseOut.id).limit(500):
            section.phase_outs[row["status"]] = section.phase_outs.get(row["status"], 0) + 1
            if scope.names_school(row["network"] or ""):
                section.phase_out_rows.append(row)
    return section


async def report_sections(uow: UnitOfWork, scope, request) -> list[dict]:
    """For the `report.sections` hook."""
    return [{"template": "needs/_report_section.html", "needs": await report_section(uow, scope, request)}]


async def home_panels(uow: UnitOfWork) -> list[dict]:
    """A way to the needs page from the home page, with the number of open needs in view."""
    actor = uow.actor
    if not services.may_see_needs(actor):
        return []
    rows = await services.list_needs(uow, services.NeedFilter(status=services.Status.open, limit=500))
    roles = ["teacher", "school_admin", "owner_staff", "rtc_staff", "provider_staff", "platform_admin"]
    return [{"roles": roles, "template": "needs/_home_needs.html",
             "context": {"open": len(rows), "is_school": services.may_record(actor) and not actor.is_platform_admin}}]
