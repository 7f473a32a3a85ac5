"""Two schedulers on one database deliver every reminder once: two processes running
``duban remind`` at the same moment, and two threads with engines of their own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter
from datetime import date, timedelta

import pytest
from sqlmodel import create_engine

from duban.core.clock import FixedClock
from duban.core.db import normalise_url
from duban.core.plugins import get_host

DUE = date(2025, 6, 30)
OBLIGATIONS = 60


@pytest.fixture
def crowd(world, receiver, monkeypatch):
    """60 obligations, each with a lead and a participant that both have a webhook: at T-7,
    120 webhook deliveries and 120 inbox messages fall due at once."""
    world.config("[notify]\nbatch = 10\nconcurrency = 4\n", monkeypatch)
    receiver.delay = 0.005  # long enough for two schedulers' sending phases to overlap
    for i in range(12):
        world.owner(f"单位{i}", webhook=f"{receiver.url}/o{i}")
    for i in range(OBLIGATIONS):
        world.obligation(
            f"任务{i}", leads=[f"单位{i % 12}"], participants=[f"单位{(i + 5) % 12}"], dues=[DUE]
        )
    return world


def _check_exactly_once(world, receiver) -> None:
    keys = Counter(h.headers["idempotency-key"] for h in receiver.delivered())
    assert len(keys) == 2 * OBLIGATIONS and set(keys.values()) == {1}
    ledger = world.ledger()
    assert len(ledger) == 4 * OBLIGATIONS
    assert {(n.status, n.attempts) for n in ledger} == {("delivered", 1)}


def test_two_processes_at_the_same_moment_deliver_no_duplicate(crowd, receiver) -> None:
    url = crowd.env.url
    argv = [
        sys.executable,
        "-c",
        "import sys; from duban.core.cli import main; sys.exit(main())",
        "--db",
        url,
        "--as",
        "coord",
        "--as-of",
        (DUE - timedelta(days=7)).isoformat(),
        "remind",
        "--format",
        "json",
    ]
    procs = [
        subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy(), text=True
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    rows = [r for out, _ in outputs for r in json.loads(out)]
    assert Counter(r["status"] for r in rows) == {"delivered": 4 * OBLIGATIONS}
    _check_exactly_once(crowd, receiver)


@pytest.mark.skipif(
    not os.environ.get("DUBAN_TEST_DATABASE_URL"),
    reason="two engines racing on row locks: a PostgreSQL test",
)
def test_two_schedulers_with_their_own_engines_deliver_no_duplicate(crowd, receiver) -> None:
    from duban.core.notify.dispatch import run_pass

    crowd.at(DUE - timedelta(days=7))
    clock = FixedClock(crowd.clock.now())
    get_host().notifiers()  # load plugins once, before the threads
    engines = [create_engine(normalise_url(crowd.env.url)) for _ in range(2)]
    start = threading.Barrier(2)
    reports = {}
    errors = []

    def scheduler(i: int) -> None:
        try:
            start.wait()
            reports[i] = run_pass(engine=engines[i], clock=clock, actor="coord", worker=f"w{i}")
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=scheduler, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for engine in engines:
        engine.dispose()
    assert errors == []
    delivered = [
        r["key"] for rep in reports.values() for r in rep.rows if r["status"] == "delivered"
    ]
    assert len(delivered) == len(set(delivered)) == 4 * OBLIGATIONS
    _check_exactly_once(crowd, receiver)
    # Both did part of the work: the claim splits rows (SKIP LOCKED), nobody waits it out.
    assert all(rep.counts["delivered"] for rep in reports.values())
