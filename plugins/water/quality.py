"""From parameter readings to classes, rates and shares, at section, city, province and lake level.

Readings are measurements of ``water.param.<code>`` for a section site, one per period
(normally a month). A section's class over a window (a month, a year so far) is the GB 3838
class of the mean concentration of each parameter over the window, as the annual assessment
does. Where a section has no parameter readings, a directly recorded ``water.section_class``
stands in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from duban.core.api import (
    Lean,
    Measurement,
    Site,
    actor,
    add_months,
    audit_record,
    last_of_month,
    month_start,
    now,
    readings_as_of,
    require_coordinator,
)

from . import classes
from .classes import classified as _classify
from .classes import stored_class
from .gb3838 import CLASSES, NON_COMPLIANT, Classification
from .indicators import (
    COUNTY_DRINKING,
    GOOD_RATE,
    MANGANESE,
    PARAM_CODES,
    PREFECTURE_DRINKING,
    SECTION_CLASS,
    TOTAL_PHOSPHORUS,
    WORSE_THAN_V_SHARE,
)
from .sections import GROUP_KINDS, SectionInfo, load_sections, region_cities

DERIVED_SOURCE = "water:gb3838"
_PARAM_KEYS = tuple(PARAM_CODES)


def window_classes(
    session: Session, sections: Iterable[SectionInfo], start: date, end: date, *, as_of: date
) -> dict[int, Classification]:
    """Each section's class over [start, end] from the mean of its readings in the window,
    as known as of ``as_of``."""
    by_id = {s.id: s for s in sections}
    if not by_id:
        return {}
    m = readings_as_of(session=session, as_of=as_of)
    means: dict[int, dict[str, float]] = defaultdict(dict)
    rows = session.exec(
        select(m.site_id, m.indicator, func.avg(m.value))
        .where(
            m.indicator.in_(_PARAM_KEYS),
            m.site_id.in_(list(by_id)),
            m.period_start >= start,
            m.period_end <= end,
        )
        .group_by(m.site_id, m.indicator)
    )
    for site_id, indicator, mean in rows:
        means[site_id][PARAM_CODES[indicator]] = float(mean)
    out: dict[int, Classification] = {}
    for site_id, values in means.items():
        found = _classify(values, by_id[site_id].lake)
        if found is not None:
            out[site_id] = found
    missing = [i for i in by_id if i not in out]
    if missing:
        for site_id, value in session.exec(
            select(m.site_id, m.value)
            .where(
                m.indicator == SECTION_CLASS,
                m.site_id.in_(missing),
                m.period_start >= start,
                m.period_end <= end,
            )
            .order_by(m.period_end)
        ):
            out[site_id] = stored_class(value)  # the latest wins
    return out


def monthly_classes(
    session: Session,
    sections: Iterable[SectionInfo],
    first: date,
    last: date,
    *,
    as_of: date | None,
) -> dict[int, dict[date, Classification]]:
    """``classes.monthly_classes`` on the session's connection."""
    session.flush()  # the SQL runs on the connection: it sees what was flushed
    return classes.monthly_classes(Lean.of_session(session), sections, first, last, as_of=as_of)


@dataclass
class Tally:
    """Counts behind the rates of one scope (a region or a lake/reach) and period."""

    scope: str  # region:<code> or site:<key>
    name: str
    good: int = 0
    worse_than_v: int = 0
    assessed: int = 0
    drinking: dict[str, list[int]] | None = None  # level -> [compliant, assessed]

    @property
    def good_rate(self) -> float | None:
        return round(100.0 * self.good / self.assessed, 2) if self.assessed else None

    @property
    def worse_than_v_share(self) -> float | None:
        return round(100.0 * self.worse_than_v / self.assessed, 2) if self.assessed else None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "scope": self.scope,
            "name": self.name,
            "assessed": self.assessed,
            "good": self.good,
            "good_rate": self.good_rate,
            "worse_than_v": self.worse_than_v,
            "worse_than_v_share": self.worse_than_v_share,
        }
        for level, (ok, n) in sorted((self.drinking or {}).items()):
            out[f"{level}_drinking_compliance"] = round(100.0 * ok / n, 2) if n else None
        return out


def drinking_compliant(found: Classification) -> bool:
    """A drinking source complies when it is class III or better and no Table 2/3 item exceeds."""
    return found.rank <= 3 and NON_COMPLIANT not in found.per_parameter.values()


def tallies(
    session: Session, sections: list[SectionInfo], classes: dict[int, Classification]
) -> list[Tally]:
    """Province, each city, and each lake or river reach with member sections, in that order.

    Good rate and 劣V share count national sections; drinking compliance counts drinking sources.
    """
    _, regions = region_cities(session)
    scopes: dict[str, Tally] = {}

    def tally_for(scope: str, name: str) -> Tally:
        if scope not in scopes:
            scopes[scope] = Tally(scope, name, drinking={})
        return scopes[scope]

    groups = {s.key: s.name for s in session.exec(select(Site).where(Site.kind.in_(GROUP_KINDS)))}
    roots = {r.code: r.name for r in regions.values() if r.parent_id is None}
    for sec in sections:
        found = classes.get(sec.id)
        if found is None or sec.region_id is None:
            continue
        region = regions[sec.region_id]
        root = region.path.split("/")[0]
        targets = [tally_for(f"region:{root}", roots.get(root, root))]
        if sec.city_id is not None:
            city = regions[sec.city_id]
            targets.append(tally_for(f"region:{city.code}", city.name))
        if sec.group in groups:
            targets.append(tally_for(f"site:{sec.group}", groups[sec.group]))
        for tally in targets:
            if sec.national:
                tally.assessed += 1
                tally.good += found.rank <= 3
                tally.worse_than_v += found.rank == len(CLASSES)
            if sec.drinking_source:
                pair = tally.drinking.setdefault(sec.drinking_source, [0, 0])  # type: ignore[union-attr]
                pair[0] += drinking_compliant(found)
                pair[1] += 1
    return sorted(scopes.values(), key=lambda x: (not x.scope.startswith("region:"), x.scope))


# Materialising -----------------------------------------------------------------------------


def refresh(*, session: Session, since: date | None = None) -> dict[str, int]:
    """Store the derived monthly measurements: each section's class (and manganese), each
    lake/reach's worst class and mean total phosphorus, and the good rate, 劣V share and drinking
    compliance of the province, every city and every lake/reach. Idempotent."""
    require_coordinator(session)
    sections = load_sections(session)
    if not sections:
        return {"written": 0, "unchanged": 0}
    ids = [s.id for s in sections]
    bounds = session.exec(
        select(func.min(Measurement.period_start), func.max(Measurement.period_end)).where(
            Measurement.site_id.in_(ids), Measurement.indicator.in_((*_PARAM_KEYS, SECTION_CLASS))
        )
    ).one()
    if bounds[0] is None:
        return {"written": 0, "unchanged": 0}
    first = max(bounds[0], since) if since else bounds[0]
    first, last = month_start(first), month_start(bounds[1])
    series = monthly_classes(session, sections, first, last, as_of=None)  # today's record
    manganese = _monthly_param(session, ids, "water.param.mn", first, last)
    phosphorus = _monthly_param(session, ids, "water.param.tp", first, last)
    writer = _Writer(session, first, last_of_month(last))
    keys = {s.id: s.key for s in sections}
    groups = {s.key: s for s in session.exec(select(Site).where(Site.kind.in_(GROUP_KINDS)))}
    _, regions = region_cities(session)
    region_ids = {r.code: r.id for r in regions.values()}
    month = first
    while month <= last:
        end = last_of_month(month)
        classes = {sid: by_month[month] for sid, by_month in series.items() if month in by_month}
        for sec in sections:
            found = classes.get(sec.id)
            if found is not None and found.limiting:  # computed here, not a recorded class
                writer.put(
                    SECTION_CLASS,
                    f"site:{sec.key}",
                    month,
                    end,
                    float(found.rank),
                    site_id=sec.id,
                    note=", ".join(found.limiting),
                )
            if (sec.id, month) in manganese:
                writer.put(
                    MANGANESE,
                    f"site:{sec.key}",
                    month,
                    end,
                    manganese[(sec.id, month)],
                    site_id=sec.id,
                )
        for key, group in groups.items():
            members = [s for s in sections if s.group == key]
            ranks = [classes[s.id].rank for s in members if s.id in classes]
            if ranks:
                writer.put(
                    SECTION_CLASS, f"site:{key}", month, end, float(max(ranks)), site_id=group.id
                )
            tps = [phosphorus[(s.id, month)] for s in members if (s.id, month) in phosphorus]
            if tps:
                writer.put(
                    TOTAL_PHOSPHORUS,
                    f"site:{key}",
                    month,
                    end,
                    round(sum(tps) / len(tps), 4),
                    site_id=group.id,
                )
        for tally in tallies(session, sections, classes):
            kind, ref = tally.scope.split(":", 1)
            where = (
                {"region_id": region_ids.get(ref)}
                if kind == "region"
                else {"site_id": groups[ref].id}
            )
            if tally.assessed:
                writer.put(
                    GOOD_RATE,
                    tally.scope,
                    month,
                    end,
                    tally.good_rate,
                    numerator=tally.good,  # type: ignore[arg-type]
                    denominator=tally.assessed,
                    **where,
                )
                writer.put(
                    WORSE_THAN_V_SHARE,
                    tally.scope,
                    month,
                    end,
                    tally.worse_than_v_share,  # type: ignore[arg-type]
                    numerator=tally.worse_than_v,
                    denominator=tally.assessed,
                    **where,
                )
            for level, key in (("county", COUNTY_DRINKING), ("prefecture", PREFECTURE_DRINKING)):
                ok, n = (tally.drinking or {}).get(level, (0, 0))
                if n:
                    writer.put(
                        key,
                        tally.scope,
                        month,
                        end,
                        round(100.0 * ok / n, 2),
                        numerator=ok,
                        denominator=n,
                        **where,
                    )
        month = add_months(month, 1)
    counts = writer.flush()
    if counts["written"]:
        audit_record(
            session,
            "water.refresh",
            "measurement",
            None,
            after={
                "from": first.isoformat(),
                "to": last_of_month(last).isoformat(),
                **counts,
                "sections": len(keys),
            },
        )
    return counts


def _monthly_param(
    session: Session, ids: list[int], key: str, first: date, last: date
) -> dict[tuple[int, date], float]:
    sums: dict[tuple[int, date], list[float]] = defaultdict(list)
    for site_id, start, value in session.exec(
        select(Measurement.site_id, Measurement.period_start, Measurement.value).where(
            Measurement.indicator == key,
            Measurement.site_id.in_(ids),
            Measurement.period_start >= first,
            Measurement.period_end <= last_of_month(last),
        )
    ):
        sums[(site_id, month_start(start))].append(value)
    return {k: round(sum(v) / len(v), 6) for k, v in sums.items()}


class _Writer:
    """Upserts derived measurements, touching only those whose value changed."""

    _KEYS = (
        SECTION_CLASS,
        MANGANESE,
        TOTAL_PHOSPHORUS,
        GOOD_RATE,
        WORSE_THAN_V_SHARE,
        COUNTY_DRINKING,
        PREFECTURE_DRINKING,
    )

    def __init__(self, session: Session, first: date, last: date) -> None:
        self.session = session
        self.stamp = now(session)
        self.actor = actor(session)
        self.existing = {
            (m.indicator, m.subject, m.period_start, m.period_end): m
            for m in session.exec(
                select(Measurement).where(
                    Measurement.indicator.in_(self._KEYS),
                    Measurement.period_start >= first,
                    Measurement.period_end <= last,
                )
            )
        }
        self.counts = {"written": 0, "unchanged": 0}

    def put(
        self,
        indicator: str,
        subject: str,
        start: date,
        end: date,
        value: float,
        *,
        site_id: int | None = None,
        region_id: int | None = None,
        numerator: float | None = None,
        denominator: float | None = None,
        note: str | None = None,
    ) -> None:
        row = self.existing.get((indicator, subject, start, end))
        if row is not None:
            if (row.value, row.numerator, row.denominator, row.note) == (
                value,
                numerator,
                denominator,
                note,
            ):
                self.counts["unchanged"] += 1
                return
            if row.source != DERIVED_SOURCE:  # a value someone recorded by hand wins
                self.counts["unchanged"] += 1
                return
        else:
            row = Measurement(
                indicator=indicator,
                subject=subject,
                period_start=start,
                period_end=end,
                site_id=site_id,
                region_id=region_id,
                value=value,
                source=DERIVED_SOURCE,
            )
            self.existing[(indicator, subject, start, end)] = row
        row.value, row.numerator, row.denominator, row.note = value, numerator, denominator, note
        row.recorded_by, row.recorded_at = self.actor, self.stamp
        self.session.add(row)
        self.counts["written"] += 1

    def flush(self) -> dict[str, int]:
        self.session.flush()
        return self.counts
