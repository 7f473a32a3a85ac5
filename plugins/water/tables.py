"""Reading the CSV and Excel files the water importers take: header plus numbered rows."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from duban.core.errors import UserError
from duban.core.i18n import t


def norm_header(text: str) -> str:
    """Headers compare case-, space- and bracket-insensitively (（） and () alike)."""
    return (text.strip().casefold().replace("（", "(").replace("）", ")")
            .replace(" ", "").replace("\u3000", ""))


def read_table(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header and an iterator of (line number, cells); cells are stripped strings."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(path)
    if suffix != ".csv":
        raise UserError(t("{path}: expected a .csv or .xlsx file", path=path))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise UserError(t("{path}: not UTF-8 text (save the CSV as UTF-8)", path=path)) from None
    except OSError as exc:
        raise UserError(t("{path}: cannot read: {why}", path=path, why=exc.strerror or exc)) from None
    rows = csv.reader(text.splitlines())
    header = next(rows, None)
    if not header:
        raise UserError(t("{path}: the file is empty", path=path))

    def body() -> Iterator[tuple[int, list[str]]]:
        for number, row in enumerate(rows, 2):
            cells = [c.strip() for c in row]
            if any(cells):
                yield number, cells

    return [h.strip() for h in header], body()


def _read_xlsx(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise UserError(t("{path}: not a readable .xlsx workbook: {why}", path=path, why=exc)) from None
    rows = book.active.iter_rows(values_only=True)
    header = next(rows, None)
    if not header:
        raise UserError(t("{path}: the file is empty", path=path))

    def cell(value: object) -> str:
        if value is None:
            return ""
        if hasattr(value, "date") and hasattr(value, "hour"):  # a datetime cell
            return value.date().isoformat()  # type: ignore[union-attr]
        return str(value).strip()

    def body() -> Iterator[tuple[int, list[str]]]:
        for number, row in enumerate(rows, 2):
            cells = [cell(c) for c in row]
            if any(cells):
                yield number, cells
        book.close()

    return [cell(h) for h in header], body()
