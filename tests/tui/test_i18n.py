"""Every message the TUI shows has its Chinese translation; both languages render."""

from __future__ import annotations

import ast
from pathlib import Path

import duban.tui

TUI = Path(duban.tui.__file__).parent


def _literal(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def source_msgids() -> set[str]:
    """First arguments of t(), descriptions of Binding(), labels of form fields and palette
    entries, screen titles."""
    found: set[str] = set()
    for path in TUI.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                positions = {"t": (0,), "Binding": (2,), "Field": (1, 2), "Entry": (0, 1, 2)}.get(
                    name, ()
                )
                found.update(
                    s for i in positions if i < len(node.args) and (s := _literal(node.args[i]))
                )
                if name in ("Field", "Entry"):
                    found.update(
                        s
                        for kw in node.keywords
                        if kw.arg in ("hint", "placeholder", "help") and (s := _literal(kw.value))
                    )
                    found.update(
                        s
                        for kw in node.keywords
                        if kw.arg == "options" and isinstance(kw.value, ast.List)
                        for item in kw.value.elts
                        if isinstance(item, ast.Tuple) and (s := _literal(item.elts[0]))
                    )
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") in (
                "TITLE_MSGID",
                "TITLE",
            ):
                found.update(s for s in [_literal(node.value)] if s)
    return found


def table_msgids() -> set[str]:
    from duban.core import labels
    from duban.tui import app, commands  # noqa: F401
    from duban.tui.screens import detail, forms, help
    from duban.tui.widgets import table

    found = set()
    for mapping in (
        labels._STATE_LABELS,
        labels._ROLE_LABELS,
        labels._STATUS_LABELS,
    ):
        found.update(mapping.values())
    found.update(part for row in help.FILTER_HELP for part in row)
    found.update(m for _, verb, why in detail.DetailScreen.ACTIONS for m in (verb, why))
    found.update(title for title, _ in app.SECTIONS.values())
    found.update(title for _, title, _ in table.COLUMNS)
    # The ladder's rungs (forms.LEVEL_OPTIONS) are core's labels, in core's catalog.
    found.update(label for label, _ in forms.EDITABLE_STATES)
    return found - {""}


def all_msgids() -> set[str]:
    return source_msgids() | table_msgids()


def test_every_tui_message_has_a_chinese_translation() -> None:
    import tomllib

    from duban.tui.text import LOOKED_UP

    catalog = tomllib.loads((TUI / "locale" / "zh" / "tui.toml").read_text(encoding="utf-8"))
    missing = sorted((all_msgids() | set(LOOKED_UP)) - set(catalog))
    assert not missing, f"add to tui/locale/zh/tui.toml: {missing}"


def test_catalog_is_registered_when_the_app_is_imported() -> None:
    import duban.tui.app  # noqa: F401  (registers the catalog)
    from duban.core.i18n import set_language, t

    set_language("zh")
    assert t("Escalation ladder") == "督办阶梯"
    set_language("en")
    assert t("Escalation ladder") == "Escalation ladder"
