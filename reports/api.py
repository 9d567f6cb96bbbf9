"""The regional sharing report as JSON: `GET /api/v1/reports/regions`."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, get
from litestar.params import QueryParameter

from accounts.auth import login_required
from core.edge import Uow
from core.problems import problems
from reports import request as report_request
from reports import services


class ReportApiController(Controller):
    path = "/api/v1/reports"
    tags = ["reports"]
    guards = [login_required]

    @get("/regions", summary="The regional sharing report: supply, use, reach, collaboration, money against the school "
                             "bill, unmet demand and the trend per quarter, in the caller's scope",
         description="Provider staff: every region, schools of their own network by name. RTC staff: their region. "
                     "Owner staff: their own infrastructure. Money in euro cents, time in minutes, shares in percent.",
         responses=problems(401, 403, 422))
    async def regions(
        self, uow: Uow,
        raw_from: Annotated[str | None, QueryParameter(name="from", description="first day, YYYY-MM-DD")] = None,
        raw_to: Annotated[str | None, QueryParameter(name="to", description="last day (included), YYYY-MM-DD")] = None,
        region: Annotated[list[str] | None, QueryParameter(description="region codes (repeat or comma-separate)")] = None,
        network: Annotated[str | None, QueryParameter(description="the schools' network")] = None,
        owner: Annotated[str | None, QueryParameter(description="an owner organisation's slug")] = None,
        funding: Annotated[str | None, QueryParameter(description="sector, government, company or school")] = None,
        category: Annotated[str | None, QueryParameter(description="a category's slug")] = None,
        programme: Annotated[str | None, QueryParameter(description="a study programme's slug")] = None,
    ) -> dict[str, Any]:
        params = {"from": raw_from, "to": raw_to, "region": region or [], "network": network, "owner": owner,
                  "funding": funding, "category": category, "programme": programme}
        wanted = report_request.parse({k: v for k, v in params.items() if v}, report_request.today_in_brussels(uow.now()))
        return (await services.regional_report(uow, wanted)).to_dict()
