"""The plugin host: entry points, isolation of broken plugins, allow-list, API version, tracing.

Third-party plugins are installed for real: a ``*.dist-info`` folder with ``entry_points.txt``
on ``PYTHONPATH``, exactly what pip leaves behind, and ``duban`` runs in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

GOOD = """
from duban.core.hookspecs import hookimpl
from duban.core.registry import Importer, Indicator, Notifier, SiteKind

@hookimpl
def duban_register_indicators(register):
    register(Indicator(key="demo.count", name="演示计数", name_en="Demo count", unit="个",
                       aggregation="sum"))

@hookimpl
def duban_register_site_kinds(register):
    register(SiteKind(key="demo.spot", name="演示点", name_en="Demo spot", attrs=("depth",)))


def _import(*, session, path, dry_run=False):
    return {"file": str(path), "rows": len(path.read_text().splitlines())}


@hookimpl
def duban_register_importers(register):
    register(Importer(key="demo", name="演示", name_en="Demo", run=_import, extensions=(".txt",)))


@hookimpl
def duban_register_notifiers(register):
    register(Notifier(key="demo-pager", name="演示寻呼", name_en="Demo pager",
                      send=lambda message, owner: None))


@hookimpl
def duban_plan_loaded(session, plan):
    from duban.core.api import Site
    session.add(Site(key="demo-" + plan.key, name="演示站点", kind="demo.spot"))


@hookimpl
def duban_register_commands(cli):
    import click

    @cli.command("demo-hello")
    def hello():
        click.echo("hello from demo")
"""
BROKEN_IMPORT = "import a_module_that_does_not_exist\n"
RAISING_HOOK = """
from duban.core.hookspecs import hookimpl

@hookimpl
def duban_register_indicators(register):
    raise RuntimeError("boom in a hook")
"""
FUTURE_API = """
DUBAN_API = (1, 99)
from duban.core.hookspecs import hookimpl

@hookimpl
def duban_register_indicators(register):
    raise AssertionError("a refused plugin must never be called")
"""


def install(site: Path, name: str, source: str) -> None:
    """Lay out a plugin as pip would: a module plus a dist-info with its entry point."""
    (site / f"duban_{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = site / f"duban_{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: duban-{name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[duban]\n{name} = duban_{name}\n")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    return folder


def duban(site: Path, tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        **os.environ,
        "PYTHONPATH": str(site),
        "DUBAN_LANG": "en",
        "DUBAN_USER": "coord",
        "DUBAN_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}",
        **env,
    }
    exe = Path(sys.executable).with_name("duban")
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, env=environ, cwd=tmp_path, timeout=120
    )


def plugins(site: Path, tmp_path: Path, **env: str) -> dict[str, dict]:
    result = duban(site, tmp_path, "plugins", "--format", "json", **env)
    assert result.returncode == 0, result.stderr
    return {p["name"]: p for p in json.loads(result.stdout)}


def test_builtin_plugins_load_ok(site: Path, tmp_path: Path) -> None:
    found = plugins(site, tmp_path)
    for name in ("water", "fishing_ban", "waste", "shipping", "supervision"):
        assert found[name]["status"] == "ok", found[name]
        assert found[name]["version"]


def test_third_party_plugin_contributes(site: Path, tmp_path: Path) -> None:
    install(site, "good", GOOD)
    found = plugins(site, tmp_path)
    good = found["good"]
    assert good["status"] == "ok"
    assert (good["indicators"], good["site_kinds"], good["importers"], good["notifiers"]) == (
        ["demo.count"],
        ["demo.spot"],
        ["demo"],
        ["demo-pager"],
    )
    assert set(good["hooks"]) == {
        "duban_register_indicators",
        "duban_register_commands",
        "duban_register_site_kinds",
        "duban_register_importers",
        "duban_register_notifiers",
        "duban_plan_loaded",
    }
    assert duban(site, tmp_path, "demo-hello").stdout.strip() == "hello from demo"
    (tmp_path / "three.txt").write_text("a\nb\nc\n")
    imported = duban(
        site, tmp_path, "import", "demo", str(tmp_path / "three.txt"), "--format", "json"
    )
    assert json.loads(imported.stdout)["rows"] == 3, imported.stderr
    # duban_plan_loaded runs in the transaction that loads the built-in plan.
    assert duban(site, tmp_path, "init").returncode == 0
    import sqlite3

    with sqlite3.connect(tmp_path / "p.db") as conn:
        kinds = conn.execute(
            "SELECT kind FROM site WHERE key = 'demo-hunan-yangtze-2023'"
        ).fetchall()
    assert kinds == [("demo.spot",)]


def test_broken_import_is_reported_and_skipped(site: Path, tmp_path: Path) -> None:
    install(site, "good", GOOD)
    install(site, "broken", BROKEN_IMPORT)
    found = plugins(site, tmp_path)
    assert found["broken"]["status"] == "failed"
    assert "a_module_that_does_not_exist" in found["broken"]["error"]
    assert found["good"]["status"] == "ok" and found["water"]["status"] == "ok"
    assert duban(site, tmp_path, "init", "--empty").returncode == 0
    assert duban(site, tmp_path, "list", "--count").stdout.strip() == "0"


def test_raising_hook_is_reported_and_others_still_register(site: Path, tmp_path: Path) -> None:
    install(site, "good", GOOD)
    install(site, "raising", RAISING_HOOK)
    found = plugins(site, tmp_path)
    assert found["raising"]["status"] == "failed"
    assert "duban_register_indicators: RuntimeError: boom in a hook" in found["raising"]["error"]
    assert found["good"]["indicators"] == ["demo.count"]
    assert duban(site, tmp_path, "demo-hello").returncode == 0


def test_future_api_version_is_refused_clearly(site: Path, tmp_path: Path) -> None:
    install(site, "future", FUTURE_API)
    install(site, "good", GOOD)
    found = plugins(site, tmp_path)
    assert found["future"]["status"] == "failed"
    assert "requires duban plugin API 1.99" in found["future"]["error"]
    assert found["good"]["status"] == "ok"


def test_allow_list(site: Path, tmp_path: Path) -> None:
    install(site, "good", GOOD)
    found = plugins(site, tmp_path, DUBAN_LOAD_PLUGINS="water,good")
    assert found["good"]["status"] == "ok" and found["water"]["status"] == "ok"
    assert found["waste"]["status"] == "disabled"


def test_hook_filter_and_tracing(site: Path, tmp_path: Path) -> None:
    install(site, "good", GOOD)
    result = duban(
        site,
        tmp_path,
        "plugins",
        "--hook",
        "duban_register_commands",
        "--format",
        "json",
        DUBAN_TRACE_PLUGINS="1",
    )
    assert "good" in [p["name"] for p in json.loads(result.stdout)]
    assert "[duban plugin] duban_register_indicators good" in result.stderr
    bad = duban(site, tmp_path, "plugins", "--hook", "no_such_hook")
    assert bad.returncode != 0 and "unknown hook" in bad.stderr and "Traceback" not in bad.stderr


def test_threads_asking_while_the_host_loads_wait_for_all_of_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The TUI's first workers ask for the host at once: none may see it half loaded."""
    import threading
    import time

    from duban.core import plugins

    plugins.reset_host()
    original = plugins.PluginHost._register

    def slow_register(self, *args, **kwargs):  # widen the window a half-loaded host was seen in
        time.sleep(0.02)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(plugins.PluginHost, "_register", slow_register)
    seen: list[tuple[int, int]] = []
    start = threading.Barrier(6)

    def ask() -> None:
        start.wait()
        host = plugins.get_host()
        seen.append((id(host), len(host.plugins)))

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    plugins.reset_host()
    assert len({host for host, _ in seen}) == 1
    assert {n for _, n in seen} == {
        len(plugins.DEFAULT_PLUGINS) + 5
    }  # core's and the five built-ins
