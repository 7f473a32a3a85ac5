"""Scorecards: per owner, how it is doing on what it owes (a handful of grouped queries).

Rank, worst first (1 is the body doing worst): most open escalations weighted by rung
(提醒 1 … 移交问责 6), then most overdue obligations it leads, then the lowest on-time rate of
its closed milestones. Equal keys share a rank. A body with nothing assigned is not ranked
(``rank`` None) and comes last. The CLI and the TUI both show this ranking.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from .. import visibility
from ..errors import UserError
from ..escalation_rows import escalations as escalations_then
from ..i18n import t
from ..queries import Lean, lens_needed, overdue_ids_sql
from ..sql import id_in
from ..vocabulary import LEVEL_ORDER, Role, State

if TYPE_CHECKING:
    from sqlmodel import Session

LEVELS = ("department", "city", "county")


def _owner_level(kind: str, region_level: str | None) -> str:
    if kind == "government" and region_level in ("province", "city", "county"):
        return region_level
    return kind if kind == "department" else "other"


def scorecard(*, session: Session, as_of: date, level: str | None = None) -> list[dict[str, Any]]:
    """``scorecard_rows`` on the session's connection."""
    session.flush()  # the SQL runs on the connection: it sees what was flushed
    return scorecard_rows(Lean.of_session(session), as_of=as_of, level=level)


def scorecard_rows(db: Lean, *, as_of: date, level: str | None = None) -> list[dict[str, Any]]:
    """One row per owner with obligations or escalations, best first (plain SQL, so that
    ``duban scorecard`` runs on the bare driver)."""
    if level is not None and level not in LEVELS:
        raise UserError(
            t(
                "--level: must be one of {choices}, not {value!r}",
                choices=", ".join(LEVELS),
                value=level,
            )
        )
    region_level = dict(db.rows("SELECT id, level FROM region"))
    owners = {
        oid: {"owner": name, "kind": kind, "level": _owner_level(kind, region_level.get(rid))}
        for oid, name, kind, rid in db.rows("SELECT id, name, kind, region_id FROM owner")
    }
    # As recorded by the end of ``as_of``, in the states things had then (``visibility``).
    seen = visibility.seen_at(as_of)
    roles: dict[int, dict[str, int]] = {}
    counted = (
        f"{visibility.obligation_visible()}"
        f" AND {visibility.state_sql()} != '{State.cancelled.value}'"
    )
    for oid, role, n in db.rows(
        # Every assignment but those of the few obligations not counted, from the index
        # ``(owner_id, role, obligation_id)`` alone (a join walking the obligations costs a
        # probe per row, 4x on 100k obligations).
        "SELECT a.owner_id, a.role, COUNT(*) FROM assignment a WHERE a.obligation_id NOT IN"
        f" (SELECT obligation.id FROM obligation WHERE CASE WHEN {counted} THEN 0 ELSE 1 END = 1)"
        " GROUP BY a.owner_id, a.role",
        seen_at=seen,
    ):
        roles.setdefault(oid, {})[role] = n
    on_time: dict[int, tuple[int, int]] = {}
    for oid, closed, timely in db.rows(
        "SELECT a.owner_id, COUNT(*),"
        " SUM(CASE WHEN milestone.done_on <= milestone.due THEN 1 ELSE 0 END)"
        # From the milestones done (few, by their index) to their leads.
        " FROM milestone CROSS JOIN assignment a WHERE milestone.obligation_id = a.obligation_id"
        f" AND a.role = '{Role.lead.value}' AND milestone.done_on IS NOT NULL"
        f" AND milestone.done_on <= :as_of AND {visibility.milestone_done_recorded('milestone')}"
        " GROUP BY a.owner_id",
        as_of=as_of,
        seen_at=seen,
    ):
        on_time[oid] = (closed, int(timely or 0))
    late = overdue_ids_sql(lens=lens_needed(db, as_of), dialect=db.dialect)
    overdue: dict[int, int] = dict(
        db.rows(
            f"SELECT a.owner_id, COUNT(*) FROM assignment a WHERE a.role = '{Role.lead.value}'"
            f" AND {id_in(db.dialect, 'a.obligation_id', late)}"
            " GROUP BY a.owner_id",
            as_of=as_of,
            seen_at=seen,
        )
    )
    escalations: dict[int, dict[str, int]] = {}
    for e in escalations_then(db, as_of=as_of, open_only=True, addressed=True):
        per_owner = escalations.setdefault(e.addressed_to_id, {})  # type: ignore[arg-type]
        per_owner[e.level] = per_owner.get(e.level, 0) + 1

    rows = []
    for oid in sorted(set(roles) | set(escalations)):
        info = owners.get(oid)
        if info is None or (level is not None and info["level"] != level):
            continue
        closed, timely = on_time.get(oid, (0, 0))
        per_level = {lv: escalations.get(oid, {}).get(lv, 0) for lv in LEVEL_ORDER}
        rows.append(
            {
                "owner": info["owner"],
                "kind": info["kind"],
                "level": info["level"],
                **{role.value: roles.get(oid, {}).get(role.value, 0) for role in Role},
                "milestones_closed": closed,
                "on_time": timely,
                "on_time_rate": round(timely / closed, 3) if closed else None,
                "overdue": overdue.get(oid, 0),
                "escalations": per_level,
                "escalation_weight": sum(n * (LEVEL_ORDER[lv] + 1) for lv, n in per_level.items()),
            }
        )

    def badness(row: dict[str, Any]) -> tuple[int, int, float]:
        rate = row["on_time_rate"]
        return row["escalation_weight"], row["overdue"], -(1.0 if rate is None else rate)

    def assigned(row: dict[str, Any]) -> bool:
        return any(row[role.value] for role in Role)

    rows.sort(key=lambda r: (not assigned(r), tuple(-x for x in badness(r)), r["owner"]))
    previous, rank = None, 0
    for position, row in enumerate(rows, 1):
        if not assigned(row):
            row["rank"] = None
            continue
        if badness(row) != previous:
            rank, previous = position, badness(row)
        row["rank"] = rank
    return rows
