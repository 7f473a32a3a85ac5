"""Ship pollution and shore power (船舶污染与岸电, task （九））: the receipt chain of ship
pollutants (接收-转运-处置联单) and its closure, small ships' sewage handed ashore, shore power at
berths, and tank washing of chemical carriers.

An ordinary plugin (entry point ``shipping``): everything goes through duban's hooks and public
modules. See docs/plugins/shipping.md.
"""

from __future__ import annotations

from typing import Any

from duban.core import api

api.add_catalog("duban.plugins.shipping")

DUBAN_API = (1, 1)

duban_register_indicators = api.register_all("duban.plugins.shipping.indicators:INDICATORS")
duban_register_escalation_rules = api.register_all("duban.plugins.shipping.rules:RULES")
duban_dashboard_panels = api.panel_hook("duban.plugins.shipping.panels:panels")
duban_plan_loaded = api.plan_loaded_hook("duban.plugins.shipping.targets:attach_defaults")


@api.hookimpl
def duban_register_site_kinds(register: Any) -> None:
    register(api.SiteKind(key="port", name="港口", name_en="Port", attrs=("authority",)))
    register(
        api.SiteKind(
            key="pollutant_receipt",
            name="船舶污染物接收联单",
            name_en="Ship pollutant receipt",
            attrs=(
                "port",
                "ship",
                "pollutant",
                "quantity",
                "unit",
                "received",
                "transferred",
                "disposed",
                "note",
            ),
        )
    )


@api.hookimpl
def duban_register_importers(register: Any) -> None:
    register(
        api.Importer(
            key="shipping",
            name="港口岸电、洗舱与小船污水统计",
            name_en="Port statistics: shore power, tank washing, small ships' sewage",
            run=api.lazy("duban.plugins.shipping.ports:import_port_statistics"),
            description="港口, 所在地区, 时间, 岸电泊位数, 使用岸电艘次, 岸电用电量, 400总吨以下船舶数, "
            "船上储存交岸处置船舶数, 应洗舱次数, 已洗舱次数 (docs/plugins/shipping.md)",
        )
    )
    register(
        api.Importer(
            key="shipping-receipts",
            name="船舶污染物接收转运处置联单",
            name_en="Ship pollutant receipts",
            run=api.lazy("duban.plugins.shipping.receipts:import_receipts"),
            description="联单编号, 船舶名称, 港口, 污染物类型, 数量, 单位, 接收时间, 转运时间, 处置时间 "
            "(docs/plugins/shipping.md)",
        )
    )


duban_register_labels = api.labels_hook(
    ("shipping", "船舶与港口", "Ships and ports"),
    actions=[
        ("import.shipping", "导入港口统计", "Port statistics imported"),
        ("import.shipping_receipts", "导入船舶污染物接收联单", "Ship pollutant receipts imported"),
    ],
)
