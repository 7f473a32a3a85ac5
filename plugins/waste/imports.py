"""``duban import waste FILE``: waste figures per region and period (docs/plugins/waste.md)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session

from duban.core.api import (
    Column,
    Region,
    RegionLevel,
    Regions,
    Row,
    import_region_readings,
    installed_indicators,
    percent,
    region_reading,
    t,
)

from . import indicators as ind

COLUMNS = (
    Column("region", ("地区", "县市区", "region"), required=True),
    Column("period", ("时间", "统计时间", "period"), required=True),
    Column("collected", ("生活垃圾清运量", "生活垃圾产生量", "collected")),
    Column("treated", ("无害化处理量", "treated")),
    Column("recovered", ("回收利用量", "recovered")),
    Column("units", ("街道社区总数", "streets_and_communities")),
    Column("units_sorting", ("已开展分类街道社区数", "分类覆盖街道社区数", "sorting")),
    Column("system", ("建成分类处理系统", "sorting_system")),
    Column("villages", ("行政村总数", "villages")),
    Column("villages_collected", ("收转运覆盖行政村数", "villages_collected")),
    Column("villages_sewage", ("生活污水治理行政村数", "villages_sewage_treated")),
    Column("leachate", ("渗滤液产生量", "leachate")),
    Column("leachate_treated", ("渗滤液处理量", "leachate_treated")),
    Column("note", ("备注", "note")),
)

_YES = {"是", "有", "已建成", "yes", "y", "1", "true"}
_NO = {"否", "无", "未建成", "no", "n", "0", "false"}


def system_indicator(region: Region) -> str | None:
    """Which count a region's "built a sorting system" answer adds to: cities (市州) count as
    prefecture-level cities; county-level cities and counties as county-level cities (县级城市,
    which includes county towns); districts belong to their city's system."""
    if region.level == RegionLevel.city:
        return ind.CITY_SYSTEMS
    if region.level == RegionLevel.county and not region.name.endswith("区"):
        return ind.COUNTY_SYSTEMS
    return None


def _row(row: Row, regions: Regions, day: date, known: set[str]) -> list[dict[str, Any]]:
    ref = row.required("region")
    region = regions.get(ref)
    if region is None:
        raise row.bad("region", t("unknown region {ref!r}", ref=ref))
    period = row.period("period", day)
    note = row.text("note") or None
    out = []
    collected = row.number("collected")
    if collected is not None:
        out.append(region_reading(ind.GENERATED, region, period, collected, note=note))
    for part, key in (("treated", ind.HARMLESS), ("recovered", ind.RECOVERY)):
        pair = row.ratio(part, "collected", counts=False)
        if pair is not None:
            out.append(region_reading(key, region, period, percent(*pair), *pair, note=note))
    for part, whole, key, counts in (
        ("units_sorting", "units", ind.SORTING, True),
        ("villages_collected", "villages", ind.RURAL_COLLECTION, True),
        ("villages_sewage", "villages", ind.RURAL_SEWAGE, True),
        ("leachate_treated", "leachate", ind.LEACHATE_RATE, False),
    ):
        pair = row.ratio(part, whole, counts=counts)
        if pair is None:
            continue
        if key not in known:
            raise row.bad(
                part, t("indicator {key} is not installed (its plugin is not loaded)", key=key)
            )
        out.append(region_reading(key, region, period, percent(*pair), *pair, note=note))
    leachate = row.number("leachate")
    if leachate is not None:
        out.append(region_reading(ind.LEACHATE, region, period, leachate, note=note))
    answer = row.text("system")
    if answer:
        if answer.casefold() not in _YES | _NO:
            raise row.bad("system", t("answer 是 or 否, not {value!r}", value=answer))
        key = system_indicator(region)
        if key is None:
            raise row.bad(
                "system",
                t(
                    "{name} is a district or zone: its city reports the sorting system",
                    name=region.name,
                ),
            )
        out.append(
            region_reading(
                key, region, period, 1.0 if answer.casefold() in _YES else 0.0, note=note
            )
        )
    if not out:
        raise row.bad("region", t("no figures in this row"))
    return out


def import_waste(*, session: Session, path: Path, dry_run: bool = False) -> dict[str, Any]:
    """Tonnages and counts per region and period; every rate is computed from its parts."""
    known = set(installed_indicators())
    return import_region_readings(
        session=session,
        path=path,
        columns=COLUMNS,
        parse=lambda row, regions, day: _row(row, regions, day, known),
        source="waste",
        action="import.waste",
        dry_run=dry_run,
    )
