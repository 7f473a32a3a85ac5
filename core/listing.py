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

from . import queries, search, visibility
from .filters import ObligationFilter, lights
from .vocabulary import Role

CHUNK = 900  # ids per IN list, below every backend's limit on parameters
# A ranked search walks the listing (``walks``) when this share of a sample of this many holds
# every word.
WALK_SHARE = 0.3
SAMPLE = 300


def _state(lens: bool) -> str:
    return f"COALESCE({visibility.state_sql()}, obligation.state)" if lens else "obligation.state"


def _columns(lens: bool, dialect: str) -> str:
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
        f" CASE WHEN {split} THEN ({queries.overdue_sql(lens=lens, dialect=dialect)}) ELSE ({own_overdue}) END"
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
    if db.dialect == "postgresql":
        # The window's ids, then their columns: asked in one statement, PostgreSQL costs the
        # columns' subqueries for every row the filter may pass, not the window's, and built
        # the set of every late milestone twice to answer for twenty rows (0.5 s, national).
        window = _window(db, f, as_of, "obligation.id", lens, offset, limit)
        found = _columns_of(db, [row[0] for row in window], as_of, lens)
    else:
        found = _window(db, f, as_of, _columns(lens, db.dialect), lens, offset, limit)
    return _rows(db, found, as_of, lens)


def ids(
    db: queries.Lean,
    f: ObligationFilter,
    as_of: date,
    *,
    lens: bool = True,
    offset: int = 0,
    limit: int | None = 100,
) -> list[int]:
    """The ids of one window of the matching obligations, in ``f``'s order."""
    return [row[0] for row in _window(db, f, as_of, "obligation.id", lens, offset, limit)]


def _window(
    db: queries.Lean,
    f: ObligationFilter,
    as_of: date,
    select: str,
    lens: bool,
    offset: int,
    limit: int | None,
) -> list[tuple]:
    """``select`` of the window's rows. A search that ``walks`` takes each rank apart, each
    walking the listing in order until its window is full, rather than ranking every match
    before the first row is known."""
    walk = walks(db, f, as_of, lens)
    if walk is None:
        order, order_params = f.order(db.dialect)
        where = f.where(db, as_of, lens=lens)
        return _select(db, select, where, order, order_params, as_of, offset, limit)
    where, order, order_params = walk
    rank, rank_params = search.rank_sql(db.dialect, f.text)

    def ranked(r: int) -> queries.Where:
        # The rank first: it is cheap, and a title hit needs no other probe.
        return queries.Where([f"{rank} = {r}", *where.clauses], {**where.params, **rank_params})

    titled = ranked(0)
    first = _select(db, select, titled, order, order_params, as_of, offset, limit)
    if limit is not None and len(first) == limit:
        return first
    if first or not offset:  # the window began among the title hits, or at the start
        hits = offset + len(first)
    else:
        hits = int(db.one(queries.count_sql(titled), **titled.params))
    rest = None if limit is None else limit - len(first)
    return first + _select(
        db, select, ranked(1), order, order_params, as_of, max(0, offset - hits), rest
    )


def walks(
    db: queries.Lean, f: ObligationFilter, as_of: date, lens: bool = True
) -> tuple[queries.Where, str, dict[str, Any]] | None:
    """For a ranked search of ``search.walkable`` words that at least ``WALK_SHARE`` of the
    first ``SAMPLE`` obligations in listing order match (every other filter applied), the
    walk's conditions and order; else None. At such a share a window of a hundred is found
    within a few hundred rows asked, and the sample costs a few milliseconds."""
    if not (f.ranked and search.walkable(db.dialect, f.text)):
        return None
    where = f.where(db, as_of, lens=lens, walk=True)
    order, order_params = f.order(db.dialect, rank=False)
    asked, found = db.rows(
        f"SELECT COUNT(*), COUNT(CASE WHEN {where.sql} THEN 1 END) FROM"
        f" (SELECT * FROM obligation ORDER BY {order} LIMIT {SAMPLE}) obligation",
        **{**where.params, **order_params, **_params(as_of)},
    )[0]
    return (where, order, order_params) if found >= WALK_SHARE * asked else None


def _select(
    db: queries.Lean,
    select: str,
    where: queries.Where,
    order: str,
    order_params: dict[str, Any],
    as_of: date,
    offset: int,
    limit: int | None,
) -> list[tuple]:
    window = "" if limit is None else " LIMIT :limit"
    if offset:  # SQLite takes an offset only after a limit; -1 is none
        window = (window or (" LIMIT -1" if db.dialect == "sqlite" else "")) + " OFFSET :offset"
    return db.rows(
        f"SELECT {select} FROM obligation WHERE {where.sql} ORDER BY {order}{window}",
        **{**where.params, **order_params, **_params(as_of), "limit": limit, "offset": offset},
    )


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
    found = _columns_of(db, ids, as_of, lens)
    return {row["id"]: row for row in _rows(db, found, as_of, lens)}


def _columns_of(db: queries.Lean, ids: Sequence[int], as_of: date, lens: bool) -> list[tuple]:
    """The columns of the obligations with these ids that exist, in the order of ``ids``."""
    found: dict[int, tuple] = {}
    for marks, params in _chunks(ids):
        for row in db.rows(
            f"SELECT {_columns(lens, db.dialect)} FROM obligation WHERE obligation.id IN ({marks})",
            **params,
            **_params(as_of),
        ):
            found[row[0]] = row
    return [found[i] for i in ids if i in found]


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


# One obligation, as ``duban show`` has it ------------------------------------------------
def _json(value: Any) -> Any:
    """A JSON column as read through the driver (SQLite gives its text)."""
    if isinstance(value, str | bytes):
        import json

        return json.loads(value)
    return value


def scope(db: queries.Lean, region_id: int | None, site_id: int | None) -> dict[str, Any] | None:
    """Where a target applies: a site, else a region, else nowhere in particular."""
    if site_id is not None:
        found = db.rows("SELECT key, name FROM site WHERE id = :id", id=site_id)
        return {"type": "site", "key": found[0][0], "name": found[0][1]} if found else None
    if region_id is not None:
        found = db.rows("SELECT code, name FROM region WHERE id = :id", id=region_id)
        return {"type": "region", "code": found[0][0], "name": found[0][1]} if found else None
    return None


def detail(db: queries.Lean, ob_id: int, as_of: date) -> dict[str, Any]:
    """The ``duban show`` shape: the list keys plus body, assignments, milestones, targets,
    escalations, as recorded by the end of ``as_of``."""
    from .errors import NotFound
    from .i18n import t

    seen = visibility.seen_at(as_of)
    ((created, body, body_en, plan_id, parent_id, version),) = db.rows(
        "SELECT created_at, body, body_en, plan_id, parent_id, version FROM obligation"
        " WHERE id = :id",
        id=ob_id,
    )
    if queries.instant(created) > seen:
        raise NotFound(
            t("obligation #{id} was not yet recorded on {day}", id=ob_id, day=as_of.isoformat())
        )
    data = summaries(db, [ob_id], as_of)[ob_id]
    owners = owners_by_role(db, [ob_id])[ob_id]
    milestones = db.rows(
        "SELECT id, title, title_en, due, done_on, done_at, recurrence FROM milestone"
        " WHERE obligation_id = :id ORDER BY due, id",
        id=ob_id,
    )
    plan = db.rows("SELECT key, valid_until FROM plan WHERE id = :id", id=plan_id)
    parent = db.one("SELECT id FROM obligation WHERE id = :id", id=parent_id)
    targets = db.rows(
        "SELECT id, indicator, name, name_en, comparator, value, unit, due, text, source, attrs,"
        " region_id, site_id, baseline_value, baseline_date FROM target"
        " WHERE obligation_id = :id ORDER BY id",
        id=ob_id,
    )
    data.update(
        {
            "body": body,
            "body_en": body_en,
            "plan": plan[0][0] if plan else None,
            "parent": parent,
            "version": version,
            "assignments": [
                {"owner": name, "role": role} for role in Role for name in owners.get(role, [])
            ],
            "milestones": [
                {
                    "id": m_id,
                    "title": title,
                    "title_en": title_en,
                    "due": day(due),
                    # Its completion, if recorded by then (``visibility.done_recorded``).
                    "done": day(done_on)
                    if done_at is None or queries.instant(done_at) <= seen
                    else None,
                    **({"recurrence": recurrence} if recurrence else {}),
                }
                for m_id, title, title_en, due, done_on, done_at, recurrence in milestones
            ],
            # An undated task's horizon: the plan's end, which the plan does not state for it
            # (no milestone, so no deadline: nothing is overdue or escalated by it).
            "horizon": {"due": day(plan[0][1]), "implied": True}
            if plan and plan[0][1] and not milestones
            else None,
            "targets": [
                {
                    "id": tg[0],
                    "indicator": tg[1],
                    "name": tg[2],
                    "name_en": tg[3],
                    "comparator": tg[4],
                    "value": tg[5],
                    "unit": tg[6],
                    "due": day(tg[7]),
                    "text": tg[8],  # the plan's words, limits (基本, 力争) included
                    "source": tg[9],
                    # met either way: 70%以上或比2020年提高5个百分点以上
                    **(
                        {"alternative": attrs["alternative"]}
                        if (attrs := _json(tg[10]) or {}).get("alternative")
                        else {}
                    ),
                    "scope": scope(db, tg[11], tg[12]),
                    "baseline": None if tg[13] is None else {"value": tg[13], "date": day(tg[14])},
                }
                for tg in targets
            ],
            "escalations": escalations(db, ob_id, as_of),
        }
    )
    return data


def escalations(db: queries.Lean, ob_id: int, as_of: date) -> list[dict[str, Any]]:
    """The obligation's escalations opened by the end of ``as_of``, as they stood then: one
    raised since has the level, rule, reason and addressee its first later raise replaced
    (from the audit log), one resolved since is open."""
    seen = visibility.seen_at(as_of)
    found = []
    for e_id, level, rule, reason, addressed, opened, raised, resolved in db.rows(
        "SELECT id, level, rule, reason, addressed_to_id, opened_at, raised_at, resolved_at"
        " FROM escalation WHERE obligation_id = :id AND opened_at <= :seen_at ORDER BY id",
        id=ob_id,
        seen_at=seen,
    ):
        if raised is not None and queries.instant(raised) > seen:
            before = _json(
                db.one(
                    "SELECT before FROM audit_event WHERE entity_type = 'escalation'"
                    " AND action = 'escalation.raise' AND at > :seen_at AND entity_id = :e"
                    " ORDER BY seq LIMIT 1",
                    seen_at=seen,
                    e=str(e_id),
                )
            )
            if before:
                level = before.get("level", level)
                rule = before.get("rule", rule)
                reason = before.get("reason", reason)
                addressed = before.get("addressed_to_id", addressed)
        if resolved is not None and queries.instant(resolved) > seen:
            resolved = None
        name = db.one("SELECT name FROM owner WHERE id = :id", id=addressed) if addressed else None
        found.append(
            {
                "id": e_id,
                "level": level,
                "rule": rule,
                "reason": reason,
                "addressed_to": name,
                "opened": queries.instant(opened).isoformat(),
                "resolved": queries.instant(resolved).isoformat() if resolved else None,
            }
        )
    return found
