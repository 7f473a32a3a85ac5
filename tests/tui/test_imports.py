"""Core and the console script never import textual: `duban list` stays lean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duban.core

CHECK = """
import importlib, pkgutil, sys
import duban.core
for info in pkgutil.walk_packages(duban.core.__path__, "duban.core."):
    if ".migrations.versions" in info.name or info.name.endswith(".migrations.env"):
        continue
    importlib.import_module(info.name)
import duban.tui.entry
import duban.tui.hookspecs
import duban.tui.data
import duban.tui.filters
loaded = sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))
print(len(loaded), loaded[:5])
sys.exit(1 if loaded else 0)
"""


def test_core_and_entry_do_not_import_textual() -> None:
    assert Path(duban.core.__file__).exists()
    done = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
