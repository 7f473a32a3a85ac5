"""The monthly progress report (月调度) as Markdown or a spreadsheet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from duban.core import api

COLUMNS = (
    ("owner", "Responsible body"),
    ("total", "Items"),
    ("closed", "Closed"),
    ("closed_rate", "Closed %"),
    ("overdue", "Overdue"),
    ("rejected", "Rejected"),
    ("reopened", "Reopened"),
)


def _headers() -> list[str]:
    return [api.t(label) for _, label in COLUMNS]


def markdown(rows: list[dict[str, Any]], *, month: str) -> str:
    lines = [
        f"# {api.t('Rectification ledger: monthly progress {month}', month=month)}",
        "",
        "| " + " | ".join(_headers()) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for row in rows:
        lines.append(
            "| " + " | ".join("" if row[k] is None else str(row[k]) for k, _ in COLUMNS) + " |"
        )
    totals = {k: sum(r[k] for r in rows) for k, _ in COLUMNS if k not in ("owner", "closed_rate")}
    rate = round(100 * totals["closed"] / totals["total"], 1) if totals["total"] else ""
    lines.append(
        "| "
        + " | ".join(
            [
                f"**{api.t('Total')}**",
                *(str(totals[k]) if k in totals else str(rate) for k, _ in COLUMNS[1:]),
            ]
        )
        + " |"
    )
    return "\n".join(lines)


def write_xlsx(rows: list[dict[str, Any]], path: Path, *, month: str) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = month
    sheet.append(_headers())
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([row[k] for k, _ in COLUMNS])
    sheet.column_dimensions["A"].width = 36
    book.save(path)
