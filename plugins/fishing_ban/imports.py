"""``duban import fishing-ban FILE`` (county statistics) and ``duban import
fishing-ban-households FILE`` (the zero-employment household ledger). Layouts: docs/plugins/fishing_ban.md.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from duban.core.api import (
    Column,
    Region,
    RegionLevel,
    Regions,
    Row,
    Site,
    Table,
    UserError,
    audit_record,
    import_region_readings,
    percent,
    region_reading,
    require_coordinator,
    t,
    today,
    upsert_readings,
    upsert_sites,
)

from . import indicators as ind

HOUSEHOLD_KIND = "fisher_household"

STAT_COLUMNS = (
    Column("region", ("地区", "县市区", "区县", "region"), required=True),
    Column("period", ("时间", "统计时间", "period"), required=True),
    Column("boats", ("退捕渔船", "退捕渔船数", "boats")),
    Column("fishers", ("退捕渔民", "退捕渔民数", "fishers")),
    Column("eligible", ("应参保人数", "eligible")),
    Column("insured", ("已参保人数", "参保人数", "insured")),
    Column("need_work", ("有就业需求人数", "有就业意愿和能力人数", "need_work")),
    Column("employed", ("已转产就业人数", "已就业人数", "employed")),
    Column("cases", ("非法捕捞案件", "案件数", "cases")),
    Column("persons", ("涉案人员", "涉案人数", "persons")),
    Column("checks", ("暗访检查", "暗访检查次数", "covert_checks")),
    Column("waters", ("禁捕水域", "禁捕水域数", "waters")),
    Column("patrolled", ("巡护覆盖水域", "已巡护水域", "patrolled")),
    Column("integrity", ("水生生物完整性指数", "integrity_index")),
    Column("abundance", ("水生生物资源量", "abundance")),
    Column("note", ("备注", "note")),
)

HOUSEHOLD_COLUMNS = (
    Column("household", ("户编号", "家庭编号", "household"), required=True),
    Column("region", ("地区", "县市区", "区县", "region"), required=True),
    Column("identified", ("认定日期", "identified_on"), required=True),
    Column("employed", ("就业日期", "解除日期", "employed_on")),
    Column("note", ("备注", "note")),
)

# Plain counts: column -> indicator.
_COUNTS = {
    "boats": ind.RETIRED_BOATS,
    "fishers": ind.RETIRED_FISHERS,
    "cases": ind.CASES,
    "persons": ind.PERSONS,
    "checks": ind.COVERT_CHECKS,
}
# Rates: (part, whole) -> indicator.
_RATES = {
    ("insured", "eligible"): ind.PENSION_RATE,
    ("employed", "need_work"): ind.EMPLOYMENT_RATE,
    ("patrolled", "waters"): ind.PATROL_RATE,
}
_INDEXES = {"integrity": ind.BIOTIC_INTEGRITY, "abundance": ind.ABUNDANCE}


def _region(row: Row, regions: Regions, *, county: bool = False) -> Region:
    ref = row.required("region")
    region = regions.get(ref)
    if region is None:
        raise row.bad("region", t("unknown region {ref!r}", ref=ref))
    if county and region.level not in (RegionLevel.county, RegionLevel.zone):
        raise row.bad("region", t("{name} is not a county-level region", name=region.name))
    return region


def _stat_row(row: Row, regions: Regions, day: date) -> list[dict[str, Any]]:
    region = _region(row, regions)
    period = row.period("period", day)
    note = row.text("note") or None
    out = []
    for col, key in _COUNTS.items():
        value = row.number(col, whole=True)
        if value is not None:
            out.append(region_reading(key, region, period, value, note=note))
    fishers = row.number("fishers", whole=True)
    for (part, whole), key in _RATES.items():
        pair = row.ratio(part, whole)
        if pair is None:
            continue
        if whole != "waters" and fishers is not None and pair[1] > fishers:
            raise row.bad(
                whole,
                t("greater than {other} ({value:g})", other=row.header("fishers"), value=fishers),
            )
        out.append(region_reading(key, region, period, percent(*pair), *pair, note=note))
    for col, key in _INDEXES.items():
        value = row.number(col)
        if value is not None:
            out.append(region_reading(key, region, period, value, note=note))
    if not out:
        raise row.bad("region", t("no figures in this row"))
    return out


def import_statistics(*, session: Session, path: Path, dry_run: bool = False) -> dict[str, Any]:
    """County (or city) figures per period: each becomes a reading; rates keep their parts."""
    return import_region_readings(
        session=session,
        path=path,
        columns=STAT_COLUMNS,
        parse=_stat_row,
        source="fishing-ban",
        action="import.fishing_ban",
        dry_run=dry_run,
    )


# The zero-employment household ledger -------------------------------------------------------


def household_key(region: Region, number: str) -> str:
    return f"{HOUSEHOLD_KIND}:{region.code}:{number}"


def _household(row: Row, regions: Regions, day: date) -> tuple[Region, dict[str, Any]]:
    region = _region(row, regions, county=True)
    no = row.required("household")
    identified = row.day("identified", day)
    if identified is None:
        raise row.bad("identified", t("empty"))
    employed = row.day("employed", day)
    if employed is not None and employed < identified:
        raise row.bad(
            "employed",
            t(
                "before {other} ({value})",
                other=row.header("identified"),
                value=identified.isoformat(),
            ),
        )
    return region, {
        "key": household_key(region, no),
        "name": f"{region.name} {no}",
        "region_id": region.id,
        "attrs": {
            "household": no,
            "identified_on": identified.isoformat(),
            "employed_on": employed.isoformat() if employed else None,
            "note": row.text("note") or None,
        },
    }


def import_households(*, session: Session, path: Path, dry_run: bool = False) -> dict[str, Any]:
    """Households identified as zero-employment (零就业家庭) and when a member found work.

    Households are kept as sites of kind ``fisher_household`` (keyed by county and ledger
    number; no names are stored); the monthly count per county is recomputed from all of them.
    """
    require_coordinator(session)
    table = Table(path, HOUSEHOLD_COLUMNS)
    regions, day = Regions(session), today(session)
    parsed: dict[str, dict[str, Any]] = {}
    for row, (region, found) in table.parse(lambda row: _household(row, regions, day)):
        other = table.earlier(row, found["key"])
        if other:
            table.reject(
                row,
                "household",
                t(
                    "household {no} of {region} is already on row {other}",
                    no=found["attrs"]["household"],
                    region=region.name,
                    other=other,
                ),
            )
        else:
            parsed[found["key"]] = found
    table.check()
    if not parsed:
        raise UserError(t("{path}: no households in the file", path=table.source))
    changes = upsert_sites(session=session, kind=HOUSEHOLD_KIND, sites=parsed)
    summary = table.summary(
        **changes.counts(len(parsed)),
        monthly_counts=refresh_counts(session=session),
        dry_run=dry_run,
    )
    if changes.created or changes.updated:
        audit_record(
            session,
            "import.fishing_ban_households",
            "site",
            None,
            after={
                **summary,
                "created_keys": changes.created[:200],
                "updated_ids": changes.updated[:200],
            },
        )
    return summary


def open_households(session: Session) -> list[tuple[int, str, int, date, date | None]]:
    """(site id, ledger number, county id, identified on, employed on) of every household."""
    out = []
    for sid, region_id, attrs in session.exec(
        select(Site.id, Site.region_id, Site.attrs)
        .where(Site.kind == HOUSEHOLD_KIND)
        .order_by(Site.id)
    ):
        attrs = attrs or {}
        employed = attrs.get("employed_on")
        out.append(
            (
                sid,
                attrs.get("household", ""),
                region_id,
                date.fromisoformat(attrs["identified_on"]),
                date.fromisoformat(employed) if employed else None,
            )
        )
    return out


def _month_ends(first: date, last: date) -> list[date]:
    ends, year, month = [], first.year, first.month
    while True:
        end = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
        if end > last:
            return ends
        ends.append(end)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def refresh_counts(*, session: Session) -> int:
    """The zero-employment households open at each month's end, per county, from the ledger
    (complete months only); returns how many readings were written or corrected."""
    households = open_households(session)
    if not households:
        return 0
    regions = Regions(session)
    ends = _month_ends(min(h[3] for h in households), today(session))
    per_county: dict[int, list[tuple[date, date | None]]] = defaultdict(list)
    for _, _, region_id, identified, employed in households:
        per_county[region_id].append((identified, employed))
    rows = []
    for region_id, spans in per_county.items():
        region = regions.by_id[region_id]
        for end in ends:
            count = sum(1 for start, stop in spans if start <= end and (stop is None or stop > end))
            rows.append(
                region_reading(ind.ZERO_EMPLOYMENT, region, (end.replace(day=1), end), float(count))
            )
    inserted, updated = upsert_readings(session=session, rows=rows, source="fishing-ban-households")
    return inserted + updated
