"""Water quality: GB 3838-2002 classification, monitoring sections, drinking water sources.

An ordinary plugin (entry point ``water``): everything here goes through duban's hooks and
public modules. See docs/plugins/water.md.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from duban.core import api

api.add_catalog("duban.plugins.water")

DUBAN_API = (1, 2)

duban_register_indicators = api.register_all("duban.plugins.water.indicators:INDICATORS")
duban_register_escalation_rules = api.register_all("duban.plugins.water.rules:RULES")
duban_dashboard_panels = api.panel_hook("duban.plugins.water.panels:panels")
duban_plan_loaded = api.plan_loaded_hook("duban.plugins.water.sections:attach_builtin")


@api.hookimpl
def duban_register_site_kinds(register: Any) -> None:
    register(
        api.SiteKind(
            key="water_section",
            name="水质监测断面",
            name_en="Water quality monitoring section",
            attrs=(
                "code",
                "river_or_lake",
                "water_body",
                "control",
                "target_class",
                "group",
                "drinking_source",
            ),
        )
    )


@api.hookimpl
def duban_register_importers(register: Any) -> None:
    register(
        api.Importer(
            key="water-sections",
            name="水质监测断面",
            name_en="Water quality monitoring sections",
            run=api.lazy("duban.plugins.water.sections:import_sections"),
            description="key, code, name, region, river_or_lake, water_body, control, "
            "target_class (docs/plugins/water.md)",
        )
    )
    # Core's `import measurements` takes one reading per row; monitoring results come one
    # column per parameter, so they have their own importer.
    register(
        api.Importer(
            key="water-readings",
            name="断面监测数据",
            name_en="Section monitoring readings",
            run=api.lazy("duban.plugins.water.readings:import_readings"),
            description="section, period, then one column per GB 3838 parameter "
            "(docs/plugins/water.md)",
        )
    )


@api.hookimpl
def duban_evaluate_target(target: Any, measurements: Any, as_of: date, db: Any) -> Any:
    from .evaluation import evaluate

    return evaluate(target, measurements, as_of, db)


@api.hookimpl
def duban_register_commands(cli: Any) -> None:
    from .cli import water

    cli.add_command(water)


duban_register_labels = api.labels_hook(
    ("water", "水环境", "Water environment"),
    actions=[
        ("import.water_readings", "导入断面监测数据", "Section monitoring readings imported"),
        ("water.refresh", "更新水质评价", "Water quality assessment refreshed"),
    ],
)
