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
from email.message import Message
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import Scenario

DEADLINES = 5_000
OBLIGATIONS = 2_000  # two milestones each, and a target on every other one: 5,000 deadlines
SUBSCRIBERS = 50
POLLS = 20  # per subscriber
DUBAN = shutil.which("duban") or str(Path(sys.executable).with_name("duban"))
DEPARTMENTS = [
    "湖南省生态环境厅",
    "湖南省水利厅",
    "湖南省住房和城乡建设厅",
    "湖南省农业农村厅",
    "湖南省交通运输厅",
    "湖南省自然资源厅",
]


def duban(workdir: Path, *args: str) -> str:
    result = subprocess.run(
        [DUBAN, "--db", str(workdir / "bench.db"), "--as", "bench", *args],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"duban {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def setup(workdir: Path) -> None:
    """A database whose ``--all`` feed holds 5,000 open deadlines, swept once, and that
    feed's token."""
    start = date(2025, 1, 1)
    lines = []
    for i in range(OBLIGATIONS):
        due = start + timedelta(days=i % 900)
        lines.append(
            json.dumps(
                {
                    "code": f"C{i + 1:05d}",
                    "title": f"督办事项第{i + 1}项：入河排污口整治与水质提升",
                    "domain": "water",
                    "state": "in_progress" if i % 3 else "open",
                    "assignments": [
                        {"owner": DEPARTMENTS[i % 6], "role": "lead"},
                        {"owner": DEPARTMENTS[(i + 1) % 6], "role": "participant"},
                        {"owner": DEPARTMENTS[(i + 2) % 6], "role": "participant"},
                    ],
                    "milestones": [
                        {"title": "完成排查建档", "due": due.isoformat()},
                        {"title": "完成整治销号", "due": (due + timedelta(days=180)).isoformat()},
                    ],
                    "targets": [
                        {
                            "indicator": "water.national_section_good_quality_rate",
                            "name": "断面水质优良率",
                            "comparator": "gte",
                            "value": 95.0,
                            "unit": "%",
                            "due": (due + timedelta(days=365)).isoformat(),
                        }
                    ]
                    if i % 2 == 0
                    else [],
                },
                ensure_ascii=False,
            )
        )
    (workdir / "obligations.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    duban(workdir, "init", "--empty", "--sandbox")
    duban(workdir, "import", "obligations", str(workdir / "obligations.jsonl"))
    # As in production: a sweep records target statuses and opens escalations (SUMMARY prefixes).
    duban(workdir, "--as-of", "2025-03-01", "sweep")
    feed = json.loads(duban(workdir, "feed", "add", "--all", "--lang", "zh", "--format", "json"))
    (workdir / "feed.json").write_text(json.dumps(feed))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def server(
    workdir: Path, db: str | None = None, user: str | None = "bench"
) -> Iterator[tuple[str, int]]:
    """``duban serve`` on loopback; yields the feed URL and the server's pid. ``db`` another
    database than ``bench.db``; ``user`` None to act as the login (PostgreSQL)."""
    port, log = _free_port(), workdir / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                DUBAN,
                "--db",
                db or str(workdir / "bench.db"),
                *(["--as", user] if user else []),
                "serve",
                "--port",
                str(port),
            ],
            stdout=out,
            stderr=out,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _OPENER.open(f"http://127.0.0.1:{port}/health", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"duban serve did not start: {log.read_text()[-500:]}"
                    ) from None
                time.sleep(0.05)
        token_url = json.loads((workdir / "feed.json").read_text())["url"]
        yield f"http://127.0.0.1:{port}{urlsplit(token_url).path}", proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# Loopback only: never through a proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, Message, bytes]:
    """Status, headers (case-insensitive) and body of a GET."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with _OPENER.open(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:  # 304 arrives as an "error"
        return exc.code, exc.headers, exc.read()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def full_feed(workdir: Path) -> dict[str, float]:
    """A GET that builds the body from the database: after a deadline in scope moved, so the
    server cannot answer from memory. The median of 5; the very first request after start
    (imports, statement compilation) and cached GETs are reported beside it."""
    with server(workdir) as (url, _):
        started = time.perf_counter()
        status, _, body = get(url)
        first = time.perf_counter() - started
        events = body.count(b"BEGIN:VEVENT")
        assert status == 200 and events >= DEADLINES, (status, events)
        rebuilt, cached = [], []
        for i in range(5):
            duban(workdir, "milestone", "move", str(i + 1), "--due", f"2027-01-{i + 10:02d}")
            started = time.perf_counter()
            status, _, changed = get(url)
            rebuilt.append(time.perf_counter() - started)
            assert status == 200 and changed != body
            started = time.perf_counter()
            get(url)
            cached.append(time.perf_counter() - started)
    # Extra keys land in benchmarks/out/results.json beside the timed figure.
    return {
        "wall": statistics.median(rebuilt),
        "rss_mb": _rss(),
        "first_after_start": first,
        "cached_median": statistics.median(cached),
        "events": events,
        "bytes": len(body),
    }


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
    return {"wall": statistics.median(times), "rss_mb": _rss(), "max": max(times)}


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
    return {"wall": cores, "rss_mb": _rss(), "requests": SUBSCRIBERS * POLLS, "seconds": wall}


SCENARIOS = [
    Scenario(
        "calendar feed, body built after a change",
        f"{DEADLINES:,} deadlines",
        full_feed,
        setup=setup,
        target="<= 0.2 s",
    ),
    Scenario(
        "calendar feed, 304",
        f"{DEADLINES:,} deadlines",
        not_modified,
        setup=setup,
        target="<= 0.01 s",
    ),
    Scenario(
        "calendar feed, 50 subscribers (cores)",
        f"{SUBSCRIBERS} x {POLLS} polls",
        subscribers,
        setup=setup,
        target="< 1.0 (wall column = cores used)",
    ),
]
