"""Inspection and supervision: the rectification ledger (整改台账) and its close-out.

Problems handed down by central or provincial environmental inspection, warning films and
river/lake chief patrols become obligations of domain ``supervision``, so reminders,
calendars and escalation apply to them like to any task.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from duban.core.api import Importer, Panel, PanelRow, add_catalog, hookimpl, labels_hook, pick

DUBAN_API = (1, 0)
add_catalog("duban.plugins.supervision")


@hookimpl
def duban_register_escalation_rules(register: Any) -> None:
    from .rules import RULES

    for rule in RULES:
        register(rule)


def _import(*, session: Any, path: Path, dry_run: bool = False) -> dict[str, Any]:
    from .ledger import import_ledger

    return import_ledger(session=session, path=path, dry_run=dry_run)


@hookimpl
def duban_register_importers(register: Any) -> None:
    register(
        Importer(
            key="ledger",
            name="整改台账",
            name_en="Rectification ledger",
            run=_import,
            extensions=(".xlsx", ".csv"),
            description="序号, 问题描述, 责任单位, 整改时限, 整改措施, 整改进展 (docs/plugins/supervision.md).",
        )
    )


@hookimpl
def duban_register_commands(cli: Any) -> None:
    from .cli import ledger

    cli.add_command(ledger)


@hookimpl
def duban_dashboard_panels(session: Any, as_of: Any) -> Panel | None:
    from .ledger import by_stage, stage_filter

    rows = tuple(
        PanelRow(label=pick(stage.zh, stage.en), value=str(n), filter=stage_filter(stage.key))
        for stage, n in by_stage(session=session)
    )
    if not any(int(r.value) for r in rows):
        return None
    return Panel(key="supervision", title="整改台账", title_en="Rectification ledger", rows=rows)


def _ledger_screen() -> Any:
    from .screen import LedgerScreen  # textual and the ORM load when the ledger is opened

    return LedgerScreen()


@hookimpl
def duban_tui_screens(register: Any) -> None:
    from duban.tui.api import TuiScreen

    register(
        TuiScreen(
            key="ledger",
            title="整改台账",
            title_en="Rectification ledger",
            factory=_ledger_screen,
            binding="l",
            plugin="supervision",
        )
    )


duban_register_labels = labels_hook(
    ("supervision", "督察整改", "Inspection rectification"),
    actions=[
        ("ledger.accept", "现场验收", "Accepted on site"),
        ("ledger.import", "导入台账", "Ledger imported"),
        ("ledger.reopen", "台账问题重新打开", "Ledger item reopened"),
        ("ledger.update", "台账问题更新", "Ledger item updated"),
    ],
)
