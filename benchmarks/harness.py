"""What a benchmark scenario is (see run.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Scenario:
    name: str
    size: str
    run: Callable[[Path], Any]
    setup: Callable[[Path], Any] | None = None
    target: str | None = None  # e.g. "<= 0.3 s, <= 120 MB", printed beside the result
