"""Scorecards: per owner, how it is doing on what it owes (a handful of grouped queries).

Rank, worst first (1 is the body doing worst): most open escalations weighted by rung
(提醒 1 … 移交问责 6), then most overdue obligations it leads, then the lowest on-time rate of
its closed milestones. Equal keys share a rank. A body with nothing assigned is not ranked
(``rank`` None) and comes last. The CLI and the TUI both show this ranking.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import case, func, text
from sqlmodel import Session, select

from .. import visibility
from ..errors import UserError
from ..i18n import t
from ..models import (
    LEVEL_ORDER,
    Assignment,
    Escalation,
    Milestone,
    Obligation,
    Owner,
    Region,
    Role,
    State,
)
from .escalations import as_of_then
from .split import overdue_ids

LEVELS = ("department", "city", "county")


def _owner_level(kind: str, region_level: str | None) -> str:
    if kind == "government" and region_level in ("province", "city", "county"):
        return region_level
    return kind if kind == "department" else "other"


def scorecard(*, session: Session, as_of: date, level: str | None = None) -> list[dict[str, Any]]:
    """One row per owner with obligations or escalations, best first."""
    if level is not None and level not in LEVELS:
        raise UserError(
            t(
                "--level: must be one of {choices}, not {value!r}",
                choices=", ".join(LEVELS),
                value=level,
            )
        )
    region_level = dict(session.exec(select(Region.id, Region.level)).all())
    owners = {
        oid: {"owner": name, "kind": kind, "level": _owner_level(kind, region_level.get(rid))}
        for oid, name, kind, rid in session.exec(
            select(Owner.id, Owner.name, Owner.kind, Owner.region_id)
        )
    }
    # As recorded by the end of ``as_of``, in the states things had then (``visibility``).
    seen = {"seen_at": visibility.seen_at(as_of)}
    roles: dict[int, dict[str, int]] = {}
    for oid, role, n in session.exec(
        select(Assignment.owner_id, Assignment.role, func.count())
        .join(Obligation, Obligation.id == Assignment.obligation_id)
        .where(
            text(
                f"{visibility.obligation_visible()}"
                f" AND {visibility.state_sql()} != '{State.cancelled.value}'"
            ).bindparams(seen_at=seen["seen_at"])
        )
        .group_by(Assignment.owner_id, Assignment.role)
    ):
        roles.setdefault(oid, {})[role] = n
    on_time: dict[int, tuple[int, int]] = {}
    for oid, closed, timely in session.exec(
        select(
            Assignment.owner_id,
            func.count(),
            func.sum(case((Milestone.done_on <= Milestone.due, 1), else_=0)),
        )
        .join(Milestone, Milestone.obligation_id == Assignment.obligation_id)
        .where(
            Assignment.role == Role.lead.value,
            Milestone.done_on.is_not(None),
            Milestone.done_on <= as_of,
            text(visibility.milestone_done_recorded("milestone")).bindparams(
                seen_at=seen["seen_at"]
            ),
        )
        .group_by(Assignment.owner_id)
    ):
        on_time[oid] = (closed, int(timely or 0))
    overdue_set = overdue_ids(session=session, as_of=as_of)
    overdue: dict[int, int] = {}
    for oid, ob_id in session.exec(
        select(Assignment.owner_id, Assignment.obligation_id).where(
            Assignment.role == Role.lead.value
        )
    ):
        if ob_id in overdue_set:
            overdue[oid] = overdue.get(oid, 0) + 1
    escalations: dict[int, dict[str, int]] = {}
    for e in as_of_then(
        session=session,
        rows=session.exec(
            select(Escalation).where(
                Escalation.addressed_to_id.is_not(None),
                text(visibility.escalation_open()).bindparams(seen_at=seen["seen_at"]),
            )
        ).all(),
        cutoff=seen["seen_at"],
    ):
        per_owner = escalations.setdefault(e.addressed_to_id, {})
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
