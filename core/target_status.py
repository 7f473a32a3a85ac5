"""Every target's status as of a date, read as plain SQL through ``queries.Lean``: what
``duban status`` prints, the sweep records and the calendar shows.

``duban status`` runs it on the bare driver (no SQLAlchemy import); services run the same
functions on their session's connection (``services.evaluation.evaluate_all``).
``services/evaluation.py`` holds the judging; this module reads what it judges.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date, datetime
from itertools import chain, groupby
from operator import itemgetter, le
from typing import TYPE_CHECKING, Any, NamedTuple

from . import visibility
from .columns import day, document
from .queries import _PARAM
from .readings import Reading, seen_at, series

if TYPE_CHECKING:
    from .contributions import Evaluation
    from .judging import Helper
    from .queries import Lean

# Stream every reading of the evaluated indicators rather than list subjects in SQL beyond this.
_IN_LIMIT = 500
# From this many targets of one indicator judged by the default method, a helper process
# judges those of the last ``HELPED`` of its subjects (``judging``): less than half, as it
# first starts and reads its targets, so that both finish at about the same time.
SHARED_FROM = 20_000
HELPED = 0.45


class TargetRow(NamedTuple):
    """A target as evaluated: its columns, read-only (``services.targets`` changes them)."""

    id: int
    obligation_id: int
    indicator: str
    name: str | None
    name_en: str | None
    comparator: str
    value: float | None
    unit: str | None
    due: date
    region_id: int | None
    site_id: int | None
    baseline_value: float | None
    baseline_date: date | None
    attrs: dict[str, Any] | None


_TARGET = "SELECT " + ", ".join(f"target.{c}" for c in TargetRow._fields) + " FROM target"


# The columns whose values repeat across many targets: indicator, names, comparator, unit.
_REPEATED = (2, 3, 4, 5, 7)


def _targets(rows: list[tuple]) -> list[TargetRow]:
    """Target rows as read, their few distinct dates and texts each held once."""
    days, texts = Days(), _Texts()
    found = []
    for row in rows:
        values = list(row)
        values[8] = days[values[8]]
        values[12] = days[values[12]] if values[12] is not None else None
        values[13] = document(values[13])
        for k in _REPEATED:
            values[k] = texts[values[k]]
        found.append(TargetRow(*values))
    return found


def targets_between(db: Lean, first: int, last: int) -> list[TargetRow]:
    """The targets with ids from ``first`` to ``last``, in id order."""
    sql = _TARGET + " WHERE target.id BETWEEN :first AND :last ORDER BY target.id"
    return _targets(db.rows(sql, first=first, last=last))


def targets_among(db: Lean, ids: list[int]) -> list[TargetRow]:
    """The targets with these ids, in id order."""
    sql = _TARGET + " WHERE target.id IN (SELECT value FROM json_each(:ids)) ORDER BY target.id"
    return _targets(db.rows(sql, ids=json.dumps(ids)))


def _subjects_among(db: Lean, params: dict[str, Any], subjects: list[str]) -> str:
    """A condition on ``subject`` for many subjects, as one parameter: an array on
    PostgreSQL, a JSON list on SQLite."""
    if db.dialect == "postgresql":
        params["subjects"] = subjects
        return " AND subject = ANY(:subjects)"
    params["subjects"] = json.dumps(subjects)
    return " AND subject IN (SELECT value FROM json_each(:subjects))"


class _Texts(dict):
    """Each distinct value kept once: a national batch's targets share their few texts."""

    def __missing__(self, key: Any) -> Any:
        self[key] = key
        return key


class Days(dict):
    """ISO text (SQLite) or dates (PostgreSQL) -> dates, each distinct value parsed once."""

    def __missing__(self, key: Any) -> date:
        found = self[key] = day(key)
        return found


# One indicator's readings in the unique index's order (no sort); plugins get every column.
_STREAM = (
    "SELECT subject, period_end, value{more} FROM measurement "
    "WHERE indicator = :indicator AND period_end <= :as_of{recorded}{subjects} "
    "ORDER BY subject, period_start, period_end"
)


# Readings of one indicator corrected after ``:seen_at``, as they stood then, in the stream's
# columns (``_STREAM`` with ``more``).
_REVISED = (
    "SELECT x.subject, x.period_end, r.value, x.period_start, r.numerator, r.denominator"
    " FROM measurement_revision r JOIN measurement x ON x.id = r.measurement_id"
    " WHERE x.indicator = :indicator AND x.period_end <= :as_of AND {visible}"
)


def _revised(db: Lean, indicator: str, as_of: date, seen: datetime) -> dict[str, list[tuple]]:
    """{subject: its readings corrected after ``seen``, with the figures they had then}."""
    found: dict[str, list[tuple]] = {}
    for row in db.rows(
        _REVISED.format(visible=visibility.revision_visible()),
        indicator=indicator,
        as_of=as_of,
        seen_at=seen,
    ):
        found.setdefault(row[0], []).append(tuple(row))
    return found


def _only_revised(revised: dict[str, list[tuple]]) -> Iterator[tuple[str, Iterator[tuple]]]:
    """After the stream: the subjects whose every reading seen was corrected since (each
    taken from ``revised`` as it is read, so none comes twice)."""
    while revised:
        yield next(iter(revised)), iter(())


def evaluate_all(
    db: Lean,
    *,
    as_of: date,
    obligation_id: int | None = None,
    target_ids: tuple[int, int] | None = None,
) -> list[tuple[TargetRow, Evaluation]]:
    """Every target (or one obligation's, or those with ids from ``target_ids[0]`` to
    ``target_ids[1]``) with its evaluation, in target id order; those of obligations recorded
    after ``as_of`` are not there (``visibility``). A plugin judging
    its own indicators (``duban_evaluate_target``) gets the row and ``db`` to read more.

    Batched: one query for the targets; per indicator, one stream of the readings of its
    site and non-aggregating region targets in index order, cut into series per subject;
    region targets whose indicator aggregates from sub-regions are read once per
    (indicator, region).
    """
    from .plugins import get_host
    from .services.evaluation import ask_plugins, judge_series, judged_by_plugins
    from .settings import get_settings

    where: list[str] = []
    params: dict[str, Any] = {"seen_at": visibility.seen_at(as_of)}
    if obligation_id is not None:
        where.append("target.obligation_id = :obligation_id")
        params["obligation_id"] = obligation_id
    if target_ids is not None:
        where.append("target.id BETWEEN :first_id AND :last_id")
        params["first_id"], params["last_id"] = target_ids
    if db.one(visibility.recorded_after(), seen_at=params["seen_at"]):
        # The targets of obligations recorded after the day read are not there yet.
        where.append(
            f"target.obligation_id IN (SELECT obligation.id FROM obligation"
            f" WHERE {visibility.obligation_visible()})"
        )
    conditions = " AND ".join(where)
    sql = _TARGET + (f" WHERE {conditions}" if where else "") + " ORDER BY target.id"
    used = set(_PARAM.findall(sql))
    chosen = {k: v for k, v in params.items() if k in used}
    targets = _targets(db.rows(sql, **chosen))
    days = Days()  # the readings' few distinct period ends: each parsed once
    if not targets:
        return []
    cfg, known = get_settings().evaluation, get_host().indicators()
    asks = judged_by_plugins(known)
    regions = dict(db.rows("SELECT id, code FROM region"))
    sites: dict[int, str] = {}
    if any(tg.site_id is not None for tg in targets):
        # The sites of the targets read: a batch's, not every site of a national world.
        among = f" WHERE id IN (SELECT target.site_id FROM target WHERE {conditions})"
        sites = dict(db.rows("SELECT id, key FROM site" + (among if where else ""), **chosen))

    # indicator -> subject -> its targets; and (indicator, region) for aggregated ones
    direct: dict[str, dict[str, list[int]]] = {}
    aggregated: dict[tuple[str, int], list[int]] = {}
    # Groups hold positions in ``targets``; results are filled in at the same positions.
    for i, tg in enumerate(targets):
        ind = known.get(tg.indicator)
        if tg.site_id is not None:
            direct.setdefault(tg.indicator, {}).setdefault(f"site:{sites[tg.site_id]}", []).append(
                i
            )
        elif tg.region_id is None:  # a target without a scope has nothing to read
            aggregated.setdefault((tg.indicator, 0), []).append(i)
        elif ind is not None and ind.aggregation != "latest":
            aggregated.setdefault((tg.indicator, tg.region_id), []).append(i)
        else:
            direct.setdefault(tg.indicator, {}).setdefault(
                f"region:{regions[tg.region_id]}", []
            ).append(i)

    results: list[Evaluation | None] = [None] * len(targets)

    def frequency_of(indicator: str) -> str:
        ind = known.get(indicator)
        return ind.frequency if ind else "yearly"

    def settle(
        indicator: str,
        group: list[int],
        ends: list[date],
        values: list[float],
        readings: Callable[[], list[Any]],
    ) -> None:
        frequency, plugin = frequency_of(indicator), asks(indicator)
        for i in group:
            tg = targets[i]
            if plugin:
                answer = ask_plugins(tg, readings(), as_of, db)
                if answer is not None:
                    results[i] = answer
                    continue
            results[i] = judge_series(tg, ends, values, as_of, frequency, cfg)

    # Readings recorded after the day read are not seen (``visibility``); when none was,
    # the stream needs no condition.
    seen = seen_at(db, as_of)
    recorded = "" if seen is None else f" AND {visibility.reading_visible()}"
    for indicator, by_subject in direct.items():
        full, few_subjects = asks(indicator), len(by_subject) <= _IN_LIMIT
        # Readings corrected after the day read: the figures they had then, merged in.
        revised = {} if seen is None else _revised(db, indicator, as_of, seen)
        stream: dict[str, Any] = {"indicator": indicator, "as_of": as_of}
        if seen is not None:
            stream["seen_at"] = seen
        names = ""
        if few_subjects:
            stream.update({f"s{k}": subject for k, subject in enumerate(sorted(by_subject))})
            names = " AND subject IN ({})".format(
                ", ".join(f":s{k}" for k in range(len(by_subject)))
            )
        elif target_ids is not None:
            # A slice of the targets reads its own subjects' readings, not the indicator's.
            names = _subjects_among(db, stream, sorted(by_subject))
        sql = _STREAM.format(
            more=", period_start, numerator, denominator" if full or revised else "",
            recorded=recorded,
            subjects=names,
        )
        helper, theirs = None, []
        if not (full or revised):
            shared = _share(
                db, by_subject, targets, stream, recorded, names, frequency_of(indicator), cfg
            )
            if shared is not None:
                helper, theirs, sql = shared
        try:
            groups = groupby(db.stream(sql, **stream), key=itemgetter(0))
            for subject, batch in chain(groups, _only_revised(revised)):
                group = by_subject.pop(subject, None)
                then = revised.pop(subject, ())
                if group is None:
                    continue
                rows = list(batch)
                if then:  # in the stream's order again: period start, then end
                    rows = sorted([*rows, *then], key=itemgetter(3, 1))
                ends, values = series_of(rows, days)

                def readings(rows: list[tuple] = rows) -> list[Any]:
                    return sorted(
                        (Reading(days[r[3]], days[r[1]], r[2], r[4], r[5]) for r in rows),
                        key=lambda r: (r.period_end, r.period_start),
                    )

                settle(indicator, group, ends, values, readings)
            for group in by_subject.values():  # subjects without any reading
                settle(indicator, group, [], [], list)
            if helper is not None:
                for i, evaluation in zip(theirs, helper.result(db), strict=True):
                    results[i] = evaluation
        finally:
            if helper is not None:
                helper.stop()
    for (indicator, region_id), group in aggregated.items():
        found = (
            series(db, indicator=indicator, region_id=region_id, until=as_of, known=known)
            if region_id
            else []
        )

        def aggregated_readings(found: list[Reading] = found) -> list[Any]:
            return list(found)

        settle(
            indicator,
            group,
            [r.period_end for r in found],
            [r.value for r in found],
            aggregated_readings,
        )
    return list(zip(targets, results, strict=True))  # type: ignore[arg-type]


def _share(
    db: Lean,
    by_subject: dict[str, list[int]],
    targets: list[TargetRow],
    stream: dict[str, Any],
    recorded: str,
    names: str,
    frequency: str,
    cfg: Any,
) -> tuple[Helper, list[int], str] | None:
    """For an indicator of at least ``SHARED_FROM`` targets judged by the default method, the
    upper part of its subjects handed to a helper process (``judging``): the helper, the
    positions of the targets it judges, and the stream of the lower part, which stays here.
    ``recorded`` and ``names``: the stream's own conditions (``_STREAM``). The helper's
    subjects leave ``by_subject``; ``stream`` gets the bound between the parts."""
    if sum(map(len, by_subject.values())) < SHARED_FROM:
        return None
    path = db.shared_file()
    if path is None:
        return None
    from .i18n import language
    from .judging import Helper, Job

    ordered = sorted(by_subject)
    theirs = ordered[round(len(ordered) * (1 - HELPED)) :]
    if not theirs:  # a single subject
        return None
    stream["split"] = theirs[0]
    job = Job(
        _STREAM.format(more="", recorded=recorded, subjects=f"{names} AND subject >= :split"),
        dict(stream),
        [(subject, [targets[i].id for i in by_subject[subject]]) for subject in theirs],
        frequency,
        cfg,
        stream["as_of"],
        language(),
    )
    helper = Helper(path, job)
    positions = [i for subject in theirs for i in by_subject.pop(subject)]
    return (
        helper,
        positions,
        _STREAM.format(more="", recorded=recorded, subjects=f"{names} AND subject < :split"),
    )


def series_of(rows: list[tuple], days: dict[Any, date]) -> tuple[list[date], list[float]]:
    """One subject's readings as streamed (``_STREAM``): their period ends and values, in
    the order of the ends."""
    columns = list(zip(*rows, strict=True))  # one pass in C
    ends = list(map(days.__getitem__, columns[1]))
    values = list(columns[2])
    if not all(map(le, ends, ends[1:])):  # overlapping periods: order by their end
        ends, values = map(
            list,
            zip(*sorted(zip(ends, values, strict=True), key=itemgetter(0)), strict=True),
        )
    return ends, values


def status_rows(
    db: Lean,
    *,
    as_of: date,
    obligation_id: int | None = None,
) -> list[dict[str, Any]]:
    """``duban status``: one dict per target with its evaluation and the numbers behind it."""
    pairs = evaluate_all(db, as_of=as_of, obligation_id=obligation_id)
    codes: dict[int, str | None] = {}
    ob_ids = sorted({tg.obligation_id for tg, _ in pairs})
    for start in range(0, len(ob_ids), 900):
        chunk = ob_ids[start : start + 900]
        names = ", ".join(f":o{k}" for k in range(len(chunk)))
        codes.update(
            db.rows(
                f"SELECT id, code FROM obligation WHERE id IN ({names})",
                **{f"o{k}": oid for k, oid in enumerate(chunk)},
            )
        )
    regions = {
        rid: (code, name) for rid, code, name in db.rows("SELECT id, code, name FROM region")
    }
    site_ids = sorted({tg.site_id for tg, _ in pairs if tg.site_id is not None})
    sites: dict[int, tuple[str, str]] = {}
    for start in range(0, len(site_ids), 900):
        chunk = site_ids[start : start + 900]
        names = ", ".join(f":s{k}" for k in range(len(chunk)))
        sites.update(
            {
                sid: (key, name)
                for sid, key, name in db.rows(
                    f"SELECT id, key, name FROM site WHERE id IN ({names})",
                    **{f"s{k}": sid for k, sid in enumerate(chunk)},
                )
            }
        )
    rows = []
    for tg, ev in pairs:
        if tg.site_id is not None:
            key, name = sites[tg.site_id]
            scope: dict[str, Any] | None = {"type": "site", "key": key, "name": name}
        elif tg.region_id is not None:
            code, name = regions[tg.region_id]
            scope = {"type": "region", "code": code, "name": name}
        else:
            scope = None
        rows.append(
            {
                "target": tg.id,
                "obligation": tg.obligation_id,
                "obligation_code": codes.get(tg.obligation_id),
                "indicator": tg.indicator,
                "name": tg.name,
                "name_en": tg.name_en,
                "scope": scope,
                "comparator": tg.comparator,
                "value": tg.value,
                "unit": tg.unit,
                "due": tg.due.isoformat(),
                "status": ev.status,
                "latest_value": ev.latest_value,
                "latest_date": ev.latest_date.isoformat() if ev.latest_date else None,
                "expected": ev.expected,
                "forecast": ev.forecast,
                "detail": ev.detail,
            }
        )
    return rows
