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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

GOOD = """
from duban.core.hookspecs import hookimpl
from duban.core.contributions import Importer, Indicator, Notifier, SiteKind

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


EXE = str(Path(sys.executable).with_name("duban"))


def environment(site: Path, tmp_path: Path, **env: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(site),
        "DUBAN_LANG": "en",
        "DUBAN_USER": "coord",
        "DUBAN_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}",
        **env,
    }


def duban(site: Path, tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXE, *args],
        capture_output=True,
        text=True,
        env=environment(site, tmp_path, **env),
        cwd=tmp_path,
        timeout=120,
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


@pytest.mark.slow
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


HANGING = """
import time
from duban.core.hookspecs import hookimpl

@hookimpl
def duban_reminder_offsets(obligation):
    time.sleep(3600)
"""


@pytest.mark.slow
def test_a_hanging_hook_is_cut_off_and_reported(site: Path, tmp_path: Path) -> None:
    """A hook that sleeps an hour costs one time limit (5 s by default), not the command."""
    import time
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    install(site, "sleepy", HANGING)
    assert duban(site, tmp_path, "init").returncode == 0
    for args in (
        ("remind", "--dry-run"),
        ("export", "ics", "-o", str(tmp_path / "all.ics")),
    ):
        started = time.monotonic()
        result = duban(site, tmp_path, *args)
        assert result.returncode == 0, result.stderr
        assert time.monotonic() - started < 15, args
    # Another process reports what this one saw.
    sleepy = plugins(site, tmp_path)["sleepy"]
    assert sleepy["status"] == "failed"
    assert sleepy["error"] == "timed out in duban_reminder_offsets after 5 s"

    added = duban(site, tmp_path, "feed", "add", "--all", "--format", "json")
    token = json.loads(added.stdout)["url"].split("/feeds/")[1]
    with ThreadPoolExecutor(2) as pool:
        with serving(site, tmp_path) as base:
            started = time.monotonic()
            feed = pool.submit(lambda: urllib.request.urlopen(f"{base}/feeds/{token}", timeout=15))
            time.sleep(0.5)  # the feed request is now inside the hung hook
            asked = time.monotonic()
            with urllib.request.urlopen(f"{base}/health", timeout=5) as answer:
                assert json.loads(answer.read()) == {"status": "ok"}
            assert time.monotonic() - asked < 1
            assert b"BEGIN:VCALENDAR" in feed.result().read()
            assert time.monotonic() - started < 15
            # The plugin is skipped from now on: no second wait.
            started = time.monotonic()
            assert b"BEGIN:VCALENDAR" in urllib.request.urlopen(f"{base}/feeds/{token}").read()
            assert time.monotonic() - started < 2
        # A fresh server is stopped while a request sits in the hung hook.
        with serving(site, tmp_path) as base:
            pool.submit(lambda: urllib.request.urlopen(f"{base}/feeds/{token}", timeout=15))
            time.sleep(0.5)


@contextmanager
def serving(site: Path, tmp_path: Path) -> Iterator[str]:
    """A real ``duban serve``; on leaving, SIGTERM must stop it within 5 s, cleanly."""
    import signal
    import socket
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [EXE, "serve", "--port", str(port)],
        env=environment(site, tmp_path),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/health", timeout=1).read()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "did not start"
                time.sleep(0.1)
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        try:
            server.wait(timeout=60)
        finally:
            server.kill()
        errors = server.stderr.read() if server.stderr else ""
        assert time.monotonic() - stopped < 5, errors
        assert "Traceback" not in errors


def test_hook_timeout_comes_from_duban_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time
    import types

    from duban.core import plugins
    from duban.core.errors import UserError
    from duban.core.hookspecs import hookimpl
    from duban.core.settings import reset_settings

    config = tmp_path / "duban.toml"
    monkeypatch.setenv("DUBAN_CONFIG", str(config))
    config.write_text("[plugins]\nhook_timeout = 0.2\n")
    reset_settings()
    module = types.ModuleType("slow_offsets")
    module.duban_reminder_offsets = hookimpl(lambda obligation: time.sleep(30))  # type: ignore[attr-defined]
    host = plugins.PluginHost()
    host.register_module("slow", module)
    started = time.monotonic()
    assert host.first("duban_reminder_offsets", obligation=None) is None
    assert time.monotonic() - started < 2
    assert host.plugins["slow"].error == "timed out in duban_reminder_offsets after 0.2 s"
    # Skipped from now on, without waiting again.
    started = time.monotonic()
    assert host.first("duban_reminder_offsets", obligation=None) is None
    assert time.monotonic() - started < 0.1
    config.write_text('[plugins]\nhook_timeout = "soon"\n')
    reset_settings()
    with pytest.raises(UserError, match=r"\[plugins\] hook_timeout"):
        plugins.PluginHost()
    reset_settings()


def test_hook_calls_stay_cheap() -> None:
    """Hooks run on worker threads; a call costs well under a millisecond."""
    import time
    import types

    from duban.core import plugins
    from duban.core.hookspecs import hookimpl

    module = types.ModuleType("quick_offsets")
    module.duban_reminder_offsets = hookimpl(lambda obligation: {"lead": [1]})  # type: ignore[attr-defined]
    host = plugins.PluginHost()
    host.register_module("quick", module)
    started = time.perf_counter()
    for _ in range(2000):
        assert host.call("duban_reminder_offsets", obligation=None) == [("quick", {"lead": [1]})]
    assert (time.perf_counter() - started) / 2000 < 0.001
