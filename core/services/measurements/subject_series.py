"""Reading a subject's series: its readings as of a day, a region's filled in from below."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, or_, select

from ... import visibility
from ...errors import NotFound
from ...i18n import t
from ...models import Measurement, MeasurementRevision, Region, Site, UTCDateTime
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


def _at(sql: str, seen: datetime) -> Any:
    return sa.text(sql).bindparams(sa.bindparam("seen_at", seen, type_=UTCDateTime()))


def _visible(seen: datetime) -> Any:
    return _at(visibility.reading_visible(), seen)


def _then(session: Session, query: Any, seen: datetime) -> list[Measurement]:
    """The readings ``query`` selects that were corrected after ``seen``, with the figures
    they had then (unsaved copies: the rows themselves keep today's)."""
    r = MeasurementRevision
    revised = session.execute(  # rows of both (``exec`` would keep the first alone)
        query.join(r, r.measurement_id == Measurement.id)
        .add_columns(r)
        .where(_at(visibility.revision_visible(r.__tablename__), seen))
    ).all()
    return [
        Measurement(
            **{**row.model_dump(), **{k: getattr(then, k) for k in visibility.READING_REVISED}}
        )
        for row, then in revised
    ]


def readings_as_of(*, session: Session, as_of: date) -> Any:
    """``Measurement`` as a read as of ``as_of`` sees it (``visibility``), to select columns
    from in its place (``M = readings_as_of(...)``, then ``select(M.value).where(M.indicator
    == ...)``): the readings recorded by the end of that day, and those corrected since with
    the figures they had then; the model itself when nothing was recorded after that day.
    Select its columns, not the entity: a reading's earlier figures share the row's id."""
    seen = recorded_by(session=session, as_of=as_of)
    if seen is None:
        return Measurement
    table = Measurement.__table__  # type: ignore[attr-defined]
    names = (*visibility.READING_KEPT, *visibility.READING_REVISED)
    then = _at(visibility.readings_then(), seen).columns(*(table.c[n] for n in names))
    return aliased(Measurement, then.subquery("readings_then"))


def series(
    *,
    session: Session,
    indicator: str,
    region_id: int | None = None,
    site_id: int | None = None,
    until: date,
) -> list[Measurement]:
    """A subject's readings with ``period_end <= until`` as recorded by the end of that day
    (``visibility``: a later correction's figures are not seen), oldest first.

    For a region, periods the region has no reading of its own are filled by aggregating
    the readings below it (sub-regions and sites) per the indicator's ``aggregation``; for
    each period the highest available level is used, so a city and its counties are never
    counted twice. Aggregated readings are unsaved ``Measurement`` objects (``id`` None).
    """
    m = Measurement
    every = select(m).where(m.indicator == indicator, m.period_end <= until)
    seen = recorded_by(session=session, as_of=until)
    visible = [] if seen is None else [_visible(seen)]

    def subject_series(subject: str) -> list[Measurement]:
        found = list(session.exec(every.where(m.subject == subject, *visible)).all())
        if seen is not None:
            found += _then(session, every.where(m.subject == subject), seen)
        return sorted(found, key=lambda r: (r.period_end, r.period_start))

    if site_id is not None:
        site = session.get(Site, site_id)
        if site is None:
            raise NotFound(t("unknown site #{id}", id=site_id))
        return subject_series(f"site:{site.key}")
    region = session.get(Region, region_id) if region_id is not None else None
    if region is None:
        raise NotFound(t("unknown region #{id}", id=region_id))
    subject = f"region:{region.code}"
    own = subject_series(subject)
    ind = indicators().get(indicator)
    how = ind.aggregation if ind else "latest"
    if how == "latest":
        return own
    under = Region.path.startswith(region.path + "/")
    readings = readings_as_of(session=session, as_of=until)
    figures = (
        readings.period_start,
        readings.period_end,
        readings.value,
        readings.numerator,
        readings.denominator,
    )
    region_rows = session.execute(
        sa.select(Region.path, *figures)
        .join(Region, Region.id == readings.region_id)
        .where(readings.indicator == indicator, readings.period_end <= until, under)
    )
    site_rows = session.execute(
        sa.select(Region.path + "/site:" + Site.key, *figures)
        .join(Site, Site.id == readings.site_id)
        .join(Region, Region.id == Site.region_id)
        .where(
            readings.indicator == indicator,
            readings.period_end <= until,
            or_(Region.id == region.id, under),
        )
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
