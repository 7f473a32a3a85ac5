"""Progress reports: counting by traffic light beside counting the overdue, the consolidated
summary over 100k obligations, and importing 1,000 returned forms of 30 rows."""

from __future__ import annotations

import json
import random
import resource
import sqlite3
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import Scenario, sibling

_core = sibling("core")
N, RUNS, duban, prepare_database = _core.N, _core.RUNS, _core.duban, _core.prepare_database

AS_OF = "2024-06-01"
FORMS, ROWS = 1000, 30


def prepare_reports(workdir: Path) -> None:
    """100k obligations existing since 2023-01-01, seven in ten of the live ones reported for
    April 2024 by their lead with a percent (written straight into the tables: set-up only)."""
    prepare_database(workdir)
    rng = random.Random(7)
    db = sqlite3.connect(workdir / "bench.db")
    db.execute("UPDATE obligation SET created_at = '2023-01-01 00:00:00.000000'")
    leads = db.execute(
        "SELECT a.obligation_id, MIN(a.owner_id) FROM assignment a JOIN obligation o"
        " ON o.id = a.obligation_id WHERE a.role = 'lead' AND o.state NOT IN ('closed', 'cancelled')"
        " GROUP BY a.obligation_id"
    ).fetchall()
    db.executemany(
        "INSERT INTO report (obligation_id, owner_id, role, period, period_end, progress,"
        " percent, submitted_by, submitted_at) VALUES (?, ?, 'lead', '2024-04', '2024-04-30',"
        " '按计划推进', ?, 'bench', '2024-05-04 02:00:00.000000')",
        [(ob, owner, rng.randint(0, 100)) for ob, owner in leads if rng.random() < 0.7],
    )
    db.commit()
    db.close()


def _median(workdir: Path, *args: str) -> tuple[float, float, str]:
    walls, out = [], ""
    for _ in range(RUNS):
        started = time.perf_counter()
        out = duban(workdir, "--as-of", AS_OF, *args)
        walls.append(time.perf_counter() - started)
    return statistics.median(walls), max(walls), out.strip()


def count_red(workdir: Path) -> dict[str, float]:
    """``list --light red --count`` and ``list --overdue --count``, interleaved on the same
    database, medians of ``RUNS`` each (whole processes)."""
    red, red_worst, n_red = _median(workdir, "list", "--light", "red", "--count")
    overdue, _, n_overdue = _median(workdir, "list", "--overdue", "--count")
    print(
        f"red {n_red} in {red:.3f} s (worst {red_worst:.3f}); overdue {n_overdue} in"
        f" {overdue:.3f} s; ratio {red / overdue:.2f}",
        file=sys.stderr,
    )
    assert int(n_red) >= int(n_overdue) > 0
    return {
        "wall": red,
        "worst": red_worst,
        "overdue_wall": overdue,
        "ratio": red / overdue,
        "rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def summary(workdir: Path) -> None:
    out = duban(
        workdir, "--as-of", AS_OF, "report", "summary", "--period", "2024-04", "--format", "json"
    )
    data = json.loads(out)
    assert len(data["tasks"]) > N // 2


def prepare_forms(workdir: Path) -> None:
    """1,000 owners with 30 obligations each, and each one's form for 2024-05 filled in."""
    from openpyxl import load_workbook

    duban(workdir, "init", "--empty")
    with (workdir / "obligations.jsonl").open("w", encoding="utf-8") as out:
        for o in range(FORMS):
            for i in range(ROWS):
                row = {
                    "code": f"R{o:04d}-{i:02d}",
                    "title": f"报送任务{o}-{i}",
                    "assignments": [{"owner": f"单位{o:04d}", "role": "lead"}],
                    "milestones": [{"title": "完成", "due": "2024-12-31", "done": None}],
                }
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    duban(workdir, "import", "obligations", str(workdir / "obligations.jsonl"))
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from duban.core.cli.context import Env
    from duban.core.services.report_files import write_template

    env = Env.create(db_url=str(workdir / "bench.db"), actor="bench", as_of="2024-06-01")
    forms = workdir / "forms"
    forms.mkdir()
    with env.session(write=False) as session:
        for o in range(FORMS):
            path = forms / f"{o:04d}.xlsx"
            write_template(session=session, owner=f"单位{o:04d}", period="2024-05", path=path)
            book = load_workbook(path)
            sheet = book.worksheets[0]
            for r in range(2, ROWS + 2):
                sheet.cell(r, 6, f"第{r - 1}项：已完成年度任务的四成，正在推进下一阶段")
                sheet.cell(r, 7, "资金到位较慢")
                sheet.cell(r, 8, "加快推进")
                sheet.cell(r, 9, 40)
            book.save(path)
    env.close()


def import_forms(workdir: Path) -> None:
    files = sorted(str(p) for p in (workdir / "forms").glob("*.xlsx"))
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    duban(workdir, "--as-of", "2024-06-02", "report", "import", *files)
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - before
    print(f"report import: {cpu:.1f} s of CPU (user)", file=sys.stderr)
    count = duban(workdir, "--as-of", "2024-06-03", "report", "list", "--format", "csv")
    assert count.count("\n") == FORMS * ROWS + 1


SCENARIOS = [
    Scenario(
        "duban list --light red --count",
        f"{N:,} obligations, 55k reports",
        count_red,
        setup=prepare_reports,
        target="<= 2 x list --overdue --count",
    ),
    Scenario(
        "duban report summary --format json",
        f"{N:,} obligations, 55k reports",
        summary,
        setup=prepare_reports,
        target="<= 3 s",
    ),
    Scenario(
        "duban report import",
        f"{FORMS:,} forms of {ROWS} rows",
        import_forms,
        setup=prepare_forms,
        target="<= 30 s",
    ),
]
