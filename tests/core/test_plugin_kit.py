"""The plugin developer kit: scaffold a plugin, install it for real, use it, remove it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from duban.core import hookspecs
from duban.tui import hookspecs as tui_hookspecs

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: int = 300):
    return subprocess.run(
        list(args),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "DUBAN_LANG": "en", **(env or {})},
    )


@pytest.mark.slow
def test_scaffold_install_use_and_remove(tmp_path: Path) -> None:
    duban = str(BIN / "duban")
    made = run(
        duban,
        "plugin",
        "new",
        "kit_demo",
        "--dir",
        str(tmp_path / "pkg"),
        "--title",
        "Kit demo",
        "--title-zh",
        "示例",
        cwd=tmp_path,
    )
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "pkg" / "duban_kit_demo" / "__init__.py").is_file()
    install = run(
        sys.executable,
        "-m",
        "pip",
        "install",
        "-q",
        "--no-deps",
        str(tmp_path / "pkg"),
        cwd=tmp_path,
    )
    assert install.returncode == 0, install.stderr
    try:
        db = ["--db", str(tmp_path / "kit.db"), "--as", "coord"]
        plugins = {
            p["name"]: p
            for p in json.loads(run(duban, *db, "plugins", "--format", "json", cwd=tmp_path).stdout)
        }
        assert plugins["kit_demo"]["status"] == "ok"
        assert plugins["kit_demo"]["rules"] == ["kit_demo.above_limit"]
        assert run(duban, *db, "init", "--sandbox", cwd=tmp_path).returncode == 0
        recorded = run(
            duban,
            *db,
            "--as-of",
            "2024-06-01",
            "record",
            "kit_demo.count",
            "15",
            "--region",
            "岳阳市",
            "--at",
            "2024-05",
            cwd=tmp_path,
        )
        assert recorded.returncode == 0, recorded.stderr
        swept = run(duban, *db, "--as-of", "2024-06-01", "sweep", "--format", "json", cwd=tmp_path)
        assert swept.returncode == 0, swept.stderr
        escalations = json.loads(
            run(duban, *db, "escalations", "--format", "json", cwd=tmp_path).stdout
        )
        fired = [e for e in escalations if e["rule"] == "kit_demo.above_limit"]
        assert [(e["level"], e["addressed_to"]) for e in fired] == [("supervise", "岳阳市人民政府")]
        own_tests = run(
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=tmp_path / "pkg"
        )
        assert own_tests.returncode == 0, own_tests.stdout + own_tests.stderr
        assert re.search(r"\b2 passed\b", own_tests.stdout)
    finally:
        removed = run(
            sys.executable, "-m", "pip", "uninstall", "-y", "-q", "duban-kit-demo", cwd=tmp_path
        )
        assert removed.returncode == 0, removed.stderr
    after = json.loads(
        run(
            duban, "--db", str(tmp_path / "kit.db"), "plugins", "--format", "json", cwd=tmp_path
        ).stdout
    )
    assert "kit_demo" not in {p["name"] for p in after}


def test_scaffold_refuses_bad_names_and_occupied_folders(tmp_path: Path) -> None:
    duban = str(BIN / "duban")
    bad = run(duban, "plugin", "new", "Bad-Name", cwd=tmp_path)
    assert bad.returncode == 2 and "NAME:" in bad.stderr
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("x")
    busy = run(duban, "plugin", "new", "ok_name", "--dir", str(tmp_path / "taken"), cwd=tmp_path)
    assert busy.returncode == 2 and "not empty" in busy.stderr


def test_public_api_exports_resolve() -> None:
    from duban.core import api

    missing = [name for name in api.__all__ if getattr(api, name, None) is None]
    assert not missing
    assert api.API_VERSION[0] == 1


HOOKS = [
    name
    for module in (hookspecs, tui_hookspecs)
    for name in dir(module)
    if name.startswith("duban_")
]


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_for_plugin_authors(hook: str) -> None:
    """docs/plugins.md has a section per hook with its signature, arguments, return and example."""
    doc = (ROOT / "docs" / "plugins.md").read_text("utf-8")
    match = re.search(rf"^### `{hook}\((.*?)\)`\n(.*?)(?=^### |\Z)", doc, re.M | re.S)
    assert match, f"docs/plugins.md has no section for {hook}"
    body = match.group(2)
    for part in ("**Arguments**", "**Returns**", "```python"):
        assert part in body, f"{hook}: section lacks {part}"
