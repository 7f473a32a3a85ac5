"""Measurement scenarios: importing 1M readings, and evaluating every target over 100k
obligations and 1M readings.

Set-up builds its data with bulk inserts (not timed). The evaluation scenario's world:
100,000 obligations, each with one target on its own monitored site (tailings ponds: a
count, lower is better, with a mix of comparators and baselines) and ten yearly readings per
site (2014-2023), plus the built-in region-wide ``general.*`` targets' shape on the province
and its cities aggregated from county readings.
"""

from __future__ import annotations

import random
import resource
import shutil
import subprocess
import sys
import time
import uuid
from contextlib import closing
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from generate import regions
from harness import Scenario

ROWS = 1_000_000
OBLIGATIONS = 100_000
READINGS_PER_SITE = 10
RATES = [
    "general.forest_coverage_rate",
    "general.wetland_protection_rate",
    "general.livestock_manure_utilization_rate",
    "general.agricultural_film_recovery_rate",
]
DUBAN = shutil.which("duban") or str(Path(sys.executable).with_name("duban"))


def _duban(workdir: Path, *args: str) -> str:
    return subprocess.run(
        [DUBAN, "--db", str(workdir / "bench.db"), "--as", "bench", *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# Import 1M rows ------------------------------------------------------------------------
def write_csv(path: Path, rows: int = ROWS) -> None:
    """Daily readings of four rate indicators for every county-level unit, with numerators
    and denominators; Chinese headers."""
    rng = random.Random(7)
    counties = [r["code"] for r in regions() if r["level"] in ("county", "zone")]
    day = date(2019, 1, 1).toordinal()
    with path.open("w", encoding="utf-8") as out:
        out.write("指标,地区,时间,数值,分子,分母,来源\n")
        written = 0
        while written < rows:
            period = date.fromordinal(day).isoformat()
            for code in counties:
                for key in RATES:
                    if written == rows:
                        return
                    den = rng.randint(800, 1200)
                    num = int(den * rng.uniform(0.3, 0.99))
                    out.write(f"{key},{code},{period},{100 * num / den:.2f},{num},{den},监测\n")
                    written += 1
            day += 1


def prepare_import(workdir: Path) -> None:
    _duban(workdir, "init", "--empty", "--sandbox")
    _load_regions(workdir)
    write_csv(workdir / "measurements.csv")


def _load_regions(workdir: Path) -> None:
    from duban.core.cli.context import Env
    from duban.core.services.plans import load_regions

    env = Env.create(db_url=str(workdir / "bench.db"), actor="bench", as_of=None)
    with env.session() as session:
        load_regions(session=session)
    env.close()


def import_measurements(workdir: Path) -> dict[str, float]:
    """The command as a user runs it (process start-up included)."""
    started = time.perf_counter()
    out = _duban(
        workdir,
        "--as-of",
        "2024-06-01",
        "import",
        "measurements",
        str(workdir / "measurements.csv"),
        "--format",
        "json",
    )
    wall = time.perf_counter() - started
    assert '"inserted": 1000000' in out, out
    return {"wall": wall, "rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


# Evaluate everything ---------------------------------------------------------------------
def prepare_world(workdir: Path) -> None:
    """Build the world in a separate process: on Linux a child started from a process that
    grew large inherits its peak RSS, which would then be reported as the scenario's."""
    # -P: this folder holds calendar.py, which must not shadow the standard library
    subprocess.run([sys.executable, "-P", __file__, "build-world", str(workdir)], check=True)


def build_world(workdir: Path) -> None:
    import sqlalchemy as sa

    from duban.core.db import get_engine
    from duban.core.models import Measurement, Obligation, Region, Site, Target

    _duban(workdir, "init", "--empty", "--sandbox")
    _load_regions(workdir)
    engine = get_engine(str(workdir / "bench.db"))
    rng = random.Random(11)
    stamp = datetime(2024, 1, 1, tzinfo=UTC)
    comparators = ["lte", "lte", "lte", "eliminate", "trend_down", "decrease_pct"]
    with engine.begin() as conn:
        county = {
            code: rid
            for rid, code, level in conn.execute(sa.select(Region.id, Region.code, Region.level))
            if level in ("county", "zone")
        }
        codes = sorted(county)
        conn.execute(
            sa.insert(Obligation),
            [
                {
                    "title": f"尾矿库治理（{i}）",
                    "code": f"M{i:06d}",
                    "domain": "general",
                    "state": "in_progress",
                    "region_id": county[codes[i % len(codes)]],
                    "version": 1,
                    "reopened": 0,
                    "seq": i,
                    "created_at": stamp,
                    "updated_at": stamp,
                }
                for i in range(OBLIGATIONS)
            ],
        )
        ob_ids = [row[0] for row in conn.execute(sa.select(Obligation.id).order_by(Obligation.id))]
        conn.execute(
            sa.insert(Site),
            [
                {
                    "key": f"pond-{i:06d}",
                    "name": f"尾矿库{i:06d}",
                    "kind": "tailings_pond",
                    "region_id": county[codes[i % len(codes)]],
                }
                for i in range(OBLIGATIONS)
            ],
        )
        site_ids = [row[0] for row in conn.execute(sa.select(Site.id).order_by(Site.id))]
        targets, readings = [], []
        for i, (ob_id, site_id) in enumerate(zip(ob_ids, site_ids, strict=True)):
            comparator = comparators[i % len(comparators)]
            start = rng.randint(5, 40)
            targets.append(
                {
                    "obligation_id": ob_id,
                    "indicator": "general.tailings_pond_count",
                    "comparator": comparator,
                    "value": {"eliminate": 0.0, "trend_down": None, "decrease_pct": 30.0}.get(
                        comparator, 3.0
                    ),
                    "due": date(2025 + i % 3, 12, 31),
                    "site_id": site_id,
                    "baseline_date": date(2014, 12, 31) if comparator == "decrease_pct" else None,
                    "uid": f"{uuid.uuid4()}@bench",
                    "sequence": 0,
                    "updated_at": stamp,
                }
            )
            drift = rng.uniform(-3, 1)
            for k in range(READINGS_PER_SITE):
                year = 2014 + k
                readings.append(
                    {
                        "indicator": "general.tailings_pond_count",
                        "subject": f"site:pond-{i:06d}",
                        "site_id": site_id,
                        "period_start": date(year, 1, 1),
                        "period_end": date(year, 12, 31),
                        "value": max(0.0, round(start + drift * k + rng.uniform(-1, 1))),
                        "recorded_by": "bench",
                        "recorded_at": stamp,
                    }
                )
            if len(readings) >= 200_000:
                conn.execute(sa.insert(Measurement), readings)
                readings = []
        conn.execute(sa.insert(Target), targets)
        if readings:
            conn.execute(sa.insert(Measurement), readings)
        # Region-wide rate targets, read from their counties' numerators and denominators.
        plan_ob = ob_ids[0]
        province = conn.execute(sa.select(Region.id).where(Region.code == "430000")).scalar_one()
        rates = []
        for key in RATES:
            conn.execute(
                sa.insert(Target),
                [
                    {
                        "obligation_id": plan_ob,
                        "indicator": key,
                        "comparator": "gte",
                        "value": 70.0,
                        "due": date(2025, 12, 31),
                        "region_id": province,
                        "uid": f"{uuid.uuid4()}@bench",
                        "sequence": 0,
                        "updated_at": stamp,
                    }
                ],
            )
            for code, rid in county.items():
                for year in range(2019, 2024):
                    den = rng.randint(800, 1200)
                    num = int(den * rng.uniform(0.5, 0.9))
                    rates.append(
                        {
                            "indicator": key,
                            "subject": f"region:{code}",
                            "region_id": rid,
                            "period_start": date(year, 1, 1),
                            "period_end": date(year, 12, 31),
                            "value": 100 * num / den,
                            "numerator": num,
                            "denominator": den,
                            "recorded_by": "bench",
                            "recorded_at": stamp,
                        }
                    )
        conn.execute(sa.insert(Measurement), rates)
    engine.dispose()
    import sqlite3

    with closing(sqlite3.connect(workdir / "bench.db")) as raw:  # a database at rest
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def evaluate_everything(workdir: Path) -> dict[str, float]:
    """``evaluate_all`` as the sweep calls it, timed in-process after the imports."""
    from duban.core.cli.context import Env
    from duban.core.services.evaluation import evaluate_all

    env = Env.create(db_url=str(workdir / "bench.db"), actor="bench", as_of="2024-06-01")
    with env.session(write=False) as session:
        session.connection()  # connect and check the schema outside the timing
        started = time.perf_counter()
        results = evaluate_all(session=session, as_of=date(2024, 6, 1))
        wall = time.perf_counter() - started
    env.close()
    assert len(results) == OBLIGATIONS + len(RATES)
    statuses: dict[str, int] = {}
    for _, ev in results:
        statuses[ev.status] = statuses.get(ev.status, 0) + 1
    print(statuses, file=sys.stderr)
    return {"wall": wall, "rss_mb": _rss_mb()}


SCENARIOS = [
    Scenario(
        "import measurements (CSV)",
        f"{ROWS:,} rows",
        import_measurements,
        setup=prepare_import,
        target="<= 30 s",
    ),
    Scenario(
        "evaluate_all",
        f"{OBLIGATIONS:,} obligations, {OBLIGATIONS * READINGS_PER_SITE:,} readings",
        evaluate_everything,
        setup=prepare_world,
        target="<= 5 s, <= 300 MB",
    ),
]


if __name__ == "__main__":
    if sys.argv[1:2] == ["build-world"]:
        build_world(Path(sys.argv[2]))
