"""Everyday commands beside Taskwarrior, the nearest peer, on the same tasks in the same run.

Each duban command a person types every day is paired with the Taskwarrior command that
answers the nearest question over the same tasks (duban's obligations exported to
Taskwarrior's JSON: title as description, domain as project, the last deadline as due,
closed as completed). Both run as whole processes, interleaved run for run so that a
change in the machine's load hits both alike; the row's wall time is duban's slowest median
and the detail lines give every pair with its ratio.

Needs ``task`` (Taskwarrior 2.6: ``apt-get install taskwarrior``).
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import Scenario, sibling

_core = sibling("core")
N, RUNS, DUBAN = _core.N, _core.RUNS, _core.DUBAN
AS_OF = "2024-06-01"
TASK = shutil.which("task") or "task"

# (what is asked, duban's arguments, Taskwarrior's arguments); "{id}" is one task's id.
PAIRS = [
    (
        "list, first 50 overdue",
        ["list", "--overdue", "--limit", "50"],
        ["+OVERDUE", "limit:50", "list"],
    ),
    ("count overdue", ["list", "--overdue", "--count"], ["+OVERDUE", "count"]),
    ("show one", ["show", "{id}"], ["{id}", "info"]),
    ("history of one", ["history", "{id}"], ["{id}", "info"]),
    ("status", ["status"], ["summary"]),
    ("scorecard", ["scorecard"], ["summary"]),
    ("escalations", ["escalations"], ["+OVERDUE", "limit:50", "list"]),
    ("ledger list", ["ledger", "list"], ["completed", "limit:50"]),
    ("report list", ["report", "list"], ["completed", "limit:50"]),
]


def _taskrc(workdir: Path) -> dict[str, str]:
    rc = workdir / "taskrc"
    if not rc.exists():
        (workdir / "task").mkdir(exist_ok=True)
        rc.write_text(
            f"data.location={workdir / 'task'}\nconfirmation=off\nverbose=nothing\n"
            "color=off\ndetection=off\ndefaultwidth=160\nhooks=off\nrecurrence=off\n"
            "gc=off\nuda.region.type=string\n"
            + "".join(f"uda.{name}.type=string\n" for name in _ROLES.values()),
            encoding="utf-8",
        )
    return {**os.environ, "TASKRC": str(rc)}


def _duban(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DUBAN, "--db", str(workdir / "bench.db"), "--as", "bench", *args],
        capture_output=True,
        text=True,
        check=True,
    )


def _task(workdir: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    # Taskwarrior exits 1 when a report matches nothing; that is an answer, not a failure.
    result = subprocess.run(
        [TASK, *args], capture_output=True, text=True, input=stdin, env=_taskrc(workdir)
    )
    if result.returncode not in (0, 1):
        raise RuntimeError(f"task {' '.join(args)}: {result.stderr.strip()}")
    return result


def _as_tasks(obligations: list[dict], *, brief: bool = False) -> str:
    """Taskwarrior's import JSON for duban's obligations (one per line), carrying what
    Taskwarrior can hold of each: the code and title as description, the domain as project,
    the last deadline as due, closed as completed, the region and the owners by role as
    user-defined attributes, and each milestone (its title, due date and completion) as an
    annotation. ``brief`` leaves out the region, the owners and the milestones: the
    conversion the figures before 2026-12-05 used, a third of the data."""
    lines = []
    for ob in obligations:
        milestones = ob.get("milestones", [])
        dues = [m["due"] for m in milestones if m.get("due")]
        task = {
            "description": f"{ob.get('code') or ''} {ob['title']}".strip(),
            "project": ob.get("domain") or "general",
            "status": "completed" if ob.get("state") == "closed" else "pending",
            "entry": "20230101T000000Z",
        }
        if dues:
            task["due"] = max(dues).replace("-", "") + "T000000Z"
        if task["status"] == "completed":
            task["end"] = task["due"] if dues else "20240101T000000Z"
        if not brief:
            task.update(_held_by(ob))
            if ob.get("region"):
                task["region"] = ob["region"]
            # Taskwarrior keys an annotation by its time: one second apart, none is lost.
            task["annotations"] = [
                {"entry": f"20230101T0000{i:02d}Z", "description": _milestone_note(m)}
                for i, m in enumerate(milestones)
            ]
        lines.append(json.dumps(task, ensure_ascii=False))
    return "\n".join(lines) + "\n"


# Each role's user-defined attribute in Taskwarrior: the name a listing gives its owners.
_ROLES = {"lead": "lead", "participant": "participants", "implementer": "implementers"}


def _held_by(ob: dict) -> dict[str, str]:
    """The owners by role, from an import line's assignments or a listing's names."""
    if "assignments" in ob:
        by_role: dict[str, list[str]] = {}
        for a in ob["assignments"]:
            by_role.setdefault(_ROLES[a["role"]], []).append(a["owner"])
    else:
        by_role = {name: ob.get(name) or [] for name in _ROLES.values()}
    return {name: ",".join(owners) for name, owners in by_role.items() if owners}


def _milestone_note(milestone: dict) -> str:
    note = f"{milestone['title']} due {milestone['due']}"
    return note + f" done {milestone['done']}" if milestone.get("done") else note


def _export(workdir: Path) -> list[dict]:
    return json.loads(_duban(workdir, "--as-of", AS_OF, "list", "--format", "json").stdout)


def prepare_builtin(workdir: Path) -> None:
    """The built-in plan in a sandbox, and the same tasks in Taskwarrior."""
    _duban(workdir, "--as-of", "2023-01-01", "init", "--sandbox")
    obligations = _export(workdir)
    _task(workdir, "import", "-", stdin=_as_tasks(obligations))
    _same_count(workdir, len(obligations))


def _same_count(workdir: Path, expected: int) -> None:
    got = int(_task(workdir, "count").stdout)
    assert got == expected, f"Taskwarrior holds {got} tasks, duban {expected}"


def prepare_large(workdir: Path) -> None:
    """100k generated obligations, and the same tasks in Taskwarrior."""
    _core.prepare_database(workdir)
    text = (workdir / "obligations.jsonl").read_text(encoding="utf-8")
    obligations = [json.loads(line) for line in text.splitlines() if line]
    (workdir / "tasks.json").write_text(_as_tasks(obligations), encoding="utf-8")
    _task(workdir, "import", str(workdir / "tasks.json"))
    _same_count(workdir, len(obligations))


def _pick(workdir: Path) -> tuple[str, str]:
    """One obligation's id in each tool: the first overdue one."""
    rows = json.loads(
        _duban(
            workdir, "--as-of", AS_OF, "list", "--overdue", "--limit", "1", "--format", "json"
        ).stdout
    )
    ob_id = str(rows[0]["id"])
    uuid = _task(workdir, "+PENDING", "limit:1", "uuids").stdout.split()[0]
    return ob_id, uuid


def _timed(run, *args: str) -> float:
    started = time.perf_counter()
    run(*args)
    return time.perf_counter() - started


def compare(workdir: Path) -> dict[str, object]:
    ob_id, uuid = _pick(workdir)
    detail, slowest = [], 0.0
    for what, ours, theirs in PAIRS:
        ours = [a.replace("{id}", ob_id) for a in ours]
        theirs = [a.replace("{id}", uuid) for a in theirs]
        mine, peer = [], []
        for _ in range(RUNS):
            mine.append(_timed(_duban, workdir, "--as-of", AS_OF, *ours))
            peer.append(_timed(_task, workdir, *theirs))
        m, p = statistics.median(mine), statistics.median(peer)
        slowest = max(slowest, m)
        detail.append(
            f"{what:<24} duban {' '.join(ours):<34} {m:6.3f} s (worst {max(mine):.3f})"
            f" | task {' '.join(theirs):<24} {p:6.3f} s | ratio {m / p:5.2f}"
        )
    return {
        "wall": slowest,
        "rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "detail": detail,
    }


IMPORT_RUNS = 5


def _cpu_of(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall, CPU: user + system) of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])}: {result.stderr.strip()}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _import_pair(workdir: Path) -> dict[str, object]:
    """``duban import obligations`` and ``task import`` of the same 100k tasks, each into an
    empty store, one after the other ``IMPORT_RUNS`` times; medians, and the ratios of wall
    and CPU times. Taskwarrior imports them twice a round: with what it can hold of each
    task (the target's peer), and in brief (``_as_tasks``), for comparison with the figures
    before."""
    jsonl = str(workdir / "obligations.jsonl")
    runs: dict[str, list[tuple[float, float]]] = {"duban": [], "task": [], "brief": []}
    detail = []
    for run in range(IMPORT_RUNS):
        db = workdir / f"import-{run}.db"
        shutil.copy(workdir / "bench.db", db)
        command = [DUBAN, "--db", str(db), "--as", "bench", "--as-of", "2023-01-01"]
        runs["duban"].append(_cpu_of([*command, "import", "obligations", jsonl]))
        for peer, tasks in (("task", "tasks.json"), ("brief", "tasks-brief.json")):
            store = workdir / f"{peer}-{run}"
            shutil.rmtree(store, ignore_errors=True)
            store.mkdir()
            env = {**_taskrc(workdir), "TASKDATA": str(store)}
            runs[peer].append(_cpu_of([TASK, "import", str(workdir / tasks)], env))
        _same_annotations(workdir / f"task-{run}", _milestones_in(workdir))
        (mine_wall, mine_cpu), (task_wall, task_cpu), (brief_wall, brief_cpu) = (
            runs[key][-1] for key in ("duban", "task", "brief")
        )
        detail.append(
            f"run {run + 1}: duban import {mine_wall:.2f} s wall, {mine_cpu:.2f} s CPU"
            f" | task import {task_wall:.2f} s wall, {task_cpu:.2f} s CPU"
            f" (brief {brief_wall:.2f} s, {brief_cpu:.2f} s CPU)"
            f" | ratio wall {mine_wall / task_wall:.2f}, CPU {mine_cpu / task_cpu:.2f}"
        )
    (wall, cpu), (task_wall, task_cpu), (brief_wall, brief_cpu) = (
        [statistics.median(x) for x in zip(*runs[key], strict=True)]
        for key in ("duban", "task", "brief")
    )
    detail.append(
        f"median: duban {wall:.2f} s wall, {cpu:.2f} s CPU | task {task_wall:.2f} s wall,"
        f" {task_cpu:.2f} s CPU | ratio wall {wall / task_wall:.2f}, CPU {cpu / task_cpu:.2f}"
        f" | brief task {brief_wall:.2f} s wall, {brief_cpu:.2f} s CPU: ratio wall"
        f" {wall / brief_wall:.2f}, CPU {cpu / brief_cpu:.2f}"
    )
    with open("/proc/loadavg", encoding="ascii") as load:
        detail.append("load average " + " ".join(load.read().split()[:3]))
    return {
        "wall": wall,
        "rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "cpu": cpu,
        "task_wall": task_wall,
        "task_cpu": task_cpu,
        "ratio": wall / task_wall,
        "detail": detail,
    }


def _milestones_in(workdir: Path) -> int:
    with open(workdir / "obligations.jsonl", encoding="utf-8") as lines:
        return sum(len(json.loads(line).get("milestones", [])) for line in lines if line.strip())


def _same_annotations(store: Path, expected: int) -> None:
    """Every milestone reached Taskwarrior's store as an annotation."""
    got = sum(
        len(re.findall(r"\bannotation_\d+:", (store / name).read_text(encoding="utf-8")))
        for name in ("pending.data", "completed.data")
    )
    assert got == expected, f"Taskwarrior holds {got} annotations, duban {expected} milestones"


def prepare_import(workdir: Path) -> None:
    _core.prepare_file(workdir)
    text = (workdir / "obligations.jsonl").read_text(encoding="utf-8")
    obligations = [json.loads(line) for line in text.splitlines() if line]
    (workdir / "tasks.json").write_text(_as_tasks(obligations), encoding="utf-8")
    (workdir / "tasks-brief.json").write_text(_as_tasks(obligations, brief=True), encoding="utf-8")
    _taskrc(workdir)


SCENARIOS = [
    Scenario(
        "everyday vs Taskwarrior (built-in plan)",
        "the built-in plan's obligations",
        compare,
        setup=prepare_builtin,
        target="<= 0.3 s each",
    ),
    Scenario(
        "everyday vs Taskwarrior (100k)",
        f"{N:,} obligations",
        compare,
        setup=prepare_large,
        target="<= 0.6 s each",
    ),
    Scenario(
        "import vs Taskwarrior import",
        f"{N:,} obligations",
        _import_pair,
        setup=prepare_import,
        target="<= task import",
    ),
]
