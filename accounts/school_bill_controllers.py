"""The school admin's page for the school bill: what the school charges per pupil for a school
year, per study programme."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.params import QueryParameter

from accounts import school_bill
from accounts.auth import login_required
from core.edge import Uow
from core.errors import ValidationFailed
from core.i18n import gettext as _
from core.web import MAX_ID, form_data, redirect, render

SchoolId = Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)]
Year = Annotated[int | None, QueryParameter(ge=2000, le=2100)]


class SchoolBillController(Controller):
    include_in_schema = False
    path = "/school/bill"
    guards = [login_required]

    async def _page(self, request: Request, uow: Uow, school: int | None, year: int | None, status_code: int = 200,
                    **extra) -> Response:
        found = await school_bill.bill(uow, school, year)
        return render(request, "accounts/school_bill.html", {
            "bill": found, "year_label": school_bill.school_year_label, "typed": None, "fields": {},
            "finality_label": school_bill.finality_label, **extra},
            status_code=status_code)

    @get("/", name="school_bill")
    async def page(self, request: Request, uow: Uow, school: SchoolId = None, year: Year = None) -> Response:
        return await self._page(request, uow, school, year)

    @post("/", name="school_bill_save")
    async def save(self, request: Request, uow: Uow, school: SchoolId = None, year: Year = None) -> Response:
        data = await form_data(request)
        wanted = year if year is not None else school_bill.this_school_year(uow)
        try:
            saved = await school_bill.save(uow, school, wanted, data)
        except ValidationFailed as exc:
            return await self._page(request, uow, school, year, 422, error=str(exc), fields=exc.fields, typed=data)
        return redirect(request, f"/school/bill/?school={saved.school.id}&year={saved.school_year}",
                        _("The school bill for %(year)s is saved.", year=school_bill.school_year_label(saved.school_year)))
