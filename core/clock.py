"""The one injectable clock.

Instants are timezone-aware UTC datetimes; dates are Asia/Shanghai calendar dates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .errors import UserError
from .i18n import t

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
# Dates outside this window are almost always typing mistakes (2205 for 2025).
EARLIEST = date(1990, 1, 1)
LATEST = date(2100, 12, 31)


class Clock:
    """Wall-clock time; the default."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return self.now().astimezone(LOCAL_TZ).date()


@dataclass(frozen=True)
class FixedClock(Clock):
    """A clock that always answers the same instant (``--as-of`` and tests)."""

    instant: datetime

    def now(self) -> datetime:
        return self.instant


@dataclass
class SteppingClock(Clock):
    """A clock tests move by hand."""

    instant: datetime

    def now(self) -> datetime:
        return self.instant

    def advance(self, **kwargs: float) -> None:
        self.instant += timedelta(**kwargs)


def local_midnight(day: date) -> datetime:
    """The UTC instant at which ``day`` starts in Asia/Shanghai."""
    return datetime.combine(day, time.min, LOCAL_TZ).astimezone(UTC)


def end_of_day(day: date) -> datetime:
    """23:59:59 of ``day`` in Asia/Shanghai, as UTC: when a dated deadline expires."""
    return datetime.combine(day, time(23, 59, 59), LOCAL_TZ).astimezone(UTC)


def to_local_date(instant: datetime) -> date:
    return instant.astimezone(LOCAL_TZ).date()


def local_time(instant: datetime | str | None) -> str:
    """An instant as a person reads it: Asia/Shanghai, to the minute (2024-06-01 08:30)."""
    if instant is None or instant == "":
        return ""
    if isinstance(instant, str):
        instant = datetime.fromisoformat(instant)
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_date(text: str, *, what: str = "date") -> date:
    """Parse an ISO date (``2025-12-31``); raise a UserError naming ``what`` otherwise."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(
            t("{what}: not a date (YYYY-MM-DD): {value!r}", what=what, value=text)
        ) from None
    if not EARLIEST <= day <= LATEST:
        raise UserError(
            t(
                "{what}: {value} is outside {start}..{end}",
                what=what,
                value=text,
                start=EARLIEST.isoformat(),
                end=LATEST.isoformat(),
            )
        )
    return day


def parse_instant(text: str, *, what: str = "--as-of") -> datetime:
    """Parse ``--as-of``: a date (start of that local day) or an ISO datetime (local if naive)."""
    text = text.strip()
    if len(text) <= 10:
        return local_midnight(parse_date(text, what=what))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UserError(
            t("{what}: not a date or datetime: {value!r}", what=what, value=text)
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    parse_date(moment.date().isoformat(), what=what)
    return moment.astimezone(UTC)


def parse_month(text: str, *, what: str = "month") -> tuple[date, date]:
    """``2024-06`` -> (first day, last day)."""
    m = _MONTH.match(text.strip())
    if not m:
        raise UserError(t("{what}: not a month (YYYY-MM): {value!r}", what=what, value=text))
    first = parse_date(f"{m[1]}-{m[2]}-01", what=what)
    nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, nxt - timedelta(days=1)
