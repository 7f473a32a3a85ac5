"""Default targets of the built-in plan's task （二十） that the plan file does not state itself."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from duban.core.api import Plan, add_missing_targets

from . import indicators as ind

BUILTIN_PLAN = "hunan-yangtze-2023"

# The province's targets (add_missing_targets specs).
DEFAULTS = (
    dict(
        task="（二十）",
        indicator=ind.PENSION_RATE,
        comparator="gte",
        value=100.0,
        due=date(2025, 12, 31),
        name="退捕渔民养老保险参保率（应保尽保）",
        name_en="Retired fishers covered by basic pension insurance (all who are eligible)",
        text="落实退捕渔民安置保障",
    ),
)


def attach_defaults(*, session: Session, plan: Plan) -> int:
    """Add the default targets the plan lacks (same indicator and scope in any of its tasks)."""
    return (
        add_missing_targets(session=session, plan=plan, targets=DEFAULTS, source="fishing_ban")
        if plan.key == BUILTIN_PLAN
        else 0
    )
