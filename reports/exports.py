"""The regional sharing report as files: JSON (the report's own values), CSV (one long table for
scripts and pivot tables) and XLSX (a workbook for people, its headers through gettext).

Names come from users, so every text cell is guarded against spreadsheet formula injection: in the
CSV a text starting with = + - @ tab or CR gets a leading apostrophe; in the workbook a text
starting with = does (openpyxl would store it as a formula)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, NamedTuple

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from core.i18n import gettext as _
from reports.kpis import DEFINITIONS
from reports.model import PairRow, Report, SchoolRow, UnmetRow

CSV_HEADER = ("section", "figure", "key", "label", "value", "unit")
SECTIONS = ("supply", "use", "reach", "collaboration", "money", "unmet")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
EURO, HOURS, PERCENT, DATE, MOMENT = "€ #,##0.00", "0.00", "0.0%", "d/mm/yyyy", "d/mm/yyyy hh:mm"
MAX_WIDTH, HEADER_WIDTH = 50, 20
BOLD, TITLE, NOTE = Font(bold=True), Font(bold=True, size=12), Font(italic=True)


def to_json(report: Report) -> bytes:
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2).encode()


def filename(report: Report, extension: str) -> str:
    """werkbank-regio-2026-09-01-2026-12-31-VOV-VAN.csv; only A-Z a-z 0-9 . and - in it."""
    regions = "-".join(code for code in (_safe(region.code) for region in report.regions) if code) or "alle-regios"
    if len(regions) > 80:
        regions = f"{len(report.regions)}-regios"
    return f"werkbank-regio-{report.first.isoformat()}-{report.last.isoformat()}-{regions}.{_safe(extension).strip('.')}"


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "", text)


def guard(text: str) -> str:
    """A text that a spreadsheet would read as a formula, with a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_START) else text


# CSV ------------------------------------------------------------------------------------------


def to_csv(report: Report) -> bytes:
    """One long table, `section,figure,key,label,value,unit`, UTF-8 with a BOM and CRLF lines.

    Totals have the field's name as figure and an empty key; list rows `<list>.<field>` (such as
    `by_programme.savings_cents`) and the row's key; quarters (section `quarter`) just the field."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for section, figure, key, label, value, unit in _csv_rows(report):
        writer.writerow((section, figure, guard(key), guard(label), _csv_value(value), unit))
    return buffer.getvalue().encode("utf-8-sig")


def _csv_rows(report: Report) -> Iterator[tuple[str, str, str, str, Any, str]]:
    yield "report", "from", "", "", report.first.isoformat(), "text"
    yield "report", "to", "", "", report.last.isoformat(), "text"
    names = ", ".join(region.name for region in report.regions)
    yield "report", "regions", "", names, " ".join(region.code for region in report.regions), "text"
    yield "report", "scope", "", report.scope_label, report.scope, "text"
    yield "report", "generated_at", "", "", report.generated_at, "text"
    for name, chosen in report.filters.items():
        yield "report", f"filter_{name}", "", chosen.get("label", ""), chosen.get("value", ""), "text"
    for section in SECTIONS:
        part = getattr(report, section)
        for item in fields(part):
            value = getattr(part, item.name)
            if isinstance(value, list):
                yield from _list_rows(section, f"{item.name}.", value)
            else:
                yield section, item.name, "", "", value, _unit(item.name, value)
    yield from _list_rows("quarter", "", report.quarters)


def _list_rows(section: str, prefix: str, rows: list) -> Iterator[tuple[str, str, str, str, Any, str]]:
    """Every field of every row but those naming it; a key seen before gets `#2`, `#3`..."""
    seen: dict[str, int] = {}
    for row in rows:
        key, label, naming = _identity(row)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            key = f"{key}#{seen[key]}"
        for item in fields(row):
            if item.name not in naming:
                value = getattr(row, item.name)
                yield section, prefix + item.name, key, label, value, _unit(item.name, value)


def _identity(row: Any) -> tuple[str, str, tuple[str, ...]]:
    """The row's key, its label and the fields they were taken from."""
    if isinstance(row, SchoolRow):
        return row.name, row.name, ("name",)
    if isinstance(row, PairRow):
        return f"{row.school}|{row.owner}", f"{row.school} – {row.owner}", ("school", "owner")
    if isinstance(row, UnmetRow):
        return (f"{row.category}/{row.region}", f"{row.category_label} / {row.region_label}",
                ("category", "category_label", "region", "region_label"))
    return row.key, row.label, ("key", "label")


def _unit(name: str, value: Any) -> str:
    if isinstance(value, str | date):
        return "text"
    if name.endswith("_cents"):
        return "cents"
    if name == "minutes" or name.endswith("_minutes"):
        return "minutes"
    if name == "utilisation" or name.endswith("share"):
        return "percent"
    return "count"  # counts, and booleans as 1 or 0


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)  # 12345, 12.5
    if isinstance(value, date):
        return value.isoformat()
    return guard(str(value))


# XLSX -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    header: str
    get: str | Callable[[Any], Any]  # a field name or a function of the row
    kind: str = "count"  # count, minutes, cents, percent, bool, date, datetime or text


class Figure(NamedTuple):
    section: str
    label: str
    value: Any
    kind: str
    definition: str | None  # its text
    overview: bool  # a headline figure, on the overview too


@dataclass(frozen=True)
class Block:
    title: str
    columns: list[Column]
    rows: list[Any]
    total: Any = None  # the section, whose fields of the columns' names fill a bold total row
    definition: str = ""  # a key of DEFINITIONS


def to_xlsx(report: Report) -> bytes:
    """Overview, one sheet per section, quarters and definitions; euro, hours and shares as numbers."""
    book = Workbook()
    book.properties.creator = "Werkbank"
    _overview(_Sheet(book, book.active, _("Overview")), report)
    figures = _figures(report)
    for section, title, blocks in _sections(report):
        sheet = _Sheet(book, book.create_sheet(), title)
        for block in blocks:
            sheet.block(block)
        if own := [figure for figure in figures if figure.section == section]:
            sheet.figures(_("Figures"), own)
        sheet.fit()
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _overview(sheet: _Sheet, report: Report) -> None:
    sheet.write([(_("Regional sharing report"), "text")], font=Font(bold=True, size=14), measured=0)
    sheet.row += 1
    cut = _("only the part in your region")
    regions = ", ".join(f"{region.name} ({cut})" if region.cut_to_scope else region.name
                        for region in report.regions) or _("all regions")
    filter_names = {"network": _("Network of the schools"), "owner": _("Owner"), "funding": _("Funding"),
                    "category": _("Category"), "programme": _("Study programme")}
    moment = _moment(report.generated_at)
    rows: list[tuple[str, Any, str, str]] = [
        (_("From"), report.first, "date", "period"), (_("To"), report.last, "date", ""), (_("Regions"), regions, "text", "")]
    rows += [(filter_names.get(name, name), chosen.get("label") or chosen.get("value"), "text", "")
             for name, chosen in report.filters.items()]
    rows += [(_("Scope"), report.scope_label, "text", ""),
             (_("Made on"), moment or report.generated_at, "datetime" if moment else "text", "")]
    for label, value, kind, definition in rows:
        cells = [(label, "text"), (value, kind), (str(DEFINITIONS[definition]) if definition else None, "text")]
        sheet.write(cells, measured=2)[0].font = BOLD
    sheet.row += 1
    sheet.figures(_("Figures"), [figure for figure in _figures(report) if figure.overview], freeze=False)
    sheet.fit()


def _moment(text: str) -> datetime | None:
    """The ISO time the report was made, as a wall time (Excel knows no time zones)."""
    try:
        return datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError:
        return None


def _figures(r: Report) -> list[Figure]:
    """Every total of every section, with its definition."""
    s, u, reach, c, m, n = r.supply, r.use, r.reach, r.collaboration, r.money, r.unmet

    def d(key: str) -> str:
        return str(DEFINITIONS[key])

    searches, matched, searched = n.searches, n.searches_matched, d("unmet.searches")
    if not n.searches_counted:
        searches = matched = None
        searched = _("Searches do not record network, owner or funding: not counted with these filters.")
    found: list[tuple[str, str, Any, str, str | None, bool]] = [
        ("supply", _("Resources open to schools"), s.resources, "count", d("supply.resources"), True),
        ("supply", _("Facilities"), s.facilities, "count", d("supply.facilities"), True),
        ("supply", _("Open hours"), s.open_minutes, "minutes", d("supply.open_minutes"), True),
        ("supply", _("Hours closed (closures)"), s.closed_minutes, "minutes", None, False),
        ("use", _("Bookings"), u.bookings, "count", d("use.bookings"), True),
        ("use", _("Hours booked"), u.minutes, "minutes", d("use.minutes"), True),
        ("use", _("Hours booked on the resources counted in supply"), u.supply_minutes, "minutes", None, False),
        ("use", _("Open hours"), u.open_minutes, "minutes", d("supply.open_minutes"), False),
        ("use", _("Utilisation"), u.utilisation, "percent", d("use.utilisation"), True),
        ("reach", _("Pupils reached"), reach.pupils, "count", d("reach.pupils"), True),
        ("reach", _("Schools reached"), reach.schools, "count", d("reach.schools"), True),
        ("reach", _("Completed bookings"), reach.bookings, "count", None, False),
        ("reach", _("Schools reached of other networks (counted, not named)"), reach.schools_not_named, "count", None, False),
        ("collaboration", _("Agreed or completed bookings"), c.bookings, "count", None, False),
        ("collaboration", _("Bookings across a boundary"), c.crossing, "count", d("collaboration.crossing"), True),
        ("collaboration", _("Share across a boundary"), c.crossing_share, "percent", d("collaboration.crossing"), True),
        ("collaboration", _("Pairs of school and owner"), c.pair_count, "count", d("collaboration.pairs"), False),
        ("money", _("Completed bookings"), m.bookings, "count", None, False),
        ("money", _("Pupils"), m.pupils, "count", None, False),
        ("money", _("Alternative cost"), m.alternative_cents, "cents", None, False),
        ("money", _("Paid"), m.paid_cents, "cents", None, False),
        ("money", _("Savings"), m.savings_cents, "cents", d("money.savings"), True),
        ("money", _("Savings per pupil"), m.savings_per_pupil_cents, "cents", d("money.savings_per_pupil"), True),
        ("money", _("Share of the school bill"), m.bill_share, "percent", d("money.bill_share"), True),
        ("money", _("Schools with a school bill"), _("%(n)s of %(m)s schools recorded it", n=m.schools_with_bill, m=m.schools),
         "text", d("money.schools_with_bill"), True),
        ("unmet", _("Declined requests"), n.declined, "count", d("unmet.declined"), True),
        ("unmet", _("Expired requests"), n.expired, "count", d("unmet.expired"), True),
        ("unmet", _("On a waitlist"), n.waitlist, "count", d("unmet.waitlist"), True),
        ("unmet", _("Days not granted in allocation rounds"), n.round_days, "count", d("unmet.round_days"), True),
        ("unmet", _("Searches that found nothing free"), searches, "count", searched, True),
        ("unmet", _("Fitting resources that were taken"), matched, "count", None, False),
    ]
    return [Figure(*figure) for figure in found]


def _sections(r: Report) -> list[tuple[str, str, list[Block]]]:
    """(section, sheet title, tables) of every sheet after the overview."""
    def label(header: str) -> Column:
        return Column(header, "label", "text")

    def supply(header: str) -> list[Column]:
        return [label(header), Column(_("Facilities"), "facilities"), Column(_("Resources"), "resources"),
                Column(_("Open hours"), "open_minutes", "minutes")]

    people = [Column(_("Schools"), "schools"), Column(_("Bookings"), "bookings"), Column(_("Pupils"), "pupils")]
    together = [Column(_("Across a boundary"), "crossing", "bool"), Column(_("Bookings"), "bookings"),
                Column(_("Pupils"), "pupils"), Column(_("Hours"), "minutes", "minutes")]
    money = [label(_("Study programme")), Column(_("Bookings"), "bookings"), Column(_("Pupils"), "pupils"),
             Column(_("Alternative cost"), "alternative_cents", "cents"), Column(_("Paid"), "paid_cents", "cents"),
             Column(_("Savings"), "savings_cents", "cents"), Column(_("Savings per pupil"), "savings_per_pupil_cents", "cents"),
             Column(_("Pupils with a school bill"), "bill_pupils"),
             Column(_("Savings for those pupils"), "bill_savings_cents", "cents"),
             Column(_("School bill of those pupils"), "bill_cents", "cents"),
             Column(_("School bill per pupil"), "bill_per_pupil_cents", "cents"),
             Column(_("Share of the school bill"), "bill_share", "percent")]
    unmet = [Column(_("Category"), "category_label", "text"), Column(_("Region"), "region_label", "text"),
             Column(_("Declined"), "declined"), Column(_("Expired"), "expired"), Column(_("Waitlist"), "waitlist"),
             Column(_("Round days"), "round_days"),
             Column(_("Searches"), "searches"), Column(_("Fitting resources that were taken"), "searches_matched")]
    quarters = [label(_("Quarter")), Column(_("From"), "first", "date"), Column(_("To"), "last", "date"),
                Column(_("Bookings"), "bookings"), Column(_("Hours booked"), "minutes", "minutes"),
                Column(_("Completed"), "completed"), Column(_("Pupils"), "pupils"), Column(_("Schools"), "schools"),
                Column(_("Savings"), "savings_cents", "cents"), Column(_("Across a boundary"), "crossing"),
                Column(_("Declined or expired"), "unmet")]
    definitions = [Column(_("Figure"), lambda entry: entry[0], "text"),
                   Column(_("Definition"), lambda entry: str(entry[1]), "text")]
    return [
        ("supply", _("Supply"), [Block(_("By funding"), supply(_("Funding")), r.supply.by_funding, r.supply),
                                 Block(_("By category"), supply(_("Category")), r.supply.by_category, r.supply)]),
        ("use", _("Use"), [
            Block(_("Bookings by status"), [label(_("Status")), Column(_("Bookings"), "bookings"),
                                            Column(_("Hours"), "minutes", "minutes")], r.use.by_status, definition="use.by_status"),
            Block(_("By category"), [label(_("Category")), Column(_("Bookings"), "bookings"),
                                     Column(_("Hours booked"), "minutes", "minutes"),
                                     Column(_("Hours booked on the resources counted in supply"), "supply_minutes", "minutes"),
                                     Column(_("Open hours"), "open_minutes", "minutes"),
                                     Column(_("Utilisation"), "utilisation", "percent")], r.use.by_category, r.use)]),
        ("reach", _("Reach"), [
            Block(_("By network"), [label(_("Network")), *people], r.reach.by_network, r.reach),
            Block(_("Study programmes served"), [label(_("Study programme")), *people], r.reach.programmes,
                  definition="reach.programmes"),
            Block(_("Schools reached"), [Column(_("School"), "name", "text"), Column(_("Network"), "network_label", "text"),
                                         Column(_("Bookings"), "bookings"), Column(_("Pupils"), "pupils"),
                                         Column(_("Savings"), "savings_cents", "cents")], r.reach.schools_named)]),
        ("collaboration", _("Collaboration"), [
            Block(_("Whose infrastructure schools use"), [label(_("Infrastructure of")), *together], r.collaboration.by_boundary),
            Block(_("Who works with whom"), [Column(_("School"), "school", "text"),
                                             Column(_("Network of the school"), "school_network_label", "text"),
                                             Column(_("Owner"), "owner", "text"),
                                             Column(_("Kind of owner"), "owner_kind_label", "text"),
                                             *together], r.collaboration.pairs, definition="collaboration.pairs")]),
        ("money", _("Savings"), [Block(_("By study programme"), money, r.money.by_programme, r.money)]),
        ("unmet", _("Unmet demand"), [Block(_("By category and region"), unmet, r.unmet.rows, r.unmet)]),
        ("quarters", _("Quarters"), [Block(_("Per quarter"), quarters, r.quarters, definition="quarters")]),
        ("definitions", _("Definitions"), [Block(_("Definitions"), definitions, list(DEFINITIONS.items()))]),
    ]


class _Sheet:
    """Writes rows top-down on one worksheet and remembers how wide each column's texts are."""

    def __init__(self, book: Workbook, ws: Worksheet, title: str) -> None:
        self.book, self.ws, self.row = book, ws, 1
        self.widths: dict[int, int] = {}
        ws.title = _sheet_title(title, [other.title for other in book.worksheets if other is not ws])

    def write(self, cells: list[tuple[Any, str]], font: Font | None = None, measured: int = 99,
              wrap: int = MAX_WIDTH) -> list[Cell]:
        """One row, `font` on every cell; only the first `measured` cells set the column widths (a
        title, a note or a definition runs on over the empty cells to its right instead), a text
        longer than `wrap` wraps."""
        written = []
        for index, (value, kind) in enumerate(cells, start=1):
            cell = self.ws.cell(row=self.row, column=index)
            if value is not None:
                cell.value, cell.number_format = _excel(value, kind)
            if font is not None:
                cell.font = font
            if index <= measured:
                size = len(cell.value) if isinstance(cell.value, str) else 12
                self.widths[index] = max(self.widths.get(index, 0), min(size, wrap))
                if size > wrap:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
            written.append(cell)
        self.row += 1
        return written

    def header(self, headers: list[str], freeze: bool = True) -> int:
        """A bold header row (the panes frozen below the sheet's first); its row number."""
        self.write([(text, "text") for text in headers], font=BOLD, wrap=HEADER_WIDTH)
        if freeze and self.ws.freeze_panes is None:
            self.ws.freeze_panes = f"A{self.row}"
        return self.row - 1

    def block(self, block: Block) -> None:
        """A table: title, definition, header, rows (an Excel table, so with filters) and total."""
        self.write([(block.title, "text")], font=TITLE, measured=0)
        if block.definition:
            self.write([(str(DEFINITIONS[block.definition]), "text")], font=NOTE, measured=0)
        top = self.header(_unique([column.header for column in block.columns]))
        for row in block.rows:
            self.write([(_value(row, column), column.kind) for column in block.columns])
        if not block.rows:
            self.write([(_("None"), "text")], font=NOTE, measured=0)
        else:
            name = f"Tabel{sum(len(ws.tables) for ws in self.book.worksheets) + 1}"
            table = Table(displayName=name, ref=f"A{top}:{get_column_letter(len(block.columns))}{self.row - 1}")
            table.tableStyleInfo = TableStyleInfo(name="TableStyleLight1", showRowStripes=True)
            self.ws.add_table(table)
        if block.total is not None and block.rows:
            self.write([(_("Total"), "text")] + [
                (getattr(block.total, column.get, None) if isinstance(column.get, str) and column.kind != "bool" else None,
                 column.kind) for column in block.columns[1:]], font=BOLD)
        self.row += 1

    def figures(self, title: str, figures: list[Figure], freeze: bool = True) -> None:
        """A list of figures: label, value and the definition beside it."""
        self.write([(title, "text")], font=TITLE, measured=0)
        self.header([_("Figure"), _("Value"), _("Definition")], freeze=freeze)
        for figure in figures:
            self.write([(figure.label, "text"), (figure.value, figure.kind), (figure.definition, "text")], measured=2)
        self.row += 1

    def fit(self) -> None:
        for index, width in self.widths.items():
            self.ws.column_dimensions[get_column_letter(index)].width = max(8, width + 2)


def _value(row: Any, column: Column) -> Any:
    return getattr(row, column.get) if isinstance(column.get, str) else column.get(row)


def _excel(value: Any, kind: str) -> tuple[Any, str]:
    """The cell value and number format: euro from cents, hours from minutes, a fraction from a percentage."""
    if kind == "minutes":
        return value / 60, HOURS
    if kind == "cents":
        return round(value / 100, 2), EURO
    if kind == "percent":
        return round(value / 100, 6), PERCENT
    if kind == "date":
        return value, DATE
    if kind == "datetime":
        return value, MOMENT
    if kind == "bool":
        return (_("yes") if value else _("no")), "General"
    if kind == "count":
        return value, "General"
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    return ("'" + text if text.startswith("=") else text), "General"


def _unique(headers: list[str]) -> list[str]:
    """Excel refuses a table with the same column header twice (translations may collide)."""
    found: list[str] = []
    for header in headers:
        text, n = header or "-", 1
        while text.lower() in (seen.lower() for seen in found):
            n += 1
            text = f"{header} ({n})"
        found.append(text)
    return found


def _sheet_title(text: str, taken: list[str]) -> str:
    """At most 31 characters, none of []:*?/\\ and not taken yet (Excel's rules)."""
    base = re.sub(r"[\[\]:*?/\\]", "", text).strip().strip("'")[:31] or "Blad"
    title, n = base, 1
    while title.lower() in (other.lower() for other in taken):
        n += 1
        title = f"{base[:28]} {n}"
    return title
