"""The fishing-ban escalation rules (thresholds in duban.toml under ``[rules."<key>"]``).

* ``fishing_ban.zero_employment_household_open``: a zero-employment household still without a
  member in work ``days`` (90) after it was identified -> supervise, addressed to its county's
  people's government; one escalation per household, resolved when the ledger records work.
* ``fishing_ban.illegal_fishing_rising``: a county's illegal-fishing cases rose in each of the
  last ``quarters`` (2) complete quarters -> summon (core addresses a summons to the body above
  the county government).
* ``fishing_ban.pension_below_full_at_year_end``: a county's pension-insurance coverage at the
  last year's end below ``threshold`` (100 %, 应保尽保) -> supervise, addressed to the county
  government; held until the next year-end figure.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from itertools import pairwise
from typing import Any

from sqlmodel import select

from duban.core import api
from duban.core.api import EscalationRule, Finding, Region, RegionLevel, SweepContext

from . import indicators as ind
from .imports import open_households

HOUSEHOLD_OPEN = "fishing_ban.zero_employment_household_open"
CASES_RISING = "fishing_ban.illegal_fishing_rising"
PENSION_YEAR_END = "fishing_ban.pension_below_full_at_year_end"

DEFAULTS: dict[str, dict[str, Any]] = {
    HOUSEHOLD_OPEN: {"level": api.Level.supervise.value, "days": 90},
    CASES_RISING: {"level": api.Level.summon.value, "quarters": 2},
    PENSION_YEAR_END: {"level": api.Level.supervise.value, "threshold": 100.0},
}


def zero_employment_households(ctx: SweepContext) -> Iterator[Finding]:
    level = api.config_level(ctx.config, HOUSEHOLD_OPEN)
    days = int(api.config_number(ctx.config, HOUSEHOLD_OPEN, "days", 1, whole=True))
    session = ctx.session
    late = [
        h
        for h in open_households(session)
        if h[3] <= ctx.as_of - timedelta(days=days + 1) and (h[4] is None or h[4] > ctx.as_of)
    ]
    if not late:
        return
    book = api.AddressBook(session)
    names = dict(session.exec(select(Region.id, Region.name)).all())
    ob_id = api.obligation_for(session=session, indicator=ind.ZERO_EMPLOYMENT, domain="fishing_ban")
    for site_id, number, region_id, identified, _ in late:
        open_days = (ctx.as_of - identified).days
        values = {
            "no": number,
            "county": names.get(region_id, ""),
            "day": identified.isoformat(),
            "days": open_days,
        }
        zh, en = api.both(
            "Zero-employment household {no} of {county}, identified {day}, has had no member "
            "in work for {days} days",
            **values,
        )
        yield Finding(
            condition=f"fishing_ban:household:{site_id}:zero_employment",
            level=level,
            reason=zh,
            reason_en=en,
            subject_type="site",
            subject_id=site_id,
            obligation_id=ob_id,
            addressed_to_id=book.government(region_id),
            region_id=region_id,
        )


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def _quarter_end(year: int, quarter: int) -> date:
    return date(year + quarter // 4, quarter % 4 * 3 + 1, 1) - timedelta(days=1)


def _previous(year: int, quarter: int) -> tuple[int, int]:
    return (year - 1, 4) if quarter == 1 else (year, quarter - 1)


def quarterly_cases(
    session: Any, until: date, as_of: date
) -> dict[int, dict[tuple[int, int], float]]:
    """County id -> {(year, quarter): cases}, from the counties' own readings lying within one
    quarter (monthly or quarterly figures), complete quarters up to ``until`` only, as
    recorded by ``as_of``."""
    out: dict[int, dict[tuple[int, int], float]] = defaultdict(lambda: defaultdict(float))
    m = api.readings_as_of(session=session, as_of=as_of)
    rows = session.exec(
        select(m.region_id, m.period_start, m.period_end, m.value)
        .join(Region, Region.id == m.region_id)
        .where(
            m.indicator == ind.CASES,
            m.site_id.is_(None),
            Region.level.in_((RegionLevel.county, RegionLevel.zone)),
            m.period_end <= until,
        )
    )
    for region_id, start, end, value in rows:
        q = quarter_of(start)
        if quarter_of(end) == q:
            out[region_id][q] += value
    return out


def cases_rising(ctx: SweepContext) -> Iterator[Finding]:
    level = api.config_level(ctx.config, CASES_RISING)
    rises = int(api.config_number(ctx.config, CASES_RISING, "quarters", 1, whole=True))
    session = ctx.session
    last = quarter_of(ctx.as_of)
    if _quarter_end(*last) > ctx.as_of:
        last = _previous(*last)
    wanted = [last]
    for _ in range(rises):
        wanted.append(_previous(*wanted[-1]))
    wanted.reverse()  # oldest first
    book = api.AddressBook(session)
    names = dict(session.exec(select(Region.id, Region.name)).all())
    ob_id = api.obligation_for(session=session, indicator=ind.CASES, domain="fishing_ban")
    for region_id, by_quarter in quarterly_cases(session, _quarter_end(*last), ctx.as_of).items():
        counts = [by_quarter.get(q) for q in wanted]
        if any(c is None for c in counts) or not all(a < b for a, b in pairwise(counts)):
            continue
        series = " → ".join(f"{y}Q{q} {c:g}" for (y, q), c in zip(wanted, counts, strict=True))
        values = {"county": names.get(region_id, ""), "n": rises, "series": series}
        zh, en = api.both(
            "Illegal fishing cases in {county} rose for {n} quarters in a row: {series}", **values
        )
        yield Finding(
            condition=f"fishing_ban:cases_rising:{region_id}",
            level=level,
            reason=zh,
            reason_en=en,
            subject_type="region",
            subject_id=region_id,
            obligation_id=ob_id,
            addressed_to_id=book.address(level, region_id=region_id),
            region_id=region_id,
        )


def pension_year_end(ctx: SweepContext) -> Iterator[Finding]:
    level = api.config_level(ctx.config, PENSION_YEAR_END)
    threshold = api.config_number(ctx.config, PENSION_YEAR_END, "threshold", 0)
    year = ctx.as_of.year if (ctx.as_of.month, ctx.as_of.day) == (12, 31) else ctx.as_of.year - 1
    session = ctx.session
    m = api.readings_as_of(session=session, as_of=ctx.as_of)
    rows = session.exec(
        select(m.region_id, Region.name, m.numerator, m.denominator, m.period_start)
        .join(Region, Region.id == m.region_id)
        .where(
            m.indicator == ind.PENSION_RATE,
            m.site_id.is_(None),
            Region.level.in_((RegionLevel.county, RegionLevel.zone)),
            m.period_end == date(year, 12, 31),
        )
        .order_by(m.period_start.desc())
    ).all()
    if not rows:
        return
    book = api.AddressBook(session)
    ob_id = api.obligation_for(session=session, indicator=ind.PENSION_RATE, domain="fishing_ban")
    seen: set[int] = set()
    for region_id, name, insured, eligible, _ in rows:
        if region_id in seen or not eligible:
            continue  # the shortest period ending on 31 Dec is the latest figure
        seen.add(region_id)
        coverage = 100.0 * insured / eligible
        if coverage >= threshold:
            continue
        values = {
            "county": name,
            "year": year,
            "rate": f"{coverage:.2f}",
            "insured": f"{insured:g}",
            "eligible": f"{eligible:g}",
            "target": f"{threshold:g}",
        }
        zh, en = api.both(
            "Pension insurance of retired fishers in {county} at the end of {year}: {rate}% "
            "({insured} of {eligible}), below {target}%",
            **values,
        )
        yield Finding(
            condition=f"fishing_ban:pension:{region_id}:{year}",
            level=level,
            reason=zh,
            reason_en=en,
            subject_type="region",
            subject_id=region_id,
            obligation_id=ob_id,
            addressed_to_id=book.government(region_id),
            region_id=region_id,
        )


RULES: tuple[EscalationRule, ...] = (
    EscalationRule(
        HOUSEHOLD_OPEN,
        '"零就业"家庭超期未就业',
        "Zero-employment household open too long",
        zero_employment_households,
        DEFAULTS[HOUSEHOLD_OPEN],
        "A household of the zero-employment ledger still without a member in work this many "
        "days after it was identified; addressed to the county government.",
    ),
    EscalationRule(
        CASES_RISING,
        "非法捕捞案件连续上升",
        "Illegal fishing cases rising quarter after quarter",
        cases_rising,
        DEFAULTS[CASES_RISING],
        "A county's illegal-fishing cases rose in each of this many consecutive complete quarters.",
    ),
    EscalationRule(
        PENSION_YEAR_END,
        "退捕渔民养老保险年末未应保尽保",
        "Retired fishers' pension insurance below full coverage at year end",
        pension_year_end,
        DEFAULTS[PENSION_YEAR_END],
        "A county's coverage (insured / eligible) in the figure ending 31 December below "
        "the threshold (%).",
    ),
)
