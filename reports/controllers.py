"""The regional sharing report's page (a GET form; htmx swaps only the report below it) and its
CSV and XLSX downloads, with the same query."""

from __future__ import annotations

from urllib.parse import urlencode

from litestar import Controller, Request, Response, get

from accounts.auth import login_required
from accounts.labels import network_label
from accounts.tables import Organisation
from core.edge import Uow
from core.errors import ValidationFailed
from core.i18n import gettext as _
from core.web import is_htmx, render
from inventory.labels import category_name, funding_label
from inventory.tables import Category, Resource, StudyProgramme
from regions import custom
from reports import charts, exports, formatting, kpis, services
from reports import request as report_request
from reports.scope import Scope, scope_for

MEDIA = {"csv": "text/csv",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


async def form_choices(scope: Scope) -> dict:
    """What the filters offer this viewer."""
    regions = [c for c in await custom.choices() if scope.kind != "rtc" or c.custom or c.code in scope.regions]
    owners = Organisation.select(Organisation.slug, Organisation.name, Organisation.kind, Organisation.network).where(
        services.owns_infrastructure()).order_by(Organisation.name)
    if scope.kind == "owner":
        owners = owners.where(Organisation.id.is_in(list(scope.owner_ids) or [0]))
    elif scope.kind == "provider":  # schools of other networks are not named, also not as owners
        owners = owners.where((Organisation.kind != Organisation.Kind.school)
                              | Organisation.network.is_in(list(scope.named_networks or []) or [""]))
    categories = await Category.select(Category.slug, Category.name_nl, Category.name_en).order_by(Category.position)
    return {
        "regions": regions,
        "networks": [(n.value, network_label(n.value)) for n in Organisation.Network if n.value],
        "owners": await owners,
        "fundings": [(f.value, funding_label(f.value)) for f in Resource.Funding],
        "categories": [(c["slug"], category_name(c)) for c in categories],
        "programmes": await StudyProgramme.select(StudyProgramme.slug, StudyProgramme.name).order_by(StudyProgramme.name),
    }


def report_charts(report) -> dict:
    use, reach, collaboration, money, unmet = report.use, report.reach, report.collaboration, report.money, report.unmet
    quarter_labels = [q.label for q in report.quarters]
    return {
        "status": charts.bar_chart(_("Bookings by status"), [(r.label, r.bookings) for r in use.by_status],
                                   value_label=formatting.count),
        "utilisation": charts.bar_chart(_("Utilisation by category"),
                                        [(r.label, r.utilisation or 0) for r in use.by_category if r.open_minutes],
                                        value_label=formatting.percent, scale_max=100),
        "networks": charts.bar_chart(_("Pupils reached by network"), [(r.label, r.pupils) for r in reach.by_network],
                                     value_label=formatting.count),
        "boundaries": charts.bar_chart(_("Bookings by whose infrastructure"),
                                       [(r.label, r.bookings) for r in collaboration.by_boundary], value_label=formatting.count),
        "savings": charts.bar_chart(_("Savings by study programme"), [(r.label, r.savings_cents) for r in money.by_programme],
                                    value_label=lambda v: formatting.money(int(v))),
        "unmet": charts.bar_chart(_("Unmet demand by category"), _unmet_by_category(unmet), value_label=formatting.count),
        "trend": charts.line_chart(_("Per quarter"), quarter_labels, [
            (_("Bookings"), [q.bookings for q in report.quarters]),
            (_("Completed"), [q.completed for q in report.quarters]),
            (_("Across a boundary"), [q.crossing for q in report.quarters]),
            (_("Declined or expired"), [q.unmet for q in report.quarters]),
        ], value_label=formatting.count),
        "trend_savings": charts.line_chart(_("Savings per quarter"), quarter_labels,
                                           [(_("Savings"), [q.savings_cents for q in report.quarters])],
                                           value_label=lambda v: formatting.money(int(v))),
    }


def _unmet_by_category(unmet) -> list[tuple[str, int]]:
    totals: dict[str, int] = {}
    for row in unmet.rows:
        totals[row.category_label] = totals.get(row.category_label, 0) + (row.declined + row.expired + row.waitlist
                                                                       + row.searches + row.round_days)
    return sorted(totals.items(), key=lambda item: (-item[1], item[0]))


class ReportPagesController(Controller):
    include_in_schema = False
    path = "/reports"
    guards = [login_required]

    async def _report(self, request: Request, uow: Uow):
        scope = scope_for(uow.actor)
        wanted = report_request.parse(request.query_params, report_request.today_in_brussels(uow.now()))
        return scope, wanted, await services.regional_report(uow, wanted)

    @get("/regions", name="report_regions")
    async def regions(self, request: Request, uow: Uow) -> Response:
        scope = scope_for(uow.actor)
        context = {"choices": await form_choices(scope), "form": request.query_params, "kpi": kpis.definition,
                   "f": formatting, "scope": scope, "errors": {}, "report": None, "sections": [],
                   "today": report_request.today_in_brussels(uow.now())}
        try:
            _scope, wanted, report = await self._report(request, uow)
        except ValidationFailed as exc:
            context.update(errors=exc.fields, error=str(exc))
            return render(request, "reports/regions.html", context, block="report", status_code=422 if not is_htmx(request)
                          else 200)
        query = urlencode(wanted.query())
        sections = [section for hook in uow.app.hooks.get("report.sections")  # higher domains (needs) add theirs
                    for section in await hook(uow, _scope, wanted)]
        context.update(report=report, wanted=wanted, query=query, charts=report_charts(report), sections=sections)
        return render(request, "reports/regions.html", context, block="report")

    async def _download(self, request: Request, uow: Uow, extension: str) -> Response:
        _scope, _wanted, report = await self._report(request, uow)
        content = exports.to_csv(report) if extension == "csv" else exports.to_xlsx(report)
        return Response(content=content, media_type=MEDIA[extension], headers={
            "Content-Disposition": f'attachment; filename="{exports.filename(report, extension)}"',
            "Cache-Control": "no-store"})

    @get("/regions.csv", name="report_regions_csv")
    async def regions_csv(self, request: Request, uow: Uow) -> Response:
        return await self._download(request, uow, "csv")

    @get("/regions.xlsx", name="report_regions_xlsx")
    async def regions_xlsx(self, request: Request, uow: Uow) -> Response:
        return await self._download(request, uow, "xlsx")
