"""The dashboard panel: the province's latest resettlement, employment and enforcement figures."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlmodel import Session

from duban.core.api import Panel, PanelRow, Regions, get_settings, series, t

from . import indicators as ind
from .imports import open_households
from .rules import DEFAULTS, HOUSEHOLD_OPEN


def latest(session: Session, indicator: str, region_id: int, as_of: date) -> Any:
    found = series(session=session, indicator=indicator, region_id=region_id, until=as_of)
    return found[-1] if found else None


def _rate_row(label: str, m: Any, target: float, region_code: str) -> PanelRow:
    value = (
        f"{m.value:.1f}%（{m.numerator:g}/{m.denominator:g}）"
        if m.numerator is not None
        else f"{m.value:.1f}%"
    )
    return PanelRow(
        label=label,
        value=value,
        tone="good" if m.value >= target else "warn",
        filter=f"domain:fishing_ban region:{region_code}",
    )


def panels(session: Session, as_of: date) -> list[Panel]:
    province = Regions(session).province()
    if province is None:
        return []
    where = f"domain:fishing_ban region:{province.code}"
    rows: list[PanelRow] = []
    boats, fishers = (
        latest(session, k, province.id, as_of) for k in (ind.RETIRED_BOATS, ind.RETIRED_FISHERS)
    )
    if boats or fishers:
        rows.append(
            PanelRow(
                label=t("Withdrawn boats / fishers"),
                value=f"{boats.value:g} / {fishers.value:g}"
                if boats and fishers
                else f"{(boats or fishers).value:g}",
                filter=where,
            )
        )
    for key, label, target in (
        (ind.PENSION_RATE, t("Pension insurance coverage"), 100.0),
        (ind.EMPLOYMENT_RATE, t("Re-employment of those needing work"), 100.0),
        (ind.PATROL_RATE, t("Patrol coverage of no-fishing waters"), 100.0),
    ):
        m = latest(session, key, province.id, as_of)
        if m is not None:
            rows.append(_rate_row(label, m, target, province.code))
    days = int(get_settings().rule(HOUSEHOLD_OPEN, DEFAULTS[HOUSEHOLD_OPEN]).get("days", 90))
    households = [
        h for h in open_households(session) if h[3] <= as_of and (h[4] is None or h[4] > as_of)
    ]
    if households or rows:
        late = sum(1 for h in households if h[3] <= as_of - timedelta(days=days + 1))
        rows.append(
            PanelRow(
                label=t("Zero-employment households (open > {days} days)", days=days),
                value=f"{len(households)}（{late}）",
                tone="bad" if late else "warn" if households else "good",
                filter=where,
            )
        )
    cases = latest(session, ind.CASES, province.id, as_of)
    if cases is not None:
        rows.append(
            PanelRow(
                label=t(
                    "Illegal fishing cases ({period})",
                    period=f"{cases.period_start.isoformat()}～{cases.period_end.isoformat()}",
                ),
                value=f"{cases.value:g}",
                filter=where,
            )
        )
    if not rows:
        return []
    return [
        Panel(
            key="fishing_ban.overview",
            title="十年禁渔",
            title_en="Ten-year fishing ban",
            rows=tuple(rows),
        )
    ]
