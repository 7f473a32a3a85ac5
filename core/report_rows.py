"""``duban report list``: progress reports as of a date, read as plain SQL through
``queries.Lean``; the command runs it on the bare driver, ``services.reports.list_reports``
(and through it the TUI) on its session's connection."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from . import visibility
from .columns import document, instant

if TYPE_CHECKING:
    from .queries import Lean

_COLUMNS = (
    "r.id, r.obligation_id, o.code, o.title, w.name, r.role, r.period, r.progress, r.problems,"
    " r.next_steps, r.percent, r.milestone_id, r.milestones, r.submitted_by, r.submitted_at,"
    " r.superseded_by_id, r.source"
)


def report_list(
    db: Lean,
    *,
    as_of: date,
    period: str | None = None,
    owner_id: int | None = None,
    obligation_id: int | None = None,
    history: bool = False,
) -> list[dict[str, Any]]:
    """Reports recorded by the end of ``as_of`` (``visibility``), by obligation, period end
    and id; current ones only unless ``history`` (superseded ones too). ``period`` is a
    period's label (2024-05, 2024-Q2)."""
    where = [visibility.report_visible("r")]
    params: dict[str, Any] = {"seen_at": visibility.seen_at(as_of)}
    for column, value in (
        ("period", period),
        ("owner_id", owner_id),
        ("obligation_id", obligation_id),
    ):
        if value is not None:
            where.append(f"r.{column} = :{column}")
            params[column] = value
    rows = db.rows(
        f"SELECT {_COLUMNS} FROM report r JOIN obligation o ON o.id = r.obligation_id"
        f" LEFT JOIN owner w ON w.id = r.owner_id WHERE {' AND '.join(where)}"
        " ORDER BY r.obligation_id, r.period_end, r.id",
        **params,
    )
    if not history:  # superseded only by a report visible now
        ids = {r[0] for r in rows}
        rows = [r for r in rows if r[15] not in ids]
    return [
        {
            "id": r[0],
            "obligation": r[1],
            "code": r[2],
            "title": r[3],
            "owner": r[4],
            "role": r[5],
            "period": r[6],
            "progress": r[7],
            "problems": r[8],
            "next_steps": r[9],
            "percent": r[10],
            "milestone": r[11],
            "milestones_done": document(r[12]) or [],
            "submitted_by": r[13],
            "submitted_at": instant(r[14]).isoformat(),  # type: ignore[union-attr]
            "superseded_by": r[15],
            "source": r[16],
        }
        for r in rows
    ]
