"""The monthly progress report (月调度) as Markdown, CSV, a workbook or a 公文 document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from duban.core import api

COLUMNS = (
    ("owner", "Responsible body", "text"),
    ("total", "Items", "int"),
    ("closed", "Closed", "int"),
    ("closed_rate", "Closed %", "percent100"),
    ("overdue", "Overdue", "int"),
    ("rejected", "Rejected", "int"),
    ("reopened", "Reopened", "int"),
)


def title(month: str) -> str:
    return api.t("Rectification ledger: monthly progress {month}", month=month)


def columns() -> list[api.Field]:
    return [api.Field(key, api.t(label), kind) for key, label, kind in COLUMNS]


def markdown(rows: list[dict[str, Any]], totals: dict[str, Any], *, month: str) -> str:
    lines = [
        f"# {title(month)}",
        "",
        "| " + " | ".join(f.header for f in columns()) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for row in [*rows, totals]:
        cells = ["" if row[k] is None else str(row[k]) for k, _, _ in COLUMNS]
        if row is totals:
            cells[0] = f"**{cells[0]}**"
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_docx(
    rows: list[dict[str, Any]], totals: dict[str, Any], path: Path, *, month: str, **head: Any
) -> None:
    """The report as a 公文 (GB/T 9704-2012) with the figures in a table."""
    rate = "—" if totals["closed_rate"] is None else f"{totals['closed_rate']:g}%"
    summary = api.t(
        "As of the end of {month}, the ledger holds {total} items: {closed} closed ({rate}), "
        "{overdue} overdue, {rejected} close-out applications rejected, {reopened} reopened.",
        month=month,
        total=totals["total"],
        closed=totals["closed"],
        rate=rate,
        overdue=totals["overdue"],
        rejected=totals["rejected"],
        reopened=totals["reopened"],
    )
    doc = api.OfficialDocument(title=title(month), **{k: v for k, v in head.items() if v})
    doc.paragraph(summary)
    doc.heading(api.t("Progress by responsible body"), level=1)
    doc.table(columns(), rows, totals)
    doc.save(path)
