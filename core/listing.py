"""Obligations in the ``duban list`` shape, as SQL over ``queries.Lean``: the CLI's list on
the bare driver, the services and the TUI on their session's connection (``Lean.of_session``),
the same statements either way. Filters and order are ``filters.ObligationFilter``'s.

A row: id, code, title, title_en, domain, state (as of the date), region, region_code,
lead, participants (owners' names), next_due (the earliest milestone pending then), overdue,
light (``queries.Lights``) and last_report (the leads' latest visible report).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

from . import queries, visibility
from .filters import ObligationFilter, lights
from .vocabulary import Role

CHUNK = 900  # ids per IN list, below every backend's limit on parameters


def _state(lens: bool) -> str:
    return f"COALESCE({visibility.state_sql()}, obligation.state)" if lens else "obligation.state"


def _columns(lens: bool) -> str:
    state = _state(lens)
    closed = ", ".join(f"'{s}'" for s in queries.CLOSED)
    pending = visibility.milestone_pending("m")
    own_overdue = (
        f"{state} NOT IN ({closed}) AND EXISTS (SELECT 1 FROM milestone m"
        f" WHERE m.obligation_id = obligation.id AND m.due < :as_of AND {pending})"
    )
    # Once split, its children carry its deadlines (``queries.overdue_sql``).
    split = "obligation.attrs -> CAST(:split_key AS TEXT) IS NOT NULL"
    return (
        f"obligation.id, obligation.code, obligation.title, obligation.title_en,"
        f" obligation.domain, {state},"
        " (SELECT r.name FROM region r WHERE r.id = obligation.region_id),"
        " (SELECT r.code FROM region r WHERE r.id = obligation.region_id),"
        " (SELECT MIN(m.due) FROM milestone m WHERE m.obligation_id = obligation.id"
        f" AND {pending}),"
        f" CASE WHEN {split} THEN ({queries.overdue_sql(lens=lens)}) ELSE ({own_overdue}) END"
    )


def _params(as_of: date) -> dict[str, Any]:
    return {"as_of": as_of, "seen_at": visibility.seen_at(as_of), "split_key": "split"}


def day(value: Any) -> str | None:
    """A date column as ISO text (SQLite gives the text, PostgreSQL a date)."""
    if value is None or isinstance(value, str):
        return value
    return str(value.isoformat())


def count(db: queries.Lean, f: ObligationFilter, as_of: date) -> int:
    where = f.where(db, as_of, lens=queries.lens_needed(db, as_of))
    return int(db.one(queries.count_sql(where), **where.params))


def page(
    db: queries.Lean,
    f: ObligationFilter,
    as_of: date,
    *,
    offset: int = 0,
    limit: int | None = 100,
) -> list[dict[str, Any]]:
    """One window of the matching obligations, in ``f``'s order."""
    lens = queries.lens_needed(db, as_of)
    where = f.where(db, as_of, lens=lens)
    order, order_params = f.order(db.dialect)
    window = "" if limit is None else " LIMIT :limit"
    if offset:  # SQLite takes an offset only after a limit; -1 is none
        window = (window or (" LIMIT -1" if db.dialect == "sqlite" else "")) + " OFFSET :offset"
    found = db.rows(
        f"SELECT {_columns(lens)} FROM obligation WHERE {where.sql} ORDER BY {order}{window}",
        **{**where.params, **order_params, **_params(as_of), "limit": limit, "offset": offset},
    )
    return _rows(db, found, as_of, lens)


def iterate(
    db: queries.Lean, f: ObligationFilter, as_of: date, *, batch: int = 2000
) -> Iterator[dict[str, Any]]:
    """Every matching obligation, fetched a batch at a time."""
    offset = 0
    while True:
        rows = page(db, f, as_of, offset=offset, limit=batch)
        yield from rows
        if len(rows) < batch:
            return
        offset += batch


def summaries(db: queries.Lean, ids: Sequence[int], as_of: date) -> dict[int, dict[str, Any]]:
    """{id: row} of these obligations."""
    lens = queries.lens_needed(db, as_of)
    found: list[tuple] = []
    for marks, params in _chunks(ids):
        found += db.rows(
            f"SELECT {_columns(lens)} FROM obligation WHERE obligation.id IN ({marks})",
            **params,
            **_params(as_of),
        )
    return {row["id"]: row for row in _rows(db, found, as_of, lens)}


def _chunks(ids: Sequence[int]) -> Iterator[tuple[str, dict[str, int]]]:
    """(``:i0, :i1, ...``, their values) for each chunk of ``ids``."""
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        yield (
            ", ".join(f":i{i}" for i in range(len(chunk))),
            {f"i{i}": v for i, v in enumerate(chunk)},
        )


def owners_by_role(db: queries.Lean, ids: Sequence[int]) -> dict[int, dict[str, list[str]]]:
    """{obligation id: {role: [owner names]}}, each role's in assignment order."""
    result: dict[int, dict[str, list[str]]] = {i: {r.value: [] for r in Role} for i in ids}
    for marks, params in _chunks(ids):
        for ob_id, role, name in db.rows(
            "SELECT a.obligation_id, a.role, o.name FROM assignment a"
            f" JOIN owner o ON o.id = a.owner_id WHERE a.obligation_id IN ({marks})"
            " ORDER BY a.obligation_id, a.id",
            **params,
        ):
            result[ob_id].setdefault(role, []).append(name)
    return result


def lights_of(
    db: queries.Lean, ids: Sequence[int], as_of: date, *, lens: bool = True
) -> dict[int, str | None]:
    """{obligation id: 'green' | 'yellow' | 'red' | None} (``queries.Lights``)."""
    if not ids:
        return {}
    lt = lights(db, as_of, lens=lens)
    found: dict[int, str | None] = {}
    for marks, params in _chunks(ids):
        found.update(db.rows(lt.table(f"obligation.id IN ({marks})"), **lt.params, **params))  # type: ignore[arg-type]
    return found


def last_reports(db: queries.Lean, ids: Sequence[int], as_of: date) -> dict[int, dict[str, Any]]:
    """{obligation id: {period, percent, submitted_at}} of the leads' latest report recorded
    by the end of ``as_of``."""
    found: dict[int, dict[str, Any]] = {}
    for marks, params in _chunks(ids):
        for ob_id, period, percent, at in db.rows(
            "SELECT r.obligation_id, r.period, r.percent, r.submitted_at FROM report r"
            f" WHERE r.obligation_id IN ({marks}) AND r.role = 'lead'"
            f" AND {visibility.report_visible('r')}"
            " ORDER BY r.period_end, r.submitted_at, r.id",
            seen_at=visibility.seen_at(as_of),
            **params,
        ):
            found[ob_id] = {
                "period": period,
                "percent": percent,
                "submitted_at": queries.instant(at).isoformat(),
            }
    return found


def _rows(db: queries.Lean, found: list[tuple], as_of: date, lens: bool) -> list[dict[str, Any]]:
    ids = [row[0] for row in found]
    if not ids:
        return []
    owners = owners_by_role(db, ids)
    light = lights_of(db, ids, as_of, lens=lens)
    last = last_reports(db, ids, as_of)
    return [
        {
            "id": ob_id,
            "code": code,
            "title": title,
            "title_en": title_en,
            "domain": domain,
            "state": state,
            "region": region,
            "region_code": region_code,
            "lead": owners[ob_id].get(Role.lead, []),
            "participants": owners[ob_id].get(Role.participant, []),
            "next_due": day(next_due),
            "overdue": bool(overdue),
            "light": light.get(ob_id),
            "last_report": last.get(ob_id),
        }
        for ob_id, code, title, title_en, domain, state, region, region_code, next_due, overdue in found
    ]
