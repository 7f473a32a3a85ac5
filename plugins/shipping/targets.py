"""Default targets of the built-in plan's task （九）, which states its goals without numbers:
receipts on a closed loop (闭环) and chemical tankers washed whenever required (应洗尽洗) by the
end of 2025, small ships' sewage handed ashore, and shore power in growing use."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from duban.core.api import Plan, add_missing_targets

from . import indicators as ind

BUILTIN_PLAN = "hunan-yangtze-2023"
TASK = "（九）"
DUE = date(2025, 12, 31)

# (indicator, comparator, value, name, name_en, the plan's words)
DEFAULTS: tuple[tuple[str, str, float | None, str, str, str], ...] = (
    (
        ind.CLOSURE_RATE,
        "gte",
        100.0,
        "船舶污染物接收转运处置联单闭环率",
        "Closure rate of ship pollutant receipts",
        "主要内河港口船舶污染物接收、转运、处置基本实行电子单证全程闭环",
    ),
    (
        ind.TANK_WASHING,
        "gte",
        100.0,
        "化学品船洗舱作业应洗尽洗率",
        "Chemical tankers washed whenever required",
        "载运化学品船舶洗舱作业基本实现应洗尽洗",
    ),
    (
        ind.SMALL_SHIP_ASHORE,
        "gte",
        100.0,
        "400总吨以下船舶生活污水船上储存交岸处置率",
        "Ships under 400 GT storing sewage on board and handing it ashore",
        "400总吨以下小船生活污水实行船上存储、交岸接收",
    ),
    (
        ind.SHORE_KWH,
        "trend_up",
        None,
        "岸电用电量",
        "Shore power delivered",
        "推进船舶与码头岸电改造，降低使用成本",
    ),
)


def attach_defaults(*, session: Session, plan: Plan) -> int:
    """Add the default targets the plan lacks (same indicator and scope in any of its tasks)."""
    if plan.key != BUILTIN_PLAN:
        return 0
    return add_missing_targets(
        session=session,
        plan=plan,
        targets=[
            dict(
                task=TASK,
                indicator=key,
                comparator=comparator,
                value=value,
                due=DUE,
                name=name,
                name_en=name_en,
                text=text,
            )
            for key, comparator, value, name, name_en, text in DEFAULTS
        ],
        source="shipping",
    )
