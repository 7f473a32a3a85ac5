"""What a benchmark scenario is (see run.py)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any


@dataclass
class Scenario:
    name: str
    size: str
    run: Callable[[Path], Any]
    setup: Callable[[Path], Any] | None = None
    target: str | None = None  # e.g. "<= 0.3 s, <= 120 MB", printed beside the result


def sibling(name: str) -> ModuleType:
    """Another scenario module, loaded by path: ``scenarios/`` holds a calendar.py that would
    shadow the standard library's if the folder were put on ``sys.path``."""
    path = Path(__file__).with_name("scenarios") / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
