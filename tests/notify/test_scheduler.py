"""``duban scheduler``: fixed-id periodic jobs, a catch-up pass and sweep on start, the sweep's
escalations notified, clean shutdown on SIGTERM; apscheduler stays out of other commands."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta

from sqlmodel import select

from duban.core.models import Escalation, Sweep

DUE = date(2025, 6, 30)


def _run_until(app, done) -> None:
    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(app.run(stop, signals=False))
        for _ in range(400):
            if done():
                break
            await asyncio.sleep(0.05)
        stop.set()
        await task

    asyncio.run(main())


def test_jobs_catch_up_on_start_and_the_sweep_is_notified(world, receiver, monkeypatch) -> None:
    from duban.core.scheduler import JOB_DEFAULTS, REMINDER_JOB, SWEEP_JOB, Scheduler

    world.config('[scheduler]\nreminders_every = 15\nsweep_at = "08:00"\n', monkeypatch)
    world.owner("水利厅", webhook=f"{receiver.url}/a")
    world.obligation("开展专项行动", leads=["水利厅"], dues=[DUE])
    # 09:00 on D+10, never run before: today's sweep is missed and overdue-week-1 fell 3 days ago.
    world.at(DUE + timedelta(days=10), hour=9)
    app = Scheduler(engine=world.env.engine, clock=world.clock, actor="coord", worker="sched-1")
    _run_until(app, lambda: app.sweeps and len(app.reports) >= 2)

    assert app.jobs == {REMINDER_JOB: "interval[0:15:00]", SWEEP_JOB: "cron[hour='8', minute='0']"}
    assert JOB_DEFAULTS == {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}
    assert app.sweeps == 1
    with world.session() as s:
        assert s.exec(select(Sweep.as_of)).all() == [DUE + timedelta(days=10)]
        escalations = s.exec(select(Escalation)).all()
    occasions = {
        r["occasion"] for rep in app.reports for r in rep.rows if r["status"] == "delivered"
    }
    assert "overdue-week-1" in occasions
    # The sweep opened an escalation for the overdue milestone; the pass right after it
    # told the addressed body (webhook and inbox) and the coordinator (inbox).
    assert escalations and {f"opened:{e.level}" for e in escalations} <= occasions
    notices = {
        (r["owner"], r["channel"])
        for rep in app.reports
        for r in rep.rows
        if r["occasion"].startswith("opened:")
    }
    assert notices == {("水利厅", "webhook"), ("水利厅", "inbox"), ("coord", "inbox")}

    # Restarted the same day: the sweep is not run again, the pass finds nothing new.
    world.clock.advance(hours=1)
    again = Scheduler(engine=world.env.engine, clock=world.clock, actor="coord", worker="sched-2")
    assert not again.sweep_missed()
    _run_until(again, lambda: again.reports)
    assert again.sweeps == 0 and again.reports[0].rows == []


def test_sigterm_stops_the_scheduler_cleanly(world, tmp_path) -> None:
    path = tmp_path / "sched.toml"
    path.write_text("[scheduler]\nreminders_every = 60\nsweep = false\n", encoding="utf-8")
    env = {**os.environ, "DUBAN_CONFIG": str(path)}
    argv = [
        sys.executable,
        "-c",
        "import sys; from duban.core.cli import main; sys.exit(main())",
        "--db",
        world.env.url,
        "--as",
        "coord",
        "scheduler",
    ]
    proc = subprocess.Popen(
        argv, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        lines.append(line)
        if "reminder pass as of" in line:
            break
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=30)
    log = "".join(lines) + err
    assert proc.returncode == 0, log
    assert "started: reminder pass every 60 min, sweep off" in log
    assert "scheduler stopping" in log and "scheduler stopped" in log
    assert "Traceback" not in log


def test_scheduler_refuses_a_fixed_clock_and_non_coordinators(duban) -> None:
    result = duban("scheduler", as_of="2025-01-01")
    assert result.exit_code == 2 and "--as-of" in result.stderr
    duban.ok("user", "add", "viewer1", "--role", "viewer")
    assert duban("scheduler", actor="viewer1").exit_code == 3


def test_other_commands_do_not_import_apscheduler(duban) -> None:
    code = (
        "import sys; from duban.core.cli import main; main(['--db', sys.argv[1], '--as', 'coord', "
        "'list']); main(['--db', sys.argv[1], '--as', 'coord', 'remind', '--dry-run']); "
        "print(sorted(m for m in sys.modules if m.startswith('apscheduler')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, duban.url], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().endswith("[]")
