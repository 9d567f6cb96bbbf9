"""Tests for the exports of the regional sharing report: JSON, CSV (one long table), XLSX and the
file name. The report is built by hand; no database."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime

import openpyxl
import pytest

from core.i18n import gettext as _
from core.i18n import use_language
from reports.exports import filename, to_csv, to_json, to_xlsx
from reports.kpis import DEFINITIONS
from reports.model import (
    BoundaryRow,
    Collaboration,
    Money,
    MoneyRow,
    PairRow,
    QuarterRow,
    Reach,
    ReachRow,
    RegionInfo,
    Report,
    SchoolRow,
    StatusRow,
    Supply,
    SupplyRow,
    Unmet,
    UnmetRow,
    Use,
    UseRow,
)

HOSTILE = '=HYPERLINK("x")'
BOM = "\ufeff"


def make_report(**changes) -> Report:
    fields = dict(
        first=date(2026, 9, 1), last=date(2026, 12, 31),
        regions=[RegionInfo(code="VOV", name="Oost-Vlaanderen", custom=False),
                 RegionInfo(code="GENT-RAND", name="Gent en rand", custom=True, cut_to_scope=True)],
        filters={"network": {"value": "go", "label": "GO!"}, "owner": {"value": "hout-bv", "label": "@Hout BV"}},
        scope="rtc", scope_label="Je regio: Oost-Vlaanderen.",
        supply=Supply(facilities=3, resources=7, open_minutes=6000, closed_minutes=120,
                      by_funding=[SupplyRow(key="sector", label="Sectorfonds", facilities=2, resources=5, open_minutes=4500)],
                      by_category=[SupplyRow(key="cnc", label="CNC", facilities=3, resources=7, open_minutes=6000)]),
        use=Use(bookings=9, minutes=900, supply_minutes=750, open_minutes=6000, utilisation=12.5,
                by_status=[StatusRow(key="completed", label="voltooid", bookings=6, minutes=600)],
                by_category=[UseRow(key="cnc", label="CNC", bookings=9, minutes=900, supply_minutes=750, open_minutes=6000,
                                    utilisation=12.5)]),
        reach=Reach(bookings=6, pupils=80, schools=2, schools_not_named=1,
                    by_network=[ReachRow(key="go", label="GO!", schools=1, bookings=4, pupils=50),
                                ReachRow(key="", label="Geen net", schools=1, bookings=2, pupils=30)],
                    programmes=[ReachRow(key="", label="Geen studierichting", schools=2, bookings=6, pupils=80)],
                    schools_named=[SchoolRow(name=HOSTILE, network="go", network_label="GO!", bookings=4, pupils=50,
                                             savings_cents=-500),
                                   SchoolRow(name="Sint-Jozef", network="go", network_label="GO!", bookings=1, pupils=10),
                                   SchoolRow(name="Sint-Jozef", network="go", network_label="GO!", bookings=1, pupils=20)]),
        collaboration=Collaboration(bookings=8, crossing=5, crossing_share=62.5, pair_count=40,
                                    by_boundary=[BoundaryRow(key="sector", label="Sectorinfrastructuur", crossing=True,
                                                             bookings=5, pupils=60, minutes=90),
                                                 BoundaryRow(key="own_school", label="Eigen school", crossing=False,
                                                             bookings=3, pupils=20, minutes=30)],
                                    pairs=[PairRow(school="Atheneum Één", school_network="go", school_network_label="GO!",
                                                   owner="-Houtcentrum", owner_kind="sector_fund",
                                                   owner_kind_label="Sectorfonds", crossing=True, bookings=5, pupils=60,
                                                   minutes=90)]),
        money=Money(bookings=6, pupils=80, alternative_cents=20000, paid_cents=7655, savings_cents=12345,
                    savings_per_pupil_cents=None, bill_pupils=0, schools=2, schools_with_bill=1, bill_share=None,
                    by_programme=[MoneyRow(key="mechanica", label="Mechanica", bookings=6, pupils=80, alternative_cents=20000,
                                           paid_cents=7655, savings_cents=12345, savings_per_pupil_cents=154,
                                           bill_pupils=40, bill_savings_cents=6000, bill_cents=48000,
                                           bill_per_pupil_cents=1200, bill_share=12.5)]),
        unmet=Unmet(declined=2, expired=1, waitlist=3, searches=4, searches_matched=1,
                    rows=[UnmetRow(category="cnc", category_label="CNC", region="VOV", region_label="Oost-Vlaanderen",
                                   declined=2, expired=1, waitlist=3, searches=4, searches_matched=1)]),
        quarters=[QuarterRow(key="2026-Q3", label="K3 2026", first=date(2026, 9, 1), last=date(2026, 9, 30), bookings=3,
                             minutes=300, completed=2, pupils=30, schools=1, savings_cents=5000, crossing=1, unmet=1),
                  QuarterRow(key="2026-Q4", label="K4 2026", first=date(2026, 10, 1), last=date(2026, 12, 31))],
        generated_at="2026-10-05T14:30:00+02:00",
    )
    fields.update(changes)
    return Report(**fields)


def csv_rows(content: bytes) -> list[dict[str, str]]:
    assert content.startswith(b"\xef\xbb\xbf")
    text = content.decode("utf-8")
    assert text.startswith(BOM)
    return list(csv.DictReader(io.StringIO(text[1:], newline="")))


def by_id(rows: list[dict[str, str]]) -> dict[tuple[str, str, str], dict[str, str]]:
    found = {(row["section"], row["figure"], row["key"]): row for row in rows}
    assert len(found) == len(rows), "section, figure and key name each row once"
    return found


def test_json_is_the_report_as_a_dict_with_unescaped_text():
    report = make_report()
    content = to_json(report)
    assert json.loads(content) == report.to_dict()
    assert "Atheneum Één".encode() in content


def test_csv_header_line_ends_and_exact_values():
    content = to_csv(make_report())
    text = content.decode("utf-8-sig")
    assert text.splitlines()[0] == "section,figure,key,label,value,unit"
    assert text.count("\r\n") == len(text.splitlines()) and "\n" not in text.replace("\r\n", "")
    rows = by_id(csv_rows(content))

    def cell(section: str, figure: str, key: str = "") -> tuple[str, str, str]:
        row = rows[(section, figure, key)]
        return row["value"], row["unit"], row["label"]

    assert cell("report", "from") == ("2026-09-01", "text", "")
    assert cell("report", "to") == ("2026-12-31", "text", "")
    assert cell("report", "regions") == ("VOV GENT-RAND", "text", "Oost-Vlaanderen, Gent en rand")
    assert cell("report", "scope") == ("rtc", "text", "Je regio: Oost-Vlaanderen.")
    assert cell("report", "filter_network") == ("go", "text", "GO!")
    assert cell("supply", "open_minutes") == ("6000", "minutes", "")
    assert cell("supply", "closed_minutes") == ("120", "minutes", "")
    assert cell("supply", "by_funding.open_minutes", "sector") == ("4500", "minutes", "Sectorfonds")
    assert cell("use", "utilisation") == ("12.5", "percent", "")
    assert cell("use", "by_status.bookings", "completed") == ("6", "count", "voltooid")
    assert cell("use", "by_category.utilisation", "cnc") == ("12.5", "percent", "CNC")
    assert cell("reach", "by_network.pupils", "") == ("30", "count", "Geen net")
    assert cell("reach", "programmes.pupils", "") == ("80", "count", "Geen studierichting")
    assert cell("reach", "pupils") == ("80", "count", "")
    assert cell("reach", "schools_named.network", "Sint-Jozef") == ("go", "text", "Sint-Jozef")
    assert cell("reach", "schools_named.pupils", "Sint-Jozef#2") == ("20", "count", "Sint-Jozef")
    assert cell("collaboration", "crossing_share") == ("62.5", "percent", "")
    assert cell("collaboration", "by_boundary.crossing", "sector") == ("1", "count", "Sectorinfrastructuur")
    assert cell("collaboration", "by_boundary.crossing", "own_school") == ("0", "count", "Eigen school")
    assert cell("collaboration", "pairs.minutes", "Atheneum Één|-Houtcentrum")[:2] == ("90", "minutes")
    assert cell("money", "savings_cents") == ("12345", "cents", "")
    assert cell("money", "savings_per_pupil_cents") == ("", "cents", "")
    assert cell("money", "bill_share") == ("", "percent", "")
    assert cell("money", "by_programme.savings_cents", "mechanica") == ("12345", "cents", "Mechanica")
    assert cell("money", "by_programme.bill_share", "mechanica") == ("12.5", "percent", "Mechanica")
    assert cell("unmet", "searches_counted") == ("1", "count", "")
    assert cell("unmet", "rows.waitlist", "cnc/VOV") == ("3", "count", "CNC / Oost-Vlaanderen")
    assert cell("quarter", "savings_cents", "2026-Q3") == ("5000", "cents", "K3 2026")
    assert cell("quarter", "first", "2026-Q4") == ("2026-10-01", "text", "K4 2026")
    assert cell("quarter", "bookings", "2026-Q4") == ("0", "count", "K4 2026")
    sections = {section for section, _figure, _key in rows}
    assert sections == {"report", "supply", "use", "reach", "collaboration", "money", "unmet", "quarter"}
    assert {row["unit"] for row in rows.values()} == {"count", "minutes", "cents", "percent", "text"}


def test_csv_neutralises_formulas_in_text_but_not_in_numbers():
    rows = by_id(csv_rows(to_csv(make_report())))
    school = rows[("reach", "schools_named.savings_cents", "'" + HOSTILE)]
    assert school["label"] == "'" + HOSTILE
    assert school["value"] == "-500"  # a number, not a text: left as it is
    assert rows[("report", "filter_owner", "")]["label"] == "'@Hout BV"
    assert not any(row[column].startswith(("=", "+", "-", "@", "\t", "\r"))
                   for row in rows.values() for column in ("key", "label") if row[column])
    assert not any(row["value"].startswith(("=", "+", "-", "@")) for row in rows.values() if row["unit"] == "text")


def load(content: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(content))


def cells(book: openpyxl.Workbook):
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is not None:
                    yield sheet, cell


def test_xlsx_sheets_numbers_and_formats():
    book = load(to_xlsx(make_report()))
    expected = [_("Overview"), _("Supply"), _("Use"), _("Reach"), _("Collaboration"), _("Savings"), _("Unmet demand"),
                _("Quarters"), _("Definitions")]
    assert book.sheetnames == expected
    money = book[_("Savings")]
    euro = [cell for row in money.iter_rows() for cell in row if cell.value == 123.45]
    assert euro and all(cell.number_format == "€ #,##0.00" for cell in euro)
    share = [cell for row in money.iter_rows() for cell in row if cell.value == 0.125]
    assert share and all(cell.number_format == "0.0%" for cell in share)
    hours = [cell for row in book[_("Collaboration")].iter_rows() for cell in row if cell.value == 1.5]
    assert hours and hours[0].number_format == "0.00"
    overview = book[_("Overview")]
    first = [cell for row in overview.iter_rows() for cell in row if cell.value == datetime(2026, 9, 1)]
    assert first and first[0].number_format == "d/mm/yyyy"
    assert [cell for row in overview.iter_rows() for cell in row if cell.value == datetime(2026, 10, 5, 14, 30)]
    texts = {cell.value for _sheet, cell in cells(book) if isinstance(cell.value, str)}
    assert str(DEFINITIONS["use.utilisation"]) in texts and _("%(n)s of %(m)s schools recorded it", n=1, m=2) in texts
    assert {str(text) for text in DEFINITIONS.values()} <= texts
    # nothing to divide by: an empty cell, not 0
    row = next(row for row in overview.iter_rows() if row[0].value == _("Savings per pupil"))
    assert row[1].value is None
    for sheet in book.worksheets[1:]:
        assert sheet.freeze_panes is not None
        assert all(len(title) <= 31 for title in book.sheetnames)
    header = next(row for row in book[_("Supply")].iter_rows() if row[0].value == _("Funding"))
    assert all(cell.font.bold for cell in header if cell.value)


def test_xlsx_never_holds_a_formula():
    report = make_report(scope_label=HOSTILE, filters={"owner": {"value": "x", "label": "=1+1"}})
    report.money.by_programme[0].label = "=SUM(A1)\x07"  # a control character openpyxl would refuse
    book = load(to_xlsx(report))
    assert not [cell.coordinate for _sheet, cell in cells(book) if cell.data_type == "f"]
    values = {cell.value for _sheet, cell in cells(book)}
    assert "'" + HOSTILE in values and "'=1+1" in values and "'=SUM(A1)" in values


def test_exports_of_an_empty_report_in_both_languages():
    empty = Report(first=date(2026, 1, 1), last=date(2026, 3, 31), regions=[], filters={}, scope="admin", scope_label="",
                   supply=Supply(), use=Use(), reach=Reach(), collaboration=Collaboration(), money=Money(),
                   unmet=Unmet(searches_counted=False), quarters=[])
    for language in ("nl", "en"):
        with use_language(language):
            book = load(to_xlsx(empty))
            assert len(book.sheetnames) == 9
            searches = next(row for row in book.worksheets[0].iter_rows() if row[0].value == _("Searches that found nothing free"))
            not_counted = _("Searches do not record network, owner or funding: not counted with these filters.")
            assert searches[1].value is None and searches[2].value == not_counted
            assert not any(sheet.tables for sheet in book.worksheets[1:-1])  # no empty Excel tables
            rows = by_id(csv_rows(to_csv(empty)))
            assert rows[("report", "regions", "")]["value"] == ""
            assert rows[("use", "utilisation", "")]["value"] == ""
            assert rows[("unmet", "searches_counted", "")]["value"] == "0"


@pytest.mark.parametrize(("regions", "expected"), [
    (["VOV"], "werkbank-regio-2026-09-01-2026-12-31-VOV.csv"),
    (["VOV", "GENT-RAND"], "werkbank-regio-2026-09-01-2026-12-31-VOV-GENT-RAND.csv"),
    ([], "werkbank-regio-2026-09-01-2026-12-31-alle-regios.csv"),
    (['A"; rm -rf /', "B/../C"], "werkbank-regio-2026-09-01-2026-12-31-Arm-rf-B..C.csv"),
])
def test_filename(regions, expected):
    report = make_report(regions=[RegionInfo(code=code, name=code, custom=False) for code in regions])
    name = filename(report, "csv")
    assert name == expected
    assert set(name) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-")
    assert filename(report, "xlsx").endswith(".xlsx")
