"""Reading the CSV and Excel files this plugin's importers take, and checking their cells.

An importer reads the whole file first and collects every bad cell as "row N, column X: why";
it writes nothing unless the file is clean, and the caller rolls back on the error it raises,
so an import is all-or-nothing.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from duban.core.errors import UserError
from duban.core.i18n import t
from duban.core.services.measurements import parse_period

MAX_REPORTED = 30


def norm_header(text: str) -> str:
    """Headers compare without case, spaces or a trailing bracketed unit: 退捕渔船（艘） = 退捕渔船."""
    text = text.strip().casefold().replace("（", "(").replace("）", ")")
    text = re.sub(r"\([^()]*\)$", "", text)
    return re.sub(r"\s+", "", text)


def _xlsx_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_table(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header and an iterator of (line number, stripped cells) over the non-empty rows.

    CSV files may be UTF-8 or GB18030 (what Excel writes on a Chinese Windows)."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
            raise UserError(t("{path}: not a readable .xlsx workbook: {why}", path=path, why=exc)) from None
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = [_xlsx_cell(c) for c in next(rows, ())]

        def sheet_body() -> Iterator[tuple[int, list[str]]]:
            try:
                for number, row in enumerate(rows, 2):
                    cells = [_xlsx_cell(c) for c in row]
                    if any(cells):
                        yield number, cells
            finally:
                book.close()

        body: Iterator[tuple[int, list[str]]] = sheet_body()
    elif suffix == ".csv":
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = raw.decode("gb18030")
            except UnicodeDecodeError:
                raise UserError(t("{path}: neither UTF-8 nor GB18030 text", path=path)) from None
        reader = csv.reader(io.StringIO(text, newline=""))
        header = [h.strip() for h in next(reader, [])]

        def csv_body() -> Iterator[tuple[int, list[str]]]:
            for number, row in enumerate(reader, 2):
                cells = [c.strip() for c in row]
                if any(cells):
                    yield number, cells

        body = csv_body()
    else:
        raise UserError(t("{path}: expected a .csv or .xlsx file", path=path))
    if not any(header):
        raise UserError(t("{path}: the file is empty", path=path))
    return header, body


@dataclass(frozen=True)
class Column:
    key: str
    headers: tuple[str, ...]  # the first is the documented Chinese header
    required: bool = False


def map_columns(header: list[str], columns: tuple[Column, ...], source: str) -> dict[str, int]:
    """Column key -> position; an unknown, doubled or missing column is an error on line 1."""
    index = {norm_header(h): col for col in columns for h in (col.key, *col.headers)}
    found: dict[str, int] = {}
    for i, name in enumerate(header):
        if not name.strip():
            continue
        col = index.get(norm_header(name))
        if col is None:
            raise UserError(t("{where}: unknown column {name!r}; expected {names}", where=f"{source}:1",
                              name=name, names="、".join(c.headers[0] for c in columns)))
        if col.key in found:
            raise UserError(t("{where}: column {name!r} given twice", where=f"{source}:1", name=name))
        found[col.key] = i
    missing = [c.headers[0] for c in columns if c.required and c.key not in found]
    if missing:
        raise UserError(t("{where}: missing column(s): {names}", where=f"{source}:1",
                          names="、".join(missing)))
    return found


class BadCell(Exception):
    """One bad cell: which column (its header as written in the file) and why."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column, self.reason = column, reason


class Problems:
    """Bad cells of a file, reported together; nothing is written while there are any."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: list[str] = []
        self.count = 0

    def add(self, row: int, column: str, reason: str) -> None:
        self.count += 1
        if len(self.lines) < MAX_REPORTED:
            self.lines.append(t("row {row}, column {column}: {reason}", row=row, column=column,
                                reason=reason))

    def check(self) -> None:
        if not self.count:
            return
        more = [t("… and {n} more", n=self.count - len(self.lines))] if self.count > len(self.lines) else []
        raise UserError("\n  ".join([t("{path}: {n} bad row(s); nothing was imported:", path=self.source,
                                       n=self.count), *self.lines, *more]))


class Row:
    """One data row's cells by column key, with parsers that raise ``BadCell``."""

    def __init__(self, number: int, cells: list[str], columns: dict[str, int], header: list[str]) -> None:
        self.line = number
        self._columns = columns
        self._header = header
        width = len(cells)
        self._values = {key: cells[i] for key, i in columns.items() if i < width}

    def header(self, key: str) -> str:
        return self._header[self._columns[key]] if key in self._columns else key

    def text(self, key: str) -> str:
        return self._values.get(key, "")

    def bad(self, key: str, reason: str) -> BadCell:
        return BadCell(self.header(key), reason)

    def required(self, key: str) -> str:
        value = self.text(key)
        if not value:
            raise self.bad(key, t("empty"))
        return value

    def number(self, key: str, *, whole: bool = False) -> float | None:
        """A non-negative number, or None for an empty cell (not reported)."""
        raw = self.text(key).replace(",", "")
        if not raw:
            return None
        try:
            value = float(raw)
        except ValueError:
            raise self.bad(key, t("not a number: {value!r}", value=raw)) from None
        if not math.isfinite(value) or value < 0:
            raise self.bad(key, t("must not be negative: {value!r}", value=raw))
        if whole and not value.is_integer():
            raise self.bad(key, t("must be a whole number: {value!r}", value=raw))
        return value

    def period(self, key: str, today: date) -> tuple[date, date]:
        raw = self.required(key)
        try:
            start, end = parse_period(raw, what=self.header(key))
        except UserError as exc:
            raise self.bad(key, str(exc).removeprefix(f"{self.header(key)}: ")) from None
        if start > today:
            raise self.bad(key, t("{value} has not begun yet (today is {today})", value=raw,
                                  today=today.isoformat()))
        return start, end

    def day(self, key: str, today: date) -> date | None:
        """A date (2024-06-01, 2024/6/1, 2024年6月1日), None when empty; never after today."""
        raw = self.text(key)
        if not raw:
            return None
        m = re.fullmatch(r"(\d{4})[-/年.](\d{1,2})[-/月.](\d{1,2})日?(?:[ T].*)?", raw)
        try:
            if m is None:
                raise ValueError(raw)
            value = date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            raise self.bad(key, t("not a date: {value!r}", value=raw)) from None
        if value > today:
            raise self.bad(key, t("{value} is after today ({today})", value=raw, today=today.isoformat()))
        return value


def ratio_pair(row: Row, part: str, whole: str, *, counts: bool = True) -> tuple[float, float] | None:
    """A rate's numerator and denominator columns: both or neither, part <= whole, whole > 0.
    ``counts``: both are whole numbers (people, villages), not tonnages."""
    num, den = row.number(part, whole=counts), row.number(whole, whole=counts)
    if num is None and den is None:
        return None
    if num is None or den is None:
        missing = part if num is None else whole
        raise row.bad(missing, t("{other} is given, so this column is needed too",
                                 other=row.header(whole if num is None else part)))
    if den == 0:
        if num:
            raise row.bad(part, t("greater than {other} ({value:g})", other=row.header(whole), value=den))
        return None  # nothing to cover: no rate
    if num > den:
        raise row.bad(part, t("greater than {other} ({value:g})", other=row.header(whole), value=den))
    return num, den
