"""The reporting calendar (报送日历): periods, their due days and the thresholds of the lights.

An obligation reports monthly, quarterly, half-yearly or not at all: its own
``report_frequency``, else its plan's in ``[reports.plans."<plan key>"]`` of duban.toml, else
``[reports]``. A period's report is due on ``due_day`` of the month after the period ends
(the 5th by default). Importable without SQLAlchemy: ``duban list --light red --count``
computes the lights through the bare driver (``queries.light_table``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property, lru_cache
from typing import Any

from .dates import month_end
from .errors import UserError
from .i18n import t

FREQUENCIES = ("monthly", "quarterly", "half-yearly", "none")
MONTHS = {"monthly": 1, "quarterly": 3, "half-yearly": 6}
DEFAULTS: dict[str, Any] = {
    "frequency": "monthly",
    "due_day": 5,  # of the month after the period ends
    "yellow_points": 15,  # behind the time-proportional progress by up to this: yellow
    "red_unreported": 2,  # this many periods in a row without a report: red
    "remind_before": [3, 0],  # days before a report's due day its owner is reminded (催报)
    "plans": {},
}


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period: a month, a quarter or a half-year."""

    start: date
    end: date
    frequency: str

    @cached_property  # read for every obligation of a summary; periods are shared
    def label(self) -> str:
        if self.frequency == "quarterly":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.frequency == "half-yearly":
            return f"{self.start.year}-H{1 if self.start.month <= 6 else 2}"
        return f"{self.start.year}-{self.start.month:02d}"

    def due(self, due_day: int) -> date:
        """The day its report is due: ``due_day`` of the month after it ends."""
        nxt = self.end + timedelta(days=1)
        return nxt.replace(day=due_day)

    def previous(self) -> Period:
        return period_containing(self.start - timedelta(days=1), self.frequency)

    def following(self) -> Period:
        return period_containing(self.end + timedelta(days=1), self.frequency)


@lru_cache(maxsize=4096)  # a sweep asks for the same few periods of 100k obligations
def period_containing(day: date, frequency: str) -> Period:
    months = MONTHS[frequency]
    first = (day.month - 1) // months * months + 1
    return Period(date(day.year, first, 1), month_end(day.year, first + months - 1), frequency)


_FORMS = (
    (re.compile(r"(\d{4})-(\d{1,2})"), "monthly"),
    (re.compile(r"(\d{4})年(\d{1,2})月"), "monthly"),
    (re.compile(r"(\d{4})-?Q([1-4])", re.I), "quarterly"),
    (re.compile(r"(\d{4})年第?([1-4一二三四])季度"), "quarterly"),
    (re.compile(r"(\d{4})-?H([12])", re.I), "half-yearly"),
    (re.compile(r"(\d{4})年([上下])半年"), "half-yearly"),
)
_CN = {"一": 1, "二": 2, "三": 3, "四": 4, "上": 1, "下": 2}


def parse_period(text: str, *, what: str = "--period") -> Period:
    """``2024-05``, ``2024-Q2``, ``2024-H1`` (or 2024年5月, 2024年第二季度, 2024年上半年)."""
    raw = text.strip()
    for pattern, frequency in _FORMS:
        m = pattern.fullmatch(raw)
        if m is None:
            continue
        year, part = int(m[1]), m[2]
        n = _CN[part] if part in _CN else int(part)
        month = (n - 1) * MONTHS[frequency] + 1
        if 1990 <= year <= 2100 and 1 <= month <= 12:
            return period_containing(date(year, month, 1), frequency)
    raise UserError(
        t(
            "{what}: not a period (2024-05, 2024-Q2 or 2024-H1): {value!r}",
            what=what,
            value=text,
        )
    )


def periods_between(first: date, last: date, frequency: str) -> list[Period]:
    """The periods of ``frequency`` from the one containing ``first`` to the one containing
    ``last``, oldest first."""
    found = [period_containing(first, frequency)]
    while found[-1].end < last:
        found.append(found[-1].following())
    return found


def periods_spanned(first: Period, last: Period) -> int:
    """How many periods there are from ``first`` to ``last`` (of one frequency), both
    counted; 1 when ``last`` is not after ``first``."""
    months = MONTHS[first.frequency]
    index = [(p.start.year * 12 + p.start.month - 1) // months for p in (first, last)]
    return max(1, index[1] - index[0] + 1)


def due_periods(as_of: date, frequency: str, due_day: int, n: int) -> list[Period]:
    """The ``n`` latest periods whose due day is before ``as_of``, newest first."""
    if frequency not in MONTHS:
        return []
    period = period_containing(as_of, frequency)
    while period.due(due_day) >= as_of:
        period = period.previous()
    found = [period]
    while len(found) < n:
        found.append(found[-1].previous())
    return found


@dataclass(frozen=True)
class Calendar:
    """How one obligation reports."""

    frequency: str
    due_day: int

    @property
    def key(self) -> str:
        return f"{self.frequency}/{self.due_day}"


@dataclass(frozen=True)
class ReportSettings:
    """``[reports]`` of duban.toml, checked."""

    default: Calendar
    yellow_points: float
    red_unreported: int
    plans: dict[str, Calendar] = field(default_factory=dict)
    remind_before: tuple[int, ...] = (3, 0)

    def calendar(self, plan_key: str | None, own_frequency: str | None) -> Calendar:
        base = self.plans.get(plan_key or "", self.default)
        return Calendar(own_frequency or base.frequency, base.due_day)

    def calendars(self) -> set[Calendar]:
        """Every calendar an obligation can follow (any frequency with any configured day)."""
        days = {self.default.due_day} | {c.due_day for c in self.plans.values()}
        return {Calendar(f, d) for f in MONTHS for d in days}


def _where(key: str, table: str = "reports") -> str:
    return f"duban.toml [{table}] {key}"


def _frequency(value: Any, where: str) -> str:
    if value not in FREQUENCIES:
        raise UserError(
            t(
                "{where}: must be one of {choices}, not {value!r}",
                where=where,
                choices=", ".join(FREQUENCIES),
                value=value,
            )
        )
    return str(value)


def _due_day(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 28:
        raise UserError(
            t(
                "{where}: must be a day of the month from 1 to 28, not {value!r}",
                where=where,
                value=value,
            )
        )
    return value


def frequency_label(frequency: str | None) -> str:
    """How a person reads a frequency (None: the plan's)."""
    labels = {
        "monthly": t("monthly"),
        "quarterly": t("quarterly"),
        "half-yearly": t("half-yearly"),
        "none": t("not reporting"),
    }
    return labels.get(frequency or "", t("as its plan"))


def check_frequency(value: str, *, what: str = "--frequency") -> str:
    return _frequency(value, what)


def report_settings(raw: Mapping[str, Any]) -> ReportSettings:
    """``[reports]`` (``raw``) over the defaults, checked."""
    cfg = {**DEFAULTS, **raw}
    default = Calendar(
        _frequency(cfg["frequency"], _where("frequency")),
        _due_day(cfg["due_day"], _where("due_day")),
    )
    points = cfg["yellow_points"]
    if isinstance(points, bool) or not isinstance(points, int | float) or not 0 <= points <= 100:
        raise UserError(
            t(
                "{where}: must be a number from 0 to 100, not {value!r}",
                where=_where("yellow_points"),
                value=points,
            )
        )
    unreported = cfg["red_unreported"]
    if not isinstance(unreported, int) or isinstance(unreported, bool) or unreported < 1:
        raise UserError(
            t(
                "{where}: must be a whole number, at least {minimum}, not {value!r}",
                where=_where("red_unreported"),
                minimum=1,
                value=unreported,
            )
        )
    remind = cfg["remind_before"]
    if not isinstance(remind, list) or not all(
        isinstance(k, int) and not isinstance(k, bool) and 0 <= k <= 60 for k in remind
    ):
        raise UserError(
            t(
                "{where}: must be a list of whole days from 0 to 60, not {value!r}",
                where=_where("remind_before"),
                value=remind,
            )
        )
    plans: dict[str, Calendar] = {}
    for key, plan in (cfg.get("plans") or {}).items():
        table = f'reports.plans."{key}"'
        plan = plan if isinstance(plan, dict) else {}
        plans[key] = Calendar(
            _frequency(plan.get("frequency", default.frequency), _where("frequency", table)),
            _due_day(plan.get("due_day", default.due_day), _where("due_day", table)),
        )
    return ReportSettings(
        default, float(points), unreported, plans, tuple(sorted(set(remind), reverse=True))
    )
