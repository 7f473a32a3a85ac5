"""GB 3838 evaluation of section-class and concentration-limit targets (``duban_evaluate_target``).

A class target (``water.section_class``, comparator ``lte``, value = the class rank, I=1 …
劣V=6) is met when the latest class is no worse than the target class; ``at_risk`` when it is,
but one of the previous ``RECENT`` months was worse (not yet *stably* met); ``off_track`` when
the latest class is worse before the due date and ``missed`` after it; ``stale`` when the latest
class is older than ``STALE_DAYS``; ``no_data`` without any class or readings.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any, NamedTuple

from duban.core.api import Evaluation, add_months, last_of_month, month_start, t

from .classes import group_members, monthly_classes
from .gb3838 import CLASSES
from .indicators import MANGANESE, PARAM_CODES, SECTION_CLASS

RECENT = 2
STALE_DAYS = 92
# Concentration limits (花垣河 manganese ≤ 0.3 mg/L) are limits, not paths to a goal.
LIMITS = frozenset({MANGANESE, *PARAM_CODES})


def _derived(target: Any, as_of: date, db: Any) -> list[tuple[date, float]]:
    """Classes from parameter readings when no class was stored: the section's own, or the
    worst of a lake's or reach's member sections, month by month."""
    if db is None or target.site_id is None:
        return []
    members = [Member(*m) for m in group_members(db, target.site_id)]
    series = monthly_classes(db, members, add_months(month_start(as_of), -24), as_of, as_of=as_of)
    worst: dict[date, int] = {}
    for by_month in series.values():
        for month, found in by_month.items():
            if last_of_month(month) <= as_of:
                worst[month] = max(worst.get(month, 0), found.rank)
    return [(last_of_month(m), float(r)) for m, r in sorted(worst.items())]


class Member(NamedTuple):
    id: int
    lake: bool


def evaluate(
    target: Any, measurements: Iterable[Any], as_of: date, db: Any = None
) -> Evaluation | None:
    if target.value is None:
        return None
    if target.indicator in LIMITS and target.comparator == "lte":
        return _limit(target, list(measurements), as_of)
    if target.indicator != SECTION_CLASS:
        return None
    readings = [(m.period_end, float(m.value)) for m in measurements]
    if not readings:
        readings = _derived(target, as_of, db)
    if not readings:
        return Evaluation(status="no_data")
    latest_date, rank = readings[-1]
    goal = float(target.value)
    shown = CLASSES[int(min(max(rank, 1), 6)) - 1]
    wanted = CLASSES[int(min(max(goal, 1), 6)) - 1]
    detail = t(
        "latest class {cls} ({date}), target {target} or better",
        cls=shown,
        date=latest_date.isoformat(),
        target=wanted,
    )
    common = {"latest_value": rank, "latest_date": latest_date, "expected": goal, "detail": detail}
    if as_of - latest_date > timedelta(days=STALE_DAYS):
        return Evaluation(status="stale", **common)
    if rank <= goal:
        unstable = any(r > goal for _, r in readings[-1 - RECENT : -1])
        return Evaluation(status="at_risk" if unstable else "met", **common)
    return Evaluation(status="missed" if as_of > target.due else "off_track", **common)


def _limit(target: Any, readings: list[Any], as_of: date) -> Evaluation:
    """A concentration limit: met while the latest reading is within it."""
    if not readings:
        return Evaluation(status="no_data")
    latest = readings[-1]
    value, day, limit = float(latest.value), latest.period_end, float(target.value)
    common = {
        "latest_value": value,
        "latest_date": day,
        "expected": limit,
        "detail": t(
            "latest {value:g} ({date}), limit {limit:g}",
            value=value,
            date=day.isoformat(),
            limit=limit,
        ),
    }
    if as_of - day > timedelta(days=STALE_DAYS):
        return Evaluation(status="stale", **common)
    if value <= limit:
        unstable = any(float(r.value) > limit for r in readings[-1 - RECENT : -1])
        return Evaluation(status="at_risk" if unstable else "met", **common)
    return Evaluation(status="missed" if as_of > target.due else "off_track", **common)
