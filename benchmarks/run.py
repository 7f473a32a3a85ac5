"""Run the benchmark scenarios and print a table: scenario, size, wall time, peak memory.

    python benchmarks/run.py                 # every scenario
    python benchmarks/run.py -k list         # those whose name contains "list"
    python benchmarks/run.py --list          # names only

Each module in ``benchmarks/scenarios/`` exposes ``SCENARIOS``: a list of
``Scenario(name, size, run, setup=None, target=None)`` (or plain ``(name, size, run)``
tuples). ``setup(workdir)`` prepares data and is not timed; ``run(workdir)`` is timed in a
fresh process whose peak RSS is measured (children included). A ``run`` that times its own
parts returns ``{"wall": seconds, "rss_mb": megabytes}`` to report those instead; any other
figures it returns (``{"cpu": seconds, "ratio": 1.8}``) are printed after the target.
Results are also written to ``benchmarks/out/results.json``.

Before measuring, duban's modules (and those of the packages it imports) are byte-compiled
into their ``__pycache__``, as ``pip install`` does for an installed package: an editable
checkout run with PYTHONDONTWRITEBYTECODE set would otherwise compile them on every start
(about 0.1 s of each whole-process figure), which no user's installation does.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Scenario

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"


def _load(path: Path) -> list[Scenario]:
    spec = importlib.util.spec_from_file_location(f"scenarios.{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    found = []
    for item in getattr(module, "SCENARIOS", []):
        found.append(item if hasattr(item, "run") else Scenario(*item))
    return found


def discover() -> list[tuple[Path, int, Scenario]]:
    result = []
    for path in sorted((HERE / "scenarios").glob("*.py")):
        if path.name.startswith("_"):
            continue
        for index, scenario in enumerate(_load(path)):
            result.append((path, index, scenario))
    return result


def child(path: str, index: int, workdir: str) -> None:
    """In a fresh process: run one scenario and print its measurements as JSON."""
    scenario = _load(Path(path))[index]
    started = time.perf_counter()
    own = scenario.run(Path(workdir))
    wall = time.perf_counter() - started
    rss_kb = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    report = {"wall": wall, "rss_mb": rss_kb / 1024}
    if isinstance(own, dict):
        report.update(own)
    print("RESULT " + json.dumps(report))


def setup_child(path: str, index: int, workdir: str) -> None:
    scenario = _load(Path(path))[index]
    if scenario.setup is not None:
        scenario.setup(Path(workdir))


def measure(path: Path, index: int, scenario: Scenario) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="duban-bench-"))
    # Set-up runs in a process of its own: on Linux a child inherits its parent's peak RSS
    # through fork, so the measured process must be started from a lean one.
    if scenario.setup is not None:
        prep = subprocess.run(
            [sys.executable, __file__, "--setup", str(path), str(index), str(workdir)],
            capture_output=True,
            text=True,
        )
        if prep.returncode != 0:
            return {"error": "set-up failed: " + (prep.stderr.strip().splitlines() or ["?"])[-1]}
    proc = subprocess.run(
        [sys.executable, __file__, "--child", str(path), str(index), str(workdir)],
        capture_output=True,
        text=True,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {"error": (proc.stderr.strip().splitlines() or ["no result"])[-1]}


def _extras(result: dict[str, Any]) -> str:
    """The figures a scenario returned beyond wall time and memory, e.g. " (cpu 2.1, ratio 1.8)"."""
    extra = {k: v for k, v in result.items() if k not in ("wall", "rss_mb", "detail")}
    if not extra:
        return ""
    shown = (f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in extra.items())
    return " (" + ", ".join(shown) + ")"


def byte_compile() -> None:
    """Compile duban's packages and the libraries on its start-up path, as an installation has
    them (``__pycache__`` is read whatever PYTHONDONTWRITEBYTECODE says)."""
    roots = {Path(p) for p in sys.path if p.endswith("site-packages")}
    for name in ("duban.core", "duban.plugins", "duban.tui"):
        spec = importlib.util.find_spec(name)
        roots.update(Path(p) for p in (spec.submodule_search_locations or []) if spec)
    for root in sorted(roots):
        compileall.compile_dir(root, quiet=2, workers=0)


def machine() -> str:
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores, {mem_gb:.0f} GiB, {platform.machine()}, "
        f"Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-k", dest="match", help="Only scenarios whose name contains this.")
    parser.add_argument("--list", action="store_true", help="List the scenarios and exit.")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--setup", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), args.child[2])
        return
    if args.setup:
        setup_child(args.setup[0], int(args.setup[1]), args.setup[2])
        return
    scenarios = [s for s in discover() if not args.match or args.match in s[2].name]
    if args.list:
        for _, _, s in scenarios:
            print(f"{s.name}\t{s.size}")
        return
    byte_compile()
    print(f"machine: {machine()}")
    header = f"| {'scenario':<36} | {'size':<34} | {'wall':>9} | {'peak RSS':>9} | target"
    print(header)
    print("|" + "-" * 38 + "|" + "-" * 36 + "|" + "-" * 11 + "|" + "-" * 11 + "|--------")
    results = []
    for path, index, scenario in scenarios:
        r = measure(path, index, scenario)
        results.append({"scenario": scenario.name, "size": scenario.size, **r})
        if "error" in r:
            print(f"| {scenario.name:<36} | {scenario.size:<34} | error: {r['error']}")
        else:
            print(
                f"| {scenario.name:<36} | {scenario.size:<34} | {r['wall']:>7.3f} s | "
                f"{r['rss_mb']:>6.0f} MB | {scenario.target or ''}{_extras(r)}",
                flush=True,
            )
            # A scenario that compares several commands lists them under its row.
            for line in r.get("detail", []):
                print(f"|   {line}", flush=True)
    # Merge with earlier runs so that running a subset (-k) keeps the other scenarios' figures.
    OUT.mkdir(exist_ok=True)
    store = OUT / "results.json"
    known = json.loads(store.read_text())["results"] if store.is_file() else []
    merged = {r["scenario"]: r for r in known} | {r["scenario"]: r for r in results}
    store.write_text(json.dumps({"machine": machine(), "results": list(merged.values())}, indent=2))


if __name__ == "__main__":
    main()
