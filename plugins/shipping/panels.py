"""The dashboard panel: receipts and their closure, shore power and tank washing, province-wide."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session

from duban.core.api import Panel, PanelRow, Regions, series, t

from . import indicators as ind
from .receipts import receipt_rows, unclosed_days


def panels(session: Session, as_of: date) -> list[Panel]:
    province = Regions(session).province()
    if province is None:
        return []
    where = f"domain:shipping region:{province.code}"
    rows: list[PanelRow] = []
    # Receipts of this year so far, by month of issue.
    months = [
        m
        for m in series(
            session=session,
            indicator=ind.CLOSURE_RATE,
            region_id=province.id,
            until=as_of + timedelta(days=31),
        )
        if m.period_start.year == as_of.year and m.period_start <= as_of
    ]
    if months:
        closed, issued = sum(m.numerator for m in months), sum(m.denominator for m in months)
        share = 100.0 * closed / issued
        rows.append(
            PanelRow(
                label=t("Receipts closed in {year}", year=as_of.year),
                value=f"{share:.1f}%（{closed:g}/{issued:g}）",
                tone="good" if closed == issued else "warn",
                filter=where,
            )
        )
    receipts = receipt_rows(session)
    if receipts:
        days = unclosed_days()
        cutoff, day = (as_of - timedelta(days=days + 1)).isoformat(), as_of.isoformat()
        late = sum(
            1
            for _, _, a in receipts
            if a.get("received", "9")[:10] <= cutoff
            and (not a.get("disposed") or a["disposed"][:10] > day)
        )
        rows.append(
            PanelRow(
                label=t("Receipts open over {days} days", days=days),
                value=str(late),
                tone="bad" if late else "good",
                filter=where,
            )
        )
    for key, label in (
        (ind.SHORE_KWH, "Shore power delivered (kWh)"),
        (ind.SHORE_KWH_YOY, "Shore power, change on a year before"),
        (ind.TANK_WASHING, "Chemical tankers washed as required"),
        (ind.SMALL_SHIP_ASHORE, "Small ships handing sewage ashore"),
    ):
        found = series(session=session, indicator=key, region_id=province.id, until=as_of)
        if not found:
            continue
        m = found[-1]
        value = (
            f"{m.value:g}"
            if key == ind.SHORE_KWH
            else f"{m.value:+.1f}%"
            if key == ind.SHORE_KWH_YOY
            else f"{m.value:.1f}%"
        )
        tone = (
            ("bad" if m.value < 0 else "good")
            if key == ind.SHORE_KWH_YOY
            else "normal"
            if key == ind.SHORE_KWH
            else "good"
            if m.value >= 100
            else "warn"
        )
        rows.append(
            PanelRow(
                label=f"{t(label)}（{m.period_start.isoformat()}～{m.period_end.isoformat()}）",
                value=value,
                tone=tone,
                filter=where,
            )
        )
    if not rows:
        return []
    return [
        Panel(
            key="shipping.overview",
            title="船舶污染防治与岸电",
            title_en="Ship pollution and shore power",
            rows=tuple(rows),
        )
    ]
