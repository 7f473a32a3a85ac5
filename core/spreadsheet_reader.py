"""Reading the CSV and Excel files importers take, and checking their cells: THE reader.

Every importer (measurements, the ledger, the plugins') opens its file here, so each accepts
the same layouts: ``.xlsx`` (read-only, streamed) or ``.csv`` in UTF-8 (with or without BOM)
or GB18030; the header found below any title rows (a merged 台账 title, 填报单位 lines); a
two-level header flattened (整改情况 over 整改措施 / 整改进展); headers matched by their Chinese
or English names with spaces, full-width forms and units ignored (``数值（%）`` = ``数值``);
the first sheet whose header has the importer's required columns, or the one named by
``--sheet``; 合计/小计 rows skipped. Dates are read by ``core/dates.py`` (Excel date cells,
serial numbers, Chinese forms).

An importer opens a ``Table`` with its ``Column``s, parses every row, and collects each bad
cell as ``FILE:SHEET:ROW:COL (列名): why``; it writes nothing while there are any, and
``check()`` raises them together as one ``UserError``. The caller rolls back on that error,
so an import is all-or-nothing::

    table = Table(path, COLUMNS, sheet=sheet)
    for row, figures in table.parse(lambda row: (row.required("region"), row.number("boats"))):
        ...
    table.check()
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import math
import re
import unicodedata
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import chain
from pathlib import Path
from typing import Any, TypeVar

from . import dates
from .errors import UserError
from .i18n import t

MAX_REPORTED = 30  # problems listed in the error; the rest are counted
HEADER_SEARCH = 30  # rows looked at for the header (title rows, notes above it)
TOTAL_LABELS = frozenset({"合计", "总计", "小计", "total", "subtotal"})

T = TypeVar("T")

# The sheet ``--sheet`` names, for every table opened while it is set (plugins' importers too).
_SHEET: ContextVar[str | None] = ContextVar("duban_sheet", default=None)


@contextmanager
def sheet_option(name: str | None) -> Iterator[None]:
    """Open tables from the sheet called ``name`` (``--sheet``) inside this block."""
    token = _SHEET.set(name)
    try:
        yield
    finally:
        _SHEET.reset(token)


_UNIT_TAIL = re.compile(
    r"(?:\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|%|/(?:[%a-zμ³²·0-9]+(?:/[a-z0-9]+)?"
    r"|[个艘人吨户次座处家项亩元条辆]|万元|万吨|千瓦时|万千瓦时|公里|平方米|立方米))$"
)


def norm_header(text: object) -> str:
    """Headers compare without case, spaces, full-width forms or a trailing unit:
    退捕渔船（艘） = 退捕渔船, 数值（%） = 数值 = 数值/%, ＲＥＧＩＯＮ = region."""
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    text = re.sub(r"\s+", "", text).strip("*※:：")
    while (shorter := _UNIT_TAIL.sub("", text)) != text and shorter:
        text = shorter
    return text


def column_letter(position: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: how a spreadsheet names a column."""
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell_text(value: object) -> str:
    """A cell as text: dates as ``2024-06-01`` (times ``2024-06-01 08:30:00``), whole floats
    without ``.0``, strings stripped."""
    if value is None:
        return ""
    if value.__class__ is str:
        return value.strip()  # type: ignore[attr-defined]
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


def _blank(cells: Sequence[Any]) -> bool:
    for c in cells:
        if c is not None and c != "" and not (c.__class__ is str and c.isspace()):
            return False
    return True


# What text files come in: UTF-8 (with or without a BOM), else what Excel and Notepad write
# on a Chinese Windows.
TEXT_ENCODINGS = ("utf-8-sig", "gb18030")


def decode_text(raw: bytes, path: Path) -> str:
    """A text file's bytes as text, in the first of ``TEXT_ENCODINGS`` that reads them."""
    for encoding in TEXT_ENCODINGS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UserError(t("{path}: neither UTF-8 nor GB18030 text", path=path))


def text_encoding(path: Path) -> str:
    """The first of ``TEXT_ENCODINGS`` that reads the whole file, read a block at a time
    (for files too large to hold in memory twice)."""
    for encoding in TEXT_ENCODINGS:
        try:
            with path.open(encoding=encoding) as probe:
                for _ in iter(lambda: probe.read(1 << 20), ""):
                    pass
            return encoding
        except UnicodeDecodeError:
            continue
    raise UserError(t("{path}: neither UTF-8 nor GB18030 text", path=path))


@dataclass(frozen=True)
class Column:
    """A column an importer reads: its key in the code and the headers a file may give it."""

    key: str
    headers: tuple[str, ...]  # the first is the documented (Chinese) header
    required: bool = False


@dataclass
class _Label:
    """A header cell, flattened: what it is called (most specific first) and how to show it."""

    names: tuple[str, ...]
    shown: str


def _labels(top: Sequence[Any], below: Sequence[Any] | None) -> list[_Label]:
    """One header row, or a parent row over a child row (merged parents are blank to the
    right of their first cell): each child is known by itself, then parent+child, then
    the parent."""
    width = max(len(top), len(below or ()))
    out, parent = [], ""
    for j in range(width):
        upper = cell_text(top[j]) if j < len(top) else ""
        lower = cell_text(below[j]) if below is not None and j < len(below) else ""
        if upper:
            parent = upper
        elif not lower:
            parent = ""
        if lower and parent:
            out.append(_Label((lower, parent + lower, parent), f"{parent}/{lower}"))
        else:
            out.append(_Label((lower or upper,), lower or upper))
    return out


@dataclass
class _Match:
    found: dict[str, int]  # column key -> position
    shown: dict[int, str]  # position -> header as the file writes it
    unknown: list[int]  # positions of headers that name no column
    doubled: tuple[int, str] | None  # a column given twice: (position, its header)
    top: int = 0  # the header's first row (the parent row of a two-level header)

    def score(self, columns: Sequence[Column]) -> tuple[int, int]:
        required = sum(1 for c in columns if c.required and c.key in self.found)
        return required, len(self.found)


def _match(labels: list[_Label], columns: Sequence[Column]) -> _Match:
    index = {norm_header(h): col for col in columns for h in (col.key, *col.headers)}
    found: dict[str, int] = {}
    shown: dict[int, str] = {}
    unknown: list[int] = []
    doubled = None
    for position, label in enumerate(labels):
        if not label.shown:
            continue
        shown[position] = label.shown
        col = next(
            (c for name in label.names if (c := index.get(norm_header(name))) is not None), None
        )
        if col is None:
            unknown.append(position)
        elif col.key in found:
            doubled = doubled or (position, label.shown)
        else:
            found[col.key] = position
    return _Match(found, shown, unknown, doubled)


@dataclass
class Sheet:
    """An opened table: where it is, its header, and an iterator over its data rows."""

    path: Path
    name: str | None  # the worksheet's title; None for a CSV file
    header_row: int  # the number of the (last) header row
    header: list[str]  # the header of each column as the file writes it ("" if none)
    columns: dict[str, int]  # column key -> position
    rows: Iterator[tuple[int, list[Any]]]  # (row number, raw cells) of the non-empty rows
    total: int  # data rows, estimated from the file's size or dimension (for progress)
    close: Callable[[], None] = field(default=lambda: None)
    # The non-empty rows above the header (a title such as "…整改台账"), each as one line.
    above: list[tuple[int, str]] = field(default_factory=list)
    # Headers of columns the importer does not read (with ``ignore_unknown``): listed in the
    # import's summary, never dropped silently.
    ignored: list[str] = field(default_factory=list)

    @property
    def source(self) -> str:
        return f"{self.path}:{self.name}" if self.name is not None else str(self.path)

    def where(self, row: int, position: int | None = None) -> str:
        """``FILE:SHEET:ROW`` or ``FILE:SHEET:ROW:COL``."""
        return f"{self.source}:{row}" + (
            f":{column_letter(position)}" if position is not None else ""
        )


class _Rows:
    """The rows of one sheet or file: the first ones buffered to find the header in."""

    def __init__(self, name: str | None, rows: Iterator[Sequence[Any]], total: int) -> None:
        self.name, self.total = name, total
        self._rows = enumerate(rows, 1)
        self.head: list[tuple[int, Sequence[Any]]] = []
        for number, cells in self._rows:
            self.head.append((number, cells))
            if len(self.head) == HEADER_SEARCH:
                break

    def after(self, number: int) -> Iterator[tuple[int, list[Any]]]:
        """The non-empty data rows after row ``number``; 合计/小计 rows are left out."""
        for n, cells in chain((h for h in self.head if h[0] > number), self._rows):
            if _blank(cells):
                continue
            first = next((c for c in cells if c is not None and c != ""), None)
            if first.__class__ is str and len(first) <= 8 and norm_header(first) in TOTAL_LABELS:
                continue
            yield n, list(cells)


def _best_header(rows: _Rows, columns: Sequence[Column]) -> tuple[int, _Match] | None:
    """The header row (the child row of a two-level header) and its columns: the row where
    the most required, then the most known columns are found; None if no row has any. On a
    tie a single row wins: a title above a header is no parent header."""
    best: tuple[tuple[int, int, int], int, _Match] | None = None
    head = rows.head
    for i, (number, cells) in enumerate(head):
        if _blank(cells):
            continue
        single = _match(_labels(cells, None), columns)
        single.top = number
        candidates = [(number, single, 1)]
        if i + 1 < len(head) and head[i + 1][0] == number + 1:
            below = head[i + 1][1]
            # A child row sits under a merged parent: some child cell has a blank above it.
            if any(
                cell_text(c) and (j >= len(cells) or not cell_text(cells[j]))
                for j, c in enumerate(below)
            ):
                double = _match(_labels(cells, below), columns)
                double.top = number
                if double.score(columns) > single.score(columns):
                    candidates = [(number + 1, double, 0)]
        for row, match, alone in candidates:
            score = (*match.score(columns), alone)
            if score[1] and (best is None or score > best[0]):
                best = (score, row, match)
    return None if best is None else (best[1], best[2])


def _csv_rows(path: Path) -> _Rows:
    """A CSV file's rows, streamed; the encoding is found in a first pass over the bytes."""
    try:
        with path.open("rb") as handle:
            decoder = codecs.getincrementaldecoder("utf-8")()
            encoding, lines = "utf-8-sig", 0
            for block in iter(lambda: handle.read(1 << 20), b""):
                if b"\x00" in block:  # a picture, a zip, an .xls saved as .csv: no NUL in text
                    raise UserError(t("{path}: binary data, not a CSV text file", path=path))
                lines += block.count(b"\n")
                if encoding == "utf-8-sig":
                    try:
                        decoder.decode(block)
                    except UnicodeDecodeError:
                        encoding = "gb18030"  # what Excel writes for "CSV" on a Chinese Windows
            if encoding == "utf-8-sig":
                try:  # a character cut off at the end of the file
                    decoder.decode(b"", final=True)
                except UnicodeDecodeError:
                    encoding = "gb18030"
        if encoding == "gb18030":
            with path.open("rb") as handle:
                gb = codecs.getincrementaldecoder("gb18030")()
                for block in iter(lambda: handle.read(1 << 20), b""):
                    gb.decode(block)
                gb.decode(b"", final=True)
        text = path.open(encoding=encoding, newline="")
    except UnicodeDecodeError:
        raise UserError(t("{path}: neither UTF-8 nor GB18030 text", path=path)) from None
    except OSError as exc:
        raise UserError(
            t("{path}: cannot read: {why}", path=path, why=exc.strerror or exc)
        ) from None

    def rows() -> Iterator[list[str]]:
        with text:
            try:
                yield from csv.reader(text)
            except csv.Error as exc:  # an over-long field, say
                raise UserError(
                    t("{path}: not a readable CSV file: {why}", path=path, why=exc)
                ) from None

    return _Rows(None, rows(), max(lines - 1, 0))


SMALL_WORKBOOK = 1 << 20  # bytes: a workbook below this is read straight from its XML

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_DATE_FORMATS = {*range(14, 23), *range(45, 48)}  # built-in date and time formats
_CELL_REF = re.compile(r"([A-Z]+)\d*")


class _SmallSheet:
    def __init__(self, book: _SmallBook, title: str, part: str) -> None:
        self.book, self.title, self.part = book, title, part
        self._rows: list[tuple[Any, ...]] | None = None

    @property
    def max_row(self) -> int:
        return len(self._read())

    def iter_rows(self, values_only: bool = True) -> Iterator[tuple[Any, ...]]:
        return iter(self._read())

    def _read(self) -> list[tuple[Any, ...]]:
        if self._rows is None:
            self._rows = self.book.rows(self.part)
        return self._rows


class _SmallBook:
    """The little of openpyxl's read-only workbook that ``read_table`` uses, read from the
    package's XML with the standard library: a tenth of openpyxl's time on a small file,
    which counts when an office imports a thousand returned forms at once. Cells come as
    openpyxl gives them: text, int or float, bool, datetime for date-formatted numbers,
    formulas by their cached value."""

    def __init__(self, path: Path) -> None:
        import zipfile
        from xml.etree.ElementTree import fromstring

        self._fromstring = fromstring
        with zipfile.ZipFile(path) as package:
            self._parts = {
                name: package.read(name)
                for name in package.namelist()
                if name.startswith("xl/") and name.endswith((".xml", ".rels"))
            }
        book = fromstring(self._parts["xl/workbook.xml"])
        rels = fromstring(self._parts["xl/_rels/workbook.xml.rels"])
        targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_PKG}Relationship")}
        self.worksheets = []
        for sheet in book.iter(f"{_NS}sheet"):
            target = targets.get(sheet.get(_REL), "")
            part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            self.worksheets.append(_SmallSheet(self, sheet.get("name", ""), part))
        self.sheetnames = [ws.title for ws in self.worksheets]
        pr = book.find(f"{_NS}workbookPr")
        mac = pr is not None and pr.get("date1904") in ("1", "true")
        self._epoch = datetime(1904, 1, 1) if mac else datetime(1899, 12, 30)
        self._shared: list[str] | None = None
        self._dates: set[int] | None = None

    def _strings(self) -> list[str]:
        if self._shared is None:
            self._shared = []
            part = self._parts.get("xl/sharedStrings.xml")
            for si in self._fromstring(part).iter(f"{_NS}si") if part else ():
                # Plain text or rich-text runs; phonetic guides (rPh) are not part of it.
                plain = si.find(f"{_NS}t")
                runs = (
                    [plain]
                    if plain is not None
                    else [r.find(f"{_NS}t") for r in si.findall(f"{_NS}r")]
                )
                self._shared.append("".join(r.text or "" for r in runs if r is not None))
        return self._shared

    def _date_styles(self) -> set[int]:
        if self._dates is None:
            self._dates = set()
            part = self._parts.get("xl/styles.xml")
            if part:
                styles = self._fromstring(part)
                custom = {
                    int(f.get("numFmtId", "0")): f.get("formatCode", "")
                    for f in styles.iter(f"{_NS}numFmt")
                }
                xfs = styles.find(f"{_NS}cellXfs")
                for i, xf in enumerate(xfs if xfs is not None else ()):
                    fmt = int(xf.get("numFmtId", "0"))
                    if fmt in _DATE_FORMATS or (fmt in custom and _is_date_format(custom[fmt])):
                        self._dates.add(i)
        return self._dates

    def rows(self, part: str) -> list[tuple[Any, ...]]:
        from datetime import timedelta

        found: list[tuple[Any, ...]] = []
        for row in self._fromstring(self._parts[part]).iter(f"{_NS}row"):
            number = int(row.get("r") or len(found) + 1)
            found.extend(() for _ in range(number - 1 - len(found)))
            cells: list[Any] = []
            for c in row.iter(f"{_NS}c"):
                ref = _CELL_REF.match(c.get("r", ""))
                if ref:
                    cells.extend(None for _ in range(_column_index(ref[1]) - len(cells)))
                kind, v = c.get("t"), c.find(f"{_NS}v")
                raw = v.text if v is not None and v.text is not None else None
                if kind == "s":
                    value: Any = self._strings()[int(raw)] if raw is not None else None
                elif kind == "inlineStr":
                    value = "".join(x.text or "" for x in c.iter(f"{_NS}t"))
                elif kind == "b":
                    value = raw == "1"
                elif kind in ("str", "e") or raw is None:
                    value = raw
                elif int(c.get("s") or 0) in self._date_styles():
                    # To the second: serials are binary fractions of a day.
                    value = self._epoch + timedelta(seconds=round(float(raw) * 86400))
                else:
                    value = float(raw) if any(ch in raw for ch in ".eE") else int(raw)
                cells.append(value)
            found.append(tuple(cells))
        return found

    def close(self) -> None:
        self._parts = {}


def _is_date_format(code: str) -> bool:
    """A custom number format that shows a date or time (quoted text and [colours] aside)."""
    code = re.sub(r'"[^"]*"|\[[^]]*]|\\.', "", code).lower()
    return "general" not in code and any(ch in code for ch in "ymdhs")


def _column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _workbook(path: Path) -> Any:
    from openpyxl import load_workbook

    try:
        if path.stat().st_size < SMALL_WORKBOOK:
            return _SmallBook(path)
        return load_workbook(path, read_only=True, data_only=True)
    except OSError as exc:
        raise UserError(
            t("{path}: cannot read: {why}", path=path, why=exc.strerror or exc)
        ) from None
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise UserError(
            t("{path}: not a readable .xlsx workbook: {why}", path=path, why=exc)
        ) from None


def read_table(
    path: Path,
    columns: Sequence[Column],
    *,
    sheet: str | None = None,
    ignore_unknown: bool = False,
) -> Sheet:
    """Open ``path`` and find its table: the sheet (``sheet``, else the first whose header has
    every required column), the header row and each column's position.

    A missing required column, a column given twice and (unless ``ignore_unknown``) a header
    that names no column are errors naming the file, sheet, row and column."""
    sheet = sheet if sheet is not None else _SHEET.get()
    suffix = path.suffix.lower()
    book = None
    if suffix == ".xlsx":
        book = _workbook(path)
        names = book.sheetnames
        if sheet is not None and sheet not in names:
            book.close()
            raise UserError(
                t(
                    "--sheet: {path} has no sheet {name!r}; its sheets: {names}",
                    path=path,
                    name=sheet,
                    names="、".join(names),
                )
            )
        tables: Iterator[_Rows] = (
            _Rows(ws.title, ws.iter_rows(values_only=True), max((ws.max_row or 1) - 1, 0))
            for ws in book.worksheets
            if sheet is None or ws.title == sheet
        )
    elif suffix == ".csv":
        if sheet is not None:
            raise UserError(t("--sheet: {path} is a CSV file, which has no sheets", path=path))
        tables = iter([_csv_rows(path)])
    else:
        raise UserError(t("{path}: expected a .csv or .xlsx file", path=path))
    required = sum(1 for c in columns if c.required)
    fallback: tuple[_Rows, int, _Match] | None = None
    empty = True
    for rows in tables:
        empty = empty and all(_blank(cells) for _, cells in rows.head)
        found = _best_header(rows, columns)
        if found is None:
            continue
        number, match = found
        if match.score(columns)[0] == required:
            return _sheet(path, rows, number, match, columns, ignore_unknown, book)
        if fallback is None or match.score(columns) > fallback[2].score(columns):
            fallback = (rows, number, match)
    if book is not None:
        book.close()
    if empty:
        raise UserError(t("{path}: the file is empty", path=path))
    if fallback is None:  # no row names any column: say what the first one should have been
        names = "、".join(c.headers[0] for c in columns if c.required)
        where = f"{path}:{sheet}" if sheet is not None else str(path)
        raise UserError(t("{path}: no header row with {names}", path=where, names=names))
    rows, number, match = fallback
    _sheet(path, rows, number, match, columns, ignore_unknown, None)
    raise AssertionError("unreachable: the fallback header lacks a required column")


def _sheet(
    path: Path,
    rows: _Rows,
    number: int,
    match: _Match,
    columns: Sequence[Column],
    ignore_unknown: bool,
    book: Any,
) -> Sheet:
    def close() -> None:
        if book is not None:
            book.close()

    width = max(match.shown, default=-1) + 1
    header = [match.shown.get(i, "") for i in range(width)]
    above = [
        (n, " ".join(dict.fromkeys(text for c in cells if (text := cell_text(c)))))
        for n, cells in rows.head
        if n < match.top and not _blank(cells)
    ]
    ignored = [header[position] for position in match.unknown]
    found = Sheet(path, rows.name, number, header, match.found, iter(()), 0, close, above, ignored)
    problem = None
    if match.doubled is not None:
        position, name = match.doubled
        problem = t(
            "{where}: column {name!r} given twice", where=found.where(number, position), name=name
        )
    elif match.unknown and not ignore_unknown:
        position = match.unknown[0]
        problem = t(
            "{where}: unknown column {name!r}; expected {names}",
            where=found.where(number, position),
            name=header[position],
            names="、".join(c.headers[0] for c in columns),
        )
    elif missing := [c.headers[0] for c in columns if c.required and c.key not in match.found]:
        problem = t(
            "{where}: missing column(s): {names}",
            where=found.where(number),
            names="、".join(missing),
        )
    if problem is not None:
        close()
        raise UserError(problem)

    def body() -> Iterator[tuple[int, list[Any]]]:
        try:
            yield from rows.after(number)
        finally:
            close()

    found.rows, found.total = body(), max(rows.total - number + 1, 0)
    return found


class BadCell(Exception):
    """One bad cell: which column (its header as written in the file, and its position when
    known) and why."""

    def __init__(self, column: str, reason: str, position: int | None = None) -> None:
        super().__init__(reason)
        self.column, self.reason, self.position = column, reason, position


class Problems:
    """The bad cells of a file, reported together; nothing may be written while there are any."""

    def __init__(self, sheet: Sheet) -> None:
        self.sheet = sheet
        self.lines: list[str] = []
        self.count = 0
        self._rows: set[int] = set()

    def add(self, row: int, column: str | None, reason: str, position: int | None = None) -> None:
        """A problem in ``row``: in one cell (its header ``column`` and ``position``) or, with
        ``column`` None, in the row as a whole."""
        self.count += 1
        self._rows.add(row)
        if len(self.lines) < MAX_REPORTED:
            where = self.sheet.where(row, position)
            self.lines.append(
                t("{where} ({column}): {reason}", where=where, column=column, reason=reason)
                if column
                else f"{where}: {reason}"
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
                        path=self.sheet.source,
                        n=len(self._rows),
                    ),
                    *self.lines,
                    *tail,
                ]
            )
        )


class Row:
    """One data row's cells by column key, with parsers that raise ``BadCell``."""

    def __init__(self, number: int, cells: list[Any], sheet: Sheet) -> None:
        self.line = number
        self._cells = cells
        self._sheet = sheet

    def header(self, key: str) -> str:
        """The column's header as the file writes it (the key for a column the file lacks)."""
        position = self._sheet.columns.get(key)
        return self._sheet.header[position] if position is not None else key

    def value(self, key: str) -> Any:
        """The raw cell: a str, number, datetime or None."""
        position = self._sheet.columns.get(key)
        return (
            self._cells[position] if position is not None and position < len(self._cells) else None
        )

    def text(self, key: str) -> str:
        return cell_text(self.value(key))

    def bad(self, key: str, reason: str) -> BadCell:
        return BadCell(self.header(key), reason, self._sheet.columns.get(key))

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
        """A required period (2024, 2024-Q2, 2024-06, 2024年6月, a date …) begun by ``today``."""
        self.required(key)
        raw = self.value(key)
        try:
            start, end = dates.period(raw, what=self.header(key))
        except UserError as exc:
            raise self.bad(key, str(exc).removeprefix(f"{self.header(key)}: ")) from None
        if start > today:
            raise self.bad(
                key,
                t(
                    "{value} has not begun yet (today is {today})",
                    value=self.text(key),
                    today=today.isoformat(),
                ),
            )
        return start, end

    def day(self, key: str, today: date) -> date | None:
        """A date (a date cell, 2024-06-01, 2024/6/1, 2024年6月1日, a serial number), None when
        empty; never after ``today``."""
        raw = self.text(key)
        if not raw:
            return None
        try:
            value = dates.parse_day(self.value(key))
        except ValueError:
            raise self.bad(key, t("not a date: {value!r}", value=raw)) from None
        if value > today:
            raise self.bad(
                key,
                t(
                    "{value} is after today ({today})",
                    value=value.isoformat(),
                    today=today.isoformat(),
                ),
            )
        return value


class Table:
    """A file opened for import: its rows by column key, and the problems found in them."""

    def __init__(
        self,
        path: Path,
        columns: Sequence[Column],
        *,
        sheet: str | None = None,
        ignore_unknown: bool = False,
    ) -> None:
        self.path = path
        self.sheet = read_table(path, columns, sheet=sheet, ignore_unknown=ignore_unknown)
        self.source = self.sheet.source
        self.header = self.sheet.header
        self.columns = self.sheet.columns
        self.problems = Problems(self.sheet)
        self.rows = 0  # non-empty data rows read so far
        self._seen: dict[Hashable, int] = {}

    def __iter__(self) -> Iterator[Row]:
        for number, cells in self.sheet.rows:
            self.rows += 1
            yield Row(number, cells, self.sheet)

    def parse(self, parse: Callable[[Row], T]) -> Iterator[tuple[Row, T]]:
        """(row, ``parse(row)``) for every row that parses; a ``BadCell`` is recorded instead."""
        for row in self:
            try:
                value = parse(row)
            except BadCell as exc:
                self.problems.add(row.line, exc.column, exc.reason, exc.position)
                continue
            yield row, value

    def reject(self, row: Row, key: str | None, reason: str) -> None:
        """Record a problem with a row (in column ``key``) found after parsing it."""
        if key is None:
            self.problems.add(row.line, None, reason)
        else:
            self.problems.add(row.line, row.header(key), reason, self.columns.get(key))

    def earlier(self, row: Row, key: Hashable) -> int | None:
        """The line of an earlier row with the same ``key`` (the row is remembered if none)."""
        first = self._seen.setdefault(key, row.line)
        return first if first != row.line else None

    def check(self) -> None:
        """Raise the collected problems as one ``UserError``, if there are any."""
        self.problems.check()

    def summary(self, **fields: Any) -> dict[str, Any]:
        """An import summary starting with the file, its sha256 and the rows read."""
        sheet = {"sheet": self.sheet.name} if self.sheet.name is not None else {}
        return {
            "file": str(self.path),
            **sheet,
            "sha256": file_sha256(self.path),
            "rows": self.rows,
            **({"ignored_columns": self.sheet.ignored} if self.sheet.ignored else {}),
            **fields,
        }


def file_sha256(path: Path) -> str:
    """The file's fingerprint, for an import's audit record."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
