"""Reading a subject's series: its readings as of a day, a region's filled in from below."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, or_, select

from ... import visibility
from ...contributions import Indicator
from ...errors import NotFound
from ...i18n import t
from ...models import Measurement, Region, Site, UTCDateTime
from .indicators import indicators, rate_scale


def _aggregate(
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


def recorded_by(*, session: Session, as_of: date) -> datetime | None:
    """The instant a read as of ``as_of`` sees readings at (``visibility``), or None when no
    reading was recorded after it: then the plain record is that read's snapshot."""
    seen = visibility.seen_at(as_of)
    later = session.execute(
        sa.text(visibility.readings_recorded_after()).bindparams(
            sa.bindparam("seen_at", seen, type_=UTCDateTime())
        )
    ).first()
    return seen if later is not None else None


def _visible(seen: datetime) -> Any:
    return sa.text(visibility.reading_visible()).bindparams(
        sa.bindparam("seen_at", seen, type_=UTCDateTime())
    )


def series(
    *,
    session: Session,
    indicator: str,
    region_id: int | None = None,
    site_id: int | None = None,
    until: date,
) -> list[Measurement]:
    """A subject's readings with ``period_end <= until`` recorded by the end of that day
    (``visibility``), oldest first.

    For a region, periods the region has no reading of its own are filled by aggregating
    the readings below it (sub-regions and sites) per the indicator's ``aggregation``; for
    each period the highest available level is used, so a city and its counties are never
    counted twice. Aggregated readings are unsaved ``Measurement`` objects (``id`` None).
    """
    m = Measurement
    base = select(m).where(m.indicator == indicator, m.period_end <= until)
    seen = recorded_by(session=session, as_of=until)
    if seen is not None:
        base = base.where(_visible(seen))
    if site_id is not None:
        site = session.get(Site, site_id)
        if site is None:
            raise NotFound(t("unknown site #{id}", id=site_id))
        return list(
            session.exec(
                base.where(m.subject == f"site:{site.key}").order_by(m.period_end, m.period_start)
            ).all()
        )
    region = session.get(Region, region_id) if region_id is not None else None
    if region is None:
        raise NotFound(t("unknown region #{id}", id=region_id))
    subject = f"region:{region.code}"
    own = list(
        session.exec(base.where(m.subject == subject).order_by(m.period_end, m.period_start)).all()
    )
    ind = indicators().get(indicator)
    how = ind.aggregation if ind else "latest"
    if how == "latest":
        return own
    below = Region.path.startswith(region.path + "/")
    cols = (m.period_start, m.period_end, m.value, m.numerator, m.denominator)
    grouped: dict[tuple[date, date], list[tuple[str, Any]]] = {}
    region_rows = session.execute(
        sa.select(Region.path, *cols)
        .join(Region, Region.id == m.region_id)
        .where(m.indicator == indicator, m.period_end <= until, below)
        .where(*([] if seen is None else [_visible(seen)]))
    )
    site_rows = session.execute(
        sa.select(Region.path + "/site:" + Site.key, *cols)
        .join(Site, Site.id == m.site_id)
        .join(Region, Region.id == Site.region_id)
        .where(m.indicator == indicator, m.period_end <= until, or_(Region.id == region.id, below))
        .where(*([] if seen is None else [_visible(seen)]))
    )
    for path, *reading in (*region_rows, *site_rows):
        grouped.setdefault((reading[0], reading[1]), []).append((path, _Row(*reading)))
    have = {(r.period_start, r.period_end) for r in own}
    derived = []
    for period, items in grouped.items():
        if period in have:
            continue
        paths = {p for p, _ in items}
        # Keep only the topmost readings: drop any whose ancestor also reported this period.
        top = [r for p, r in items if not any(p[:i] in paths for i in _prefix_ends(p))]
        agg = _aggregate(how, top, ind)
        if agg is None:
            continue
        value, num, den = agg
        derived.append(
            Measurement(
                indicator=indicator,
                subject=subject,
                region_id=region.id,
                period_start=period[0],
                period_end=period[1],
                value=value,
                numerator=num,
                denominator=den,
                note=t("aggregated from {n} readings below {name}", n=len(top), name=region.name),
            )
        )
    return sorted(own + derived, key=lambda r: (r.period_end, r.period_start))


@dataclass(frozen=True)
class _Row:
    period_start: date
    period_end: date
    value: float
    numerator: float | None
    denominator: float | None


def _prefix_ends(path: str) -> Iterator[int]:
    """Where each proper ancestor's path ends inside ``path`` (the positions of "/")."""
    return (i for i, ch in enumerate(path) if ch == "/")
