"""The ledger's items and their stages as of a date, read as plain SQL through
``api.Lean``: ``duban ledger list`` runs it on the bare driver, the rest of the plugin
(``ledger.describe``) on its session's connection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from duban.core import api

if TYPE_CHECKING:
    from duban.core.api import Lean

DOMAIN = "supervision"


@dataclass
class Stage:
    key: str
    zh: str
    en: str


STAGES = {
    s.key: s
    for s in (
        Stage("assigned", "交办", "Assigned"),
        Stage("rectifying", "整改中", "Rectifying"),
        Stage("applied", "申请销号", "Close-out applied"),
        Stage("accepted", "验收", "Accepted on site"),
        Stage("closed", "销号", "Closed"),
        Stage("cancelled", "撤销", "Cancelled"),
    )
}
STATE_OF_STAGE = {
    "assigned": "open",
    "rectifying": "in_progress",
    "applied": "submitted",
    "accepted": "submitted",
    "closed": "closed",
    "cancelled": "cancelled",
}
_STAGE_OF_STATE = {
    "open": "assigned",
    "in_progress": "rectifying",
    "submitted": "applied",
    "closed": "closed",
    "cancelled": "cancelled",
}


def stage_of(ob: Any, state: str | None = None, seen: datetime | None = None) -> Stage:
    """The item's stage (``ob``: anything with ``attrs`` and ``state``); with ``state`` and
    ``seen``, as it stood at that instant (its state then, an acceptance recorded later not
    yet made)."""
    accepted = (ob.attrs or {}).get("ledger", {}).get("accepted_at")
    if seen is not None and accepted and datetime.fromisoformat(accepted) > seen:
        accepted = None
    key = _STAGE_OF_STATE[state or ob.state]
    if key == "applied" and accepted:
        key = "accepted"
    return STAGES[key]


@dataclass
class _Item:
    id: int
    title: str
    body: str | None
    state: str
    attrs: dict[str, Any] | None
    reopened: int
    state_then: str | None


def items(
    db: Lean, *, as_of: date, recorded_by: date | None = None, only: int | None = None
) -> list[dict[str, Any]]:
    """Each ledger item (an obligation imported from a ledger: the plan's own supervision
    tasks are not items) as ``duban ledger list`` and ``show`` describe it as of ``as_of``,
    in id order; with ``recorded_by``, only those recorded by the end of that day
    (``api.seen_at``); with ``only``, that one obligation whatever it is."""
    seen = api.seen_at(as_of)
    # Items carry attrs.ledger ("->" reads a JSON member on SQLite and PostgreSQL alike).
    where = ["o.domain = :domain", "o.attrs -> 'ledger' IS NOT NULL"]
    params: dict[str, Any] = {"domain": DOMAIN, "seen_at": seen}
    if recorded_by is not None:
        where.append("o.created_at <= :recorded_by")
        params["recorded_by"] = api.seen_at(recorded_by)
    if only is not None:
        where, params = ["o.id = :only"], {"only": only, "seen_at": seen}
    cond = " AND ".join(where)
    found = [
        _Item(row[0], row[1], row[2], row[3], api.db_json(row[4]), row[5], row[6])
        for row in db.rows(
            f"SELECT o.id, o.title, o.body, o.state, o.attrs, o.reopened, {api.state_sql('o')}"
            f" FROM obligation o WHERE {cond} ORDER BY o.id",
            **params,
        )
    ]
    if only is None:
        found = [ob for ob in found if (ob.attrs or {}).get("ledger")]
    scope = {k: v for k, v in params.items() if k != "seen_at"}
    dues = {
        oid: api.db_date(due)
        for oid, due in db.rows(
            "SELECT m.obligation_id, MIN(m.due) FROM milestone m JOIN obligation o"
            f" ON o.id = m.obligation_id WHERE {cond} GROUP BY m.obligation_id",
            **scope,
        )
    }
    leads: dict[int, list[str]] = {}
    for oid, name in db.rows(
        "SELECT a.obligation_id, w.name FROM assignment a JOIN owner w ON w.id = a.owner_id"
        f" JOIN obligation o ON o.id = a.obligation_id WHERE {cond} AND a.role = 'lead'"
        " ORDER BY a.id",
        **scope,
    ):
        leads.setdefault(oid, []).append(name)
    rejected = dict(
        db.rows(
            "SELECT s.obligation_id, COUNT(*) FROM submission s JOIN obligation o"
            f" ON o.id = s.obligation_id WHERE {cond} AND s.decision = 'rejected'"
            " GROUP BY s.obligation_id",
            **scope,
        )
    )
    rows = []
    for ob in found:
        ledger = (ob.attrs or {}).get("ledger", {})
        stage = stage_of(ob, ob.state_then or ob.state, seen)
        due = dues.get(ob.id)
        rows.append(
            {
                "id": ob.id,
                "number": ledger.get("number"),
                "batch": ledger.get("batch"),
                "source": ledger.get("source"),
                "title": ob.title,
                "description": ob.body,
                "responsible": leads.get(ob.id, []),
                "deadline": due.isoformat() if due else ledger.get("deadline"),
                "stage": stage.key,
                "stage_label": api.pick(stage.zh, stage.en),
                "overdue": bool(due and due < as_of and stage.key not in ("closed", "cancelled")),
                "measures": ledger.get("measures"),
                "progress": ledger.get("progress"),
                "rejected": rejected.get(ob.id, 0),
                "reopened": ob.reopened,
            }
        )
    return rows
