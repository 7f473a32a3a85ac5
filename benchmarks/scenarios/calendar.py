"""Calendar feed scenarios: a 5,000-deadline feed, a 304, and 50 subscribers polling.

The server is a real ``duban serve`` on a free loopback port (a subprocess, so its CPU time
can be read from /proc); every request loop is bounded in count and time.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import Scenario

DEADLINES = 5_000
OBLIGATIONS = 2_000  # two milestones each, and a target on every other one: 5,000 deadlines
SUBSCRIBERS = 50
POLLS = 20  # per subscriber
DUBAN = shutil.which("duban") or str(Path(sys.executable).with_name("duban"))
DEPARTMENTS = ["湖南省生态环境厅", "湖南省水利厅", "湖南省住房和城乡建设厅", "湖南省农业农村厅",
               "湖南省交通运输厅", "湖南省自然资源厅"]


def duban(workdir: Path, *args: str) -> str:
    result = subprocess.run([DUBAN, "--db", str(workdir / "bench.db"), "--as", "bench", *args],
                            capture_output=True, text=True, check=True)
    return result.stdout


def setup(workdir: Path) -> None:
    """A database whose ``--all`` feed holds 5,000 open deadlines, and that feed's token."""
    start = date(2025, 1, 1)
    lines = []
    for i in range(OBLIGATIONS):
        due = start + timedelta(days=i % 900)
        lines.append(json.dumps({
            "code": f"C{i + 1:05d}", "title": f"督办事项第{i + 1}项：入河排污口整治与水质提升",
            "domain": "water", "state": "in_progress" if i % 3 else "open",
            "assignments": [{"owner": DEPARTMENTS[i % 6], "role": "lead"},
                            {"owner": DEPARTMENTS[(i + 1) % 6], "role": "participant"},
                            {"owner": DEPARTMENTS[(i + 2) % 6], "role": "participant"}],
            "milestones": [{"title": "完成排查建档", "due": due.isoformat()},
                           {"title": "完成整治销号", "due": (due + timedelta(days=180)).isoformat()}],
            "targets": [{"indicator": "water.good_quality_rate", "name": "断面水质优良率",
                         "comparator": "gte", "value": 95.0, "unit": "%",
                         "due": (due + timedelta(days=365)).isoformat()}] if i % 2 == 0 else [],
        }, ensure_ascii=False))
    (workdir / "obligations.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    duban(workdir, "init", "--empty")
    duban(workdir, "import", "obligations", str(workdir / "obligations.jsonl"))
    feed = json.loads(duban(workdir, "feed", "add", "--all", "--lang", "zh", "--format", "json"))
    (workdir / "feed.json").write_text(json.dumps(feed))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def server(workdir: Path) -> Iterator[tuple[str, int]]:
    """``duban serve`` on loopback; yields the feed URL and the server's pid."""
    port = _free_port()
    proc = subprocess.Popen([DUBAN, "--db", str(workdir / "bench.db"), "--as", "bench", "serve",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"duban serve did not start: {proc.stderr.read()}") from None
                time.sleep(0.05)
        token_url = json.loads((workdir / "feed.json").read_text())["url"]
        yield f"http://127.0.0.1:{port}{urlsplit(token_url).path}", proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:  # 304 arrives as an "error"
        return exc.code, dict(exc.headers), exc.read()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def full_feed(workdir: Path) -> dict[str, float]:
    """The first GET after start (the body is built from the database), then warm ones."""
    with server(workdir) as (url, _):
        started = time.perf_counter()
        status, _, body = get(url)
        cold = time.perf_counter() - started
        assert status == 200 and body.count(b"BEGIN:VEVENT") == DEADLINES, status
        warm = []
        for _ in range(10):
            started = time.perf_counter()
            get(url)
            warm.append(time.perf_counter() - started)
    print(f"cold {cold * 1000:.1f} ms, warm median {statistics.median(warm) * 1000:.1f} ms, "
          f"{len(body) / 1e6:.1f} MB", file=sys.stderr)
    return {"wall": cold, "rss_mb": _rss()}


def not_modified(workdir: Path) -> dict[str, float]:
    """A conditional GET whose ETag matches: the median of 50."""
    with server(workdir) as (url, _):
        _, headers, _ = get(url)
        times = []
        for _ in range(50):
            started = time.perf_counter()
            status, _, _ = get(url, {"If-None-Match": headers["ETag"]})
            times.append(time.perf_counter() - started)
            assert status == 304, status
    return {"wall": statistics.median(times), "rss_mb": _rss()}


def subscribers(workdir: Path) -> dict[str, float]:
    """50 clients polling at once (each its first full GET, then conditional ones); the
    figure is the server's CPU time over the wall time (1.0 = one core busy)."""
    with server(workdir) as (url, pid):
        get(url)  # the server builds the body once before the crowd arrives
        cpu_before, started = _cpu_seconds(pid), time.perf_counter()
        errors: list[str] = []

        def poll() -> None:
            etag = None
            for _ in range(POLLS):
                status, headers, _ = get(url, {"If-None-Match": etag} if etag else None)
                if status not in (200, 304):
                    errors.append(str(status))
                    return
                etag = headers.get("ETag", etag)
                time.sleep(0.05)

        threads = [threading.Thread(target=poll) for _ in range(SUBSCRIBERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        wall = time.perf_counter() - started
        cores = (_cpu_seconds(pid) - cpu_before) / wall
    assert not errors, errors[:3]
    print(f"{SUBSCRIBERS * POLLS} requests in {wall:.2f} s; server used {cores:.2f} cores",
          file=sys.stderr)
    return {"wall": cores, "rss_mb": _rss()}


SCENARIOS = [
    Scenario("calendar feed, full body (cold)", f"{DEADLINES:,} deadlines", full_feed, setup=setup,
             target="<= 0.2 s"),
    Scenario("calendar feed, 304", f"{DEADLINES:,} deadlines", not_modified, setup=setup,
             target="<= 0.01 s"),
    Scenario("calendar feed, 50 subscribers (cores)", f"{SUBSCRIBERS} x {POLLS} polls", subscribers,
             setup=setup, target="< 1.0 (wall column = cores used)"),
]
