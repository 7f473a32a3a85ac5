"""Ten-year fishing ban (十年禁渔, task （二十）): retired fishers' resettlement, pension insurance
and re-employment, zero-employment households, illegal-fishing cases, covert checks, patrols.

An ordinary plugin (entry point ``fishing_ban``): everything goes through duban's hooks and
public modules. See docs/plugins/fishing_ban.md.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from duban.core import i18n
from duban.core.hookspecs import hookimpl
from duban.core.registry import Importer, SiteKind

i18n.add_catalog("duban.plugins.fishing_ban")

DUBAN_API = (1, 0)


@hookimpl
def duban_register_indicators(register: Any) -> None:
    from .indicators import INDICATORS

    for indicator in INDICATORS:
        register(indicator)


@hookimpl
def duban_register_site_kinds(register: Any) -> None:
    register(SiteKind(key="fisher_household", name="退捕渔民\"零就业\"家庭",
                      name_en="Zero-employment retired-fisher household",
                      attrs=("household", "identified_on", "employed_on", "note")))


def _import_statistics(**kw: Any) -> Any:
    from .imports import import_statistics

    return import_statistics(**kw)


def _import_households(**kw: Any) -> Any:
    from .imports import import_households

    return import_households(**kw)


@hookimpl
def duban_register_importers(register: Any) -> None:
    register(Importer(key="fishing-ban", name="十年禁渔统计（按县市区）",
                      name_en="Fishing-ban statistics by county", run=_import_statistics,
                      description="地区, 时间, 退捕渔船, 退捕渔民, 应参保人数, 已参保人数, 有就业需求人数, "
                                  "已转产就业人数, 非法捕捞案件, 涉案人员, 暗访检查, 禁捕水域, 巡护覆盖水域 "
                                  "(docs/plugins/fishing_ban.md)"))
    register(Importer(key="fishing-ban-households", name="\"零就业\"家庭台账",
                      name_en="Zero-employment household ledger", run=_import_households,
                      description="户编号, 地区, 认定日期, 就业日期 (docs/plugins/fishing_ban.md)"))


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
