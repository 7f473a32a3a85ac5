"""Every hook is documented, and every hook is exercised by some test."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from duban.core import hookspecs
from duban.tui import hookspecs as tui_hookspecs  # imports no textual

TESTS = Path(__file__).resolve().parents[1]
SPECS = {
    name: fn
    for module in (hookspecs, tui_hookspecs)
    for name, fn in inspect.getmembers(module, inspect.isfunction)
    if name.startswith("duban_")
}
HOOKS = sorted(SPECS)


def test_there_are_hooks() -> None:
    assert len(HOOKS) >= 10


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_docstring(hook: str) -> None:
    doc = inspect.getdoc(SPECS[hook]) or ""
    assert len(doc) > 40, f"{hook} needs a docstring: it is the hook's reference"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_tested(hook: str) -> None:
    this = Path(__file__).resolve()
    used = [
        p for p in TESTS.rglob("test_*.py") if p.resolve() != this and hook in p.read_text("utf-8")
    ]
    assert used, f"no test exercises {hook}"
