"""Reading a subject's series: its readings as of a day, a region's filled in from below."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, or_, select

from ... import visibility
from ...errors import NotFound
from ...i18n import t
from ...models import Measurement, Region, Site, UTCDateTime
from ...readings import Reading, below
from .indicators import indicators


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
    under = Region.path.startswith(region.path + "/")
    cols = (m.period_start, m.period_end, m.value, m.numerator, m.denominator)
    region_rows = session.execute(
        sa.select(Region.path, *cols)
        .join(Region, Region.id == m.region_id)
        .where(m.indicator == indicator, m.period_end <= until, under)
        .where(*([] if seen is None else [_visible(seen)]))
    )
    site_rows = session.execute(
        sa.select(Region.path + "/site:" + Site.key, *cols)
        .join(Site, Site.id == m.site_id)
        .join(Region, Region.id == Site.region_id)
        .where(m.indicator == indicator, m.period_end <= until, or_(Region.id == region.id, under))
        .where(*([] if seen is None else [_visible(seen)]))
    )
    have = {(r.period_start, r.period_end) for r in own}
    derived = [
        Measurement(
            indicator=indicator,
            subject=subject,
            region_id=region.id,
            period_start=r.period_start,
            period_end=r.period_end,
            value=r.value,
            numerator=r.numerator,
            denominator=r.denominator,
            note=t("aggregated from {n} readings below {name}", n=n, name=region.name),
        )
        for r, n in below(
            how, ind, [(p, Reading(*r)) for p, *r in (*region_rows, *site_rows)], have
        )
    ]
    return sorted(own + derived, key=lambda r: (r.period_end, r.period_start))
