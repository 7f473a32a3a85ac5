"""Writing what a plugin computed (from a file, a ledger, other readings) in bulk: readings,
sites of its own kinds, and the default targets it adds to a plan. The caller checks the role first and audits the import as a whole
(its summary), as importers do.

Readings go to the ``Measurement`` table under its usual key (indicator, subject, period): a
reading already there with the same figures is left alone and a changed one is corrected, so
writing the same readings twice changes nothing. Unlike ``record_measurement`` this writes
thousands of rows in a few statements. Sites are matched by key the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import insert, or_, update
from sqlmodel import Session, select

from .. import audit
from ..errors import UserError
from ..i18n import t
from ..models import Measurement, Obligation, Plan, Region, Site, Target
from ..spreadsheet_reader import Column, Row, Table
from .base import actor, now, require_coordinator, today
from .lookups import Regions
from .measurements import check_bounds, indicators
from .targets import add_target

_FIELDS = ("value", "numerator", "denominator", "note")
_CHUNK = 500  # subjects per look-up query (SQLite's bound-parameter limit)
_BATCH = 5000


def region_reading(
    indicator: str,
    region: Region,
    period: tuple[date, date],
    value: float,
    numerator: float | None = None,
    denominator: float | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """A reading of a region; for a rate pass the numerator and denominator too."""
    return {
        "indicator": indicator,
        "subject": f"region:{region.code}",
        "region_id": region.id,
        "site_id": None,
        "period_start": period[0],
        "period_end": period[1],
        "value": value,
        "numerator": numerator,
        "denominator": denominator,
        "note": note,
    }


def site_reading(
    indicator: str,
    site_key: str,
    site_id: int,
    region_id: int | None,
    period: tuple[date, date],
    value: float,
    numerator: float | None = None,
    denominator: float | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """A reading of a site (a port, a section): regions above it aggregate it like a sub-region's."""
    return {
        "indicator": indicator,
        "subject": f"site:{site_key}",
        "region_id": region_id,
        "site_id": site_id,
        "period_start": period[0],
        "period_end": period[1],
        "value": value,
        "numerator": numerator,
        "denominator": denominator,
        "note": note,
    }


def percent(numerator: float, denominator: float) -> float:
    return 100.0 * numerator / denominator


def upsert_readings(
    *, session: Session, rows: Iterable[dict[str, Any]], source: str
) -> tuple[int, int]:
    """Insert new readings and correct changed ones (``region_reading``/``site_reading`` dicts;
    the last of two with the same key wins); returns (inserted, updated)."""
    wanted = {(r["indicator"], r["subject"], r["period_start"], r["period_end"]): r for r in rows}
    if not wanted:
        return 0, 0
    subjects = sorted({k[1] for k in wanted})
    indicators = sorted({k[0] for k in wanted})
    first, last = min(k[2] for k in wanted), max(k[3] for k in wanted)
    existing: dict[tuple[str, str, date, date], Any] = {}
    for start in range(0, len(subjects), _CHUNK):
        for row in session.exec(
            select(
                Measurement.id,
                Measurement.indicator,
                Measurement.subject,
                Measurement.period_start,
                Measurement.period_end,
                *(getattr(Measurement, f) for f in _FIELDS),
            ).where(
                Measurement.subject.in_(subjects[start : start + _CHUNK]),
                or_(*(Measurement.indicator == i for i in indicators)),
                Measurement.period_start >= first,
                Measurement.period_end <= last,
            )
        ):
            existing[(row.indicator, row.subject, row.period_start, row.period_end)] = row
    who, stamp = actor(session), now(session)
    new_rows, changes = [], []
    for key, r in wanted.items():
        old = existing.get(key)
        figures = {f: r.get(f) for f in _FIELDS}
        if old is None:
            new_rows.append(
                {**r, **figures, "source": source, "recorded_by": who, "recorded_at": stamp}
            )
        elif any(getattr(old, f) != v for f, v in figures.items()):
            changes.append(
                {
                    "id": old.id,
                    **figures,
                    "source": source,
                    "recorded_by": who,
                    "recorded_at": stamp,
                }
            )
    for start in range(0, len(new_rows), _BATCH):
        session.execute(insert(Measurement), new_rows[start : start + _BATCH])
    if changes:
        session.execute(update(Measurement), changes)
    session.flush()
    return len(new_rows), len(changes)


@dataclass(frozen=True)
class SiteChanges:
    created: list[str]  # keys of the sites created
    updated: list[int]  # ids of the sites whose region or attributes changed
    before: dict[str, dict[str, Any] | None]  # every site of the kind before: key -> attrs

    def counts(self, total: int) -> dict[str, int]:
        """created / updated / unchanged of ``total`` sites given, for an import's summary."""
        return {
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": total - len(self.created) - len(self.updated),
        }


def upsert_sites(
    *, session: Session, kind: str, sites: Mapping[str, dict[str, Any]]
) -> SiteChanges:
    """Create the sites of ``kind`` not there yet and update those whose ``region_id`` or
    ``attrs`` changed; ``sites`` maps each key to its columns (key, name, region_id, attrs)."""
    existing = {
        key: (sid, region_id, attrs)
        for sid, key, region_id, attrs in session.exec(
            select(Site.id, Site.key, Site.region_id, Site.attrs).where(Site.kind == kind)
        )
    }
    new = [
        {"name_en": None, **s, "key": key, "kind": kind}
        for key, s in sites.items()
        if key not in existing
    ]
    changed = [
        {"id": existing[key][0], "region_id": s.get("region_id"), "attrs": s.get("attrs")}
        for key, s in sites.items()
        if key in existing and existing[key][1:] != (s.get("region_id"), s.get("attrs"))
    ]
    for start in range(
        0, len(new), _BATCH
    ):  # Core executemany: the ORM's per-row bookkeeping is slow
        session.connection().execute(insert(Site.__table__), new[start : start + _BATCH])
    if changed:
        session.execute(update(Site), changed)
    session.flush()
    return SiteChanges(
        [s["key"] for s in new],
        [c["id"] for c in changed],
        {key: attrs for key, (_, _, attrs) in existing.items()},
    )


def add_missing_targets(
    *, session: Session, plan: Plan, targets: Iterable[dict[str, Any]], source: str
) -> int:
    """Add each target (``add_target``'s keywords, with ``task`` the code of its obligation in
    ``plan`` and ``region`` a region code, the whole plan's region if left out) unless the task is
    missing or one of the plan's tasks already has a target on the same indicator and region;
    returns how many were added. Each is labelled as suggested by ``source`` (the plugin's
    name): a suggestion, never the plan's own target."""
    have = set(
        session.exec(
            select(Target.indicator, Region.code)
            .join(Obligation, Obligation.id == Target.obligation_id)
            .join(Region, Region.id == Target.region_id)
            .where(Obligation.plan_id == plan.id)
        ).all()
    )
    tasks: dict[str | None, Obligation] = {}
    for ob in session.exec(
        select(Obligation).where(Obligation.plan_id == plan.id).order_by(Obligation.id)
    ):
        tasks.setdefault(ob.code, ob)
    root = session.exec(
        select(Region.code).where(Region.parent_id.is_(None)).order_by(Region.id)
    ).first()
    added = 0
    for spec in targets:
        fields = {"region": root, **spec}
        ob = tasks.get(fields.pop("task"))
        if (
            ob is None
            or fields["region"] is None
            or (fields["indicator"], fields["region"]) in have
        ):
            continue
        add_target(session=session, obligation=ob, source=source, **fields)
        have.add((fields["indicator"], fields["region"]))
        added += 1
    return added


def import_region_readings(
    *,
    session: Session,
    path: Path,
    columns: Sequence[Column],
    parse: Callable[[Row, Regions, date], list[dict[str, Any]]],
    source: str,
    action: str,
    dry_run: bool = False,
) -> dict[str, Any]:
    """The usual figures import (coordinators only): ``parse(row, regions, today)`` gives a row's
    readings, all of the region in its ``region`` column and one period. A row repeating an
    earlier row's region and period is a problem too; all are reported together and nothing is
    written while there are any. The readings are then upserted (``source``) and the import
    audited as ``action``; returns the summary."""
    require_coordinator(session)
    table = Table(path, columns)
    regions, day = Regions(session), today(session)
    known = indicators()
    readings: list[dict[str, Any]] = []
    for row, found in table.parse(lambda row: parse(row, regions, day)):
        for reading in found:  # a rate past 100 %, a negative count: the indicator's bounds
            indicator = known.get(reading["indicator"])
            if indicator is not None and reading.get("value") is not None:
                try:
                    check_bounds(reading["value"], indicator, what=indicator.label)
                except UserError as exc:
                    table.reject(row, reading["indicator"], str(exc))
        other = table.earlier(
            row, (found[0]["subject"], found[0]["period_start"], found[0]["period_end"])
        )
        if other:
            table.reject(row, "region", t("the same region and period as row {other}", other=other))
        else:
            readings += found
    table.check()
    if not readings:
        raise UserError(t("{path}: no figures in the file", path=table.source))
    inserted, updated = upsert_readings(session=session, rows=readings, source=source)
    summary = table.summary(
        readings=len(readings),
        inserted=inserted,
        updated=updated,
        unchanged=len(readings) - inserted - updated,
        dry_run=dry_run,
    )
    if inserted or updated:
        audit.record(session, action, "measurement", None, after=summary)
    return summary
