"""Ship pollution and shore power (船舶污染与岸电, task （九））: the receipt chain of ship
pollutants (接收-转运-处置联单) and its closure, small ships' sewage handed ashore, shore power at
berths, and tank washing of chemical carriers.

An ordinary plugin (entry point ``shipping``): everything goes through duban's hooks and public
modules. See docs/plugins/shipping.md.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from duban.core import i18n
from duban.core.hookspecs import hookimpl
from duban.core.registry import Importer, SiteKind

i18n.add_catalog("duban.plugins.shipping")

DUBAN_API = (1, 0)


@hookimpl
def duban_register_indicators(register: Any) -> None:
    from .indicators import INDICATORS

    for indicator in INDICATORS:
        register(indicator)


@hookimpl
def duban_register_site_kinds(register: Any) -> None:
    register(SiteKind(key="port", name="港口", name_en="Port", attrs=("authority",)))
    register(SiteKind(key="pollutant_receipt", name="船舶污染物接收联单", name_en="Ship pollutant receipt",
                      attrs=("port", "ship", "pollutant", "quantity", "unit", "received", "transferred",
                             "disposed", "note")))


def _import_ports(**kw: Any) -> Any:
    from .ports import import_port_statistics

    return import_port_statistics(**kw)


def _import_receipts(**kw: Any) -> Any:
    from .receipts import import_receipts

    return import_receipts(**kw)


@hookimpl
def duban_register_importers(register: Any) -> None:
    register(Importer(key="shipping", name="港口岸电、洗舱与小船污水统计", name_en="Port statistics: shore "
                      "power, tank washing, small ships' sewage", run=_import_ports,
                      description="港口, 所在地区, 时间, 岸电泊位数, 使用岸电艘次, 岸电用电量, 400总吨以下船舶数, "
                                  "船上储存交岸处置船舶数, 应洗舱次数, 已洗舱次数 (docs/plugins/shipping.md)"))
    register(Importer(key="shipping-receipts", name="船舶污染物接收转运处置联单",
                      name_en="Ship pollutant receipts", run=_import_receipts,
                      description="联单编号, 船舶名称, 港口, 污染物类型, 数量, 单位, 接收时间, 转运时间, 处置时间 "
                                  "(docs/plugins/shipping.md)"))


@hookimpl
def duban_register_escalation_rules(register: Any) -> None:
    from .rules import RULES

    for rule in RULES:
        register(rule)


@hookimpl
def duban_dashboard_panels(session: Any, as_of: date) -> Any:
    from .panels import panels

    return panels(session, as_of) or None


@hookimpl
def duban_plan_loaded(session: Any, plan: Any) -> None:
    from .targets import attach_defaults

    with session.begin_nested():
        attach_defaults(session=session, plan=plan)
