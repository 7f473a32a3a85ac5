"""The import directions of docs/architecture.md, checked on the source: tui -> core <- plugins.

- core imports neither the TUI, nor any plugin, nor textual;
- a plugin imports duban only through ``duban.core.api`` and ``duban.tui.api`` (and itself);
- the TUI imports no plugin (plugins reach it through hooks).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {"core": "duban.core", "plugins": "duban.plugins", "tui": "duban.tui"}


def modules() -> list[tuple[str, Path]]:
    found = []
    for folder, package in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found.append((".".join((package, *parts)), path))
    return found


def imports(module: str, path: Path) -> set[str]:
    """Every module ``path`` imports, relative imports resolved, wherever they stand."""
    is_package = path.name == "__init__.py"
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            names.add(target)
            names.update(f"{target}.{alias.name}" for alias in node.names)
    return names


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def violation(module: str, name: str) -> str | None:
    if within(module, "duban.core"):
        for banned in ("duban.tui", "duban.plugins", "textual"):
            if within(name, banned):
                return f"core imports {banned}"
    elif within(module, "duban.plugins"):
        own = ".".join(module.split(".")[:3])
        allowed = ("duban.core.api", "duban.tui.api", own)
        # "from duban.core import api" names the package on its way to the API module.
        bare = ("duban.core", "duban.tui", "duban.plugins")
        if within(name, "duban") and name not in bare and not any(within(name, a) for a in allowed):
            return "a plugin imports duban only through duban.core.api and duban.tui.api"
    elif within(module, "duban.tui") and within(name, "duban.plugins"):
        return "the TUI imports no plugin"
    return None


@pytest.mark.parametrize(("module", "path"), modules(), ids=lambda v: str(v).rsplit("/", 1)[-1])
def test_import_directions(module: str, path: Path) -> None:
    wrong = sorted(
        f"{name}: {why}" for name in imports(module, path) if (why := violation(module, name))
    )
    assert not wrong, f"{path.relative_to(ROOT)}: " + "; ".join(wrong)


def test_the_rules_catch_what_they_forbid() -> None:
    assert violation("duban.core.services.x", "duban.tui.app")
    assert violation("duban.core.db", "textual.app")
    assert violation("duban.plugins.water.rules", "duban.core.services.sweep")
    assert violation("duban.plugins.water.rules", "duban.tui.filters")
    assert violation("duban.plugins.water.rules", "duban.plugins.waste.rules")
    assert violation("duban.tui.app", "duban.plugins.supervision")
    assert violation("duban.plugins.water.rules", "duban.core.api") is None
    assert violation("duban.plugins.water.rules", "duban.plugins.water.gb3838") is None


def test_plugins_address_escalations_through_the_sweep_context() -> None:
    """A rule names whom an escalation goes to with ``ctx.address``/``ctx.government``, never
    by reaching into the sweep's internals."""
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted((ROOT / "plugins").rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "ctx.engine" in line
    ]
    assert not found
