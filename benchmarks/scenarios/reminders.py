"""Reminder scenarios: a pass over 100k obligations with nothing due, the same pass again
once everything due is in the ledger, and 10,000 due reminders to a local webhook.

The passes are timed in-process around ``run_pass`` (plugins loaded, engine connected,
everything the pass does), not Python's start-up. The webhook receiver is a separate
process (``http.server``, keep-alive) so it does not share the pass's GIL.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from generate import write_obligations
from harness import Scenario

N = 100_000
DUE_REMINDERS = 10_000
OWNERS = 100
DUE = date(2025, 6, 30)
DUBAN = shutil.which("duban") or str(Path(sys.executable).with_name("duban"))

RECEIVER = r"""
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stall
    count = 0
    def log_message(self, *args):
        pass
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Handler.count += 1
        body = b'{"errcode": 0}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

ThreadingHTTPServer.request_queue_size = 256  # 32 connections open at once
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
import threading
threading.Thread(target=server.serve_forever, daemon=True).start()
sys.stdin.read()  # until the benchmark closes our stdin
print(Handler.count, flush=True)
"""


def duban(workdir: Path, *args: str) -> str:
    result = subprocess.run(
        [DUBAN, "--db", str(workdir / "bench.db"), "--as", "bench", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def _config(workdir: Path, text: str) -> Path:
    path = workdir / "duban.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _pass(workdir: Path, as_of: date, hour: int = 9) -> tuple[float, dict[str, int]]:
    import os

    os.environ["DUBAN_CONFIG"] = str(workdir / "duban.toml")
    from duban.core.clock import FixedClock, local_midnight
    from duban.core.db import get_engine
    from duban.core.notify.dispatch import run_pass

    engine = get_engine(f"sqlite:///{workdir / 'bench.db'}")
    clock = FixedClock(local_midnight(as_of) + timedelta(hours=hour))
    started = time.perf_counter()
    report = run_pass(engine=engine, clock=clock, actor="bench")
    return time.perf_counter() - started, dict(report.counts)


def _rss() -> float:
    """This process's peak RSS (VmHWM: ru_maxrss would carry the set-up's peak across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# 100k obligations -------------------------------------------------------------------------
def prepare_100k(workdir: Path) -> None:
    write_obligations(workdir / "obligations.jsonl", N)
    duban(workdir, "init", "--empty")
    duban(workdir, "import", "obligations", str(workdir / "obligations.jsonl"))
    _config(workdir, "")


def nothing_due(workdir: Path) -> dict[str, float]:
    """Every deadline lies more than 30 days ahead (the generator's start in 2023)."""
    wall, counts = _pass(workdir, date(2022, 10, 1))
    assert not counts, counts
    return {"wall": wall, "rss_mb": _rss()}


def prepare_100k_delivered(workdir: Path) -> None:
    prepare_100k(workdir)
    _pass(workdir, date(2025, 3, 12))  # everything due that day goes into the ledger (inbox)


def nothing_new(workdir: Path) -> dict[str, float]:
    """Mid-campaign, a quarter of an hour after a pass that delivered everything due."""
    wall, counts = _pass(workdir, date(2025, 3, 12), hour=10)
    assert not counts, counts
    return {"wall": wall, "rss_mb": _rss()}


def next_day(workdir: Path) -> dict[str, float]:
    """The first pass of the next day: yesterday's occasions are all in the ledger, today's
    (overdue weeks and T-n of some 5,000 milestones) go to the in-app inbox."""
    wall, counts = _pass(workdir, date(2025, 3, 13))
    assert counts.get("delivered"), counts
    return {"wall": wall, "rss_mb": _rss(), "delivered": counts["delivered"]}


# 10,000 due reminders to a webhook ----------------------------------------------------------
def prepare_10k(workdir: Path) -> None:
    with (workdir / "due.jsonl").open("w", encoding="utf-8") as out:
        for i in range(DUE_REMINDERS):
            out.write(
                json.dumps(
                    {
                        "code": f"R{i + 1:05d}",
                        "title": f"督办事项第{i + 1}项：入河排污口整治",
                        "domain": "water",
                        "state": "in_progress",
                        "assignments": [{"owner": f"责任单位{i % OWNERS:03d}", "role": "lead"}],
                        "milestones": [{"title": "完成整治", "due": DUE.isoformat()}],
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    duban(workdir, "init", "--empty")
    duban(workdir, "import", "obligations", str(workdir / "due.jsonl"))
    _config(workdir, '[notify]\nchannels = ["webhook"]\nconcurrency = 32\nbatch = 2000\n')


def webhook_10k(workdir: Path) -> dict[str, float]:
    from sqlalchemy import text

    from duban.core.db import get_engine

    receiver = subprocess.Popen(
        [sys.executable, "-c", RECEIVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    port = int(receiver.stdout.readline())
    engine = get_engine(f"sqlite:///{workdir / 'bench.db'}")
    with engine.begin() as conn:  # where the robots listen this time (not timed)
        conn.execute(text("DELETE FROM owner_robot"))
        # The json preset: chat robots' 20-a-minute pacing would measure the limit, not duban.
        conn.execute(
            text(
                "INSERT INTO owner_robot (owner_id, url, preset) SELECT id, :url, 'json' FROM owner"
            ),
            {"url": f"http://127.0.0.1:{port}/robot/send?key=bench"},
        )
    try:
        wall, counts = _pass(workdir, DUE - timedelta(days=7))
    finally:
        received = int(receiver.communicate(input="", timeout=30)[0].strip())
    assert counts == {"delivered": DUE_REMINDERS}, counts
    assert received == DUE_REMINDERS, received
    return {"wall": wall, "rss_mb": _rss()}


SCENARIOS = [
    Scenario(
        "reminder pass, nothing due",
        f"{N:,} obligations",
        nothing_due,
        setup=prepare_100k,
        target="<= 1 s",
    ),
    Scenario(
        "reminder pass, all due already sent",
        f"{N:,} obligations",
        nothing_new,
        setup=prepare_100k_delivered,
        target="<= 1 s",
    ),
    Scenario(
        "reminder pass, first of a new day",
        f"{N:,} obligations",
        next_day,
        setup=prepare_100k_delivered,
    ),
    Scenario(
        "reminders to a local webhook",
        f"{DUE_REMINDERS:,} due reminders",
        webhook_10k,
        setup=prepare_10k,
        target="<= 60 s",
    ),
]
