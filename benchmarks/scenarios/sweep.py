"""Escalation sweep scenarios: a full sweep over 100k obligations and 1M readings, and the
same sweep again when nothing changed.

Set-up builds the world with bulk inserts (not timed): Hunan's regions and their
governments, twelve provincial departments under the provincial government, 100,000
obligations (60% led by a county government, the rest by a department; states mixed; two
milestones each over 2023-2027, 95% of those due before mid-2024 done), one site target per
obligation due 2024-2027 with ten yearly readings (1,000,000 readings), and a forest-cover
target per county, due 2023, with five readings. Sweeping as of 2024-06-01 then evaluates
100,122 targets, opens 85,984 escalations (83,334 reports owed, 2,567 overdue milestones, 83
missed targets) and creates 1,972 follow-up obligations (summonses of milestones more than 90
days overdue). ``populate`` builds the same world at any size on any initialised database.

The timed part is the ``sweep`` service call and its commit, in-process (connecting and
checking the schema are outside); ``cli_wall`` adds how long ``duban sweep`` takes as a user
runs it, process start-up included, on a copy of the same database.
"""

from __future__ import annotations

import random
import resource
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import Scenario

OBLIGATIONS = 100_000
READINGS_PER_SITE = 10
AS_OF = "2024-06-01"
DEPARTMENTS = [
    "湖南省生态环境厅",
    "湖南省发展和改革委员会",
    "湖南省工业和信息化厅",
    "湖南省自然资源厅",
    "湖南省住房和城乡建设厅",
    "湖南省交通运输厅",
    "湖南省水利厅",
    "湖南省农业农村厅",
    "湖南省林业局",
    "湖南省卫生健康委员会",
    "湖南省应急管理厅",
    "湖南省财政厅",
]
DUBAN = shutil.which("duban") or str(Path(sys.executable).with_name("duban"))


def _duban(workdir: Path, *args: str) -> str:
    result = subprocess.run(
        [DUBAN, "--db", str(workdir / "bench.db"), "--as", "bench", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def build_world(workdir: Path) -> None:
    _duban(workdir, "init", "--empty", "--sandbox")
    populate(str(workdir / "bench.db"), OBLIGATIONS)


def populate(db_url: str, obligations: int, *, seed: int = 4, actor: str = "bench") -> None:
    """The world above with ``obligations`` obligations, on an initialised database (also
    ``tests/engine/test_sweep_identical.py``'s, at a few hundred)."""
    import sqlalchemy as sa

    from duban.core.cli.context import Env
    from duban.core.db import get_engine
    from duban.core.models import (
        Assignment,
        Measurement,
        Milestone,
        Obligation,
        Owner,
        Region,
        Site,
        Target,
    )
    from duban.core.services.plans import load_regions

    env = Env.create(db_url=db_url, actor=actor, as_of=None)
    with env.session() as session:
        load_regions(session=session)
    env.close()
    engine = get_engine(db_url)
    rng = random.Random(seed)
    stamp = datetime(2023, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        province_gov = conn.execute(
            sa.select(Owner.id).where(Owner.name == "湖南省人民政府")
        ).scalar_one()
        conn.execute(
            sa.insert(Owner),
            [
                {"name": name, "kind": "department", "parent_id": province_gov}
                for name in DEPARTMENTS
            ],
        )
        departments = [
            oid for (oid,) in conn.execute(sa.select(Owner.id).where(Owner.kind == "department"))
        ]
        counties = [
            (rid, oid)
            for rid, oid in conn.execute(
                sa.select(Region.id, Owner.id)
                .join(Owner, Owner.region_id == Region.id)
                .where(Region.level == "county", Owner.kind == "government")
            )
        ]
        states = ["open", "in_progress", "in_progress", "in_progress", "submitted", "closed"]
        conn.execute(
            sa.insert(Obligation),
            [
                {
                    "title": f"督办事项（{i}）",
                    "code": f"S{i:06d}",
                    "domain": "general",
                    "seq": i,
                    "state": states[i % len(states)],
                    "region_id": counties[i % len(counties)][0],
                    "version": 1,
                    "reopened": 0,
                    "created_at": stamp,
                    "updated_at": stamp,
                }
                for i in range(obligations)
            ],
        )
        ob_ids = [oid for (oid,) in conn.execute(sa.select(Obligation.id).order_by(Obligation.id))]
        assignments, milestones = [], []
        start = date(2023, 1, 1)
        for i, ob_id in enumerate(ob_ids):
            lead = (
                counties[i % len(counties)][1] if i % 5 < 3 else departments[i % len(departments)]
            )
            assignments.append({"obligation_id": ob_id, "owner_id": lead, "role": "lead"})
            assignments.append(
                {
                    "obligation_id": ob_id,
                    "owner_id": departments[(i + 3) % len(departments)],
                    "role": "participant",
                }
            )
            for k in range(2):
                due = start + timedelta(days=rng.randint(0, 5 * 365 - 1))
                done = (
                    due - timedelta(days=rng.randint(-20, 60))
                    if due < date(2024, 6, 1) and rng.random() < 0.95
                    else None
                )
                milestones.append(
                    {
                        "obligation_id": ob_id,
                        "title": f"阶段{k + 1}",
                        "due": due,
                        "done_on": done,
                        "uid": f"{uuid.uuid4()}@bench",
                        "sequence": 0,
                        "updated_at": stamp,
                    }
                )
        conn.execute(sa.insert(Assignment), assignments)
        conn.execute(sa.insert(Milestone), milestones)
        conn.execute(
            sa.insert(Site),
            [
                {
                    "key": f"site-{i:06d}",
                    "name": f"监测点{i:06d}",
                    "kind": "tailings_pond",
                    "region_id": counties[i % len(counties)][0],
                }
                for i in range(obligations)
            ],
        )
        site_ids = [sid for (sid,) in conn.execute(sa.select(Site.id).order_by(Site.id))]
        targets, readings = [], []
        for i, (ob_id, site_id) in enumerate(zip(ob_ids, site_ids, strict=True)):
            targets.append(
                {
                    "obligation_id": ob_id,
                    "indicator": "general.tailings_pond_count",
                    "comparator": "lte",
                    "value": 3.0,
                    "due": date(2024 + i % 4, 12, 31),
                    "site_id": site_id,
                    "uid": f"{uuid.uuid4()}@bench",
                    "sequence": 0,
                    "updated_at": stamp,
                }
            )
            level, drift = rng.randint(5, 40), rng.uniform(-4, 1)
            for k in range(READINGS_PER_SITE):
                year = 2014 + k
                readings.append(
                    {
                        "indicator": "general.tailings_pond_count",
                        "subject": f"site:site-{i:06d}",
                        "site_id": site_id,
                        "period_start": date(year, 1, 1),
                        "period_end": date(year, 12, 31),
                        "value": max(0.0, round(level + drift * k + rng.uniform(-1, 1))),
                        "recorded_by": "bench",
                        "recorded_at": stamp,
                    }
                )
            if len(readings) >= 200_000:
                conn.execute(sa.insert(Measurement), readings)
                readings = []
        if readings:
            conn.execute(sa.insert(Measurement), readings)
        conn.execute(sa.insert(Target), targets)
        codes = {rid: code for rid, code in conn.execute(sa.select(Region.id, Region.code))}
        county_targets, county_readings = [], []
        for n, (region_id, _) in enumerate(counties):
            county_targets.append(
                {
                    "obligation_id": ob_ids[n * 7 % len(ob_ids)],
                    "region_id": region_id,
                    "indicator": "general.forest_coverage_rate",
                    "comparator": "gte",
                    "value": 60.0,
                    "due": date(2023, 12, 31),
                    "baseline_value": 50.0,
                    "baseline_date": date(2019, 12, 31),
                    "uid": f"{uuid.uuid4()}@bench",
                    "sequence": 0,
                    "updated_at": stamp,
                }
            )
            for year in range(2019, 2024):
                county_readings.append(
                    {
                        "indicator": "general.forest_coverage_rate",
                        "subject": f"region:{codes[region_id]}",
                        "region_id": region_id,
                        "period_start": date(year, 1, 1),
                        "period_end": date(year, 12, 31),
                        "value": 50 + rng.uniform(0, 12),
                        "recorded_by": "bench",
                        "recorded_at": stamp,
                    }
                )
        conn.execute(sa.insert(Target), county_targets)
        conn.execute(sa.insert(Measurement), county_readings)
    engine.dispose()


def _sweep(workdir: Path) -> tuple[float, float, dict]:
    from duban.core.cli.context import Env
    from duban.core.services.sweep import owner_names, sweep

    env = Env.create(db_url=str(workdir / "bench.db"), actor="bench", as_of=AS_OF)
    env.ensure_schema()
    with env.session() as session:
        session.connection()
        started = time.perf_counter()
        result = sweep(session=session, as_of=date.fromisoformat(AS_OF))
        data = result.to_dict(
            owner_names(session=session, ids={c.addressed_to_id for c in result.changes})
        )
    wall = time.perf_counter() - started  # the commit included
    env.close()
    return wall, _rss_mb(), data


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cli_wall(workdir: Path, source: Path) -> float:
    copy = workdir / "cli"
    copy.mkdir(exist_ok=True)
    shutil.copy(source, copy / "bench.db")
    if Path(f"{source}-wal").exists():
        shutil.copy(f"{source}-wal", copy / "bench.db-wal")
    started = time.perf_counter()
    _duban(copy, "--as-of", AS_OF, "sweep", "--format", "json")
    return time.perf_counter() - started


def _snapshot(workdir: Path) -> None:
    shutil.copy(workdir / "bench.db", workdir / "before.db")
    if (workdir / "bench.db-wal").exists():
        shutil.copy(workdir / "bench.db-wal", workdir / "before.db-wal")


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def full_sweep(workdir: Path) -> dict[str, float]:
    _snapshot(workdir)  # for the command-line figure
    before = _children_cpu()
    wall, rss, result = _sweep(workdir)
    helper_cpu = _children_cpu() - before  # the helper judging part of the targets
    assert result["opened"] > 1_000 and result["wrote"], result["opened"]
    print({k: result[k] for k in ("opened", "follow_ups", "statuses")}, file=sys.stderr)
    return {
        "wall": wall,
        "rss_mb": rss,
        "opened": result["opened"],
        "follow_ups": result["follow_ups"],
        "helper_cpu": helper_cpu,
        "cli_wall": _cli_wall(workdir, workdir / "before.db"),
    }


def build_and_sweep(workdir: Path) -> None:
    build_world(workdir)
    _sweep(workdir)


def _setup(step: str) -> Callable[[Path], None]:
    """Set-up in a process of its own: Linux carries a parent's peak RSS over to the
    children it starts, so building the world in the runner would inflate the figures."""

    def run(workdir: Path) -> None:
        # -P: the scenarios folder must not shadow the standard library (calendar.py).
        subprocess.run([sys.executable, "-P", __file__, step, str(workdir)], check=True)

    return run


def unchanged_sweep(workdir: Path) -> dict[str, float]:
    _snapshot(workdir)
    wall, rss, result = _sweep(workdir)
    assert (
        result["wrote"] is False and result["opened"] == result["raised"] == result["resolved"] == 0
    )
    return {"wall": wall, "rss_mb": rss, "cli_wall": _cli_wall(workdir, workdir / "before.db")}


SCENARIOS = [
    Scenario(
        "duban sweep (full)",
        f"{OBLIGATIONS:,} obligations, {OBLIGATIONS * READINGS_PER_SITE:,} readings",
        full_sweep,
        setup=_setup("build_world"),
        target="<= 5 s, <= 300 MB",
    ),
    Scenario(
        "duban sweep (nothing changed)",
        f"{OBLIGATIONS:,} obligations, {OBLIGATIONS * READINGS_PER_SITE:,} readings",
        unchanged_sweep,
        setup=_setup("build_and_sweep"),
        target="<= 1 s",
    ),
]


if __name__ == "__main__":
    {"build_world": build_world, "build_and_sweep": build_and_sweep}[sys.argv[1]](Path(sys.argv[2]))
