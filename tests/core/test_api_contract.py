"""The plugin API modules declare what they export: every name in ``__all__`` is imported by
name in the module's source (under ``TYPE_CHECKING`` when it is loaded on first use), so a
type checker sees its real type, and the run-time table of lazy names says the same."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported(body: list[ast.stmt]) -> dict[str, str]:
    """Names bound by the relative imports among ``body``: name -> "module:attribute"."""
    names = {}
    for node in body:
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}:{alias.name}"
    return names


def problems(path: str, exported: list[str], lazy: dict[str, str]) -> list[str]:
    """How the module at ``path`` (relative to the repository) disagrees with its ``__all__``
    (``exported``) and its table of names imported on first use (``lazy``)."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    checking = [
        node.body
        for node in tree.body
        if isinstance(node, ast.If)
        and isinstance(node.test, ast.Name)
        and node.test.id == "TYPE_CHECKING"
    ]
    eager = imported(tree.body)
    declared = imported([n for block in checking for n in block])
    defined = {
        n.name
        for n in tree.body
        if isinstance(n, ast.FunctionDef | ast.ClassDef) and not n.name.startswith("_")
    }
    table = {name: target if ":" in target else f"{target}:{name}" for name, target in lazy.items()}
    found = [
        f"twice in __all__: {n}" for n in sorted({n for n in exported if exported.count(n) > 1})
    ]
    if declared != table:
        found += [
            f"TYPE_CHECKING import without its lazy entry: {n}"
            for n in sorted(declared.keys() - table.keys())
        ]
        found += [
            f"lazy entry without its TYPE_CHECKING import: {n}"
            for n in sorted(table.keys() - declared.keys())
        ]
        found += [
            f"{n}: TYPE_CHECKING imports {declared[n]}, the lazy table says {table[n]}"
            for n in sorted(declared.keys() & table.keys())
            if declared[n] != table[n]
        ]
    public = eager.keys() | declared.keys() | defined
    found += [f"exported, never imported: {n}" for n in sorted(set(exported) - public)]
    found += [f"imported, not exported: {n}" for n in sorted(public - set(exported))]
    return found


def test_core_api_declares_every_export() -> None:
    from duban.core import api

    assert not problems("core/api.py", api.__all__, api._LAZY)


def test_tui_api_declares_every_export() -> None:
    from duban.tui import api

    assert not problems("tui/api.py", api.__all__, api._LAZY)
    assert [name for name in api.__all__ if getattr(api, name, None) is None] == []


def test_the_contract_check_can_fail() -> None:
    from duban.core import api

    exported, lazy = list(api.__all__), dict(api._LAZY)
    assert problems("core/api.py", [*exported, "Extra"], lazy) == [
        "exported, never imported: Extra"
    ]
    assert problems("core/api.py", [n for n in exported if n != "Obligation"], lazy) == [
        "imported, not exported: Obligation"
    ]
    assert problems("core/api.py", exported, {**lazy, "series": "services.targets"}) == [
        "series: TYPE_CHECKING imports services.measurements:series, "
        "the lazy table says services.targets:series"
    ]
    del lazy["seen_at"]
    assert problems("core/api.py", exported, lazy) == [
        "TYPE_CHECKING import without its lazy entry: seen_at"
    ]


def test_every_core_api_name_resolves_at_run_time() -> None:
    """In a fresh interpreter: importing the API loads no ORM; each name then resolves to the
    object its module defines, and an unknown name is an AttributeError."""
    check = """
import importlib, sys
from duban.core import api
assert "sqlalchemy" not in sys.modules, "importing duban.core.api loaded SQLAlchemy"
for name in api.__all__:
    value = getattr(api, name)
    module, _, attr = api._LAZY.get(name, ":").partition(":")
    if module:
        assert value is getattr(importlib.import_module("duban.core." + module), attr or name), name
assert sorted(dir(api)) == sorted(api.__all__)
assert not hasattr(api, "no_such_name")
"""
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
