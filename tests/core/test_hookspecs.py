"""Every hook is documented, and every hook is exercised by some test."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from duban.core import hookspecs

TESTS = Path(__file__).resolve().parents[1]
HOOKS = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
         if name.startswith("duban_")]


def test_there_are_hooks() -> None:
    assert len(HOOKS) >= 10


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_docstring(hook: str) -> None:
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert len(doc) > 40, f"{hook} needs a docstring: it is the hook's reference"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_tested(hook: str) -> None:
    this = Path(__file__).resolve()
    used = [p for p in TESTS.rglob("test_*.py") if p.resolve() != this and hook in p.read_text("utf-8")]
    assert used, f"no test exercises {hook}"
