"""Household waste (垃圾分类, tasks （六） and （八）): harmless treatment, recovery, sorting coverage
and systems, rural collection and transfer, leachate, and the rural sewage figures reported with
them.

An ordinary plugin (entry point ``waste``): everything goes through duban's hooks and public
modules. See docs/plugins/waste.md.
"""

from __future__ import annotations

from typing import Any

from duban.core import api

api.add_catalog("duban.plugins.waste")

DUBAN_API = (1, 1)

duban_register_indicators = api.register_all("duban.plugins.waste.indicators:INDICATORS")
duban_register_escalation_rules = api.register_all("duban.plugins.waste.rules:RULES")
duban_dashboard_panels = api.panel_hook("duban.plugins.waste.panels:panels")
duban_plan_loaded = api.plan_loaded_hook("duban.plugins.waste.targets:attach_defaults")


@api.hookimpl
def duban_register_importers(register: Any) -> None:
    register(
        api.Importer(
            key="waste",
            name="生活垃圾分类与处理统计",
            name_en="Household waste statistics",
            run=api.lazy("duban.plugins.waste.imports:import_waste"),
            description="地区, 时间, 生活垃圾清运量, 无害化处理量, 回收利用量, 街道社区总数, "
            "已开展分类街道社区数, 建成分类处理系统, 行政村总数, 收转运覆盖行政村数, "
            "生活污水治理行政村数, 渗滤液产生量, 渗滤液处理量 (docs/plugins/waste.md)",
        )
    )


duban_register_labels = api.labels_hook(
    ("waste", "固体废物", "Solid waste"),
    actions=[
        ("import.waste", "导入生活垃圾统计", "Household waste statistics imported"),
    ],
)
