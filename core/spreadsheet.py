"""Writing listings as spreadsheets (.xlsx) and CSV: what every listing command's
``--format csv|xlsx -o FILE`` uses, and what reports build on.

A listing is a ``Listing``: its fields (key, header, kind), its rows (dicts) and, where a
total means something, a totals row the caller computes (totals count each item once, so
they are never a blind sum of rows). In a workbook cells are typed (dates as dates, percents
as numbers shown with %), the header row is styled and frozen, an autofilter covers the
table and columns are as wide as their text (CJK characters count twice). A listing may
carry charts: each a native Excel chart of readings against a target line.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from .clock import LOCAL_TZ
from .errors import UserError
from .i18n import t

MAX_WIDTH = 60  # characters; longer text wraps
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
HEADER_FILL = "DDE7F3"
TOTAL_FILL = "F2F2F2"


@dataclass(frozen=True)
class Field:
    """A column: the row key, its header, and what kind of value it holds. ``percent`` is a
    fraction (0.95 = 95%), ``percent100`` a number of percent (95.0 = 95%)."""

    key: str
    header: str
    kind: str = "auto"


@dataclass(frozen=True)
class Chart:
    """A line chart of ``readings`` [(date, value)] against ``target`` [(date, value)]."""

    title: str
    readings: Sequence[tuple[date, float]]
    target: Sequence[tuple[date, float]]
    unit: str = ""


@dataclass
class Listing:
    """One sheet: a title (the sheet's name), fields, rows, an optional totals row, charts."""

    title: str
    fields: Sequence[Field]
    rows: Iterable[Mapping[str, Any]]
    totals: Mapping[str, Any] | None = None
    charts: Sequence[Chart] = field(default_factory=list)


def fields(columns: Sequence[tuple[str, ...] | Field]) -> list[Field]:
    """``(key, header)`` or ``(key, header, kind)`` tuples as fields."""
    return [c if isinstance(c, Field) else Field(*c) for c in columns]


def cell_width(text: str) -> int:
    """Terminal and spreadsheet cells taken by ``text``: wide (CJK) characters take two."""
    # ASCII is one cell a character (known in constant time); other texts repeat down a
    # listing (reasons, owners), so each is measured once: a sweep's 86,000 rows took 2 s.
    return len(text) if text.isascii() else _wide_width(text)


@functools.lru_cache(maxsize=65_536)
def _wide_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def plain(value: Any, *, for_csv: bool = False) -> str:
    """A value as text: lists joined, dates in ISO form, booleans as true/false (CSV) or ✓."""
    if value is None:
        return ""
    if isinstance(value, bool):
        if for_csv:
            return "true" if value else "false"
        return "✓" if value else ""
    if isinstance(value, list | tuple):
        return ("; " if for_csv else ", ").join(plain(v, for_csv=for_csv) for v in value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def write_csv(out: IO[str], listing: Listing) -> None:
    """The rows as CSV: a header of field keys, one line per row (lists joined with "; ")."""
    writer = csv.writer(out)
    writer.writerow([f.key for f in listing.fields])
    for row in listing.rows:
        writer.writerow([plain(row.get(f.key), for_csv=True) for f in listing.fields])


def _typed(value: Any, kind: str) -> tuple[Any, str | None]:
    """(cell value, number format) for a workbook."""
    if value is None or value == "":
        return None, None
    if isinstance(value, list | tuple):
        return "、".join(plain(v) for v in value), None
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={plain(v)}" for k, v in value.items()), None
    if kind == "percent":
        return float(value), "0.0%"
    if kind == "percent100":
        return float(value) / 100, "0.0%"
    if isinstance(value, bool) or kind == "bool":
        return bool(value), None
    if isinstance(value, str) and kind in ("auto", "date", "datetime"):
        if _ISO_DAY.match(value):
            return date.fromisoformat(value), "yyyy-mm-dd"
        if _ISO_INSTANT.match(value):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                return value, None
    if isinstance(value, datetime):
        if value.tzinfo is not None:  # Excel has no time zones: local time, as people read it
            value = value.astimezone(LOCAL_TZ).replace(tzinfo=None)
        return value, "yyyy-mm-dd hh:mm"
    if isinstance(value, date):
        return value, "yyyy-mm-dd"
    if kind == "int" or isinstance(value, int):
        return int(value) if kind == "int" else value, "0" if kind == "int" else None
    if kind == "number" or isinstance(value, float):
        return float(value), "#,##0.###"
    return str(value), None


def _add_sheet(book: Any, listing: Listing) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(_sheet_title(listing.title, book.sheetnames))
    header_font, bold = Font(bold=True), Font(bold=True)
    thin = Side(style="thin", color="999999")
    widths = [cell_width(f.header) for f in listing.fields]
    sheet.append([f.header for f in listing.fields])
    for cell in sheet[1]:
        cell.font = header_font
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = Border(bottom=thin)
    count = 0
    for row in listing.rows:
        count += 1
        _append(sheet, listing.fields, row, widths)
    last = count + 1
    if listing.totals is not None:
        _append(sheet, listing.fields, listing.totals, widths)
        for cell in sheet[last + 1]:
            cell.font = bold
            cell.fill = PatternFill("solid", fgColor=TOTAL_FILL)
            cell.border = Border(top=thin)
    sheet.freeze_panes = "A2"
    end = get_column_letter(max(1, len(listing.fields)))
    sheet.auto_filter.ref = f"A1:{end}{last}"
    for i, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(i)].width = min(MAX_WIDTH, max(6, width + 2))
    if any(w > MAX_WIDTH for w in widths):
        wrap = Alignment(wrap_text=True, vertical="top")
        for i, width in enumerate(widths, 1):
            if width > MAX_WIDTH:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=i, max_col=i):
                    cell.alignment = wrap
    if listing.charts:
        _charts(book, sheet, listing.charts, below=last + (3 if listing.totals else 2))


def _append(
    sheet: Any, columns: Sequence[Field], row: Mapping[str, Any], widths: list[int]
) -> None:
    values, formats = [], []
    for i, f in enumerate(columns):
        value, number_format = _typed(row.get(f.key), f.kind)
        values.append(value)
        formats.append(number_format)
        shown = plain(value) if not isinstance(value, date) else "2024-06-30"
        widths[i] = max(widths[i], cell_width(shown[:200]))
    sheet.append(values)
    for cell, number_format in zip(sheet[sheet.max_row], formats, strict=False):
        if number_format:
            cell.number_format = number_format


def _sheet_title(title: str, taken: list[str]) -> str:
    """A valid, unique worksheet name: at most 31 characters, none of []:*?/\\."""
    base = re.sub(r"[\[\]:*?/\\]", " ", title).strip()[:31] or "Sheet"
    name, n = base, 2
    while name in taken:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    return name


def _charts(book: Any, sheet: Any, charts: Sequence[Chart], *, below: int) -> None:
    """Each chart's data on a sheet of its own (hidden from the reader's way), the chart
    itself on ``sheet`` below the table, two to a row."""
    from openpyxl.chart import Reference, ScatterChart, Series

    data = book.create_sheet(_sheet_title(t("Chart data"), book.sheetnames))
    row = 1
    for n, chart in enumerate(charts):
        data.cell(row, 1, chart.title)
        data.append([t("Date"), t("Reading"), t("Date"), t("Target line")])
        first = row + 2
        points = max(len(chart.readings), len(chart.target))
        for k in range(points):
            cells: list[Any] = [None, None, None, None]
            if k < len(chart.readings):
                cells[0:2] = chart.readings[k]
            if k < len(chart.target):
                cells[2:4] = chart.target[k]
            data.append(cells)
            for col in (1, 3):
                data.cell(first + k, col).number_format = "yyyy-mm-dd"
        plot = ScatterChart()
        plot.title = chart.title
        plot.style = 13
        plot.height, plot.width = 7.5, 15
        plot.x_axis.number_format = "yyyy-mm"
        plot.x_axis.title = t("Date")
        plot.y_axis.title = chart.unit or None
        plot.x_axis.delete = plot.y_axis.delete = False
        for x_col, y_col, length, colour, dash in (
            (1, 2, len(chart.readings), "1F4E79", None),
            (3, 4, len(chart.target), "C00000", "dash"),
        ):
            if not length:
                continue
            xs = Reference(data, min_col=x_col, min_row=first, max_row=first + length - 1)
            ys = Reference(data, min_col=y_col, min_row=first - 1, max_row=first + length - 1)
            series = Series(ys, xs, title_from_data=True)
            series.graphicalProperties.line.solidFill = colour
            series.graphicalProperties.line.width = 22000
            if dash:
                series.graphicalProperties.line.dashStyle = dash
                series.marker.symbol = "none"
            else:
                series.marker.symbol = "circle"
                series.marker.size = 6
            plot.series.append(series)
        anchor_col = "A" if n % 2 == 0 else "J"
        sheet.add_chart(plot, f"{anchor_col}{below + (n // 2) * 16}")
        row = first + points + 1


def write_xlsx(path: Path, listings: Sequence[Listing]) -> None:
    """A workbook with one sheet per listing."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for listing in listings:
        _add_sheet(book, listing)
    save(book, path)


def save(document: Any, path: Path) -> None:
    """Save a workbook or document; a path that cannot be written is a UserError naming ``-o``."""
    try:
        document.save(path)
    except OSError as exc:
        raise UserError(
            t("-o {path}: cannot write: {why}", path=path, why=exc.strerror or exc)
        ) from None


def write(listing: Listing, fmt: str, output: Path | None, *, stdout: IO[str]) -> None:
    """``--format csv|xlsx`` with ``-o``: CSV to the file (UTF-8 with a BOM, which Excel needs
    to read Chinese) or to standard output; a workbook only to a file."""
    if fmt == "xlsx":
        if output is None:
            raise UserError(t("-o: a spreadsheet (--format xlsx) needs a file to write"))
        write_xlsx(output, [listing])
        return
    if output is None:
        write_csv(stdout, listing)
        return
    buffer = io.StringIO(newline="")
    write_csv(buffer, listing)
    try:
        output.write_text(buffer.getvalue(), encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise UserError(
            t("-o {path}: cannot write: {why}", path=output, why=exc.strerror or exc)
        ) from None
