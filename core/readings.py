"""Reading indicator readings (measurements) as of a date, as plain SQL through
``queries.Lean``: a subject's series, a region's filled in from the readings below it.

``duban status`` runs this on the bare driver; services run it on their session's
connection (``Lean.of_session``). ``services/measurements.py`` records readings and keeps
the ORM series that returns ``Measurement`` rows; both aggregate with ``below``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from . import visibility
from .columns import day
from .errors import NotFound
from .i18n import t

if TYPE_CHECKING:
    from .contributions import Indicator
    from .queries import Lean


class Reading(NamedTuple):
    """One reading (the same attributes as a ``Measurement``'s figures)."""

    period_start: date
    period_end: date
    value: float
    numerator: float | None
    denominator: float | None


def rate_scale(indicator: Indicator | None) -> float:
    """A rate in % is 100 x numerator / denominator; other rates (m³/万元) are the plain ratio."""
    return 100.0 if indicator is None or indicator.unit == "%" else 1.0


def aggregate(
    how: str, members: list[Any], indicator: Indicator | None
) -> tuple[float, float | None, float | None] | None:
    """One value from sub-region readings of the same period; None when it cannot be had."""
    if how == "rate":
        if any(r.numerator is None or r.denominator is None for r in members):
            return None  # never fall back to averaging rates
        num = sum(r.numerator for r in members)
        den = sum(r.denominator for r in members)
        return (num / den * rate_scale(indicator), num, den) if den > 0 else None
    values = [r.value for r in members]
    if how == "sum":
        return sum(values), None, None
    if how == "mean":
        return sum(values) / len(values), None, None
    lower_better = indicator is not None and indicator.direction in ("lower", "class")
    if how == "worst":
        return (max(values) if lower_better else min(values)), None, None
    if how == "best":
        return (min(values) if lower_better else max(values)), None, None
    return None


def below(
    how: str,
    indicator: Indicator | None,
    rows: list[tuple[str, Reading]],
    have: set[tuple[date, date]],
) -> Iterator[tuple[Reading, int]]:
    """For each period not in ``have``, the aggregate of ``rows`` ((path, reading) of the
    regions and sites below) and how many readings made it: only the topmost readings
    count, so a city and its counties are never counted twice."""
    grouped: dict[tuple[date, date], list[tuple[str, Reading]]] = {}
    for path, reading in rows:
        grouped.setdefault((reading.period_start, reading.period_end), []).append((path, reading))
    for period, items in grouped.items():
        if period in have:
            continue
        paths = {p for p, _ in items}
        # Keep only the topmost readings: drop any whose ancestor also reported this period.
        top = [r for p, r in items if not any(p[:i] in paths for i in _prefix_ends(p))]
        agg = aggregate(how, top, indicator)
        if agg is not None:
            yield Reading(period[0], period[1], *agg), len(top)


def _prefix_ends(path: str) -> Iterator[int]:
    """Where each proper ancestor's path ends inside ``path`` (the positions of "/")."""
    return (i for i, ch in enumerate(path) if ch == "/")


def seen_at(db: Lean, as_of: date) -> datetime | None:
    """The instant a read as of ``as_of`` sees readings at (``visibility``), or None when no
    reading was recorded after it: then the plain record is that read's snapshot."""
    seen = visibility.seen_at(as_of)
    return seen if db.one(visibility.readings_recorded_after(), seen_at=seen) else None


def readings_source(db: Lean, as_of: date) -> tuple[str, dict[str, Any]]:
    """What a read as of ``as_of`` selects readings from (``FROM {source} m``) and the
    parameters that source needs: the table itself when no reading was recorded after that
    day, else the readings as they were then (``visibility.readings_then``)."""
    seen = seen_at(db, as_of)
    if seen is None:
        return "measurement", {}
    return f"({visibility.readings_then()})", {"seen_at": seen}


_FIGURES = "m.period_start, m.period_end, m.value, m.numerator, m.denominator"


def _reading(row: tuple) -> Reading:
    return Reading(day(row[0]), day(row[1]), row[2], row[3], row[4])


def series(
    db: Lean,
    *,
    indicator: str,
    region_id: int | None = None,
    site_id: int | None = None,
    until: date,
    known: dict[str, Indicator],
) -> list[Reading]:
    """A subject's readings with ``period_end <= until`` as recorded by the end of that day
    (``visibility``: a later correction's figures are not seen), oldest first; for a region,
    periods without a reading of its own are filled from the readings below it per the
    indicator's ``aggregation`` (``known``: the registered indicators)."""
    source, params = readings_source(db, until)
    params.update(indicator=indicator, until=until)
    where = "m.indicator = :indicator AND m.period_end <= :until"
    own = f"SELECT {_FIGURES} FROM {source} m WHERE {where} AND m.subject = :subject ORDER BY m.period_end, m.period_start"
    if site_id is not None:
        key = db.one("SELECT key FROM site WHERE id = :id", id=site_id)
        if key is None:
            raise NotFound(t("unknown site #{id}", id=site_id))
        return [_reading(r) for r in db.rows(own, subject=f"site:{key}", **params)]
    found = db.rows("SELECT code, path FROM region WHERE id = :id", id=region_id)
    if region_id is None or not found:
        raise NotFound(t("unknown region #{id}", id=region_id))
    code, path = found[0]
    readings = [_reading(r) for r in db.rows(own, subject=f"region:{code}", **params)]
    ind = known.get(indicator)
    how = ind.aggregation if ind else "latest"
    if how == "latest":
        return readings
    rows = db.rows(
        f"SELECT r.path, {_FIGURES} FROM {source} m JOIN region r ON r.id = m.region_id"
        f" WHERE {where} AND r.path LIKE :below",
        below=path + "/%",
        **params,
    ) + db.rows(
        f"SELECT r.path || '/site:' || s.key, {_FIGURES} FROM {source} m"
        " JOIN site s ON s.id = m.site_id JOIN region r ON r.id = s.region_id"
        f" WHERE {where} AND (r.id = :region_id OR r.path LIKE :below)",
        below=path + "/%",
        region_id=region_id,
        **params,
    )
    have = {(r.period_start, r.period_end) for r in readings}
    derived = [r for r, _ in below(how, ind, [(row[0], _reading(row[1:])) for row in rows], have)]
    return sorted(readings + derived, key=lambda r: (r.period_end, r.period_start))
