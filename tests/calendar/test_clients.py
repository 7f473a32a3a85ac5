"""End to end with real calendar clients: vdirsyncer syncs the served feed over HTTP into a
folder and khal lists the deadlines on their dates."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from duban.core.clock import LOCAL_TZ
from duban.core.db import get_engine
from duban.core.reporting import period_containing
from duban.core.serve import create_app, serve_in_thread


def _tool(name: str) -> str | None:
    """On PATH (CI installs the clients in a virtualenv of their own), else beside this Python."""
    found = shutil.which(name)
    if found:
        return found
    local = Path(sys.executable).with_name(name)
    return str(local) if local.exists() else None


VDIRSYNCER, KHAL = _tool("vdirsyncer"), _tool("khal")
pytestmark = pytest.mark.skipif(
    not (VDIRSYNCER and KHAL),
    reason="needs the vdirsyncer and khal binaries (pip install vdirsyncer khal; .ci/run installs them)",
)


def run(*args: str, home: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        args,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={
            **os.environ,
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_DATA_HOME": str(home / "data"),
            "LANG": "C.UTF-8",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            **env,
        },
    )
    assert result.returncode == 0, f"{' '.join(args)}: {result.stderr or result.stdout}"
    return result.stdout


def test_vdirsyncer_and_khal_show_the_deadlines(duban, db_url: str, tmp_path: Path) -> None:
    duban.ok("owner", "add", "湖南省生态环境厅", "--alias", "省生态环境厅")
    duban.ok(
        "add",
        "饮用水水源整治",
        "--lead",
        "省生态环境厅",
        "--due",
        "2025-06-30",
        "--due",
        "2025-12-31",
    )
    duban.ok("add", "黑臭水体治理", "--lead", "省生态环境厅", "--due", "2025-09-30")
    duban.ok("add", "他人任务", "--lead", "省生态环境厅", "--due", "2025-03-31")
    duban.ok("owner", "add", "湖南省水利厅")
    duban.ok("add", "不在范围内", "--lead", "湖南省水利厅", "--due", "2025-04-30")

    home, calendar = tmp_path / "home", tmp_path / "calendar"
    for folder in (home, calendar, home / "status"):
        folder.mkdir(parents=True, exist_ok=True)
    app = create_app(engine=get_engine(db_url), actor="coord")
    with serve_in_thread(app) as base:
        feed = duban.ok(
            "feed",
            "add",
            "--owner",
            "省生态环境厅",
            "--lang",
            "zh",
            "--base-url",
            base,
            "--format",
            "json",
        ).json()
        (home / "vdirsyncer.conf").write_text(
            f"""
[general]
status_path = "{home / "status"}/"

[pair duban]
a = "duban_feed"
b = "duban_local"
collections = null
conflict_resolution = "a wins"

[storage duban_feed]
type = "http"
url = "{feed["url"]}"

[storage duban_local]
type = "filesystem"
path = "{calendar}/"
fileext = ".ics"
""",
            encoding="utf-8",
        )
        (home / "khal.conf").write_text(
            f"""
[calendars]
[[duban]]
path = {calendar}/
type = calendar

[locale]
dateformat = %Y-%m-%d
longdateformat = %Y-%m-%d
datetimeformat = %Y-%m-%d %H:%M
longdatetimeformat = %Y-%m-%d %H:%M
timeformat = %H:%M
local_timezone = Asia/Shanghai
default_timezone = Asia/Shanghai
""",
            encoding="utf-8",
        )
        sync_env = {"VDIRSYNCER_CONFIG": str(home / "vdirsyncer.conf")}

        def sync_and_list(first: str = "2025-01-01", last: str = "2026-01-31") -> list[str]:
            run(VDIRSYNCER, "discover", home=home, env=sync_env)
            run(VDIRSYNCER, "sync", home=home, env=sync_env)
            out = run(
                KHAL,
                "-c",
                str(home / "khal.conf"),
                "list",
                "--format",
                "{start-date} {title}",
                "--day-format",
                "",
                first,
                last,
                home=home,
                env={},
            )
            return sorted(line.strip() for line in out.splitlines() if line.strip())

        assert sync_and_list() == [
            "2025-03-31 他人任务",
            "2025-06-30 饮用水水源整治",
            "2025-09-30 黑臭水体治理",
            "2025-12-31 饮用水水源整治",
        ]
        # And the day its reports for this month are due: the three tasks it leads, recorded
        # today (the server reads the real clock), owe this month's report on the 5th of the next.
        period = period_containing(datetime.now(LOCAL_TZ).date(), "monthly")
        due = period.due(5).isoformat()
        assert sync_and_list(due, due) == [f"{due} 进展报送截止：{period.label}（3项）"]
        assert len(list(calendar.glob("*.ics"))) == 4 + 1

        # A moved deadline shows on its new date after the next sync.
        duban.ok("milestone", "move", "3", "--due", "2025-10-15")
        assert "2025-10-15 黑臭水体治理" in sync_and_list()
        assert "2025-09-30 黑臭水体治理" not in sync_and_list()
