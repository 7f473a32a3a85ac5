"""Core's own contributions, registered through the same hooks as any plugin."""

from __future__ import annotations

from collections.abc import Callable

from .contributions import EscalationRule, Indicator, Notifier
from .hooks import labels_hook
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


# Names of core's domain and of the audit actions core records ----------------------------
_ACTIONS = (
    ("closeout.reject", "销号申请被退回", "Close-out rejected"),
    ("closeout.submit", "申请销号", "Close-out submitted"),
    ("closeout.verify", "销号审核通过", "Close-out verified"),
    ("database.init", "初始化数据库", "Database initialised"),
    ("escalation.ack", "督办已签收", "Escalation acknowledged"),
    ("escalation.follow_up", "生成后续任务", "Follow-up task created"),
    ("escalation.open", "新开督办", "Escalation opened"),
    ("escalation.raise", "督办升级", "Escalation raised"),
    ("escalation.resolve", "督办解除", "Escalation resolved"),
    ("evidence.add", "添加证明材料", "Evidence attached"),
    ("feed.add", "新增日历订阅", "Calendar feed added"),
    ("feed.revoke", "撤销日历订阅", "Calendar feed revoked"),
    ("feed.rotate", "更换日历订阅地址", "Calendar feed address changed"),
    ("import.obligations", "导入任务", "Obligations imported"),
    ("import.measurements", "导入监测数据", "Readings imported"),
    ("measurement.correct", "更正读数", "Reading corrected"),
    ("measurement.record", "记录读数", "Reading recorded"),
    ("milestone.add", "新增节点", "Milestone added"),
    ("milestone.done", "节点完成", "Milestone done"),
    ("milestone.move", "调整节点期限", "Milestone moved"),
    ("milestone.reopen", "节点重新打开", "Milestone reopened"),
    ("notification.read", "阅读通知", "Notification read"),
    ("notify.pass", "发送提醒和通知", "Reminders and notices sent"),
    ("obligation.add", "新增任务", "Obligation added"),
    ("obligation.import", "导入任务", "Obligation imported"),
    ("obligation.report_frequency", "设置报送频次", "Reporting frequency set"),
    ("obligation.split", "任务分解", "Obligation split"),
    ("obligation.state", "状态变更", "State changed"),
    ("owner.add", "新增责任单位", "Owner added"),
    ("owner.set", "修改责任单位", "Owner changed"),
    ("plan.load", "载入方案", "Plan loaded"),
    ("region.add", "新增行政区", "Region added"),
    ("regions.load", "载入行政区划", "Regions loaded"),
    ("report.add", "报送进展", "Progress reported"),
    ("report.urge", "催报", "Reports urged"),
    ("site.add", "新增监测点位", "Site added"),
    ("site.update", "更新监测点位", "Site updated"),
    ("target.add", "新增指标目标", "Target added"),
    ("user.add", "新增用户", "User added"),
    ("user.remove", "删除用户", "User removed"),
    ("user.set", "修改用户", "User changed"),
)


duban_register_labels = labels_hook(("general", "综合", "General"), actions=_ACTIONS)
