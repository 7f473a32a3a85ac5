"""SQL for filtering obligations, shared by the ORM listing and the lean count path.

Written as plain SQL with ``:name`` parameters so that ``duban list --count`` can run it
through the database driver alone, without importing SQLAlchemy and the models, while
``services.listing`` wraps the very same text for the ORM.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from . import visibility
from .vocabulary import State

CLOSED = (State.closed.value, State.cancelled.value)
STATES = tuple(s.value for s in State)
SORTS = ("code", "due", "title", "state", "id")
_PENDING = visibility.milestone_pending("m")
# Without the lens (nothing recorded after the date: ``visibility.recorded_after``).
_PENDING_NOW = "(m.done_on IS NULL OR m.done_on >= :as_of)"


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
    *,
    as_of: date,
    text: str | None = None,
    domain: str | None = None,
    state: str | None = None,
    due_before: date | None = None,
    due_from: date | None = None,
    overdue: bool = False,
    owner_id: int | None = None,
    role: str | None = None,
    region_path: str | None = None,
    plan_id: int | None = None,
    parent_id: int | None = None,
    mark: str | None = None,
    unmarked: str | None = None,
    lens: bool = True,
) -> Where:
    """Conditions for ``duban list``'s filters; owners and regions must be resolved already.
    Only what was recorded by the end of ``as_of`` is seen, in the state it had then; with
    ``lens=False`` (the caller found nothing recorded after it) the record as it is."""
    w = Where()
    if lens:
        w.add(visibility.obligation_visible(), seen_at=visibility.seen_at(as_of))
    if text:
        w.add(
            "obligation.title LIKE :text OR obligation.code LIKE :text OR obligation.title_en LIKE :text",
            text=f"%{text.strip()}%",
        )
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
        w.add(
            "obligation.region_id IN (SELECT r.id FROM region r WHERE r.path = :region_path"
            " OR r.path LIKE :region_prefix)",
            region_path=region_path,
            region_prefix=region_path + "/%",
        )
    if domain:
        w.add("obligation.domain = :domain", domain=domain)
    if state:
        w.add(f"{visibility.state_sql() if lens else 'obligation.state'} = :state", state=state)
    if due_before:
        since = " AND m.due >= :due_from" if due_from else ""
        w.add(
            "EXISTS (SELECT 1 FROM milestone m WHERE m.obligation_id = obligation.id"
            f" AND m.due < :due_before{since} AND {_PENDING if lens else _PENDING_NOW})",
            due_before=due_before,
            as_of=as_of,
            **({"due_from": due_from} if due_from else {}),
        )
    if overdue:
        w.add(overdue_sql(lens=lens), as_of=as_of)
    if plan_id is not None:
        w.add("obligation.plan_id = :plan_id", plan_id=plan_id)
    if parent_id is not None:
        w.add("obligation.parent_id = :parent_id", parent_id=parent_id)
    # A plugin's mark on its own obligations (the supervision plugin's "ledger" items), or a
    # member inside it ("ledger.accepted_at").
    for name, path, test in (("mark", mark, "IS NOT NULL"), ("unmarked", unmarked, "IS NULL")):
        if path:
            members = path.split(".")
            w.add(
                f"{_json_path(name, len(members))} {test}",
                **{f"{name}{i}": member for i, member in enumerate(members)},
            )
    return w


def _json_path(name: str, depth: int) -> str:
    # "->" reads a JSON member on PostgreSQL and on SQLite (3.38 and later) alike; NULL when
    # the member (or the attrs themselves) is missing.
    return "obligation.attrs" + "".join(f" -> CAST(:{name}{i} AS TEXT)" for i in range(depth))


def overdue_sql(*, lens: bool = True) -> str:
    """A live obligation with a milestone due before ``:as_of`` and not done by then (as
    recorded by ``:seen_at``, ``visibility``). Once
    split, an obligation's children carry its deadlines: a parent is overdue when an
    obligation below it is, whatever its own milestones say (as the sweep sees it)."""

    def live(o: str) -> str:
        state = visibility.state_sql(o) if lens else f"{o}.state"
        return f"{state} NOT IN ('{CLOSED[0]}', '{CLOSED[1]}')"

    def late(o: str) -> str:
        return (
            f"EXISTS (SELECT 1 FROM milestone m WHERE m.obligation_id = {o}.id"
            f" AND m.due < :as_of AND {_PENDING if lens else _PENDING_NOW})"
        )

    def seen(o: str) -> str:
        return f" AND {visibility.obligation_visible(o)}" if lens else ""

    # Parents as one set, looked up per row (a correlated probe per row would cost a third
    # more on 100k obligations).
    parents = f"(SELECT c.parent_id FROM obligation c WHERE c.parent_id IS NOT NULL{seen('c')})"
    below = (
        "WITH RECURSIVE below(id) AS (SELECT c.id FROM obligation c WHERE c.parent_id = obligation.id"
        " UNION ALL SELECT c.id FROM obligation c JOIN below b ON c.parent_id = b.id)"
        f" SELECT 1 FROM below b JOIN obligation x ON x.id = b.id"
        f" WHERE {live('x')}{seen('x')} AND {late('x')} AND x.id NOT IN {parents}"
    )
    return (
        f"{live('obligation')} AND ({late('obligation')} AND obligation.id NOT IN {parents}"
        f" OR obligation.id IN {parents} AND EXISTS ({below}))"
    )


def count_sql(where: Where) -> str:
    return f"SELECT COUNT(*) FROM obligation WHERE {where.sql}"


# The lean path ----------------------------------------------------------------------------
_PARAM = re.compile(r"(?<!:):(\w+)")


class Lean:
    """Read-only SQL with ``:name`` parameters over a bare DB-API connection (sqlite3 or
    psycopg): the same text the ORM runs, without importing SQLAlchemy."""

    def __init__(self, conn: Any, dialect: str, *, owned: bool = True) -> None:
        self.conn, self.dialect, self._owned = conn, dialect, owned

    @classmethod
    def of_session(cls, session: Any) -> Lean:
        """The driver connection under an ORM session (its transaction, not closed here)."""
        connection = session.connection()
        return cls(connection.connection.driver_connection, connection.dialect.name, owned=False)

    def rows(self, sql: str, **params: Any) -> list[tuple]:
        if self.dialect == "sqlite":
            params = {k: _sqlite_value(v) for k, v in params.items()}
        else:
            sql = _PARAM.sub(r"%(\1)s", sql.replace("%", "%%"))
        cur = self.conn.cursor()
        try:
            cur.execute(sql, params)
            return [tuple(row) for row in cur.fetchall()]
        finally:
            cur.close()

    def one(self, sql: str, **params: Any) -> Any:
        """The first column of the first row, or None."""
        found = self.rows(sql, **params)
        return found[0][0] if found else None

    def close(self) -> None:
        if self._owned:
            self.conn.close()

    def __enter__(self) -> Lean:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _sqlite_value(value: Any) -> Any:
    # As SQLAlchemy stores them on SQLite: ISO dates, naive UTC instants with microseconds.
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def lean_connect(url: str, head: str, claimed: str | None = None) -> Lean | None:
    """A read-only connection through the bare driver; None when the database is not ready
    for it (missing, not at schema ``head``, or a backend without a lean driver), or when
    ``claimed`` (``--as``) is not PostgreSQL's login, so the caller takes the ORM path
    instead (which refuses the claim)."""
    if url.startswith("sqlite:///"):
        import sqlite3

        try:
            lean = Lean(
                sqlite3.connect(
                    f"file:{url.removeprefix('sqlite:///')}?mode=ro",
                    uri=True,
                    timeout=10,
                    check_same_thread=False,
                ),
                "sqlite",
            )
        except sqlite3.Error:
            return None
    elif url.startswith("postgresql+psycopg://"):
        import psycopg

        try:
            lean = Lean(psycopg.connect("postgresql://" + url.split("://", 1)[1]), "postgresql")
        except psycopg.Error:
            return None
    else:
        return None
    if claimed and lean.dialect == "postgresql" and lean.one("SELECT session_user") != claimed:
        lean.close()
        return None
    try:
        version = lean.one("SELECT version_num FROM alembic_version")
    except Exception:  # no schema yet: let the full path create it
        version = None
    if version != head:
        lean.close()
        return None
    return lean


def lens_needed(db: Lean, as_of: date) -> bool:
    """Whether anything was recorded after the end of ``as_of`` (``visibility``)."""
    return db.one(visibility.recorded_after(), seen_at=visibility.seen_at(as_of)) is not None


def lean_count(
    url: str, head: str, as_of: date, where: Any, claimed: str | None = None
) -> int | None:
    """``count_sql(where(lens))`` through the bare driver, or None (see ``lean_connect``);
    ``where`` builds the filter with or without the as-of lens, as ``lens_needed`` says."""
    lean = lean_connect(url, head, claimed)
    if lean is None:
        return None
    with lean:
        found = where(lens_needed(lean, as_of))
        return int(lean.one(count_sql(found), **found.params))
