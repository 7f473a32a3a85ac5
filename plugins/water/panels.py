"""Dashboard panels: sections by class per city, and the worst sections, for the latest month
with readings as of the dashboard's date."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from duban.core.api import Panel, PanelRow, add_months, last_of_month, month_start

from .gb3838 import CLASSES, Classification
from .quality import monthly_classes
from .sections import load_sections, region_cities

WORST_SHOWN = 8
LOOKBACK_MONTHS = 3


def latest_classes(session: Session, as_of: date) -> tuple[date | None, dict[int, Classification]]:
    """The latest month (within the last few) with any class, and every section's class in it."""
    sections = load_sections(session)
    series = monthly_classes(
        session, sections, add_months(month_start(as_of), -LOOKBACK_MONTHS), as_of, as_of=as_of
    )
    months = {m for by_month in series.values() for m in by_month if last_of_month(m) <= as_of}
    if not months:
        return None, {}
    month = max(months)
    return month, {sid: by_month[month] for sid, by_month in series.items() if month in by_month}


def panels(session: Session, as_of: date) -> list[Panel]:
    month, classes = latest_classes(session, as_of)
    if month is None:
        return []
    sections = {s.id: s for s in load_sections(session)}
    _, regions = region_cities(session)
    per_city: dict[int | None, list[int]] = {}
    for sid, found in classes.items():
        per_city.setdefault(sections[sid].city_id, [0] * len(CLASSES))[found.rank - 1] += 1
    rows = []
    for city_id, counts in sorted(
        per_city.items(), key=lambda kv: regions[kv[0]].code if kv[0] else ""
    ):
        region = regions.get(city_id) if city_id else None
        good = sum(counts[:3])
        value = f"I–III {good} · IV {counts[3]} · V {counts[4]} · 劣V {counts[5]}"
        tone = "bad" if counts[5] else "warn" if counts[3] or counts[4] else "good"
        rows.append(
            PanelRow(
                label=region.name if region else "—",
                value=value,
                tone=tone,
                filter=f"domain:water region:{region.code}" if region else "domain:water",
            )
        )
    worst = sorted(classes.items(), key=lambda kv: (-kv[1].rank, sections[kv[0]].name))[
        :WORST_SHOWN
    ]
    worst_rows = []
    for sid, found in worst:
        sec = sections[sid]
        region = regions.get(sec.city_id or sec.region_id or -1)
        behind = f" ({', '.join(found.limiting)})" if found.limiting else ""
        target = f" / {CLASSES[sec.target_rank - 1]}" if sec.target_rank else ""
        over = sec.target_rank is not None and found.rank > sec.target_rank
        worst_rows.append(
            PanelRow(
                label=f"{sec.name} · {region.name}" if region else sec.name,
                value=f"{found.water_class}{target}{behind}",
                tone="bad"
                if over or found.rank == len(CLASSES)
                else "warn"
                if found.rank > 3
                else "normal",
                filter=f"domain:water region:{region.code}" if region else "domain:water",
            )
        )
    label = month.strftime("%Y-%m")
    return [
        Panel(
            key="water.sections_by_class",
            title=f"断面水质类别（{label}）",
            title_en=f"Sections by water class ({label})",
            rows=tuple(rows),
        ),
        Panel(
            key="water.worst_sections",
            title=f"水质最差断面（{label}）",
            title_en=f"Worst sections ({label})",
            rows=tuple(worst_rows),
        ),
    ]
