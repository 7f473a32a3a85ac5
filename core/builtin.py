"""Core's own contributions, registered through the same hooks as any plugin."""

from __future__ import annotations

from collections.abc import Callable

from .contributions import EscalationRule, Indicator, Notifier
from .hookspecs import hookimpl

# Indicators the built-in plan uses that no domain plugin owns (docs/plan-format.md) --------

_GENERAL_INDICATORS = (
    # key, Chinese name, English name, unit, direction, aggregation
    (
        "fertilizer_utilization_rate",
        "化肥利用率",
        "Fertilizer utilization rate",
        "%",
        "higher",
        "mean",
    ),
    (
        "pesticide_utilization_rate",
        "农药利用率",
        "Pesticide utilization rate",
        "%",
        "higher",
        "mean",
    ),
    (
        "livestock_manure_utilization_rate",
        "畜禽粪污综合利用率",
        "Comprehensive utilization rate of livestock and poultry manure",
        "%",
        "higher",
        "rate",
    ),
    (
        "agricultural_film_recovery_rate",
        "农膜回收率",
        "Agricultural plastic film recovery rate",
        "%",
        "higher",
        "rate",
    ),
    (
        "key_heavy_metal_discharge",
        "重点行业重点重金属污染物排放量",
        "Key heavy metal discharge from key industries",
        "t",
        "lower",
        "sum",
    ),
    ("tailings_pond_count", "尾矿库数量", "Number of tailings ponds", "座", "lower", "sum"),
    (
        "forest_coverage_rate",
        "森林覆盖率（林木绿化率）",
        "Forest coverage rate (tree cover rate)",
        "%",
        "higher",
        "rate",
    ),
    ("wetland_protection_rate", "湿地保护率", "Wetland protection rate", "%", "higher", "rate"),
)


@hookimpl
def duban_register_indicators(register: Callable[[Indicator], None]) -> None:
    for key, name, name_en, unit, direction, aggregation in _GENERAL_INDICATORS:
        register(
            Indicator(
                key=f"general.{key}",
                name=name,
                name_en=name_en,
                unit=unit,
                direction=direction,
                aggregation=aggregation,
                frequency="yearly",
            )
        )


# Escalation rules (core/escalation_rules.py; thresholds in docs/configuration.md) ---------------------
@hookimpl
def duban_register_escalation_rules(register: Callable[[EscalationRule], None]) -> None:
    from .escalation_rules import RULES

    for rule in RULES:
        register(rule)


# Delivery channels: e-mail, webhooks, the in-app inbox (core/notify/channels.py) ---------------
@hookimpl
def duban_register_notifiers(register: Callable[[Notifier], None]) -> None:
    from .notify.channels import register_core_notifiers

    register_core_notifiers(register)
