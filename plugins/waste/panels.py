"""The dashboard panel: the province's latest waste rates and the sorting systems built."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlmodel import Session

from duban.core.api import Panel, PanelRow, Regions, installed_indicators, series, t

from . import indicators as ind
from .imports import system_indicator
from .rules import latest_systems

# (indicator, label msgid, the plan's target in %, or None)
RATES = (
    (ind.HARMLESS, "County-town harmless treatment", 97.0),
    (ind.RECOVERY, "Recovery rate", None),
    (ind.SORTING, "Sorting coverage of streets and communities", None),
    (ind.RURAL_COLLECTION, "Rural collection and transfer coverage", None),
    (ind.RURAL_SEWAGE, "Rural sewage treatment", 35.0),
    (ind.LEACHATE_RATE, "Leachate treated", None),
)


def panels(session: Session, as_of: date) -> list[Panel]:
    regions = Regions(session)
    province = regions.province()
    if province is None:
        return []
    where = f"domain:waste region:{province.code}"
    known = installed_indicators()
    rows: list[PanelRow] = []
    for key, label, target in RATES:
        if key not in known:
            continue
        found = series(session=session, indicator=key, region_id=province.id, until=as_of)
        if not found:
            continue
        m = found[-1]
        tone = "normal" if target is None else "good" if m.value >= target else "warn"
        rows.append(
            PanelRow(
                label=t(label),
                value=f"{m.value:.1f}%（{m.period_end.isoformat()}）",
                tone=tone,
                filter=where,
            )
        )
    latest = latest_systems(session, as_of)
    if latest:
        cities = [r for r in regions.by_id.values() if r.level == "city"]
        prefecture = [c for c in cities if c.name.endswith("市")]
        built = sum(1 for c in prefecture if latest.get(c.id, 0) >= 1)
        rows.append(
            PanelRow(
                label=t("Prefecture-level cities with a sorting system"),
                value=f"{built} / {len(prefecture)}",
                tone="good" if built == len(prefecture) else "warn",
                filter=where,
            )
        )
        per_city: dict[int, bool] = defaultdict(bool)
        for r in regions.by_id.values():
            if system_indicator(r) == ind.COUNTY_SYSTEMS and r.parent_id is not None:
                per_city[r.parent_id] |= latest.get(r.id, 0) >= 1
        done = sum(1 for has in per_city.values() if has)
        rows.append(
            PanelRow(
                label=t("Cities with a county-level sorting system"),
                value=f"{done} / {len(per_city)}",
                tone="good" if done == len(per_city) else "warn",
                filter=where,
            )
        )
    if not rows:
        return []
    return [
        Panel(
            key="waste.overview",
            title="生活垃圾分类与处理",
            title_en="Household waste sorting and treatment",
            rows=tuple(rows),
        )
    ]
