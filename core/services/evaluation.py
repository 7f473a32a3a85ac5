"""Evaluating targets as of a date: met, on_track, at_risk, off_track, missed, no_data, stale.

The default method (docs/evaluation.md): the latest reading against the straight path from
the baseline to the target value by the due date, and a least-squares forecast over the
last readings at the due date. A plugin may judge its own indicators first through
``duban_evaluate_target``. Tolerances come from ``[evaluation]`` in duban.toml.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from ..config import section
from ..errors import UserError
from ..i18n import t
from ..models import Measurement, Region, Site, Target
from ..registry import Evaluation, Indicator
from .measurements import indicators, series

COMPARATORS = ("gte", "lte", "eq", "decrease_pct", "increase_pct", "trend_down", "trend_up",
               "eliminate")
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
        if isinstance(value, bool) or not isinstance(value, int | float) or value < low:
            raise UserError(t("duban.toml [evaluation] {key}: expected a number >= {low}, not {value!r}",
                              key=key, low=low, value=value))
        return float(value)

    points = int(number("forecast_points", cfg["forecast_points"], 2))
    on_track = number("on_track_tolerance", cfg["on_track_tolerance"], 0)
    at_risk = number("at_risk_tolerance", cfg["at_risk_tolerance"], on_track)
    eq_tol = number("eq_tolerance", cfg["eq_tolerance"], 0)
    for key, value in grace.items():
        if key not in PERIOD_DAYS:
            raise UserError(t("duban.toml [evaluation] stale_grace_days: unknown frequency {key!r}", key=key))
        number(f"stale_grace_days.{key}", value, 0)
    return Settings(points, on_track, at_risk, eq_tol, {k: int(v) for k, v in grace.items()})


# The default method ----------------------------------------------------------------------
def _eps(x: float) -> float:
    return 1e-9 * max(1.0, abs(x))


def _fit(readings: Sequence[Any], due: date) -> tuple[float | None, float | None]:
    """Least-squares slope (per day) and the value it gives at ``due``."""
    xs = [r.period_end.toordinal() for r in readings]
    if len(set(xs)) < 2:
        return None, None
    n = len(xs)
    mx, my = sum(xs) / n, sum(r.value for r in readings) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (r.value - my) for x, r in zip(xs, readings, strict=True)) / sxx
    return slope, my + slope * (due.toordinal() - mx)


def _baseline(target: Target, readings: Sequence[Any], period: int) -> tuple[float | None, date]:
    """(value, date) the path starts from: the target's own, the reading covering its
    baseline date, else the first reading."""
    first = readings[0]
    if target.baseline_value is not None:
        return target.baseline_value, target.baseline_date or first.period_end
    if target.baseline_date is not None:
        bd = target.baseline_date
        covering = [r for r in readings
                    if r.period_end <= bd and r.period_end > bd - timedelta(days=period)]
        return (covering[-1].value if covering else None), bd
    return first.value, first.period_end


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
    return None if x is None else float(f"{x:.6g}")


def judge(target: Target, readings: Sequence[Any], as_of: date, indicator: Indicator | None,
          cfg: Settings) -> Evaluation:
    """The default evaluation of ``target`` from its scope's readings (oldest first, each with
    ``period_start``, ``period_end`` and ``value``) up to ``as_of``."""
    if not readings:
        return Evaluation("no_data", detail=t("no readings yet"))
    frequency = indicator.frequency if indicator else "yearly"
    period, grace = PERIOD_DAYS.get(frequency, 366), cfg.grace.get(frequency, 180)
    latest = readings[-1]
    base, base_date = _baseline(target, readings, period)
    numbers = {"latest_value": latest.value, "latest_date": latest.period_end}
    if base is None:
        return Evaluation("no_data", **numbers, detail=t(
            "no reading for the baseline date {date}", date=base_date.isoformat()))
    goal, direction = _goal(target.comparator, target.value, base)
    if target.comparator == "eq" and goal is not None:
        direction = (goal > base) - (goal < base)
    slope, forecast = _fit(readings[-cfg.points:], target.due)
    expected = None if goal is None else _path(base, base_date, goal, target.due, as_of)
    numbers.update(expected=_round(expected), forecast=_round(forecast))

    trend = goal is None
    if trend:
        improving = slope is not None and slope * direction > 0
        better = (latest.value - base) * direction > _eps(base)
        met = improving and better
    elif target.comparator == "eq":
        met = abs(latest.value - goal) <= cfg.eq_tolerance + _eps(goal)
    else:
        met = (latest.value - goal) * direction >= -_eps(goal)

    if as_of > target.due:
        if met:
            return Evaluation("met", **numbers, detail=t("the latest reading meets the target"))
        covers_due = latest.period_end > target.due - timedelta(days=period)
        if covers_due or as_of > target.due + timedelta(days=grace):
            why = (t("the reading for the due date does not meet the target") if covers_due
                   else t("no reading for the due date"))
            return Evaluation("missed", **numbers, detail=why)
        # The due period's reading is not in yet: judge provisionally on the trend.
    elif as_of > latest.period_end + timedelta(days=period + grace):
        return Evaluation("stale", **numbers, detail=t(
            "no {frequency} reading since {date}", frequency=t(frequency),
            date=latest.period_end.isoformat()))
    elif met:
        return Evaluation("met", **numbers, detail=t("the latest reading meets the target"))

    if trend:
        if slope is None:
            return Evaluation("on_track", **numbers, detail=t("one reading: no trend yet"))
        status = "on_track" if improving else "at_risk" if better else "off_track"
        return Evaluation(status, **numbers, detail=t(
            "trend {slope:+.3g} a year", slope=slope * 365.25))
    span = max(abs(goal - base), abs(goal) * 0.01, 1e-9)
    sign = direction or 1

    def shortfall(value: float, aim: float) -> float:
        # eq without a direction: any distance from the aim is a shortfall.
        return abs(aim - value) / span if direction == 0 else (aim - value) * sign / span

    on_path = _path(base, base_date, goal, target.due, latest.period_end)
    gap = shortfall(latest.value, on_path)
    if forecast is not None:
        gap = max(gap, shortfall(forecast, goal))
    status = ("on_track" if gap <= cfg.on_track else "at_risk" if gap <= cfg.at_risk
              else "off_track")
    return Evaluation(status, **numbers, detail=t(
        "path expects {expected:.4g} at {date}; shortfall {gap:.0%} of the planned change",
        expected=on_path, date=latest.period_end.isoformat(), gap=max(gap, 0.0)))


def _with_plugins(target: Target, readings: Sequence[Any], as_of: date, indicator: Indicator | None,
                  cfg: Settings, plugins: bool) -> Evaluation:
    if plugins:
        from ..plugins import get_host

        answer = get_host().first("duban_evaluate_target", target=target, measurements=readings,
                                  as_of=as_of)
        if isinstance(answer, Evaluation):
            return answer
    return judge(target, readings, as_of, indicator, cfg)


def _has_plugin_evaluators() -> bool:
    from ..plugins import get_host

    return bool(get_host().implementers("duban_evaluate_target"))


# Public API ------------------------------------------------------------------------------
def evaluate(*, session: Session, target: Target, as_of: date) -> Evaluation:
    """``target``'s status as of ``as_of`` (readings whose period ended by then)."""
    readings = series(session=session, indicator=target.indicator, region_id=target.region_id,
                      site_id=target.site_id, until=as_of) if (target.region_id or target.site_id) else []
    return _with_plugins(target, readings, as_of, indicators().get(target.indicator), settings(),
                         _has_plugin_evaluators())


def evaluate_all(*, session: Session, as_of: date,
                 obligation_id: int | None = None) -> list[tuple[Target, Evaluation]]:
    """Every target (or one obligation's) with its evaluation, in target id order.

    Batched: one query for the targets, and one ordered stream of the readings of every
    site and non-aggregating region target, folded subject by subject; region targets whose
    indicator aggregates from sub-regions are read once per (indicator, region).
    """
    query = select(Target).order_by(Target.id)
    if obligation_id is not None:
        query = query.where(Target.obligation_id == obligation_id)
    targets = list(session.exec(query).all())
    if not targets:
        return []
    cfg, known, plugins = settings(), indicators(), _has_plugin_evaluators()
    regions = {rid: code for rid, code in session.execute(sa.select(Region.id, Region.code))}
    site_ids = {tg.site_id for tg in targets if tg.site_id is not None}
    sites: dict[int, str] = {}
    if site_ids:
        query_sites = sa.select(Site.id, Site.key)
        if len(site_ids) <= _IN_LIMIT:
            query_sites = query_sites.where(Site.id.in_(site_ids))
        sites = {sid: key for sid, key in session.execute(query_sites)}

    direct: dict[tuple[str, str], list[Target]] = {}
    aggregated: dict[tuple[str, int], list[Target]] = {}
    results: dict[int, Evaluation] = {}
    for tg in targets:
        ind = known.get(tg.indicator)
        if tg.site_id is not None:
            direct.setdefault((f"site:{sites[tg.site_id]}", tg.indicator), []).append(tg)
        elif tg.region_id is not None:
            if ind is not None and ind.aggregation != "latest":
                aggregated.setdefault((tg.indicator, tg.region_id), []).append(tg)
            else:
                direct.setdefault((f"region:{regions[tg.region_id]}", tg.indicator), []).append(tg)
        else:  # a target without a scope has nothing to read
            results[tg.id] = _with_plugins(tg, [], as_of, ind, cfg, plugins)

    def settle(group: list[Target], readings: Sequence[Any]) -> None:
        for tg in group:
            results[tg.id] = _with_plugins(tg, readings, as_of, known.get(tg.indicator), cfg, plugins)

    if direct:
        m = Measurement.__table__
        stmt = sa.select(m.c.subject, m.c.indicator, m.c.period_start, m.c.period_end, m.c.value,
                         m.c.numerator, m.c.denominator).where(
            m.c.indicator.in_({ind for _, ind in direct}), m.c.period_end <= as_of)
        subjects = {subject for subject, _ in direct}
        if len(subjects) <= _IN_LIMIT:
            stmt = stmt.where(m.c.subject.in_(subjects))
        stmt = stmt.order_by(m.c.subject, m.c.indicator, m.c.period_end, m.c.period_start)
        key: tuple[str, str] | None = None
        run: list[Any] = []
        for row in session.execute(stmt, execution_options={"yield_per": 20_000}):
            here = (row[0], row[1])
            if here != key:
                if key in direct:
                    settle(direct.pop(key), run)
                key, run = here, []
            if here in direct:
                run.append(row)
        if key in direct:
            settle(direct.pop(key), run)
        for group in direct.values():  # subjects without any reading
            settle(group, [])
    for (indicator, region_id), group in aggregated.items():
        settle(group, series(session=session, indicator=indicator, region_id=region_id, until=as_of))
    return [(tg, results[tg.id]) for tg in targets]


def status_rows(*, session: Session, as_of: date, obligation: str | None = None) -> list[dict[str, Any]]:
    """``duban status``: one dict per target with its evaluation and the numbers behind it."""
    from ..models import Obligation
    from .obligations import get_obligation

    ob_id = get_obligation(session=session, ref=obligation).id if obligation else None
    pairs = evaluate_all(session=session, as_of=as_of, obligation_id=ob_id)
    ob_ids = {tg.obligation_id for tg, _ in pairs}
    codes: dict[int, str | None] = {}
    for start in range(0, len(ob_ids), 900):
        chunk = sorted(ob_ids)[start:start + 900]
        codes.update(session.execute(sa.select(Obligation.id, Obligation.code)
                                     .where(Obligation.id.in_(chunk))).all())
    regions = {rid: (code, name) for rid, code, name in
               session.execute(sa.select(Region.id, Region.code, Region.name))}
    site_ids = sorted({tg.site_id for tg, _ in pairs if tg.site_id is not None})
    sites: dict[int, tuple[str, str]] = {}
    for start in range(0, len(site_ids), 900):
        sites.update({sid: (key, name) for sid, key, name in session.execute(
            sa.select(Site.id, Site.key, Site.name).where(Site.id.in_(site_ids[start:start + 900])))})
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
        rows.append({
            "target": tg.id, "obligation": tg.obligation_id, "obligation_code": codes.get(tg.obligation_id),
            "indicator": tg.indicator, "name": tg.name, "name_en": tg.name_en, "scope": scope,
            "comparator": tg.comparator, "value": tg.value, "unit": tg.unit, "due": tg.due.isoformat(),
            "status": ev.status, "latest_value": ev.latest_value,
            "latest_date": ev.latest_date.isoformat() if ev.latest_date else None,
            "expected": ev.expected, "forecast": ev.forecast, "detail": ev.detail,
        })
    return rows
