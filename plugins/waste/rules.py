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
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from duban.core.errors import UserError
from duban.core.i18n import t, t_zh
from duban.core.models import LEVEL_ORDER, Level, Measurement, Region, RegionLevel
from duban.core.registry import EscalationRule, Finding, RuleContext
from sqlmodel import select

from . import indicators as ind
from .imports import system_indicator
from .store import Regions, governments, obligation_for

HARMLESS_LOW = "waste.harmless_below_target"
NO_SYSTEM = "waste.no_sorting_system_at_deadline"

DEFAULTS: dict[str, dict[str, Any]] = {
    HARMLESS_LOW: {"level": Level.supervise.value, "threshold": 97.0, "reports": 2},
    NO_SYSTEM: {"level": Level.list.value, "deadline": "2025-12-31"},
}


def both(msgid: str, **values: Any) -> tuple[str, str]:
    """Escalations store their reason in Chinese and in English."""
    return t_zh(msgid, **values), msgid.format(**values)


def _config(ctx: RuleContext, rule: str) -> dict[str, Any]:
    cfg = {**DEFAULTS[rule], **(ctx.config or {})}
    if cfg.get("level") not in LEVEL_ORDER:
        raise UserError(t('duban.toml [rules."{rule}"] level: unknown level {value!r}; one of {choices}',
                          rule=rule, value=cfg.get("level"), choices=", ".join(LEVEL_ORDER)))
    return cfg


def _number(cfg: Mapping[str, Any], rule: str, name: str, minimum: float) -> float:
    value = cfg.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise UserError(t('duban.toml [rules."{rule}"] {name}: must be a number, at least {minimum}, '
                          "not {value!r}", rule=rule, name=name, minimum=minimum, value=value))
    return value


def harmless_below_target(ctx: RuleContext) -> Iterator[Finding]:
    cfg = _config(ctx, HARMLESS_LOW)
    threshold = _number(cfg, HARMLESS_LOW, "threshold", 0)
    reports = int(_number(cfg, HARMLESS_LOW, "reports", 1))
    session = ctx.session
    by_county: dict[int, list[tuple[date, float]]] = defaultdict(list)
    names: dict[int, str] = {}
    for region_id, name, end, value in session.exec(
            select(Measurement.region_id, Region.name, Measurement.period_end, Measurement.value)
            .join(Region, Region.id == Measurement.region_id)
            .where(Measurement.indicator == ind.HARMLESS, Measurement.site_id.is_(None),
                   Region.level.in_((RegionLevel.county, RegionLevel.zone)),
                   Measurement.period_end <= ctx.as_of)
            .order_by(Measurement.period_end, Measurement.period_start)):
        by_county[region_id].append((end, value))
        names[region_id] = name
    govs = governments(session)
    ob_id = obligation_for(session, ind.HARMLESS, "waste")
    for region_id, history in by_county.items():
        last = history[-reports:]
        if len(last) < reports or any(value >= threshold for _, value in last):
            continue
        shown = "、".join(f"{end.isoformat()} {value:.2f}%" for end, value in last)
        zh, en = both("Harmless treatment rate of household waste in {county} below {target}% in its last "
                      "{n} reports: {values}", county=names[region_id], target=f"{threshold:g}", n=reports,
                      values=shown)
        yield Finding(condition=f"waste:harmless:{region_id}", level=cfg["level"], reason=zh, reason_en=en,
                      subject_type="region", subject_id=region_id, obligation_id=ob_id,
                      addressed_to_id=govs.get(region_id), region_id=region_id)


def latest_systems(session: Any, as_of: date) -> dict[int, float]:
    """Region id -> its latest "built a sorting system" answer (1 or 0) up to ``as_of``."""
    latest: dict[int, float] = {}
    for region_id, value in session.exec(
            select(Measurement.region_id, Measurement.value)
            .where(Measurement.indicator.in_((ind.CITY_SYSTEMS, ind.COUNTY_SYSTEMS)),
                   Measurement.site_id.is_(None), Measurement.period_end <= as_of)
            .order_by(Measurement.period_end, Measurement.period_start)):
        latest[region_id] = value
    return latest


def no_sorting_system(ctx: RuleContext) -> Iterator[Finding]:
    cfg = _config(ctx, NO_SYSTEM)
    try:
        deadline = date.fromisoformat(str(cfg["deadline"]))
    except ValueError:
        raise UserError(t('duban.toml [rules."{rule}"] deadline: not a date (YYYY-MM-DD): {value!r}',
                          rule=NO_SYSTEM, value=cfg["deadline"])) from None
    if ctx.as_of < deadline:
        return
    session = ctx.session
    regions = Regions(session)
    latest = latest_systems(session, ctx.as_of)
    govs = governments(session)
    ob_id = obligation_for(session, ind.CITY_SYSTEMS, "waste")
    counties: dict[int, list[Region]] = defaultdict(list)
    for r in regions.by_id.values():
        if r.parent_id is not None and system_indicator(r) == ind.COUNTY_SYSTEMS:
            counties[r.parent_id].append(r)
    for city in sorted((r for r in regions.by_id.values() if r.level == RegionLevel.city), key=lambda r: r.code):
        if city.name.endswith("市") and latest.get(city.id, 0.0) < 1:
            zh, en = both("{city} has no household waste sorting and treatment system as of {deadline}",
                          city=city.name, deadline=deadline.isoformat())
            yield Finding(condition=f"waste:sorting_system:city:{city.id}", level=cfg["level"], reason=zh,
                          reason_en=en, subject_type="region", subject_id=city.id, obligation_id=ob_id,
                          addressed_to_id=govs.get(city.id), region_id=city.id)
        below = counties.get(city.id, [])
        if below and not any(latest.get(r.id, 0.0) >= 1 for r in below):
            zh, en = both("No county-level city or county of {city} has a household waste sorting and "
                          "treatment system as of {deadline}", city=city.name, deadline=deadline.isoformat())
            yield Finding(condition=f"waste:sorting_system:county_level:{city.id}", level=cfg["level"],
                          reason=zh, reason_en=en, subject_type="region", subject_id=city.id,
                          obligation_id=ob_id, addressed_to_id=govs.get(city.id), region_id=city.id)


RULES: tuple[EscalationRule, ...] = (
    EscalationRule(HARMLESS_LOW, "县城生活垃圾无害化处理率连续低于目标",
                   "County-town harmless treatment rate below target in consecutive reports",
                   harmless_below_target, DEFAULTS[HARMLESS_LOW],
                   "A county's rate below threshold (%) in each of its last `reports` reports."),
    EscalationRule(NO_SYSTEM, "到期未建成生活垃圾分类处理系统",
                   "No waste sorting and treatment system at the deadline", no_sorting_system,
                   DEFAULTS[NO_SYSTEM],
                   "From the deadline on: a prefecture-level city without a system, or a city none of "
                   "whose county-level cities and counties has one."),
)
