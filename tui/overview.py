"""The dashboard's figures in plain SQL, read without the ORM.

The first screen a coordinator sees should not wait for SQLAlchemy to load: these queries
run through ``core.queries.Lean`` (the bare sqlite3/psycopg driver), and ``prefetch`` starts
them in a thread while textual is still being imported. When the lean path is unavailable
the same SQL runs on an ORM session's connection. Imports neither textual nor SQLAlchemy.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from concurrent.futures import Future
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from duban.core import queries, sql, visibility
from duban.core.controls import shown
from duban.core.queries import Lean
from duban.core.vocabulary import LEVEL_ORDER

if TYPE_CHECKING:
    from duban.core.cli.context import Env

UPCOMING_DAYS = 30
UPCOMING_ROWS = 8
WORST_OWNERS = 5
# Recorded by the end of the day under review, in the state it had then (``visibility``).
LIVE_SQL = (
    f"{visibility.obligation_visible()} AND {visibility.state_sql()}"
    f" NOT IN ('{queries.CLOSED[0]}', '{queries.CLOSED[1]}')"
)
_OPEN = visibility.escalation_open("e")
_LEVEL = visibility.escalation_level("e")


def _day(value: Any) -> date | None:
    # sqlite3 hands dates back as ISO text, psycopg as dates.
    return date.fromisoformat(value) if isinstance(value, str) else value


def _ids(ids: Any) -> str:
    return ", ".join(str(int(i)) for i in ids) or "NULL"


@shown
def identity(db: Lean, actor: str) -> dict[str, Any]:
    """The acting user's role and the plan under review (for the status line)."""
    role = db.one("SELECT role FROM app_user WHERE name = :name", name=actor)
    found = plan(db)
    return {
        "role": role,
        "plan_titles": (found["title"], found["title_en"]) if found else None,
        "sandbox": db.one("SELECT value FROM setting WHERE key = 'sandbox'") is not None,
    }


def plan(db: Lean) -> dict[str, Any] | None:
    """The default plan (the first loaded when none is set)."""
    columns = "SELECT key, title, title_en, issued_on, valid_until FROM plan"
    key = db.one("SELECT value FROM setting WHERE key = 'default_plan'")
    rows = db.rows(f"{columns} WHERE key = :key", key=key) if key else []
    rows = rows or db.rows(f"{columns} ORDER BY id LIMIT 1")
    if not rows:
        return None
    key, title, title_en, issued, until = rows[0]
    late = db.one("SELECT value FROM setting WHERE key = :key", key=f"late_at_load:{key}"[:64])
    return {
        "late_at_load": int(late) if late else 0,
        "key": key,
        "title": title,
        "title_en": title_en,
        "start": _day(issued),
        "end": _day(until),
    }


def plan_progress(found: dict[str, Any] | None, as_of: date) -> dict[str, Any] | None:
    if found is None:
        return None
    start, end = found["start"], found["end"]
    fraction = None
    if start and end and end > start:
        fraction = min(1.0, max(0.0, (as_of - start).days / (end - start).days))
    return {**found, "elapsed": fraction, "remaining_days": (end - as_of).days if end else None}


def target_status_counts(db: Lean, as_of: date, *, suggested: bool = False) -> dict[str, int]:
    """Targets by status in the latest sweep on or before ``as_of``: the plan's and the
    office's own, or (``suggested``) those a plugin suggests, never counted as the plan's."""
    sweep = db.one(
        "SELECT id FROM sweep WHERE as_of <= :as_of AND ran_at <= :seen_at AND NOT dry_run"
        " ORDER BY as_of DESC, id DESC LIMIT 1",
        as_of=as_of,
        seen_at=visibility.seen_at(as_of),
    )
    if sweep is None:
        return {}
    # Suggested targets are few (``ix_target_suggested`` lists them): the plan's counts are
    # every status the sweep recorded (``ix_target_status_sweep_status``, the index alone)
    # less theirs, rather than a join of a million statuses with their targets.
    theirs = dict(
        db.rows(
            "SELECT ts.status, COUNT(*) FROM target_status ts JOIN target tg ON tg.id = ts.target_id"
            " WHERE ts.sweep_id = :sweep AND tg.source IS NOT NULL AND tg.source <> 'plan'"
            " GROUP BY ts.status",
            sweep=sweep,
        )
    )
    if suggested:
        return theirs
    every = db.rows(
        "SELECT status, COUNT(*) FROM target_status WHERE sweep_id = :sweep GROUP BY status",
        sweep=sweep,
    )
    return {status: n - theirs.get(status, 0) for status, n in every if n > theirs.get(status, 0)}


def ladder_counts(db: Lean, as_of: date) -> dict[str, int]:
    return dict(
        db.rows(
            f"SELECT {_LEVEL}, COUNT(*) FROM escalation e WHERE {_OPEN} GROUP BY 1",
            seen_at=visibility.seen_at(as_of),
        )
    )


def upcoming(
    db: Lean, as_of: date, days: int = UPCOMING_DAYS, limit: int = UPCOMING_ROWS
) -> dict[str, Any]:
    """Pending milestones of live obligations due within ``days`` of ``as_of``."""
    due = "m.due >= :as_of AND m.due <= :until"
    where = f"{due} AND {visibility.milestone_pending('m')} AND {LIVE_SQL}"
    params = {
        "as_of": as_of,
        "until": as_of + timedelta(days=days),
        "seen_at": visibility.seen_at(as_of),
    }
    joined = "FROM milestone m JOIN obligation ON obligation.id = m.obligation_id"
    # Obligations, as the list the count opens (due:30) counts them: those of the pending
    # milestones, each looked up once (at national scale 53,000 milestones, which a join
    # would hash against the whole obligation table).
    pending = queries.pending_milestones_sql(due=due)
    total = db.one(
        "SELECT COUNT(*) FROM obligation"
        f" WHERE {sql.id_in(db.dialect, 'obligation.id', pending)} AND {LIVE_SQL}",
        **params,
    )
    rows = db.rows(
        f"SELECT m.due, obligation.id, obligation.code, obligation.title, obligation.title_en"
        f" {joined} WHERE {where} ORDER BY m.due, obligation.seq, m.id LIMIT {int(limit)}",
        **params,
    )
    leads: dict[int, list[str]] = defaultdict(list)
    for ob_id, name, name_en in db.rows(
        "SELECT a.obligation_id, o.name, o.name_en FROM assignment a JOIN owner o ON o.id = a.owner_id"
        f" WHERE a.role = 'lead' AND a.obligation_id IN ({_ids({r[1] for r in rows})})"
        " ORDER BY a.obligation_id, a.id"
    ):
        leads[ob_id].append((name, name_en))
    return {
        "total": total,
        "days": days,
        "rows": [
            {
                "due": _day(due),
                "obligation_id": ob_id,
                "code": code or "",
                "title": title,
                "title_en": title_en,
                "lead": leads[ob_id],
            }
            for due, ob_id, code, title, title_en in rows
        ],
    }


def overdue_counts(db: Lean, as_of: date) -> tuple[int, dict[int, int]]:
    """Overdue obligations, in all and per lead owner, finding them once."""
    total, per_lead = 0, {}
    for owner_id, n in db.rows(
        "WITH late AS MATERIALIZED"
        f" ({queries.overdue_ids_sql(lens=queries.lens_needed(db, as_of), dialect=db.dialect)})"
        " SELECT a.owner_id, COUNT(*) FROM assignment a"
        " WHERE a.role = 'lead'"
        f" AND {sql.id_in(db.dialect, 'a.obligation_id', 'SELECT id FROM late')}"
        " GROUP BY a.owner_id"
        " UNION ALL SELECT NULL, COUNT(*) FROM late",
        as_of=as_of,
        seen_at=visibility.seen_at(as_of),
    ):
        if owner_id is None:
            total = n
        else:
            per_lead[owner_id] = n
    return total, per_lead


def worst_owners(
    db: Lean, as_of: date, overdue: dict[int, int], limit: int = WORST_OWNERS
) -> list[dict[str, Any]]:
    """Owners worst first, quickly: ``overdue`` obligations they lead (``overdue_counts``) and
    escalations addressed to them, weighted by level, in the scorecard's order (its on-time
    rate, the last tie-break, aside: the owners screen shows the full ranking)."""
    escalated: dict[int, dict[str, int]] = defaultdict(dict)
    for owner_id, level, n in db.rows(
        f"SELECT e.addressed_to_id, {_LEVEL}, COUNT(*) FROM escalation e WHERE {_OPEN}"
        " AND e.addressed_to_id IS NOT NULL GROUP BY 1, 2",
        seen_at=visibility.seen_at(as_of),
    ):
        escalated[owner_id][level] = n
    scores = []
    for owner_id in set(overdue) | set(escalated):
        levels = escalated.get(owner_id, {})
        weight = sum((LEVEL_ORDER.get(lv, 0) + 1) * n for lv, n in levels.items())  # type: ignore[call-overload]
        scores.append(
            {
                "owner_id": owner_id,
                "overdue": overdue.get(owner_id, 0),
                "levels": levels,
                "score": weight,
                "top_level": max(levels, key=lambda lv: LEVEL_ORDER.get(lv, -1), default=None),  # type: ignore[call-overload]
            }
        )
    names = {
        i: (name, name_en)
        for i, name, name_en in db.rows(
            f"SELECT id, name, name_en FROM owner WHERE id IN ({_ids(s['owner_id'] for s in scores)})"
        )
    }
    for s in scores:
        name, name_en = names.get(s["owner_id"], (str(s["owner_id"]), None))
        s["name"], s["name_en"] = name, name_en
    scores.sort(key=lambda s: (-s["score"], -s["overdue"], s["name"]))
    return scores[:limit]


def light_counts(db: Lean, as_of: date) -> dict[str, int]:
    """Live obligations per traffic light as of the end of ``as_of`` (docs/reports.md)."""
    from duban.core.settings import get_settings

    lights = queries.Lights(
        dialect=db.dialect,
        settings=get_settings().reports,
        plan_ids=dict(db.rows(queries.plan_ids_sql())),
        as_of=as_of,
        lens=queries.lens_needed(db, as_of),
    )
    rows = db.rows(
        f"SELECT x.light, COUNT(*) FROM ({lights.table()}) x GROUP BY x.light", **lights.params
    )
    return {light: n for light, n in rows if light}


def state_counts(db: Lean, as_of: date) -> dict[str, int]:
    """Obligations by state as of ``as_of``: today's counts (read from the state index),
    corrected for those recorded or moved since (index look-ups, usually none)."""
    counts = Counter(dict(db.rows("SELECT state, COUNT(*) FROM obligation GROUP BY state")))
    for now, seen, then in db.rows(visibility.changed_since(), seen_at=visibility.seen_at(as_of)):
        counts[now] -= 1
        if seen:
            counts[then] += 1
    return {state: n for state, n in counts.items() if n}


@shown
def figures(db: Lean, as_of: date) -> dict[str, Any]:
    """Everything the dashboard shows but the plugins' panels. Names come in both languages
    (``name``/``name_en`` pairs): the screen picks when it draws."""
    states = state_counts(db, as_of)
    overdue, per_lead = overdue_counts(db, as_of)
    return {
        "plan": plan_progress(plan(db), as_of),
        "states": states,
        "total": sum(states.values()),
        "overdue": overdue,
        "targets": target_status_counts(db, as_of),
        "suggested_targets": target_status_counts(db, as_of, suggested=True),
        "ladder": ladder_counts(db, as_of),
        "upcoming": upcoming(db, as_of),
        "worst": worst_owners(db, as_of, per_lead),
    }


def prefetch(env: Env) -> Future[dict[str, Any]]:
    """Start reading the first screen (identity and figures as of ``env.today``) in a thread,
    so that it overlaps with importing textual; the dashboard takes the result."""
    future: Future[dict[str, Any]] = Future()

    def work() -> None:
        try:
            with env.reading() as db:
                future.set_result(
                    {
                        "as_of": env.today,
                        "identity": identity(db, env.actor),
                        "figures": figures(db, env.today),
                    }
                )
        except BaseException as exc:  # handed to whoever takes the result
            future.set_exception(exc)

    threading.Thread(target=work, name="duban-prefetch", daemon=True).start()
    return future
