"""SQL for filtering obligations, shared by the ORM listing and the lean count path.

Written as plain SQL with ``:name`` parameters so that ``duban list --count`` can run it
through the database driver alone, without importing SQLAlchemy and the models, while
``services.listing`` wraps the very same text for the ORM.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

CLOSED = ("closed", "cancelled")
STATES = ("open", "in_progress", "submitted", *CLOSED)  # models.State, without importing it
SORTS = ("code", "due", "title", "state", "id")
_PENDING = "(m.done_on IS NULL OR m.done_on >= :as_of)"


@dataclass
class Where:
    """A conjunction of SQL conditions over ``obligation`` and their parameters."""

    clauses: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def add(self, clause: str, **params: Any) -> None:
        self.clauses.append(clause)
        self.params.update(params)

    @property
    def sql(self) -> str:
        return " AND ".join(f"({c})" for c in self.clauses) or "1 = 1"


def obligation_where(
    *, as_of: date, text: str | None = None, domain: str | None = None, state: str | None = None,
    due_before: date | None = None, overdue: bool = False, owner_id: int | None = None,
    role: str | None = None, region_path: str | None = None, plan_id: int | None = None,
    parent_id: int | None = None, mark: str | None = None,
) -> Where:
    """Conditions for ``duban list``'s filters; owners and regions must be resolved already."""
    w = Where()
    if text:
        w.add("obligation.title LIKE :text OR obligation.code LIKE :text OR obligation.title_en LIKE :text",
              text=f"%{text.strip()}%")
    if owner_id is not None or role:
        cond = ["a.obligation_id = obligation.id"]
        if owner_id is not None:
            cond.append("a.owner_id = :owner_id")
            w.params["owner_id"] = owner_id
        if role:
            cond.append("a.role = :role")
            w.params["role"] = role
        w.add(f"EXISTS (SELECT 1 FROM assignment a WHERE {' AND '.join(cond)})")
    if region_path is not None:
        w.add("obligation.region_id IN (SELECT r.id FROM region r WHERE r.path = :region_path"
              " OR r.path LIKE :region_prefix)", region_path=region_path,
              region_prefix=region_path + "/%")
    if domain:
        w.add("obligation.domain = :domain", domain=domain)
    if state:
        w.add("obligation.state = :state", state=state)
    if due_before:
        w.add("EXISTS (SELECT 1 FROM milestone m WHERE m.obligation_id = obligation.id"
              f" AND m.due < :due_before AND {_PENDING})", due_before=due_before, as_of=as_of)
    if overdue:
        w.add(overdue_sql(), as_of=as_of)
    if plan_id is not None:
        w.add("obligation.plan_id = :plan_id", plan_id=plan_id)
    if parent_id is not None:
        w.add("obligation.parent_id = :parent_id", parent_id=parent_id)
    if mark:
        # A plugin's mark on its own obligations (the supervision plugin's "ledger" items).
        # "->" reads a JSON member on PostgreSQL and on SQLite (3.38 and later) alike.
        w.add("obligation.attrs -> CAST(:mark AS TEXT) IS NOT NULL", mark=mark)
    return w


def overdue_sql() -> str:
    """A live obligation with a milestone due before ``:as_of`` and not done by then."""
    return (f"obligation.state NOT IN ('{CLOSED[0]}', '{CLOSED[1]}') AND EXISTS (SELECT 1 FROM"
            f" milestone m WHERE m.obligation_id = obligation.id AND m.due < :as_of AND {_PENDING})")


def count_sql(where: Where) -> str:
    return f"SELECT COUNT(*) FROM obligation WHERE {where.sql}"


# The lean path ----------------------------------------------------------------------------
_PARAM = re.compile(r"(?<!:):(\w+)")


def lean_count(url: str, head: str, where: Where) -> int | None:
    """Count through the bare driver; None when the database is not ready for it (missing,
    not at schema ``head``, or a backend without a lean driver), so the caller falls back."""
    params = dict(where.params)
    if url.startswith("sqlite:///"):
        import sqlite3

        path = url.removeprefix("sqlite:///")
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        except sqlite3.Error:
            return None
        params = {k: v.isoformat() if isinstance(v, date) else v for k, v in params.items()}
        sql = count_sql(where)
    elif url.startswith("postgresql+psycopg://"):
        import psycopg

        try:
            conn = psycopg.connect("postgresql://" + url.split("://", 1)[1])
        except psycopg.Error:
            return None
        sql = _PARAM.sub(r"%(\1)s", count_sql(where).replace("%", "%%"))
    else:
        return None
    try:
        cur = conn.cursor()
        try:
            cur.execute("SELECT version_num FROM alembic_version")
            row = cur.fetchone()
        except Exception:  # no schema yet: let the full path create it
            return None
        if not row or row[0] != head:
            return None
        cur.execute(sql, params)
        return int(cur.fetchone()[0])
    finally:
        conn.close()
