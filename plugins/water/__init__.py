"""Water quality: GB 3838-2002 classification, monitoring sections, drinking water sources.

An ordinary plugin (entry point ``water``): everything here goes through duban's hooks and
public modules. See docs/plugins/water.md.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from duban.core import i18n
from duban.core.hookspecs import hookimpl
from duban.core.registry import Importer, SiteKind

i18n.add_catalog("duban.plugins.water")

DUBAN_API = (1, 0)


@hookimpl
def duban_register_indicators(register: Any) -> None:
    from .indicators import INDICATORS

    for indicator in INDICATORS:
        register(indicator)


@hookimpl
def duban_register_site_kinds(register: Any) -> None:
    register(SiteKind(key="water_section", name="水质监测断面", name_en="Water quality monitoring section",
                      attrs=("code", "river_or_lake", "water_body", "control", "target_class", "group",
                             "drinking_source")))


def _import_sections(**kw: Any) -> Any:
    from .sections import import_sections

    return import_sections(**kw)


def _import_readings(**kw: Any) -> Any:
    from .readings import import_readings

    return import_readings(**kw)


@hookimpl
def duban_register_importers(register: Any) -> None:
    register(Importer(key="water-sections", name="水质监测断面", name_en="Water quality monitoring sections",
                      run=_import_sections,
                      description="key, code, name, region, river_or_lake, water_body, control, "
                                  "target_class (docs/plugins/water.md)"))
    # Core's `import measurements` takes one reading per row; monitoring results come one
    # column per parameter, so they have their own importer.
    register(Importer(key="water-readings", name="断面监测数据", name_en="Section monitoring readings",
                      run=_import_readings,
                      description="section, period, then one column per GB 3838 parameter "
                                  "(docs/plugins/water.md)"))


@hookimpl
def duban_register_escalation_rules(register: Any) -> None:
    from .rules import RULES

    for rule in RULES:
        register(rule)


@hookimpl
def duban_evaluate_target(target: Any, measurements: Any, as_of: date) -> Any:
    from .evaluation import evaluate

    return evaluate(target, measurements, as_of)


@hookimpl
def duban_dashboard_panels(session: Any, as_of: date) -> Any:
    from .panels import panels

    return panels(session, as_of) or None


@hookimpl
def duban_register_commands(cli: Any) -> None:
    from .cli import water

    cli.add_command(water)


@hookimpl
def duban_plan_loaded(session: Any, plan: Any) -> None:
    from .sections import attach_builtin

    attach_builtin(session=session, plan=plan)
