"""Reading the CSV and Excel files importers take, and checking their cells.

An importer opens a ``Table`` with its ``Column``s (each with its Chinese and English headers),
parses every row, and collects each bad cell as ``FILE: row N, column 列名: why``; it writes
nothing while there are any, and ``check()`` raises them together as one ``UserError``. The
caller rolls back on that error, so an import is all-or-nothing::

    table = Table(path, COLUMNS)
    for row, figures in table.parse(lambda row: (row.required("region"), row.number("boats"))):
        ...
    table.check()
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from .errors import UserError
from .i18n import t

MAX_REPORTED = 30  # problems listed in the error; the rest are counted

T = TypeVar("T")


def norm_header(text: str) -> str:
    """Headers compare without case, spaces or a trailing bracketed unit: 退捕渔船（艘） = 退捕渔船."""
    text = text.strip().casefold().replace("（", "(").replace("）", ")")
    text = re.sub(r"\([^()]*\)$", "", text)
    return re.sub(r"\s+", "", text)


def _xlsx_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            value.date().isoformat()
            if value.time() == datetime.min.time()
            else value.isoformat(sep=" ")
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _numbered(rows: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of the non-empty rows after the header (line 1)."""
    for number, cells in enumerate(rows, 2):
        if any(cells):
            yield number, cells


_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# Built-in number formats that show dates or times (ECMA-376 18.8.30).
_DATE_FORMATS = {*range(14, 23), 45, 46, 47}
_CELL = re.compile(r"([A-Z]+)(\d+)")


def _is_date_format(code: str) -> bool:
    code = re.sub(r'"[^"]*"|\[[^]]*]|\\.', "", code).lower()
    return any(ch in code for ch in "ymdhs") and "general" not in code


def _column(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def xlsx_rows(path: Path) -> list[list[str]]:
    """The first sheet's rows as stripped text, row numbers kept (empty rows are empty lists).

    Read straight from the package's XML: a tenth of the time openpyxl takes, which counts
    when an office imports a thousand returned forms at once. Cells as ``_xlsx_cell`` shows
    them: dates as ``2024-06-01``, times as ``2024-06-01 08:30:00``, whole numbers without
    ``.0``; formulas by their cached value."""
    import zipfile
    from datetime import timedelta
    from xml.etree.ElementTree import fromstring

    with zipfile.ZipFile(path) as package:
        names = set(package.namelist())
        book = fromstring(package.read("xl/workbook.xml"))
        first = book.find(f"{_NS}sheets/{_NS}sheet")
        if first is None:
            return []
        rels = fromstring(package.read("xl/_rels/workbook.xml.rels"))
        target = next(
            r.get("Target", "")
            for r in rels.iter(f"{_PKG}Relationship")
            if r.get("Id") == first.get(_REL)
        )
        sheet_path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        shared: list[str] = []
        if "xl/sharedStrings.xml" in names:
            for si in fromstring(package.read("xl/sharedStrings.xml")).iter(f"{_NS}si"):
                # Plain text, or rich-text runs; phonetic guides (rPh) are not part of it.
                runs = (
                    [si.find(f"{_NS}t")]
                    if si.find(f"{_NS}t") is not None
                    else [r.find(f"{_NS}t") for r in si.findall(f"{_NS}r")]
                )
                shared.append("".join((r.text or "") for r in runs if r is not None))
        dates: set[int] = set()
        if "xl/styles.xml" in names:
            styles = fromstring(package.read("xl/styles.xml"))
            custom = {
                int(f.get("numFmtId", "0")): f.get("formatCode", "")
                for f in styles.iter(f"{_NS}numFmt")
            }
            xfs = styles.find(f"{_NS}cellXfs")
            for i, xf in enumerate(xfs if xfs is not None else []):
                fmt = int(xf.get("numFmtId", "0"))
                if fmt in _DATE_FORMATS or (fmt in custom and _is_date_format(custom[fmt])):
                    dates.add(i)
        pr = book.find(f"{_NS}workbookPr")
        epoch = (
            datetime(1904, 1, 1)
            if pr is not None and pr.get("date1904") in ("1", "true")
            else datetime(1899, 12, 30)
        )
        sheet = fromstring(package.read(sheet_path))
    rows: list[list[str]] = []
    for row in sheet.iter(f"{_NS}row"):
        number = int(row.get("r", len(rows) + 1))
        while len(rows) < number - 1:
            rows.append([])
        cells: list[str] = []
        for c in row.iter(f"{_NS}c"):
            ref = _CELL.match(c.get("r", ""))
            at = _column(ref[1]) if ref else len(cells)
            cells.extend([""] * (at - len(cells)))
            kind, v = c.get("t"), c.find(f"{_NS}v")
            raw = v.text if v is not None and v.text is not None else ""
            if kind == "s":
                value: object = shared[int(raw)] if raw else ""
            elif kind == "inlineStr":
                value = "".join(x.text or "" for x in c.iter(f"{_NS}t"))
            elif kind == "b":
                value = raw == "1"
            elif kind in ("str", "e"):
                value = raw
            elif raw == "":
                value = None
            elif int(c.get("s", "0")) in dates:
                # To the second: serials are binary fractions of a day (08:30 is 0.354166…).
                value = epoch + timedelta(seconds=round(float(raw) * 86400))
            else:
                value = float(raw) if any(ch in raw for ch in ".eE") else int(raw)
            cells.append(_xlsx_cell(value))
        rows.append(cells)
    return rows


def read_table(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header and an iterator of (line number, stripped cells) over the non-empty rows.

    ``.xlsx`` (the first sheet) or ``.csv`` in UTF-8 or GB18030 (what Excel writes on a Chinese
    Windows). Dates in a sheet come as ``2024-06-01``, times as ``2024-06-01 08:30:00``."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        try:
            lines = iter(xlsx_rows(path))
        except Exception as exc:  # a damaged or foreign file fails in many ways
            raise UserError(
                t("{path}: not a readable .xlsx workbook: {why}", path=path, why=exc)
            ) from None
        header = next(lines, [])
        body = _numbered(lines)
    elif suffix == ".csv":
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise UserError(
                t("{path}: cannot read: {why}", path=path, why=exc.strerror or exc)
            ) from None
        if b"\x00" in raw:  # a picture, a zip, an .xls saved as .csv: no text has NUL bytes
            raise UserError(t("{path}: binary data, not a CSV text file", path=path))
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = raw.decode("gb18030")
            except UnicodeDecodeError:
                raise UserError(t("{path}: neither UTF-8 nor GB18030 text", path=path)) from None
        reader = csv.reader(io.StringIO(text, newline=""))

        def csv_rows() -> Iterator[list[str]]:
            try:
                for row in reader:
                    yield [c.strip() for c in row]
            except csv.Error as exc:  # an over-long field, say
                raise UserError(
                    t("{path}: not a readable CSV file: {why}", path=path, why=exc)
                ) from None

        lines = csv_rows()
        header = next(lines, [])
        body = _numbered(lines)
    else:
        raise UserError(t("{path}: expected a .csv or .xlsx file", path=path))
    if not any(header):
        raise UserError(t("{path}: the file is empty", path=path))
    return header, body


@dataclass(frozen=True)
class Column:
    """A column an importer reads: its key in the code and the headers a file may give it."""

    key: str
    headers: tuple[str, ...]  # the first is the documented (Chinese) header
    required: bool = False


def map_columns(
    header: list[str], columns: Sequence[Column], source: str, *, ignore_unknown: bool = False
) -> dict[str, int]:
    """Column key -> position; a doubled or missing column (and, unless ``ignore_unknown``, an
    unknown one) is an error on line 1."""
    index = {norm_header(h): col for col in columns for h in (col.key, *col.headers)}
    found: dict[str, int] = {}
    for i, name in enumerate(header):
        if not name.strip():
            continue
        col = index.get(norm_header(name))
        if col is None:
            if ignore_unknown:
                continue
            raise UserError(
                t(
                    "{where}: unknown column {name!r}; expected {names}",
                    where=f"{source}:1",
                    name=name,
                    names="、".join(c.headers[0] for c in columns),
                )
            )
        if col.key in found:
            raise UserError(
                t("{where}: column {name!r} given twice", where=f"{source}:1", name=name)
            )
        found[col.key] = i
    missing = [c.headers[0] for c in columns if c.required and c.key not in found]
    if missing:
        raise UserError(
            t("{where}: missing column(s): {names}", where=f"{source}:1", names="、".join(missing))
        )
    return found


class BadCell(Exception):
    """One bad cell: which column (its header as written in the file) and why."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column, self.reason = column, reason


class Problems:
    """The bad cells of a file, reported together; nothing may be written while there are any."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: list[str] = []
        self.count = 0
        self._rows: set[int] = set()

    def add(self, row: int, column: str, reason: str) -> None:
        self.count += 1
        self._rows.add(row)
        if len(self.lines) < MAX_REPORTED:
            self.lines.append(
                t(
                    "{path}: row {row}, column {column}: {reason}",
                    path=self.source,
                    row=row,
                    column=column,
                    reason=reason,
                )
            )

    def __bool__(self) -> bool:
        return bool(self.count)

    def check(self) -> None:
        """Raise one ``UserError`` listing the problems, if there are any."""
        if not self.count:
            return
        more = self.count - len(self.lines)
        tail = [t("… and {n} more problem(s)", n=more)] if more else []
        raise UserError(
            "\n  ".join(
                [
                    t(
                        "{path}: {n} bad row(s); nothing was imported:",
                        path=self.source,
                        n=len(self._rows),
                    ),
                    *self.lines,
                    *tail,
                ]
            )
        )


class Row:
    """One data row's cells by column key, with parsers that raise ``BadCell``."""

    def __init__(
        self, number: int, cells: list[str], columns: dict[str, int], header: list[str]
    ) -> None:
        self.line = number
        self._columns = columns
        self._header = header
        width = len(cells)
        self._values = {key: cells[i] for key, i in columns.items() if i < width}

    def header(self, key: str) -> str:
        """The column's header as the file writes it (the key for a column the file lacks)."""
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
        """A non-negative number (1,234.5), or None for an empty cell (not reported)."""
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

    def ratio(self, part: str, whole: str, *, counts: bool = True) -> tuple[float, float] | None:
        """A rate's numerator and denominator columns: both or neither, part <= whole, whole > 0
        (None when both are empty or the whole is 0). ``counts``: both are whole numbers
        (people, villages), not tonnages."""
        num, den = self.number(part, whole=counts), self.number(whole, whole=counts)
        if num is None and den is None:
            return None
        if num is None or den is None:
            missing = part if num is None else whole
            raise self.bad(
                missing,
                t(
                    "{other} is given, so this column is needed too",
                    other=self.header(whole if num is None else part),
                ),
            )
        if num > den:
            raise self.bad(
                part, t("greater than {other} ({value:g})", other=self.header(whole), value=den)
            )
        if den == 0:
            return None  # nothing to cover: no rate
        return num, den

    def period(self, key: str, today: date) -> tuple[date, date]:
        """A required period (2024, 2024-Q2, 2024-06, 2024年6月 …) that has begun by ``today``."""
        from .services.measurements import parse_period

        raw = self.required(key)
        try:
            start, end = parse_period(raw, what=self.header(key))
        except UserError as exc:
            raise self.bad(key, str(exc).removeprefix(f"{self.header(key)}: ")) from None
        if start > today:
            raise self.bad(
                key,
                t(
                    "{value} has not begun yet (today is {today})",
                    value=raw,
                    today=today.isoformat(),
                ),
            )
        return start, end

    def day(self, key: str, today: date) -> date | None:
        """A date (2024-06-01, 2024/6/1, 2024年6月1日), None when empty; never after ``today``."""
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
            raise self.bad(
                key, t("{value} is after today ({today})", value=raw, today=today.isoformat())
            )
        return value


class Table:
    """A file opened for import: its rows by column key, and the problems found in them."""

    def __init__(
        self, path: Path, columns: Sequence[Column], *, ignore_unknown: bool = False
    ) -> None:
        self.path = path
        self.source = str(path)
        self.header, self._body = read_table(path)
        self.columns = map_columns(self.header, columns, self.source, ignore_unknown=ignore_unknown)
        self.problems = Problems(self.source)
        self.rows = 0  # non-empty data rows read so far
        self._seen: dict[Hashable, int] = {}

    def __iter__(self) -> Iterator[Row]:
        for number, cells in self._body:
            self.rows += 1
            yield Row(number, cells, self.columns, self.header)

    def parse(self, parse: Callable[[Row], T]) -> Iterator[tuple[Row, T]]:
        """(row, ``parse(row)``) for every row that parses; a ``BadCell`` is recorded instead."""
        for row in self:
            try:
                value = parse(row)
            except BadCell as exc:
                self.problems.add(row.line, exc.column, exc.reason)
                continue
            yield row, value

    def reject(self, row: Row, key: str, reason: str) -> None:
        """Record a problem with a row found after parsing it (a duplicate, say)."""
        self.problems.add(row.line, row.header(key), reason)

    def earlier(self, row: Row, key: Hashable) -> int | None:
        """The line of an earlier row with the same ``key`` (the row is remembered if none)."""
        first = self._seen.setdefault(key, row.line)
        return first if first != row.line else None

    def check(self) -> None:
        """Raise the collected problems as one ``UserError``, if there are any."""
        self.problems.check()

    def summary(self, **fields: Any) -> dict[str, Any]:
        """An import summary starting with the file, its sha256 and the rows read."""
        return {"file": self.source, "sha256": file_sha256(self.path), "rows": self.rows, **fields}


def file_sha256(path: Path) -> str:
    """The file's fingerprint, for an import's audit record."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
