"""Evaluating targets as of a date: met, on_track, at_risk, off_track, missed, no_data, stale.

The default method (docs/evaluation.md): the latest reading against the straight path from
the baseline to the target value by the due date, and a least-squares forecast over the
last readings at the due date. A plugin may judge its own indicators first through
``duban_evaluate_target``. Tolerances come from ``[evaluation]`` in duban.toml.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

from ..config import checked_number, place
from ..contributions import Evaluation, Indicator
from ..errors import UserError
from ..i18n import t
from ..labels import route_text
from ..settings import get_settings

if TYPE_CHECKING:  # ``duban status`` judges without loading the ORM (core/target_status.py)
    from sqlmodel import Session

    from ..models import Target

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


@dataclass(frozen=True)
class Settings:
    """``[evaluation]``, checked."""

    points: int
    on_track: float
    at_risk: float
    eq_tolerance: float
    grace: dict[str, int]


def evaluation_settings(raw: Mapping[str, Any]) -> Settings:
    """``[evaluation]`` (``raw``) over the defaults, checked."""
    cfg = {**DEFAULTS, **raw}
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
    spread = _spread(tuple(ends))
    if spread is None:
        return None, None
    deviations, mx, sxx = spread
    my = sum(values) / len(deviations)
    sxy = 0.0
    for dx, y in zip(deviations, values, strict=True):
        sxy += dx * (y - my)
    slope = sxy / sxx
    return slope, my + slope * (due.toordinal() - mx)


@lru_cache(maxsize=4096)
def _spread(ends: tuple[date, ...]) -> tuple[list[float], float, float] | None:
    """What ``_fit`` needs of the days alone, the same for every series read on the same
    days (a sweep's targets mostly are): each day's distance from their mean, the mean and
    the sum of the squared distances, added up in order as the fit always did."""
    xs = [d.toordinal() for d in ends]
    n = len(xs)
    if n < 2 or xs[0] == xs[-1]:  # oldest first: all on one day gives no slope
        return None
    mx = sum(xs) / n
    deviations = [x - mx for x in xs]
    sxx = 0.0
    for dx in deviations:
        sxx += dx**2
    return deviations, mx, sxx


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


def judge(
    target: Any, readings: Sequence[Any], as_of: date, indicator: Indicator | None, cfg: Settings
) -> Evaluation:
    """The default evaluation of ``target`` from its scope's readings (oldest first, each with
    ``period_end`` and ``value``) up to ``as_of``."""
    return judge_series(
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


def _covering(ends: list[date], values: list[float], day: date, period: int) -> float | None:
    """The reading of the period that ``day`` ends (the latest ending in the period before)."""
    since = day - timedelta(days=period)
    covering = [v for d, v in zip(ends, values, strict=True) if since < d <= day]
    return covering[-1] if covering else None


def judge_series(
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
    # Evaluation's fields after the status, in order: given by position (100k targets a sweep).
    numbers = (
        latest,
        latest_end,
        None if expected is None else round(expected, 6),
        None if forecast is None else round(forecast, 6),
    )

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
            return Evaluation("met", *numbers, detail=t("the latest reading meets the target"))
        # The reading of the period the due date falls in (or a later one) is in.
        covers_due = latest_end >= due - timedelta(days=period // 2)
        if covers_due or as_of > due + timedelta(days=grace):
            why = (
                t("the reading for the due date does not meet the target")
                if covers_due
                else t("no reading for the due date")
            )
            return Evaluation("missed", *numbers, detail=why)
        # The due period's reading is not in yet: judge provisionally on the trend.
    elif (as_of - latest_end).days > period + grace:
        return Evaluation(
            "stale",
            *numbers,
            detail=t(
                "no {frequency} reading since {date}",
                frequency=t(frequency),
                date=latest_end.isoformat(),
            ),
        )
    elif met:
        return Evaluation("met", *numbers, detail=t("the latest reading meets the target"))

    if trend:
        if slope is None:
            return Evaluation("on_track", *numbers, detail=t("one reading: no trend yet"))
        status = "on_track" if improving else "at_risk" if better else "off_track"
        return Evaluation(
            status, *numbers, detail=t("trend {slope:+.3g} a year", slope=slope * 365.25)
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
    day = latest_end.isoformat()
    detail = (
        t(
            "path expects {expected:.4g} at {date}; shortfall {gap:.0%} of the planned change",
            gap=gap,
            expected=on_path,
            date=day,
        )
        if gap > 0
        else t("at or ahead of the path ({expected:.4g} at {date})", expected=on_path, date=day)
    )
    return Evaluation(status, *numbers, detail=detail)


# Plugins ---------------------------------------------------------------------------------
def judged_by_plugins(known: dict[str, Indicator]) -> Callable[[str], bool]:
    """Whether a plugin may judge targets of an indicator: the plugin that registered it
    implements ``duban_evaluate_target`` (or nobody registered it)."""
    from ..plugins import get_host

    judges = set(get_host().implementers("duban_evaluate_target"))
    if not judges:
        return lambda key: False
    return lambda key: key not in known or known[key].plugin in judges


def ask_plugins(target: Any, readings: Sequence[Any], as_of: date, db: Any) -> Evaluation | None:
    """The first plugin's ``duban_evaluate_target`` answer for ``target``, if any gives one."""
    from ..plugins import get_host

    answer = get_host().first(
        "duban_evaluate_target", target=target, measurements=readings, as_of=as_of, db=db
    )
    return answer if isinstance(answer, Evaluation) else None


# Public API ------------------------------------------------------------------------------
def evaluate(*, session: Session, target: Target, as_of: date) -> Evaluation:
    """``target``'s status as of ``as_of`` (readings whose period ended by then, recorded by
    the end of that day)."""
    from .measurements import indicators, series

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
    if judged_by_plugins(known)(target.indicator):
        from ..queries import Lean

        session.flush()  # plugins read on the connection: they see what was flushed
        answer = ask_plugins(target, readings, as_of, Lean.of_session(session))
        if answer is not None:
            return answer
    return judge(target, readings, as_of, known.get(target.indicator), get_settings().evaluation)


def evaluate_all(
    *,
    session: Session,
    as_of: date,
    obligation_id: int | None = None,
    target_ids: tuple[int, int] | None = None,
) -> list[Any]:
    """``target_status.evaluate_all`` on the session's connection: (target row, evaluation)
    pairs in target id order."""
    from ..queries import Lean
    from ..target_status import evaluate_all as evaluate_targets

    session.flush()  # the SQL runs on the connection: it sees what the session has flushed
    return evaluate_targets(
        Lean.of_session(session), as_of=as_of, obligation_id=obligation_id, target_ids=target_ids
    )


def status_rows(
    *, session: Session, as_of: date, obligation: str | None = None
) -> list[dict[str, Any]]:
    """``duban status``'s rows (``target_status.status_rows``) on the session's connection."""
    from ..queries import Lean
    from ..target_status import status_rows as rows_of
    from .obligations import get_obligation

    ob_id = get_obligation(session=session, ref=obligation).id if obligation else None
    session.flush()
    return rows_of(Lean.of_session(session), as_of=as_of, obligation_id=ob_id)


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
    from ..models import Target
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
