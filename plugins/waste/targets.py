"""Default targets of the built-in plan's tasks （六） and （八） that the plan file does not
state itself. The counts are derived from the regions loaded with the plan."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, select

from duban.core.api import (
    Plan,
    Region,
    RegionLevel,
    UserError,
    add_missing_targets,
    get_settings,
    t,
)

from . import indicators as ind
from .imports import system_indicator

BUILTIN_PLAN = "hunan-yangtze-2023"
DUE = date(2025, 12, 31)
# 农村生活垃圾收转运设施"基本覆盖": read as at least this share of villages unless configured.
RURAL_COLLECTION_DEFAULT = 90.0


def _rural_target() -> float:
    value = get_settings().table("waste").get("rural_collection_target", RURAL_COLLECTION_DEFAULT)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise UserError(
            t(
                "duban.toml [waste] rural_collection_target: a percentage (0-100), not {value!r}",
                value=value,
            )
        )
    return float(value)


def defaults(session: Session) -> list[dict[str, Any]]:
    """The targets (``add_missing_targets`` specs), all "gte" by the end of 2025."""
    regions = session.exec(select(Region)).all()
    province = next((r for r in regions if r.level == RegionLevel.province), None)
    if province is None:
        return []

    def target(
        task: str, key: str, value: float, scope: Region, name: str, name_en: str, text: str
    ) -> dict[str, Any]:
        return dict(
            task=task,
            indicator=key,
            comparator="gte",
            value=value,
            due=DUE,
            region=scope.code,
            name=name,
            name_en=name_en,
            text=text,
        )

    cities = sorted((r for r in regions if r.level == RegionLevel.city), key=lambda r: r.code)
    prefecture_cities = [c for c in cities if c.name.endswith("市")]
    out = [
        target(
            "（六）",
            ind.CITY_SYSTEMS,
            float(len(prefecture_cities)),
            province,
            "建成生活垃圾分类处理系统的地级城市",
            "Prefecture-level cities with a waste sorting and treatment system",
            "其余地级城市基本建成生活垃圾分类处理系统",
        )
    ]
    with_county_level = {r.parent_id for r in regions if system_indicator(r) == ind.COUNTY_SYSTEMS}
    for city in cities:
        if city.id in with_county_level:
            out.append(
                target(
                    "（六）",
                    ind.COUNTY_SYSTEMS,
                    1.0,
                    city,
                    f"{city.name}建成生活垃圾分类处理系统的县级城市",
                    f"County-level cities of {city.name_en or city.name} with a waste sorting system",
                    "各市州至少有一个县级城市基本建立生活垃圾分类处理系统",
                )
            )
    out.append(
        target(
            "（六）",
            ind.HARMLESS,
            97.0,
            province,
            "县城生活垃圾无害化处理率",
            "Harmless treatment rate of household waste in county towns",
            "县城生活垃圾无害化处理率达到97%以上",
        )
    )
    out.append(
        target(
            "（八）",
            ind.RURAL_COLLECTION,
            _rural_target(),
            province,
            "农村生活垃圾收转运处置体系覆盖率",
            "Coverage of rural household waste collection and transfer",
            "农村生活垃圾收转运设施基本覆盖并稳定运行",
        )
    )
    return out


def attach_defaults(*, session: Session, plan: Plan) -> int:
    """Add the default targets the plan lacks (same indicator and scope in any of its tasks)."""
    if plan.key != BUILTIN_PLAN:
        return 0
    return add_missing_targets(
        session=session, plan=plan, targets=defaults(session), source="waste"
    )
