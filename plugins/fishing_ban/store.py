"""Writing computed readings, and the look-ups the importers and rules share.

Readings go to core's ``Measurement`` table under the usual key (indicator, subject, period):
a reading already there with the same figures is left alone, a changed one is corrected, so
importing the same file twice changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from duban.core.models import Measurement, Obligation, Owner, Region, RegionLevel, Target
from duban.core.services.base import actor, now
from sqlalchemy import insert, or_, update
from sqlmodel import Session, select

_FIELDS = ("value", "numerator", "denominator", "note")
_CHUNK = 500


def reading(indicator: str, region: Region, period: tuple[date, date], value: float,
            numerator: float | None = None, denominator: float | None = None,
            note: str | None = None) -> dict[str, Any]:
    """A reading of a region; for a rate pass the numerator and denominator too."""
    return {"indicator": indicator, "subject": f"region:{region.code}", "region_id": region.id,
            "site_id": None, "period_start": period[0], "period_end": period[1], "value": value,
            "numerator": numerator, "denominator": denominator, "note": note}


def rate(numerator: float, denominator: float) -> float:
    return 100.0 * numerator / denominator


def upsert_readings(session: Session, rows: Iterable[dict[str, Any]], source: str) -> tuple[int, int]:
    """Insert new readings and correct changed ones; returns (inserted, updated)."""
    wanted = {(r["indicator"], r["subject"], r["period_start"], r["period_end"]): r for r in rows}
    if not wanted:
        return 0, 0
    subjects = sorted({k[1] for k in wanted})
    indicators = sorted({k[0] for k in wanted})
    first, last = min(k[2] for k in wanted), max(k[3] for k in wanted)
    existing: dict[tuple[str, str, date, date], Any] = {}
    for start in range(0, len(subjects), _CHUNK):
        for row in session.exec(select(
                Measurement.id, Measurement.indicator, Measurement.subject, Measurement.period_start,
                Measurement.period_end, *(getattr(Measurement, f) for f in _FIELDS)).where(
                Measurement.subject.in_(subjects[start:start + _CHUNK]),
                or_(*(Measurement.indicator == i for i in indicators)),
                Measurement.period_start >= first, Measurement.period_end <= last)):
            existing[(row.indicator, row.subject, row.period_start, row.period_end)] = row
    who, stamp = actor(session), now(session)
    new_rows, changes = [], []
    for key, r in wanted.items():
        old = existing.get(key)
        if old is None:
            new_rows.append({**r, "source": source, "recorded_by": who, "recorded_at": stamp})
        elif any(getattr(old, f) != r[f] for f in _FIELDS):
            changes.append({"id": old.id, **{f: r[f] for f in _FIELDS}, "source": source,
                            "recorded_by": who, "recorded_at": stamp})
    for start in range(0, len(new_rows), 5000):
        session.execute(insert(Measurement), new_rows[start:start + 5000])
    if changes:
        session.execute(update(Measurement), changes)
    session.flush()
    return len(new_rows), len(changes)


class Regions:
    """Every region by code, name, English name and unambiguous short name (长沙 = 长沙市)."""

    def __init__(self, session: Session) -> None:
        self.by_id = {r.id: r for r in session.exec(select(Region))}
        self._refs: dict[str, Region] = {}
        short: dict[str, list[Region]] = {}
        for r in self.by_id.values():
            for ref in (r.code, r.name, r.name_en):
                if ref:
                    self._refs.setdefault(ref, r)
            short.setdefault(re.sub(r"(省|市|县|区|自治州|自治县)$", "", r.name), []).append(r)
        for name, hits in short.items():
            if len(hits) == 1:
                self._refs.setdefault(name, hits[0])

    def get(self, ref: str) -> Region | None:
        return self._refs.get(ref.strip())

    def city_of(self, region: Region) -> Region | None:
        """The city (市州) containing a region, the region itself for a city."""
        for code in reversed(region.path.split("/")):
            hit = self._refs.get(code)
            if hit is not None and hit.level == RegionLevel.city:
                return hit
        return None

    def province(self) -> Region | None:
        return next((r for r in self.by_id.values() if r.level == RegionLevel.province), None)


def governments(session: Session) -> dict[int, int]:
    """Region id -> owner id of its people's government (derived when regions load)."""
    return {region_id: owner_id for owner_id, region_id in session.exec(
        select(Owner.id, Owner.region_id).where(Owner.kind == "government", Owner.region_id.is_not(None)))}


def obligation_for(session: Session, indicator: str, domain: str) -> int | None:
    """The obligation a finding belongs to: the one with a target on ``indicator``, else the
    first task of the plugin's domain."""
    found = session.exec(select(Target.obligation_id).where(Target.indicator == indicator)
                         .order_by(Target.id)).first()
    if found is not None:
        return found
    return session.exec(select(Obligation.id).where(Obligation.domain == domain,
                                                    Obligation.parent_id.is_(None))
                        .order_by(Obligation.plan_id, Obligation.seq)).first()
