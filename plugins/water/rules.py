"""The water escalation rules.

Sections (national sections with a target class):
  * ``water.section_worse_than_target``: the latest month's class is worse than the target
    -> supervise, addressed to the people's government of the section's city;
  * ``water.section_worse_consecutive``: worse in ``months`` (3) consecutive months -> list;
  * ``water.section_worse_at_year_end``: still worse in the year's last month -> summon.
  The three share one condition per section, so one escalation climbs the ladder, and only
  the highest applicable rung is reported.

Cities (good rate 优良率 of their national sections against a target):
  * ``water.city_good_rate_off_track``: the year-to-date good rate is below the target
    -> supervise;
  * ``water.city_good_rate_missed``: the year's good rate missed the target at the year's end
    -> freeze (区域限批, Environmental Protection Law art. 44) for the city, held until the next
    year-end assessment.
  City targets are targets of ``water.national_section_good_quality_rate`` scoped to a city,
  or ``[water] city_good_rate_targets`` in duban.toml (region code or name -> %).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, select

from duban.core import api
from duban.core.api import (
    EscalationRule,
    Finding,
    Region,
    RegionLevel,
    SweepContext,
    Target,
    UserError,
    add_months,
    last_of_month,
    month_start,
    t,
)

from .gb3838 import CLASSES
from .indicators import GOOD_RATE, SECTION_CLASS
from .quality import monthly_classes, window_classes
from .sections import SectionInfo, load_sections

WORSE = "water.section_worse_than_target"
CONSECUTIVE = "water.section_worse_consecutive"
YEAR_END = "water.section_worse_at_year_end"
OFF_TRACK = "water.city_good_rate_off_track"
MISSED = "water.city_good_rate_missed"

DEFAULTS: dict[str, dict[str, Any]] = {
    WORSE: {"level": api.Level.supervise.value, "max_age_days": 62},
    CONSECUTIVE: {"level": api.Level.list.value, "months": 3},
    YEAR_END: {"level": api.Level.summon.value, "month": 12},
    OFF_TRACK: {"level": api.Level.supervise.value, "tolerance": 0.0},
    MISSED: {"level": api.Level.freeze.value},
}


def _settings(key: str, ctx: SweepContext | None = None) -> dict[str, Any]:
    merged = api.get_settings().rule(key, DEFAULTS[key])
    if ctx is not None and ctx.config:
        merged.update({k: v for k, v in ctx.config.items() if k in DEFAULTS[key]})
    return merged


# Sections ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Standing:
    section: SectionInfo
    month: date
    water_class: str
    streak: int
    rung: str  # WORSE | CONSECUTIVE | YEAR_END


def section_standings(session: Session, as_of: date) -> list[_Standing]:
    """National sections whose latest monthly class is worse than their target, and the rung."""
    worse, consecutive, year_end = _settings(WORSE), _settings(CONSECUTIVE), _settings(YEAR_END)
    max_age = api.config_number(worse, WORSE, "max_age_days", 1)
    months = int(api.config_number(consecutive, CONSECUTIVE, "months", 2))
    last_month = int(api.config_number(year_end, YEAR_END, "month", 1))
    watched = [s for s in load_sections(session) if s.national and s.target_rank is not None]
    first = add_months(month_start(as_of), -(months + 12))
    series = monthly_classes(session, watched, first, as_of, as_of=as_of)
    out = []
    for sec in watched:
        # A month counts once it is over (its readings' period ended by as_of), as in core.
        by_month = {m: c for m, c in series.get(sec.id, {}).items() if last_of_month(m) <= as_of}
        if not by_month:
            continue
        latest = max(by_month)
        if (
            last_of_month(latest) < as_of - timedelta(days=max_age)
            or by_month[latest].rank <= sec.target_rank
        ):  # type: ignore[operator]
            continue
        streak, month = 0, latest
        while month in by_month and by_month[month].rank > sec.target_rank:  # type: ignore[operator]
            streak += 1
            month = add_months(month, -1)
        rung = (
            YEAR_END if latest.month == last_month else CONSECUTIVE if streak >= months else WORSE
        )
        out.append(_Standing(sec, latest, by_month[latest].water_class, streak, rung))
    return out


def _section_findings(ctx: SweepContext, rung: str) -> Iterator[Finding]:
    level = _settings(rung, ctx)["level"]
    session = ctx.session
    standings = [s for s in section_standings(session, ctx.as_of) if s.rung == rung]
    if not standings:
        return
    book = api.AddressBook(session)
    targets = {
        site_id: (tid, ob_id)
        for tid, ob_id, site_id in session.exec(
            select(Target.id, Target.obligation_id, Target.site_id)
            .where(Target.indicator == SECTION_CLASS, Target.site_id.is_not(None))
            .order_by(Target.id.desc())
        )
    }
    for st in standings:
        sec = st.section
        region_id = sec.city_id or sec.region_id
        target = CLASSES[sec.target_rank - 1]  # type: ignore[operator]
        zh, en = api.both(
            "Section {name}: class {cls} in {month}, worse than its target class {target} "
            "({n} consecutive month(s))",
            name=sec.name,
            cls=st.water_class,
            month=st.month.strftime("%Y-%m"),
            target=target,
            n=st.streak,
        )
        tid, ob_id = targets.get(sec.id, (None, None))
        yield Finding(
            condition=f"water:section:{sec.id}:worse_than_target",
            level=level,
            reason=zh,
            reason_en=en,
            subject_type="target" if tid else "site",
            subject_id=tid or sec.id,
            obligation_id=ob_id,
            addressed_to_id=book.government(region_id) if region_id else None,
            region_id=region_id,
        )


def section_worse(ctx: SweepContext) -> Iterator[Finding]:
    return _section_findings(ctx, WORSE)


def section_consecutive(ctx: SweepContext) -> Iterator[Finding]:
    return _section_findings(ctx, CONSECUTIVE)


def section_year_end(ctx: SweepContext) -> Iterator[Finding]:
    return _section_findings(ctx, YEAR_END)


# Cities --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CityTarget:
    region: Region
    value: float
    target_id: int | None = None
    obligation_id: int | None = None
    due_year: int | None = None  # a target row's year; a configured target holds every year


def city_targets(session: Session, year: int) -> list[CityTarget]:
    """Good-rate targets of cities for ``year``: targets due that year (or later, for the
    year-to-date check), then duban.toml's ``[water] city_good_rate_targets``."""
    found: dict[int, CityTarget] = {}
    rows = session.exec(
        select(Target, Region)
        .join(Region, Region.id == Target.region_id)
        .where(
            Target.indicator == GOOD_RATE,
            Region.level == RegionLevel.city,
            Target.value.is_not(None),
        )
        .order_by(Target.due, Target.id)
    )
    for target, region in rows:
        if target.due.year >= year and region.id not in found:
            found[region.id] = CityTarget(
                region,
                float(target.value),
                target.id,  # type: ignore[arg-type]
                target.obligation_id,
                target.due.year,
            )
    configured = api.get_settings().table("water").get("city_good_rate_targets", {})
    if not isinstance(configured, dict):
        raise UserError(
            t("duban.toml [water] city_good_rate_targets: must be a table of region = percentage")
        )
    for ref, value in configured.items():
        region = session.exec(
            select(Region).where((Region.code == str(ref)) | (Region.name == str(ref)))
        ).first()
        if region is None or region.level != RegionLevel.city:
            raise UserError(
                t("duban.toml [water] city_good_rate_targets: {ref!r} is not a city", ref=ref)
            )
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise UserError(
                t(
                    "duban.toml [water] city_good_rate_targets: {ref}: not a number: {value!r}",
                    ref=ref,
                    value=value,
                )
            )
        found.setdefault(region.id, CityTarget(region, float(value)))
    return list(found.values())


def city_rates(
    session: Session, start: date, end: date, *, as_of: date
) -> dict[int, tuple[int, int]]:
    """City id -> (good, assessed) national sections over [start, end] by mean
    concentrations, from the readings known as of ``as_of``."""
    national = [s for s in load_sections(session) if s.national and s.city_id is not None]
    classes = window_classes(session, national, start, end, as_of=as_of)
    out: dict[int, tuple[int, int]] = {}
    for sec in national:
        found = classes.get(sec.id)
        if found is not None:
            good, assessed = out.get(sec.city_id, (0, 0))  # type: ignore[arg-type]
            out[sec.city_id] = (good + (found.rank <= 3), assessed + 1)  # type: ignore[index]
    return out


def _city_findings(ctx: SweepContext, rule: str, year: int, end: date) -> Iterator[Finding]:
    cfg = _settings(rule, ctx)
    tolerance = api.config_number(cfg, rule, "tolerance", 0) if "tolerance" in cfg else 0.0
    session = ctx.session
    targets = [
        c for c in city_targets(session, year) if rule == OFF_TRACK or c.due_year in (None, year)
    ]
    if not targets:
        return
    rates = city_rates(session, date(year, 1, 1), end, as_of=ctx.as_of)
    book = api.AddressBook(session)
    for c in targets:
        good, assessed = rates.get(c.region.id, (0, 0))
        if not assessed:
            continue
        rate = round(100.0 * good / assessed, 2)
        if rate >= c.value - tolerance:
            continue
        if rule == OFF_TRACK:
            zh, en = api.both(
                "{city}: good-quality share of national sections {rate}% so far in {year} "
                "({good} of {n}), below its target {target}%",
                city=c.region.name,
                rate=rate,
                year=year,
                good=good,
                n=assessed,
                target=f"{c.value:g}",
            )
        else:
            zh, en = api.both(
                "{city} missed its {year} target for the good-quality share of national "
                "sections: {rate}% ({good} of {n}) against {target}%",
                city=c.region.name,
                rate=rate,
                year=year,
                good=good,
                n=assessed,
                target=f"{c.value:g}",
            )
        # A target row shares core's conditions for it, so core's and this rule's findings
        # are one escalation; a configured target has its own, per city and year.
        if c.target_id is not None:
            condition = (
                f"target:{c.target_id}"
                if rule == OFF_TRACK
                else f"region:{c.region.id}:target:{c.target_id}"
            )
        else:
            condition = f"water:good_rate:{c.region.id}:{year}"
        yield Finding(
            condition=condition,
            level=cfg["level"],
            reason=zh,
            reason_en=en,
            subject_type="target" if c.target_id and rule == OFF_TRACK else "region",
            subject_id=c.target_id if c.target_id and rule == OFF_TRACK else c.region.id,
            obligation_id=c.obligation_id,
            addressed_to_id=book.government(c.region.id),
            region_id=c.region.id,
        )


def city_off_track(ctx: SweepContext) -> Iterator[Finding]:
    if (ctx.as_of.month, ctx.as_of.day) == (12, 31):
        return iter(())  # the year's end: the year-end rule judges
    return _city_findings(ctx, OFF_TRACK, ctx.as_of.year, ctx.as_of)


def city_missed(ctx: SweepContext) -> Iterator[Finding]:
    year = ctx.as_of.year if (ctx.as_of.month, ctx.as_of.day) == (12, 31) else ctx.as_of.year - 1
    return _city_findings(ctx, MISSED, year, date(year, 12, 31))


RULES: tuple[EscalationRule, ...] = (
    EscalationRule(
        WORSE,
        "国考断面水质劣于目标",
        "National section worse than its target class",
        section_worse,
        DEFAULTS[WORSE],
        "The latest month's class is worse than the target; readings older than "
        "max_age_days are not judged.",
    ),
    EscalationRule(
        CONSECUTIVE,
        "国考断面连续超标",
        "National section worse than target for consecutive months",
        section_consecutive,
        DEFAULTS[CONSECUTIVE],
        "Worse than the target for this many consecutive months.",
    ),
    EscalationRule(
        YEAR_END,
        "国考断面年底仍未达标",
        "National section still worse than target at year end",
        section_year_end,
        DEFAULTS[YEAR_END],
        "Still worse than the target in this month (the year's last).",
    ),
    EscalationRule(
        OFF_TRACK,
        "城市水质优良率偏离目标",
        "City good-quality share off track",
        city_off_track,
        DEFAULTS[OFF_TRACK],
        "Year-to-date share of national sections at I–III below the city's target "
        "by more than tolerance (percentage points).",
    ),
    EscalationRule(
        MISSED,
        "城市水质优良率年度目标未完成",
        "City missed its year-end good-quality share",
        city_missed,
        DEFAULTS[MISSED],
        "The year's share of national sections at I–III below the city's target "
        "(Environmental Protection Law art. 44: regional approval freeze).",
    ),
)
