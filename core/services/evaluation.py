"""Evaluating targets as of a date: met, on_track, at_risk, off_track, missed, no_data, stale.

The default method (docs/evaluation.md): the latest reading against the straight path from
the baseline to the target value by the due date, and a least-squares forecast over the
last readings at the due date. A plugin may judge its own indicators first through
``duban_evaluate_target``. Tolerances come from ``[evaluation]`` in duban.toml.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from itertools import groupby
from operator import itemgetter, le
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import Session

from .. import visibility
from ..config import checked_number, place, section
from ..errors import UserError
from ..i18n import t
from ..models import Obligation, Region, Site, Target, UTCDateTime
from ..queries import sqlite_value
from ..registry import Evaluation, Indicator
from .measurements import indicators, recorded_by, series

COMPARATORS = (
    "gte",
    "lte",
    "eq",
    "decrease_pct",
    "increase_pct",
    "decrease_pp",  # percentage points below the baseline
    "increase_pp",
    "trend_down",
    "trend_up",
    "eliminate",
)
DEFAULTS: dict[str, Any] = {
    "forecast_points": 5,  # readings the least-squares trend is fitted to
    "on_track_tolerance": 0.05,  # shortfall, as a share of the planned change, still on track
    "at_risk_tolerance": 0.20,  # beyond on-track up to this share: at risk; beyond: off track
    "eq_tolerance": 0.0,  # |reading - value| that still counts as equal for `eq`
    # Days after a reporting period is over before its reading is overdue (statistics lag).
    "stale_grace_days": {"daily": 7, "monthly": 45, "quarterly": 60, "yearly": 180},
}
PERIOD_DAYS = {"daily": 1, "monthly": 31, "quarterly": 92, "yearly": 366}
# Stream every reading of the evaluated indicators rather than list subjects in SQL beyond this.
_IN_LIMIT = 500


@dataclass(frozen=True)
class Settings:
    points: int
    on_track: float
    at_risk: float
    eq_tolerance: float
    grace: dict[str, int]


def settings() -> Settings:
    """``[evaluation]`` of duban.toml over the defaults, checked."""
    cfg = section("evaluation", DEFAULTS)
    grace = {**DEFAULTS["stale_grace_days"], **(cfg.get("stale_grace_days") or {})}

    def number(key: str, value: Any, low: float) -> float:
        return float(checked_number(value, where=place("evaluation", key), minimum=low))

    points = int(number("forecast_points", cfg["forecast_points"], 2))
    on_track = number("on_track_tolerance", cfg["on_track_tolerance"], 0)
    at_risk = number("at_risk_tolerance", cfg["at_risk_tolerance"], on_track)
    eq_tol = number("eq_tolerance", cfg["eq_tolerance"], 0)
    for key, value in grace.items():
        if key not in PERIOD_DAYS:
            raise UserError(
                t("duban.toml [evaluation] stale_grace_days: unknown frequency {key!r}", key=key)
            )
        number(f"stale_grace_days.{key}", value, 0)
    return Settings(points, on_track, at_risk, eq_tol, {k: int(v) for k, v in grace.items()})


# The default method ----------------------------------------------------------------------
def _eps(x: float) -> float:
    return 1e-9 * max(1.0, abs(x))


def _fit(
    ends: Sequence[date], values: Sequence[float], due: date
) -> tuple[float | None, float | None]:
    """Least-squares slope (per day) and the value it gives at ``due``."""
    xs = [d.toordinal() for d in ends]
    n = len(xs)
    if n < 2 or xs[0] == xs[-1]:  # oldest first: all on one day gives no slope
        return None, None
    mx, my = sum(xs) / n, sum(values) / n
    sxx = sxy = 0.0
    for x, y in zip(xs, values, strict=True):
        sxx += (x - mx) ** 2
        sxy += (x - mx) * (y - my)
    slope = sxy / sxx
    return slope, my + slope * (due.toordinal() - mx)


def _goal(comparator: str, value: float | None, base: float) -> tuple[float | None, int]:
    """(threshold, direction): +1 when higher is better, -1 when lower, 0 for `eq`."""
    if comparator == "gte":
        return value, 1
    if comparator == "lte":
        return value, -1
    if comparator == "eliminate":
        return value or 0.0, -1
    if comparator == "decrease_pct":
        return base * (1 - (value or 0) / 100), -1
    if comparator == "increase_pct":
        return base * (1 + (value or 0) / 100), 1
    if comparator == "decrease_pp":
        return base - (value or 0), -1
    if comparator == "increase_pp":
        return base + (value or 0), 1
    if comparator == "trend_down":
        return None, -1
    if comparator == "trend_up":
        return None, 1
    return value, 0  # eq


def _path(base: float, start: date, goal: float, due: date, day: date) -> float:
    """The straight line from (start, base) to (due, goal), flat outside it."""
    if due <= start:
        return goal
    share = min(max((day - start).days / (due - start).days, 0.0), 1.0)
    return base + (goal - base) * share


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def judge(
    target: Any, readings: Sequence[Any], as_of: date, indicator: Indicator | None, cfg: Settings
) -> Evaluation:
    """The default evaluation of ``target`` from its scope's readings (oldest first, each with
    ``period_end`` and ``value``) up to ``as_of``."""
    return _verdict(
        target,
        [r.period_end for r in readings],
        [r.value for r in readings],
        as_of,
        indicator.frequency if indicator else "yearly",
        cfg,
    )


class _Route(NamedTuple):
    """The other way a target may be met, judged like a target of its own."""

    comparator: str
    value: float | None
    due: date
    baseline_value: float | None
    baseline_date: date | None


# Which of two routes' verdicts stands for a target met either way: the better one.
_BETTER = {s: n for n, s in enumerate(("met", "on_track", "at_risk", "off_track", "missed"))}


def route_text(alternative: dict[str, Any]) -> str:
    """The alternative route of a target in words (比2020年提高5个百分点 / ≥ 75%)."""
    comparator, value = alternative["comparator"], alternative.get("value")
    year, unit = alternative.get("baseline_year"), alternative.get("unit") or ""
    number = f"{value:g}" if isinstance(value, int | float) else str(value)
    if comparator.endswith(("_pp", "_pct")):
        up = comparator.startswith("increase")
        points = comparator.endswith("_pp")
        if year:
            if points:
                return (
                    t("{value} percentage points above {year}", value=number, year=year)
                    if up
                    else t("{value} percentage points below {year}", value=number, year=year)
                )
            return (
                t("{value}% above {year}", value=number, year=year)
                if up
                else t("{value}% below {year}", value=number, year=year)
            )
        if points:
            return (
                t("{value} percentage points above the baseline", value=number)
                if up
                else t("{value} percentage points below the baseline", value=number)
            )
        return (
            t("{value}% above the baseline", value=number)
            if up
            else t("{value}% below the baseline", value=number)
        )
    sign = {"gte": "≥", "lte": "≤", "eq": "="}.get(comparator, comparator)
    return f"{sign} {number}{unit}"


def _covering(ends: list[date], values: list[float], day: date, period: int) -> float | None:
    """The reading of the period that ``day`` ends (the latest ending in the period before)."""
    since = day - timedelta(days=period)
    covering = [v for d, v in zip(ends, values, strict=True) if since < d <= day]
    return covering[-1] if covering else None


def _verdict(
    target: Any, ends: list[date], values: list[float], as_of: date, frequency: str, cfg: Settings
) -> Evaluation:
    """The default method on a series given as parallel lists (period ends, values); a
    target with an alternative (…或比2020年提高5个百分点) is met when either route is."""
    verdict = _judged(target, ends, values, as_of, frequency, cfg)
    attrs = getattr(target, "attrs", None)
    alternative = attrs.get("alternative") if attrs else None
    if not alternative or not ends:
        return verdict
    route = route_text(alternative)
    year = alternative.get("baseline_year")
    base, base_date = target.baseline_value, target.baseline_date
    if year:
        # The baseline is the reading for the baseline year's period, never a guess.
        base_date = date(int(year), 12, 31)
        base = _covering(ends, values, base_date, PERIOD_DAYS.get(frequency, 366))
        if base is None:
            why = t(
                "the alternative ({route}) cannot be judged: no reading for {year}",
                route=route,
                year=year,
            )
            return replace(verdict, detail=f"{verdict.detail}; {why}")
    other = _judged(
        _Route(alternative["comparator"], alternative.get("value"), target.due, base, base_date),
        ends,
        values,
        as_of,
        frequency,
        cfg,
    )
    mine, theirs = _BETTER.get(verdict.status, 9), _BETTER.get(other.status, 9)
    if theirs < mine:
        return replace(
            other, detail=t("by the alternative ({route}): {why}", route=route, why=other.detail)
        )
    return replace(
        verdict,
        detail=t(
            "{why}; the alternative ({route}): {other}",
            why=verdict.detail,
            route=route,
            other=other.detail,
        ),
    )


def _judged(
    target: Any, ends: list[date], values: list[float], as_of: date, frequency: str, cfg: Settings
) -> Evaluation:
    """One route of a target: its comparator, value, due date and baseline."""
    if not ends:
        return Evaluation("no_data", detail=t("no readings yet"))
    comparator, due = target.comparator, target.due
    period, grace = PERIOD_DAYS.get(frequency, 366), cfg.grace.get(frequency, 180)
    latest, latest_end = values[-1], ends[-1]
    # The path starts from the target's baseline, the reading covering its baseline date,
    # else the first reading.
    base_date = target.baseline_date
    if target.baseline_value is not None:
        base, base_date = target.baseline_value, base_date or ends[0]
    elif base_date is not None:
        base = _covering(ends, values, base_date, period)
    else:
        base, base_date = values[0], ends[0]
    if base is None:
        return Evaluation(
            "no_data",
            latest_value=latest,
            latest_date=latest_end,
            detail=t("no reading for the baseline date {date}", date=base_date.isoformat()),
        )
    goal, direction = _goal(comparator, target.value, base)
    if comparator == "eq" and goal is not None:
        direction = (goal > base) - (goal < base)
    n = cfg.points
    slope, forecast = _fit(ends[-n:], values[-n:], due)
    expected = None if goal is None else _path(base, base_date, goal, due, as_of)
    numbers = {
        "latest_value": latest,
        "latest_date": latest_end,
        "expected": _round(expected),
        "forecast": _round(forecast),
    }

    trend = goal is None
    if trend:
        improving = slope is not None and slope * direction > 0
        better = (latest - base) * direction > _eps(base)
        met = improving and better
    elif comparator == "eq":
        met = abs(latest - goal) <= cfg.eq_tolerance + _eps(goal)
    else:
        met = (latest - goal) * direction >= -_eps(goal)

    if as_of > due:
        if met:
            return Evaluation("met", **numbers, detail=t("the latest reading meets the target"))
        # The reading of the period the due date falls in (or a later one) is in.
        covers_due = latest_end >= due - timedelta(days=period // 2)
        if covers_due or as_of > due + timedelta(days=grace):
            why = (
                t("the reading for the due date does not meet the target")
                if covers_due
                else t("no reading for the due date")
            )
            return Evaluation("missed", **numbers, detail=why)
        # The due period's reading is not in yet: judge provisionally on the trend.
    elif as_of > latest_end + timedelta(days=period + grace):
        return Evaluation(
            "stale",
            **numbers,
            detail=t(
                "no {frequency} reading since {date}",
                frequency=t(frequency),
                date=latest_end.isoformat(),
            ),
        )
    elif met:
        return Evaluation("met", **numbers, detail=t("the latest reading meets the target"))

    if trend:
        if slope is None:
            return Evaluation("on_track", **numbers, detail=t("one reading: no trend yet"))
        status = "on_track" if improving else "at_risk" if better else "off_track"
        return Evaluation(
            status, **numbers, detail=t("trend {slope:+.3g} a year", slope=slope * 365.25)
        )
    span = max(abs(goal - base), abs(goal) * 0.01, 1e-9)
    on_path = _path(base, base_date, goal, due, latest_end)
    # Shortfall as a share of the planned change; `eq` without a direction: any distance.
    if direction == 0:
        gap = abs(on_path - latest) / span
        if forecast is not None:
            gap = max(gap, abs(goal - forecast) / span)
    else:
        gap = (on_path - latest) * direction / span
        if forecast is not None:
            gap = max(gap, (goal - forecast) * direction / span)
    status = "on_track" if gap <= cfg.on_track else "at_risk" if gap <= cfg.at_risk else "off_track"
    where = {"expected": on_path, "date": latest_end.isoformat()}
    detail = (
        t(
            "path expects {expected:.4g} at {date}; shortfall {gap:.0%} of the planned change",
            gap=gap,
            **where,
        )
        if gap > 0
        else t("at or ahead of the path ({expected:.4g} at {date})", **where)
    )
    return Evaluation(status, **numbers, detail=detail)


# Plugins ---------------------------------------------------------------------------------
def _plugin_indicators(known: dict[str, Indicator]) -> Callable[[str], bool]:
    """Whether a plugin may judge targets of an indicator: the plugin that registered it
    implements ``duban_evaluate_target`` (or nobody registered it)."""
    from ..plugins import get_host

    judges = set(get_host().implementers("duban_evaluate_target"))
    if not judges:
        return lambda key: False
    return lambda key: key not in known or known[key].plugin in judges


def _ask_plugins(target: Any, readings: Sequence[Any], as_of: date) -> Evaluation | None:
    from ..plugins import get_host

    answer = get_host().first(
        "duban_evaluate_target", target=target, measurements=readings, as_of=as_of
    )
    return answer if isinstance(answer, Evaluation) else None


class Reading(NamedTuple):
    """One reading as plugins receive it (the same attributes as a ``Measurement``)."""

    period_start: date
    period_end: date
    value: float
    numerator: float | None
    denominator: float | None


# Public API ------------------------------------------------------------------------------
def evaluate(*, session: Session, target: Target, as_of: date) -> Evaluation:
    """``target``'s status as of ``as_of`` (readings whose period ended by then, recorded by
    the end of that day)."""
    readings = (
        series(
            session=session,
            indicator=target.indicator,
            region_id=target.region_id,
            site_id=target.site_id,
            until=as_of,
        )
        if (target.region_id or target.site_id)
        else []
    )
    known = indicators()
    if _plugin_indicators(known)(target.indicator):
        answer = _ask_plugins(target, readings, as_of)
        if answer is not None:
            return answer
    return judge(target, readings, as_of, known.get(target.indicator), settings())


class _Days(dict):
    """ISO text (SQLite) or dates (PostgreSQL) -> dates, each distinct value parsed once."""

    def __missing__(self, key: Any) -> date:
        found = self[key] = key if isinstance(key, date) else date.fromisoformat(key)
        return found


def _driver_rows(session: Session, sql: str, params: dict[str, Any]) -> Iterator[tuple]:
    """Plain tuples straight from the database driver, fetched in large batches.

    A million readings as SQLAlchemy rows cost seconds more than the driver's tuples; this
    is the one hot path that skips them. ``:name`` parameters; dates come back as ISO text
    on SQLite and as dates on PostgreSQL (read there through a server-side cursor).
    """
    conn = session.connection()
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        cursor = raw.cursor(name="duban_evaluate")
        sql = re.sub(r":(\w+)", r"%(\1)s", sql)
    else:
        cursor = raw.cursor()
        params = {k: sqlite_value(v) for k, v in params.items()}
    try:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(20_000):
            yield from batch
    finally:
        cursor.close()


def _subjects_among(session: Session, params: dict[str, Any], subjects: list[str]) -> str:
    """A condition on ``subject`` for many subjects, as one parameter: an array on
    PostgreSQL, a JSON list on SQLite."""
    if session.connection().dialect.name == "postgresql":
        params["subjects"] = subjects
        return " AND subject = ANY(:subjects)"
    params["subjects"] = json.dumps(subjects)
    return " AND subject IN (SELECT value FROM json_each(:subjects))"


# What evaluate_all's target rows carry (not the calendar and text columns).
ROW_COLUMNS = (
    "id",
    "obligation_id",
    "indicator",
    "name",
    "name_en",
    "comparator",
    "value",
    "unit",
    "due",
    "region_id",
    "site_id",
    "baseline_value",
    "baseline_date",
    "attrs",
)

# One indicator's readings in the unique index's order (no sort); plugins get every column.
_STREAM = (
    "SELECT subject, period_end, value{more} FROM measurement "
    "WHERE indicator = :indicator AND period_end <= :as_of{recorded}{subjects} "
    "ORDER BY subject, period_start, period_end"
)


def evaluate_all(
    *,
    session: Session,
    as_of: date,
    obligation_id: int | None = None,
    target_ids: tuple[int, int] | None = None,
) -> list[tuple[Any, Evaluation]]:
    """Every target (or one obligation's, or those with ids from ``target_ids[0]`` to
    ``target_ids[1]``) with its evaluation, in target id order; those of obligations recorded
    after ``as_of`` are not there (``visibility``).

    The targets returned are read-only rows with the ``Target`` columns in ``ROW_COLUMNS``
    as attributes (``tg.id``, ``tg.obligation_id``, ``tg.indicator`` …), not ORM objects:
    loading 100k ORM objects alone costs seconds and a hundred megabytes. Use
    ``session.get(Target, tg.id)`` for the rest or to change one.

    Batched: one query for the targets; per indicator, one stream of the readings of its
    site and non-aggregating region targets in index order, cut into series per subject;
    region targets whose indicator aggregates from sub-regions are read once per
    (indicator, region).
    """
    query = sa.select(*(Target.__table__.c[name] for name in ROW_COLUMNS)).order_by(Target.id)
    if obligation_id is not None:
        query = query.where(Target.obligation_id == obligation_id)
    if target_ids is not None:
        query = query.where(Target.id.between(*target_ids))
    seen = sa.bindparam("seen_at", visibility.seen_at(as_of), type_=UTCDateTime())
    if session.execute(sa.text(visibility.recorded_after()).bindparams(seen)).first():
        # The targets of obligations recorded after the day read are not there yet.
        query = query.where(
            Target.obligation_id.in_(
                sa.select(Obligation.id).where(
                    sa.text(visibility.obligation_visible()).bindparams(seen)
                )
            )
        )
    targets = session.execute(query).all()
    if not targets:
        return []
    cfg, known = settings(), indicators()
    asks = _plugin_indicators(known)
    regions = {rid: code for rid, code in session.execute(sa.select(Region.id, Region.code))}
    site_ids = {tg.site_id for tg in targets if tg.site_id is not None}
    sites: dict[int, str] = {}
    if site_ids:
        query_sites = sa.select(Site.id, Site.key)
        if len(site_ids) <= _IN_LIMIT:
            query_sites = query_sites.where(Site.id.in_(site_ids))
        sites = {sid: key for sid, key in session.execute(query_sites)}

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

    def settle(
        indicator: str,
        group: list[int],
        ends: list[date],
        values: list[float],
        readings: Callable[[], list[Any]],
    ) -> None:
        ind = known.get(indicator)
        frequency, plugin = (ind.frequency if ind else "yearly"), asks(indicator)
        for i in group:
            tg = targets[i]
            if plugin:
                answer = _ask_plugins(session.get(Target, tg.id), readings(), as_of)
                if answer is not None:
                    results[i] = answer
                    continue
            results[i] = _verdict(tg, ends, values, as_of, frequency, cfg)

    day = _Days()
    # Readings recorded after the day read are not seen (``visibility``); when none was,
    # the stream needs no condition.
    seen = recorded_by(session=session, as_of=as_of)
    recorded = "" if seen is None else f" AND {visibility.reading_visible()}"
    for indicator, by_subject in direct.items():
        full, few = asks(indicator), len(by_subject) <= _IN_LIMIT
        params: dict[str, Any] = {"indicator": indicator, "as_of": as_of}
        if seen is not None:
            params["seen_at"] = seen
        names = ""
        if few:
            params.update({f"s{k}": subject for k, subject in enumerate(sorted(by_subject))})
            names = " AND subject IN ({})".format(
                ", ".join(f":s{k}" for k in range(len(by_subject)))
            )
        elif target_ids is not None:
            # A slice of the targets reads its own subjects' readings, not the indicator's.
            names = _subjects_among(session, params, sorted(by_subject))
        sql = _STREAM.format(
            more=", period_start, numerator, denominator" if full else "",
            recorded=recorded,
            subjects=names,
        )
        for subject, rows in groupby(_driver_rows(session, sql, params), key=itemgetter(0)):
            group = by_subject.pop(subject, None)
            if group is None:
                continue
            rows = list(rows)
            ends = list(map(day.__getitem__, map(itemgetter(1), rows)))
            values = list(map(itemgetter(2), rows))
            if not all(map(le, ends, ends[1:])):  # overlapping periods: order by their end
                ends, values = map(
                    list,
                    zip(*sorted(zip(ends, values, strict=True), key=itemgetter(0)), strict=True),
                )
            settle(
                indicator,
                group,
                ends,
                values,
                lambda rows=rows: sorted(
                    (Reading(day[r[3]], day[r[1]], r[2], r[4], r[5]) for r in rows),
                    key=lambda r: (r.period_end, r.period_start),
                ),
            )
        for group in by_subject.values():  # subjects without any reading
            settle(indicator, group, [], [], list)
    for (indicator, region_id), group in aggregated.items():
        found = (
            series(session=session, indicator=indicator, region_id=region_id, until=as_of)
            if region_id
            else []
        )
        settle(
            indicator,
            group,
            [r.period_end for r in found],
            [r.value for r in found],
            lambda found=found: found,
        )
    return list(zip(targets, results, strict=True))  # type: ignore[arg-type]


def status_rows(
    *, session: Session, as_of: date, obligation: str | None = None
) -> list[dict[str, Any]]:
    """``duban status``: one dict per target with its evaluation and the numbers behind it."""
    from .obligations import get_obligation

    ob_id = get_obligation(session=session, ref=obligation).id if obligation else None
    pairs = evaluate_all(session=session, as_of=as_of, obligation_id=ob_id)
    ob_ids = {tg.obligation_id for tg, _ in pairs}
    codes: dict[int, str | None] = {}
    for start in range(0, len(ob_ids), 900):
        chunk = sorted(ob_ids)[start : start + 900]
        codes.update(
            session.execute(
                sa.select(Obligation.id, Obligation.code).where(Obligation.id.in_(chunk))
            ).all()
        )
    regions = {
        rid: (code, name)
        for rid, code, name in session.execute(sa.select(Region.id, Region.code, Region.name))
    }
    site_ids = sorted({tg.site_id for tg, _ in pairs if tg.site_id is not None})
    sites: dict[int, tuple[str, str]] = {}
    for start in range(0, len(site_ids), 900):
        sites.update(
            {
                sid: (key, name)
                for sid, key, name in session.execute(
                    sa.select(Site.id, Site.key, Site.name).where(
                        Site.id.in_(site_ids[start : start + 900])
                    )
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


def target_readings(
    *, session: Session, target: Target, as_of: date, limit: int = 120
) -> list[tuple[date, float]]:
    """The target scope's readings up to ``as_of``, oldest first (what charts plot); a
    region's series includes what its sub-regions report."""
    if target.site_id is None and target.region_id is None:
        return []
    from .measurements import series

    rows = series(
        session=session,
        indicator=target.indicator,
        region_id=target.region_id if target.site_id is None else None,
        site_id=target.site_id,
        until=as_of,
    )
    return [(m.period_end, m.value) for m in rows][-limit:]


def target_line(target: Target, readings: list[tuple[date, float]]) -> list[tuple[date, float]]:
    """The straight path to the target: from its baseline (or the first reading) to its value
    at the due date; empty for a target without a value."""
    if target.value is None:
        return []
    if target.baseline_value is not None and target.baseline_date is not None:
        start = (target.baseline_date, target.baseline_value)
    elif readings:
        start = readings[0]
    else:
        return [(target.due, target.value)]
    return [start, (target.due, target.value)]


OFF_TRACK = ("off_track", "missed")


def off_track_charts(*, session: Session, as_of: date, rows: list[dict[str, Any]]) -> list[Any]:
    """A chart (readings against the target line) for each off-track or missed target among
    ``status_rows``: what the status sheet shows below its table."""
    from ..i18n import pick
    from ..spreadsheet import Chart

    charts = []
    for row in rows:
        if row["status"] not in OFF_TRACK:
            continue
        target = session.get(Target, row["target"])
        readings = target_readings(session=session, target=target, as_of=as_of)
        name = pick(row["name"], row["name_en"]) or row["indicator"]
        scope = (row["scope"] or {}).get("name")
        title = " · ".join(x for x in (row["obligation_code"], name, scope) if x)
        charts.append(Chart(title, readings, target_line(target, readings), row["unit"] or ""))
    return charts
