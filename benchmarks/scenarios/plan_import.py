"""Plan documents: parsing the seed plan (41 KB, 40 numbered items) and importing it.

The seed text is the copy kept with the tests (tests/plan/data), so the benchmark needs
nothing outside the repository.
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import Scenario

SEED = Path(__file__).resolve().parents[2] / "tests" / "plan" / "data" / "hunan-yangtze-2023.txt"
DUBAN = shutil.which("duban") or str(Path(sys.executable).with_name("duban"))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def prepare(workdir: Path) -> None:
    shutil.copy(SEED, workdir / "plan.txt")
    subprocess.run(
        [DUBAN, "--db", str(workdir / "bench.db"), "--as", "bench", "init", "--empty", "--sandbox"],
        capture_output=True,
        text=True,
        check=True,
    )


def parse(workdir: Path) -> dict[str, float]:
    """The parser alone, in process (reference data included, module imports excluded)."""
    from duban.core.planparse import parse_file

    start = time.perf_counter()
    result = parse_file(workdir / "plan.txt")
    wall = time.perf_counter() - start
    assert len(result.data["tasks"]) == 38
    return {"wall": wall, "rss_mb": _rss_mb()}


def load(workdir: Path) -> dict[str, float]:
    """Parse and write the plan (38 obligations, their owners, milestones, targets), in process."""
    from duban.core.cli.context import Env
    from duban.core.planparse import import_plan, parse_file

    env = Env.create(db_url=str(workdir / "bench.db"), actor="bench", as_of=None)
    env.ensure_schema()
    start = time.perf_counter()
    with env.session() as session:
        import_plan(session=session, data=parse_file(workdir / "plan.txt").data, source="plan.txt")
    wall = time.perf_counter() - start
    env.close()
    return {"wall": wall, "rss_mb": _rss_mb()}


def cli(workdir: Path) -> None:
    """`duban import plan` end to end, process start and module imports included."""
    subprocess.run(
        [
            DUBAN,
            "--db",
            str(workdir / "bench.db"),
            "--as",
            "bench",
            "import",
            "plan",
            str(workdir / "plan.txt"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )


SCENARIOS = [
    Scenario(
        "plan_import.parse", "seed plan text, 41 KB, 38 tasks", parse, setup=prepare, target="< 1 s"
    ),
    Scenario(
        "plan_import.load",
        "parse + write the seed plan into an empty SQLite db",
        load,
        setup=prepare,
        target="< 1 s",
    ),
    Scenario("plan_import.cli", "duban import plan (seed text), whole process", cli, setup=prepare),
]
