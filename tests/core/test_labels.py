"""Domains and audit actions are named by whoever brings them (``duban_register_labels``):
core for its own, each plugin for its domain and the actions it records."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from types import ModuleType

import pytest

from duban.core import labels
from duban.core.contributions import Label
from duban.core.hookspecs import hookimpl
from duban.core.i18n import set_language
from duban.core.plugins import get_host, reset_host

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tailings() -> object:
    @hookimpl
    def duban_register_labels(register: object) -> None:
        register(Label(kind="domain", key="tailings", name="尾矿库", name_en="Tailings ponds"))  # type: ignore[operator]
        register(  # type: ignore[operator]
            Label(
                kind="action",
                key="import.tailings",
                name="导入尾矿库台账",
                name_en="Tailings pond register imported",
            )
        )

    reset_host()
    plugin = ModuleType("duban_tailings")
    plugin.duban_register_labels = duban_register_labels  # type: ignore[attr-defined]
    get_host().register_module("tailings", plugin)
    yield
    reset_host()


def test_a_plugins_domain_and_action_read_in_each_language(tailings: object) -> None:
    set_language("zh")
    assert labels.domain_label("tailings") == "尾矿库"
    assert labels.action_label("import.tailings") == "导入尾矿库台账"
    set_language("en")
    assert labels.domain_label("tailings") == "Tailings ponds"
    assert labels.action_label("import.tailings") == "Tailings pond register imported"
    spellings = labels.labels_to_keys("domain")
    assert spellings["尾矿库"] == spellings["tailings ponds"] == "tailings"
    # Built-ins are named the same way, beside the newcomer.
    assert spellings["水环境"] == "water" and spellings["综合"] == "general"


def test_a_code_nobody_names_is_shown_as_it_is() -> None:
    reset_host()
    set_language("zh")
    assert labels.domain_label("tailings") == "tailings"
    assert labels.action_label("custom.thing") == "custom.thing"
    assert labels.domain_label(None) == labels.action_label("") == ""


def _recorded_actions() -> dict[str, str]:
    """Every action string passed to an audit call in core and the built-in plugins, with
    where it is written."""
    found: dict[str, str] = {}
    for folder in ("core", "plugins"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "attr", None) or getattr(node.func, "id", "")
                audits = "audit" in name or name in ("record", "_change")
                args = [*node.args, *(k.value for k in node.keywords)] if audits else []
                for arg in [*args, *(k.value for k in node.keywords if k.arg == "action")]:
                    if isinstance(arg, ast.Constant) and _ACTION.match(str(arg.value)):
                        found.setdefault(arg.value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


_ACTION = re.compile(r"^[a-z_]+\.[a-z_]+$")


def test_every_action_core_and_the_built_in_plugins_record_has_a_name() -> None:
    """A history or a Chinese table never shows a raw ``import.water_readings``."""
    reset_host()
    recorded = _recorded_actions()
    assert {"ledger.update", "import.water_readings", "escalation.raise"} <= set(recorded)
    named = {key for kind, key in get_host().labels() if kind == "action"}
    assert {key: recorded[key] for key in set(recorded) - named} == {}


def test_every_rung_is_named_in_both_languages() -> None:
    from duban.core.i18n import catalog
    from duban.core.vocabulary import LEVEL_ORDER

    for level in LEVEL_ORDER:
        english = labels.level_label(level, "en")
        assert english in catalog() and labels.level_label(level, "zh") == catalog()[english]
    assert labels.level_label("list", "zh") == "挂牌督办"
