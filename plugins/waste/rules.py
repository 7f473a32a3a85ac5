"""The waste escalation rules (thresholds in duban.toml under ``[rules."<key>"]``).

* ``waste.harmless_below_target``: a county's harmless treatment rate below ``threshold``
  (97 %) in each of its last ``reports`` (2) reports -> supervise, addressed to the county's
  people's government.
* ``waste.no_sorting_system_at_deadline``: from ``deadline`` (2025-12-31) on, a
  prefecture-level city (地级城市) whose latest report says it has no sorting system, or a city
  (市州) none of whose county-level cities and counties reports one -> list (挂牌督办),
  addressed to the city's government. A city that never reported counts as without one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlmodel import select

from duban.core import api
from duban.core.api import EscalationRule, Finding, Region, RegionLevel, SweepContext

from . import indicators as ind
from .imports import system_indicator

HARMLESS_LOW = "waste.harmless_below_target"
NO_SYSTEM = "waste.no_sorting_system_at_deadline"

DEFAULTS: dict[str, dict[str, Any]] = {
    HARMLESS_LOW: {"level": api.Level.supervise.value, "threshold": 97.0, "reports": 2},
    NO_SYSTEM: {"level": api.Level.list.value, "deadline": "2025-12-31"},
}


def harmless_below_target(ctx: SweepContext) -> Iterator[Finding]:
    level = api.config_level(ctx.config, HARMLESS_LOW)
    threshold = api.config_number(ctx.config, HARMLESS_LOW, "threshold", 0)
    reports = int(api.config_number(ctx.config, HARMLESS_LOW, "reports", 1))
    session = ctx.session
    by_county: dict[int, list[tuple[date, float]]] = defaultdict(list)
    names: dict[int, str] = {}
    m = api.readings_as_of(session=session, as_of=ctx.as_of)
    for region_id, name, end, value in session.exec(
        select(m.region_id, Region.name, m.period_end, m.value)
        .join(Region, Region.id == m.region_id)
        .where(
            m.indicator == ind.HARMLESS,
            m.site_id.is_(None),
            Region.level.in_((RegionLevel.county, RegionLevel.zone)),
            m.period_end <= ctx.as_of,
        )
        .order_by(m.period_end, m.period_start)
    ):
        by_county[region_id].append((end, value))
        names[region_id] = name
    book = api.AddressBook(session)
    ob_id = api.obligation_for(session=session, indicator=ind.HARMLESS, domain="waste")
    for region_id, history in by_county.items():
        last = history[-reports:]
        if len(last) < reports or any(value >= threshold for _, value in last):
            continue
        shown = "、".join(f"{end.isoformat()} {value:.2f}%" for end, value in last)
        zh, en = api.both(
            "Harmless treatment rate of household waste in {county} below {target}% in its last "
            "{n} reports: {values}",
            county=names[region_id],
            target=f"{threshold:g}",
            n=reports,
            values=shown,
        )
        yield Finding(
            condition=f"waste:harmless:{region_id}",
            level=level,
            reason=zh,
            reason_en=en,
            subject_type="region",
            subject_id=region_id,
            obligation_id=ob_id,
            addressed_to_id=book.government(region_id),
            region_id=region_id,
        )


def latest_systems(session: Any, as_of: date) -> dict[int, float]:
    """Region id -> its latest "built a sorting system" answer (1 or 0) up to ``as_of``, as
    recorded by then."""
    latest: dict[int, float] = {}
    m = api.readings_as_of(session=session, as_of=as_of)
    for region_id, value in session.exec(
        select(m.region_id, m.value)
        .where(
            m.indicator.in_((ind.CITY_SYSTEMS, ind.COUNTY_SYSTEMS)),
            m.site_id.is_(None),
            m.period_end <= as_of,
        )
        .order_by(m.period_end, m.period_start)
    ):
        latest[region_id] = value
    return latest


def no_sorting_system(ctx: SweepContext) -> Iterator[Finding]:
    level = api.config_level(ctx.config, NO_SYSTEM)
    deadline = api.config_date(ctx.config, NO_SYSTEM, "deadline")
    if ctx.as_of < deadline:
        return
    session = ctx.session
    regions = api.Regions(session)
    latest = latest_systems(session, ctx.as_of)
    book = api.AddressBook(session)
    ob_id = api.obligation_for(session=session, indicator=ind.CITY_SYSTEMS, domain="waste")
    counties: dict[int, list[Region]] = defaultdict(list)
    for r in regions.by_id.values():
        if r.parent_id is not None and system_indicator(r) == ind.COUNTY_SYSTEMS:
            counties[r.parent_id].append(r)
    for city in sorted(
        (r for r in regions.by_id.values() if r.level == RegionLevel.city), key=lambda r: r.code
    ):
        if city.name.endswith("市") and latest.get(city.id, 0.0) < 1:
            zh, en = api.both(
                "{city} has no household waste sorting and treatment system as of {deadline}",
                city=city.name,
                deadline=deadline.isoformat(),
            )
            yield Finding(
                condition=f"waste:sorting_system:city:{city.id}",
                level=level,
                reason=zh,
                reason_en=en,
                subject_type="region",
                subject_id=city.id,
                obligation_id=ob_id,
                addressed_to_id=book.government(city.id),
                region_id=city.id,
            )
        below = counties.get(city.id, [])
        if below and not any(latest.get(r.id, 0.0) >= 1 for r in below):
            zh, en = api.both(
                "No county-level city or county of {city} has a household waste sorting and "
                "treatment system as of {deadline}",
                city=city.name,
                deadline=deadline.isoformat(),
            )
            yield Finding(
                condition=f"waste:sorting_system:county_level:{city.id}",
                level=level,
                reason=zh,
                reason_en=en,
                subject_type="region",
                subject_id=city.id,
                obligation_id=ob_id,
                addressed_to_id=book.government(city.id),
                region_id=city.id,
            )


RULES: tuple[EscalationRule, ...] = (
    EscalationRule(
        HARMLESS_LOW,
        "县城生活垃圾无害化处理率连续低于目标",
        "County-town harmless treatment rate below target in consecutive reports",
        harmless_below_target,
        DEFAULTS[HARMLESS_LOW],
        "A county's rate below threshold (%) in each of its last `reports` reports.",
    ),
    EscalationRule(
        NO_SYSTEM,
        "到期未建成生活垃圾分类处理系统",
        "No waste sorting and treatment system at the deadline",
        no_sorting_system,
        DEFAULTS[NO_SYSTEM],
        "From the deadline on: a prefecture-level city without a system, or a city none of "
        "whose county-level cities and counties has one.",
    ),
)
