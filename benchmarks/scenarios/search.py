"""Full-text search at 100k obligations (core/search.py): the search itself, in process, and
``duban list --search`` as a user runs it.

The generated obligations get bodies and milestone texts made of sentences of the built-in
plan's task summaries and milestones, so a word is found where a plan would put it: in
bodies, milestones and titles, and through owners' names.

On SQLite by default; ``DUBAN_BENCH_DATABASE_URL`` (an empty PostgreSQL database) and
``DUBAN_BENCH_USER`` (its login) run it on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from generate import obligations
from harness import Scenario

N = 100_000
RUNS = 5
DUBAN = shutil.which("duban") or str(Path(sys.executable).with_name("duban"))
AS_OF = "2024-06-01"
URL = os.environ.get("DUBAN_BENCH_DATABASE_URL")
USER = os.environ.get("DUBAN_BENCH_USER", "bench")
# Common words, an owner, words of two and one characters (the characters' index, not the
# trigram one; 水 is in almost every obligation), two words, and a word found nowhere.
WORDS = [
    "化工园区",
    "饮用水",
    "黑臭水体",
    "水利厅",
    "长沙",
    "四",
    "水",
    "化工园区 长沙",
    "无此内容",
]


def _sentences() -> tuple[list[str], list[str]]:
    plan = resources.files("duban.core") / "data" / "plans" / "hunan-yangtze-2023.yaml"
    sentences, milestones = [], []

    def walk(tasks: list[dict[str, Any]]) -> None:
        for task in tasks:
            sentences.extend(s for s in re.split(r"[。；]", task.get("summary") or "") if s)
            milestones.extend(m["text"] for m in task.get("milestones") or [] if m.get("text"))
            walk(task.get("parts") or [])

    walk(yaml.safe_load(plan.read_text(encoding="utf-8"))["tasks"])
    return sentences, milestones


def prepare(workdir: Path) -> None:
    rng = random.Random(7)
    sentences, milestones = _sentences()
    with (workdir / "obligations.jsonl").open("w", encoding="utf-8") as out:
        for row in obligations(N):
            row["body"] = "。".join(rng.sample(sentences, 2)) + "。"
            for m in row["milestones"]:
                m["title"] = rng.choice(milestones)
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    duban(workdir, "init", "--empty", "--sandbox")
    started = time.perf_counter()
    duban(
        workdir,
        "--as-of",
        "2023-01-01",
        "import",
        "obligations",
        str(workdir / "obligations.jsonl"),
    )
    (workdir / "import_seconds").write_text(f"{time.perf_counter() - started:.1f}")
    if URL:  # PostgreSQL plans by statistics, which nothing has gathered yet
        from duban.core.db import get_engine

        with get_engine(URL).connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")


def duban(workdir: Path, *args: str) -> str:
    return subprocess.run(
        [DUBAN, "--db", _url(workdir), "--as", USER, *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _url(workdir: Path) -> str:
    return URL or f"sqlite:///{workdir / 'bench.db'}"


def _median(run: Any, cpu: list[float] | None = None) -> tuple[float, Any]:
    """The median wall time of ``RUNS`` runs and the last result; the median CPU time of
    this process is appended to ``cpu`` (steadier on a shared machine)."""
    walls, cpus, result = [], [], None
    for _ in range(RUNS):
        started, used = time.perf_counter(), time.process_time()
        result = run()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - used)
    if cpu is not None:
        cpu.append(statistics.median(cpus))
    return statistics.median(walls), result


def search(workdir: Path) -> dict[str, Any]:
    """Per word: the search itself (the first 100 ranked ids, ``listing.ids``, and the count,
    through the lean driver, both with the as-of lens), ``listing.page`` (the first 100 rows
    as ``duban list`` shows them), and the whole process (``duban list --search W --limit
    20``, ``--count``)."""
    from duban.core import listing, queries
    from duban.core.cli.context import Env
    from duban.core.filters import ObligationFilter
    from duban.core.services import listing as service_listing

    env = Env.create(db_url=_url(workdir), actor=USER, as_of=AS_OF)
    as_of = date.fromisoformat(AS_OF)
    figures: dict[str, Any] = {}
    with env.session(write=False) as session:
        lean = queries.Lean.of_session(session)
        for word in WORDS:
            f = ObligationFilter(text=word)
            where = f.where(lean, as_of)
            cpu: list[float] = []
            itself, found = _median(
                lambda f=f, where=where: (
                    listing.ids(lean, f, as_of, limit=100),
                    lean.one(queries.count_sql(where), **where.params),
                ),
                cpu,
            )
            page, _ = _median(
                lambda f=f: service_listing.page(session=session, f=f, as_of=as_of, limit=100)
            )
            figures[word] = {
                "matches": found[1],
                "search_ms": round(itself * 1000, 1),
                "search_cpu_ms": round(cpu[0] * 1000, 1),
                "page_ms": round(page * 1000, 1),
            }
    env.close()
    for word in WORDS:
        window, _ = _median(
            lambda w=word: duban(workdir, "--as-of", AS_OF, "list", "--search", w, "--limit", "20")
        )
        count, out = _median(
            lambda w=word: duban(workdir, "--as-of", AS_OF, "list", "--search", w, "--count")
        )
        assert int(out) == figures[word]["matches"], (word, out)
        figures[word].update(list_s=round(window, 3), count_s=round(count, 3))
    for word, f in figures.items():
        print(f"{word}: {f}", file=sys.stderr)
    return {
        "wall": max(f["search_ms"] for f in figures.values()) / 1000,
        "cpu": max(f["search_cpu_ms"] for f in figures.values()) / 1000,
        "words": figures,
        "import_s": float((workdir / "import_seconds").read_text()),
    }


SCENARIOS = [
    Scenario(
        "full-text search (worst word, in process)",
        f"{N:,} obligations with bodies",
        search,
        setup=prepare,
        target="<= 100 ms",
    ),
]
