"""Plan documents: parsing the seed plan (41 KB, 40 numbered items) and importing it, and
parsing a generated 2 MB plan (the seed's task paragraphs, numbered 1. 2. … past 200).

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


def prepare_large(workdir: Path) -> None:
    """A 2 MB plan: the seed's header, then its task paragraphs over and over as items 1., 2. …"""
    lines = SEED.read_text("utf-8").splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("（四）"))
    last = next(i for i, line in enumerate(lines) if line.startswith("（三十五）"))
    paragraphs = [line for line in lines[first:last] if line and not line.startswith("（")]
    out, n = [*lines[:first]], 0
    while sum(len(line.encode()) + 1 for line in out) < 2 * 1024 * 1024:
        n += 1
        out.append(f"{n}.任务{n}。{paragraphs[n % len(paragraphs)]}")
    out.append("本方案自印发之日起施行，有效期至2025年12月31日。")
    (workdir / "large.txt").write_text("\n".join(out), "utf-8")


def parse_large(workdir: Path) -> dict[str, float]:
    """The parser alone on the 2 MB plan, in process."""
    from duban.core.planparse import parse_file

    start = time.perf_counter()
    result = parse_file(workdir / "large.txt")
    wall = time.perf_counter() - start
    assert len(result.data["tasks"]) > 500
    return {"wall": wall, "rss_mb": _rss_mb()}


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
    from duban.core.planparse import parse_file
    from duban.core.services.plans import import_parsed_plan

    env = Env.create(db_url=str(workdir / "bench.db"), actor="bench", as_of=None)
    env.ensure_schema()
    start = time.perf_counter()
    with env.session() as session:
        import_parsed_plan(
            session=session, data=parse_file(workdir / "plan.txt").data, source="plan.txt"
        )
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
        "plan_import.parse_2mb",
        "generated plan text, 2 MB, items numbered past 200",
        parse_large,
        setup=prepare_large,
        target="≤ 2 s",
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
