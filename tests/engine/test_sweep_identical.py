"""The sweep writes exactly what it wrote before its bulk paths were made faster: every row
of the tables it writes, on a few hundred obligations of the sweep benchmark's world
(``benchmarks/scenarios/sweep.py``), against a digest taken with the code before (one
digest per database). Random uids, the machine's user and the hashes that cover it
are left out of the digest; ``audit verify`` checks those."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from duban.core import target_status

from .test_sweep import sweep

SCENARIO = Path(__file__).resolve().parents[2] / "benchmarks" / "scenarios" / "sweep.py"
# Left out: random (uids), the machine's (os_user, and the hashes and fingerprint over it).
LEFT_OUT = {"uid", "os_user", "hash", "prev_hash", "last_hash"}
TABLES = (
    "escalation",
    "escalation_change",
    "obligation",
    "assignment",
    "milestone",
    "target_status",
    "sweep",
    "audit_event",
)
# Taken with the code before the sweep's audit encoding, owed reports and fits changed (dc1bd43),
# then again when a raise's events came to record the acknowledgement and convener it replaces
# (the digests without those keys were still the ones before).
# Per database: the two read some columns back differently (instants' time zones).
DIGESTS = {
    "sqlite": "3207fb3377515db6ecca9e292c0c255f0b2cf6cc9dbc25cb04cfe3ad4108bec0",
    "postgresql": "67bf3ac1c9ae7c39b9f4bf385ca2b6d1dcdf5905f20aa4e8a7ab101ccd143358",
}


def _plain(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _digest(db_url: str, since: int) -> tuple[str, dict[str, int]]:
    """Of the audit log, the events after ``since`` (those before carry the wall clock)."""
    from duban.core.db import get_engine

    engine = get_engine(db_url)
    metadata = sa.MetaData()
    found = hashlib.sha256()
    counts = {}
    with engine.connect() as conn:
        for name in TABLES:
            table = sa.Table(name, metadata, autoload_with=conn)
            columns = [c for c in table.c if c.name not in LEFT_OUT]
            query = sa.select(*columns).order_by(table.c.id)
            if name == "audit_event":
                query = query.where(table.c.seq > since)
            rows = conn.execute(query).all()
            counts[name] = len(rows)
            for row in rows:
                values = dict(zip([c.name for c in columns], row, strict=True))
                for key in ("before", "after", "attrs", "counts"):
                    if isinstance(values.get(key), str):  # JSON text on SQLite
                        values[key] = json.loads(values[key])
                if name == "sweep":
                    values["counts"].pop("inputs", None)  # covers the chain's head
                found.update(json.dumps(values, sort_keys=True, default=_plain).encode())
    return found.hexdigest(), counts


def _head(db_url: str) -> int:
    from duban.core.db import get_engine

    with get_engine(db_url).connect() as conn:
        return conn.execute(sa.text("SELECT coalesce(max(seq), 0) FROM audit_event")).scalar()


@pytest.mark.parametrize("helped", [False, True], ids=["alone", "helped"])
def test_three_sweeps_write_what_the_code_before_wrote(
    duban, db_url, helped: bool, monkeypatch: pytest.MonkeyPatch, answers: list[bool]
) -> None:
    """Also when a helper process judges part of the targets (``core/judging.py``)."""
    if helped:
        if not db_url.startswith("sqlite"):
            pytest.skip("no helper on PostgreSQL")
        monkeypatch.setattr(target_status, "SHARED_FROM", 1)
    spec = importlib.util.spec_from_file_location("sweep_scenario", SCENARIO)
    scenario = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scenario)
    scenario.populate(db_url, 300, actor="coord")
    since = _head(db_url)
    # Reports owed and overdue milestones open, climb and resolve (milestones done since);
    # summonses get their follow-ups.
    first, middle, last = (sweep(duban, day) for day in ("2023-11-15", "2024-02-20", "2024-06-01"))
    assert first["opened"] > 100 and last["raised"] and last["follow_ups"]
    assert middle["resolved"] + last["resolved"], (middle["resolved"], last["resolved"])
    assert duban.ok("audit", "verify").exit_code == 0
    digest, counts = _digest(db_url, since)
    assert counts["target_status"] == 1266 and counts["audit_event"] == 655, counts
    assert digest == DIGESTS[db_url.split(":", 1)[0].split("+", 1)[0]]
    if helped:  # each sweep evaluates; the later ones reuse nothing, as their day differs
        assert answers == [True, True, True]


def test_audit_encodings_are_the_json_modules() -> None:
    """The sweep's audit encoder gives ``json``'s own text for varied payloads."""
    import random

    from duban.core.audit import _HASHED, _fast

    rng = random.Random(7)
    hashed = _fast(_HASHED)

    def value(depth: int) -> object:
        kind = rng.randrange(9 if depth < 3 else 6)
        if kind < 6:
            return rng.choice(
                [None, True, rng.randint(-(10**20), 10**20), rng.uniform(-1e9, 1e9), "督办\n\"x\"",
                 date(2024, 1, rng.randint(1, 31)), datetime(2024, 5, 1, 8, 30), 1e-7, -0.0]
            )  # fmt: skip
        if kind < 8:
            return {f"k{rng.randrange(20)}中": value(depth + 1) for _ in range(rng.randrange(5))}
        return [value(depth + 1) for _ in range(rng.randrange(5))]

    for _ in range(500):
        payload = value(0)
        assert hashed(payload) == _HASHED.encode(payload)


def test_a_fit_is_the_plain_least_squares() -> None:
    """The fit's day sums, worked out once per run of days, give the same floats as working
    them out for every series."""
    import random
    from datetime import timedelta

    from duban.core.services.evaluation import _fit

    def plain(ends: list[date], values: list[float], due: date) -> tuple:
        xs = [d.toordinal() for d in ends]
        n = len(xs)
        if n < 2 or xs[0] == xs[-1]:
            return None, None
        mx, my = sum(xs) / n, sum(values) / n
        sxx = sxy = 0.0
        for x, y in zip(xs, values, strict=True):
            sxx += (x - mx) ** 2
            sxy += (x - mx) * (y - my)
        slope = sxy / sxx
        return slope, my + slope * (due.toordinal() - mx)

    rng = random.Random(3)
    for _ in range(2000):
        start = date(2015, 1, 1) + timedelta(days=rng.randrange(400))
        ends = sorted(start + timedelta(days=rng.randrange(3000)) for _ in range(rng.randrange(6)))
        values = [rng.uniform(-50, 500) for _ in ends]
        due = date(2024, 12, 31) + timedelta(days=rng.randrange(900))
        assert _fit(ends, values, due) == plain(ends, values, due)
