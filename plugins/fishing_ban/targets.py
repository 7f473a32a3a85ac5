"""Default targets of the built-in plan's task （二十） that the plan file does not state itself."""

from __future__ import annotations

from datetime import date
from typing import Any

from duban.core.models import Obligation, Plan, Region, RegionLevel, Target
from duban.core.services.targets import add_target
from sqlmodel import Session, select

from . import indicators as ind

BUILTIN_PLAN = "hunan-yangtze-2023"

# (task code, indicator, comparator, value, due, name, name_en, the plan's words)
DEFAULTS: tuple[tuple[str, str, str, float | None, date, str, str, str], ...] = (
    ("（二十）", ind.PENSION_RATE, "gte", 100.0, date(2025, 12, 31), "退捕渔民养老保险参保率（应保尽保）",
     "Retired fishers covered by basic pension insurance (all who are eligible)",
     "落实退捕渔民安置保障"),
)


def attach_defaults(*, session: Session, plan: Plan) -> int:
    """Add the default targets the plan lacks (same indicator and scope in any of its tasks)."""
    if plan.key != BUILTIN_PLAN:
        return 0
    province = session.exec(select(Region).where(Region.level == RegionLevel.province)).first()
    if province is None:
        return 0
    have: set[tuple[str, Any]] = set(session.exec(
        select(Target.indicator, Target.region_id).join(Obligation, Obligation.id == Target.obligation_id)
        .where(Obligation.plan_id == plan.id)).all())
    added = 0
    for code, key, comparator, value, due, name, name_en, text in DEFAULTS:
        ob = session.exec(select(Obligation).where(Obligation.plan_id == plan.id, Obligation.code == code)).first()
        if ob is None or (key, province.id) in have:
            continue
        add_target(session=session, obligation=ob, indicator=key, comparator=comparator, value=value,
                   due=due, region=province.code, name=name, name_en=name_en, text=text)
        added += 1
    return added
