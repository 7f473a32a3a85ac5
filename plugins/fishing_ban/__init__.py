"""Ten-year fishing ban (十年禁渔, task （二十）): retired fishers' resettlement, pension insurance
and re-employment, zero-employment households, illegal-fishing cases, covert checks, patrols.

An ordinary plugin (entry point ``fishing_ban``): everything goes through duban's hooks and
public modules. See docs/plugins/fishing_ban.md.
"""

from __future__ import annotations

from typing import Any

from duban.core import api

api.add_catalog("duban.plugins.fishing_ban")

DUBAN_API = (1, 1)

duban_register_indicators = api.register_all("duban.plugins.fishing_ban.indicators:INDICATORS")
duban_register_escalation_rules = api.register_all("duban.plugins.fishing_ban.rules:RULES")
duban_dashboard_panels = api.panel_hook("duban.plugins.fishing_ban.panels:panels")
duban_plan_loaded = api.plan_loaded_hook("duban.plugins.fishing_ban.targets:attach_defaults")


@api.hookimpl
def duban_register_site_kinds(register: Any) -> None:
    register(
        api.SiteKind(
            key="fisher_household",
            name='退捕渔民"零就业"家庭',
            name_en="Zero-employment retired-fisher household",
            attrs=("household", "identified_on", "employed_on", "note"),
        )
    )


@api.hookimpl
def duban_register_importers(register: Any) -> None:
    register(
        api.Importer(
            key="fishing-ban",
            name="十年禁渔统计（按县市区）",
            name_en="Fishing-ban statistics by county",
            run=api.lazy("duban.plugins.fishing_ban.imports:import_statistics"),
            description="地区, 时间, 退捕渔船, 退捕渔民, 应参保人数, 已参保人数, 有就业需求人数, "
            "已转产就业人数, 非法捕捞案件, 涉案人员, 暗访检查, 禁捕水域, 巡护覆盖水域 "
            "(docs/plugins/fishing_ban.md)",
        )
    )
    register(
        api.Importer(
            key="fishing-ban-households",
            name='"零就业"家庭台账',
            name_en="Zero-employment household ledger",
            run=api.lazy("duban.plugins.fishing_ban.imports:import_households"),
            description="户编号, 地区, 认定日期, 就业日期 (docs/plugins/fishing_ban.md)",
        )
    )


duban_register_labels = api.labels_hook(
    ("fishing_ban", "禁捕退捕", "Fishing ban"),
    actions=[
        ("import.fishing_ban", "导入十年禁渔统计", "Fishing-ban statistics imported"),
        (
            "import.fishing_ban_households",
            "导入“零就业”家庭台账",
            "Zero-employment household ledger imported",
        ),
    ],
)
