"""Foundation scenarios: importing 100k obligations and counting the overdue ones."""

from __future__ import annotations

import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from generate import write_obligations
from harness import Scenario

N = 100_000
RUNS = 7
DUBAN = shutil.which("duban") or str(Path(sys.executable).with_name("duban"))


def duban(workdir: Path, *args: str) -> str:
    result = subprocess.run(
        [DUBAN, "--db", str(workdir / "bench.db"), "--as", "bench", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def prepare_file(workdir: Path) -> None:
    write_obligations(workdir / "obligations.jsonl", N)
    duban(workdir, "init", "--empty", "--sandbox")


def import_obligations(workdir: Path) -> None:
    # Recorded before the date the count looks at (a sandbox may set its clock): reads as of
    # a date see only what was recorded by then.
    duban(
        workdir,
        "--as-of",
        "2023-01-01",
        "import",
        "obligations",
        str(workdir / "obligations.jsonl"),
    )


def prepare_database(workdir: Path) -> None:
    prepare_file(workdir)
    import_obligations(workdir)


def count_overdue(workdir: Path) -> dict[str, float]:
    """The whole command as a user runs it, process start-up included: the median of
    ``RUNS`` runs (one run alone varies by a third on a shared machine)."""
    walls = []
    for _ in range(RUNS):
        started = time.perf_counter()
        out = duban(workdir, "--as-of", "2024-06-01", "list", "--overdue", "--count")
        walls.append(time.perf_counter() - started)
        assert int(out) > 0
    print(
        "duban list --overdue --count: runs " + " ".join(f"{w:.3f}" for w in walls) + " s",
        file=sys.stderr,
    )
    return {
        "wall": statistics.median(walls),
        "worst": max(walls),
        "rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


SCENARIOS = [
    Scenario(
        "import obligations (JSONL)",
        f"{N:,} obligations",
        import_obligations,
        setup=prepare_file,
        target="<= 20 s",
    ),
    Scenario(
        "duban list --overdue --count",
        f"{N:,} obligations",
        count_overdue,
        setup=prepare_database,
        target="<= 0.3 s, <= 120 MB",
    ),
]
