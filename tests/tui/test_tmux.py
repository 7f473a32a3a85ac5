"""A real terminal: `duban` in tmux shows the plan, opens and filters the list, quits cleanly."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

DUBAN = str(Path(sys.executable).with_name("duban"))


# A server of its own (private socket, no user config): a tmux server already running on the
# machine would otherwise lend the session its environment and window size.
SOCKET = f"duban-test-{uuid.uuid4().hex[:8]}"


def tmux(*args: str, env: dict[str, str] | None = None, socket: str = SOCKET) -> str:
    command = ["tmux", "-L", socket, "-f", os.devnull, *args]
    return subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout


def stop(socket: str) -> None:
    """Stop the server on ``socket`` and remove the socket file it leaves behind."""
    shown = ["tmux", "-L", socket, "display-message", "-p", "#{socket_path}"]
    path = subprocess.run(shown, capture_output=True, text=True).stdout.strip()
    subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)
    if path:
        Path(path).unlink(missing_ok=True)


@pytest.fixture
def other_server() -> Iterator[dict[str, str]]:
    """Another tmux server, running as a person's would, whose environment would break the
    test if it lent it (English, a tiny window); the test runs as if inside it ($TMUX)."""
    socket = f"duban-other-{uuid.uuid4().hex[:8]}"
    tmux("new-session", "-d", "-s", "other", "-x", "50", "-y", "10", "sleep 600", socket=socket)
    try:
        for name, value in (("DUBAN_LANG", "en"), ("COLUMNS", "50"), ("LINES", "10")):
            tmux("set-environment", "-g", name, value, socket=socket)
        path = tmux("display-message", "-p", "-t", "other", "#{socket_path}", socket=socket)
        yield {"TMUX": f"{path.strip()},0,0", "TMUX_PANE": "%0"}
    finally:
        stop(socket)


def wait_for(session: str, text: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = tmux("capture-pane", "-p", "-t", session)
        if text in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared; the screen was:\n{screen}")


@pytest.mark.slow
def test_duban_in_tmux(db_url: str, tmp_path: Path, other_server: dict[str, str]) -> None:
    session = f"duban-{uuid.uuid4().hex[:8]}"
    exit_file = tmp_path / "exit"
    # Without COLUMNS/LINES (pytest-xdist sets 80x24): textual must measure the tmux window.
    inherited = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env = {
        **inherited,
        **other_server,
        "DUBAN_LANG": "zh",
        "DUBAN_USER": "coord",
        "TERM": "xterm-256color",
    }
    # A sandbox holding the built-in plan as recorded on 2023-01-01, looked at as of 2024-06-01
    # (a database created today would show nothing as of then).
    subprocess.run(
        [DUBAN, "--db", db_url, "--as-of", "2023-01-01", "init", "--sandbox"],
        check=True,
        env=env,
        capture_output=True,
    )
    command = (
        f"{shlex.quote(DUBAN)} --db {shlex.quote(db_url)} --as-of 2024-06-01; "
        f"echo $? > {shlex.quote(str(exit_file))}; sleep 5"
    )
    tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "45", command, env=env)
    try:
        # The dashboard names the plan.
        wait_for(session, "湖南省深入打好长江保护修复攻坚战实施方案", timeout=60)
        # A capture can catch a frame half drawn: wait for the dashboard's body too.
        screen = wait_for(session, "督办阶梯")
        assert "截至 2024-06-01" in screen and "湖南省深入打好长江保护修复攻坚战实施方案" in screen
        tmux("send-keys", "-t", session, "o")
        wait_for(session, "共 63 项任务")  # 38 tasks and 25 parts
        tmux("send-keys", "-t", session, "/")
        time.sleep(1.0)  # focus moves to the filter after the key is handled; then type
        tmux("send-keys", "-t", session, "-l", "overdue")
        screen = wait_for(session, "共 3 项任务")
        assert "（七）" in screen
        tmux("send-keys", "-t", session, "C-q")
        deadline = time.monotonic() + 20
        while not exit_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert exit_file.read_text().strip() == "0"
    finally:
        stop(SOCKET)
