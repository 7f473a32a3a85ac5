"""Household waste (垃圾分类, tasks （六） and （八）): harmless treatment, recovery, sorting coverage
and systems, rural collection and transfer, leachate, and the rural sewage figures reported with
them.

An ordinary plugin (entry point ``waste``): everything goes through duban's hooks and public
modules. See docs/plugins/waste.md.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from duban.core import i18n
from duban.core.hookspecs import hookimpl
from duban.core.registry import Importer

i18n.add_catalog("duban.plugins.waste")

DUBAN_API = (1, 0)


@hookimpl
def duban_register_indicators(register: Any) -> None:
    from .indicators import INDICATORS

    for indicator in INDICATORS:
        register(indicator)


def _import_waste(**kw: Any) -> Any:
    from .imports import import_waste

    return import_waste(**kw)


@hookimpl
def duban_register_importers(register: Any) -> None:
    register(Importer(key="waste", name="生活垃圾分类与处理统计", name_en="Household waste statistics",
                      run=_import_waste,
                      description="地区, 时间, 生活垃圾清运量, 无害化处理量, 回收利用量, 街道社区总数, "
                                  "已开展分类街道社区数, 建成分类处理系统, 行政村总数, 收转运覆盖行政村数, "
                                  "生活污水治理行政村数, 渗滤液产生量, 渗滤液处理量 (docs/plugins/waste.md)"))


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
