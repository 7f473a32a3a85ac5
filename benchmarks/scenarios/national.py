"""National scale on PostgreSQL: 31 provinces, 2,790 counties, 1M obligations, 10M readings.

A national plan's 358 tasks, each decomposed (``duban split``'s shape: the parent keeps
``attrs.split``, its children ``split_of``) to every county: 998,820 county obligations led
by the county's government (60 %) or a provincial department, with a participant, two
milestones (2023-2027, 95 % of those due before mid-2024 done), the lead's monthly report
for May 2024 from nine in ten, one site target and ten yearly readings of its site
(9,988,200 readings). The world is written with COPY through
psycopg into ``duban_national_seed_<tasks>`` (secondary indexes and unique constraints dropped during
the load and rebuilt after it, then ``VACUUM ANALYZE``) and kept there: a later run at the same
scale reuses it. Each run works on ``duban_national_run_<tasks>``, a copy made from the seed as a
template (set-up, not timed), so the full sweep always starts from the same state.

``DUBAN_NATIONAL_SCALE`` (default 1) scales the number of tasks, so 0.01 gives 27,900
obligations and 279,000 readings in about a minute; ``DUBAN_NATIONAL_SERVER`` is the server
(default ``postgresql://postgres@127.0.0.1:5432``, a superuser: the load disables foreign-key
triggers). Every command acts as the login, as duban does on PostgreSQL: the full sweep is
measured twice, by that login (the tables' owner) and by a coordinator's login, which
row-level security applies to (``bench_coordinator``, created by ``duban user add``).

    DUBAN_NATIONAL_SCALE=0.01 python benchmarks/run.py -k national
"""

from __future__ import annotations

import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from generate import TOPICS, national_regions
from harness import Scenario, sibling

SCALE = float(os.environ.get("DUBAN_NATIONAL_SCALE", "1"))
SERVER = os.environ.get("DUBAN_NATIONAL_SERVER", "postgresql://postgres@127.0.0.1:5432")
TASKS = max(1, round(358 * SCALE))
# One seed per scale, so that a small run does not replace the large world.
SEED, RUN = f"duban_national_seed_{TASKS}", f"duban_national_run_{TASKS}"
READINGS = 10  # per site, yearly 2014-2023
AS_OF = "2024-06-01"
STAMP = "2023-01-01 00:00:00+00"
VERSION = 2  # bump when the world's shape changes: a seed of another version is rebuilt
RUNS = 5
# A coordinator's login, not the tables' owner (``duban user add`` creates it if missing).
COORDINATOR = "bench_coordinator"
# Set on both databases (ALTER DATABASE; a template's settings are not copied): with the
# default 4 MB the planner will not hash the overdue filter's ``NOT IN`` (the split parents,
# a million rows before their 358 distinct values are known) and checks it row by row.
SETTINGS = {"work_mem": "64MB"}
MINISTRIES = ["生态环境部", "水利部", "自然资源部", "住房和城乡建设部", "农业农村部", "交通运输部"]
OFFICES = ["生态环境厅", "水利厅", "自然资源厅", "农业农村厅"]
DOMAINS = ["water", "waste", "shipping", "general"]
STATES = ["open", "in_progress", "in_progress", "in_progress", "submitted", "closed"]
DUBAN = shutil.which("duban") or str(Path(sys.executable).with_name("duban"))


def url(db: str) -> str:
    return f"{SERVER}/{db}"


def _marker() -> str:
    return f"duban national v{VERSION} tasks={TASKS}"


def _admin(*statements: str) -> None:
    import psycopg

    with psycopg.connect(url("postgres"), autocommit=True) as conn:
        for sql in statements:
            conn.execute(sql)


def _comment(db: str) -> str | None:
    import psycopg

    with psycopg.connect(url("postgres"), autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (db,),
        ).fetchone()
    return row[0] if row else None


def duban(*args: str, db: str = RUN) -> str:
    result = subprocess.run(
        [DUBAN, "--db", url(db), *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"duban {' '.join(args)}: {result.stderr.strip()[-500:]}")
    return result.stdout


# The world ----------------------------------------------------------------------------------
class World:
    """Ids and shapes of everything generated, fixed by the scale (ids are assigned here)."""

    def __init__(self) -> None:
        self.regions = national_regions()
        self.region_id = {r["code"]: i + 1 for i, r in enumerate(self.regions)}
        self.counties = [r for r in self.regions if r["level"] == "county"]
        # Owners: each region's government has its region's id; then ministries, then offices.
        self.ministry_ids = [len(self.regions) + 1 + i for i in range(len(MINISTRIES))]
        first_office = len(self.regions) + len(MINISTRIES) + 1
        self.provinces = [r for r in self.regions if r["level"] == "province"]
        self.offices = {
            p["code"]: [first_office + n * len(OFFICES) + k for k in range(len(OFFICES))]
            for n, p in enumerate(self.provinces)
        }
        self.children = TASKS * len(self.counties)

    def child(self, index: int) -> tuple[int, int, dict[str, str]]:
        """(obligation id, task, county) of the ``index``-th county obligation."""
        task, county = divmod(index, len(self.counties))
        return TASKS + 1 + index, task, self.counties[county]

    def province_of(self, county: dict[str, str]) -> str:
        return county["code"][:2] + "0000"

    def lead(self, ob_id: int, county: dict[str, str]) -> int:
        """The county's government for 60 % of obligations, else a provincial office."""
        offices = self.offices[self.province_of(county)]
        return self.region_id[county["code"]] if ob_id % 5 < 3 else offices[ob_id % len(offices)]


def _rows_regions(w: World) -> Iterator[tuple]:
    for i, r in enumerate(w.regions):
        parent = w.region_id.get(r["parent_code"]) if r["parent_code"] else None
        yield (i + 1, r["code"], r["name"], None, r["level"], parent, r["path"])


def _rows_owners(w: World) -> Iterator[tuple]:
    for i, r in enumerate(w.regions):
        parent = w.region_id.get(r["parent_code"]) if r["parent_code"] else None
        yield (i + 1, f"{r['name']}人民政府", "government", i + 1, parent)
    for oid, name in zip(w.ministry_ids, MINISTRIES, strict=True):
        yield (oid, name, "department", None, None)
    for p in w.provinces:
        for oid, office in zip(w.offices[p["code"]], OFFICES, strict=True):
            yield (oid, f"{p['name']}{office}", "department", w.region_id[p["code"]], None)


def _title(task: int) -> str:
    return f"{TOPICS[task % len(TOPICS)]}（全国第{task + 1}项）"


def _rows_obligations(w: World) -> Iterator[tuple]:
    split = f'{{"split": {{"by": "county", "children": {len(w.counties)}, "targets": true}}}}'
    for task in range(TASKS):
        yield (task + 1, 1, f"N{task + 1:03d}", task + 1, _title(task), DOMAINS[task % 4],
               None, None, "in_progress", split)  # fmt: skip
    for index in range(w.children):
        ob_id, task, county = w.child(index)
        yield (
            ob_id,
            1,
            f"N{task + 1:03d}",
            task + 1,
            f"{_title(task)}（{county['name']}）",
            DOMAINS[task % 4],
            w.region_id[county["code"]],
            task + 1,
            STATES[ob_id % len(STATES)],
            f'{{"split_of": {task + 1}, "region": "{county["code"]}"}}',
        )


def _rows_assignments(w: World) -> Iterator[tuple]:
    n = 0
    for task in range(TASKS):
        n += 1
        yield (n, task + 1, w.ministry_ids[task % len(MINISTRIES)], "lead")
    for index in range(w.children):
        ob_id, _, county = w.child(index)
        offices = w.offices[w.province_of(county)]
        n += 1
        yield (n, ob_id, w.lead(ob_id, county), "lead")
        n += 1
        yield (n, ob_id, offices[(ob_id + 1) % len(offices)], "participant")


def _rows_milestones(w: World) -> Iterator[tuple]:
    rng = random.Random(4)
    start, cut = date(2023, 1, 1), date(2024, 6, 1)
    n = 0
    for task in range(TASKS):
        for k in range(2):
            n += 1
            yield (n, task + 1, f"阶段{k + 1}", date(2024 + k, 12, 31), None, f"n{n}@bench")
    for index in range(w.children):
        ob_id = TASKS + 1 + index
        for k in range(2):
            due = start + timedelta(days=rng.randint(0, 5 * 365 - 1))
            done = (
                due - timedelta(days=rng.randint(-20, 60))
                if due < cut and rng.random() < 0.95
                else None
            )
            n += 1
            yield (n, ob_id, f"阶段{k + 1}", due, done, f"n{n}@bench")


def _rows_reports(w: World) -> Iterator[tuple]:
    """The leads' monthly progress report for May 2024 (the calendar every obligation of the
    plan follows by default), from nine obligations in ten: the tenth owes it (催报)."""
    n = 0
    for index in range(w.children):
        ob_id, _, county = w.child(index)
        if ob_id % 10 == 0:
            continue
        n += 1
        yield (n, ob_id, w.lead(ob_id, county), 40 + ob_id % 50)


def _rows_sites(w: World) -> Iterator[tuple]:
    for index in range(w.children):
        _, _, county = w.child(index)
        yield (index + 1, f"s{index + 1:07d}", f"监测点{index + 1:07d}", "tailings_pond",
               w.region_id[county["code"]])  # fmt: skip


def _rows_targets(w: World) -> Iterator[tuple]:
    for index in range(w.children):
        ob_id = TASKS + 1 + index
        yield (index + 1, ob_id, "general.tailings_pond_count", "lte", 3.0,
               date(2024 + index % 4, 12, 31), index + 1, f"t{index + 1}@bench")  # fmt: skip


def _rows_readings(w: World) -> Iterator[tuple]:
    rng = random.Random(5)
    n = 0
    starts = [date(2014 + k, 1, 1) for k in range(READINGS)]
    ends = [date(2014 + k, 12, 31) for k in range(READINGS)]
    for index in range(w.children):
        level, drift = rng.randint(5, 40), rng.uniform(-4, 1)
        subject = f"site:s{index + 1:07d}"
        for k in range(READINGS):
            n += 1
            value = max(0.0, round(level + drift * k + rng.uniform(-1, 1)))
            yield (n, "general.tailings_pond_count", subject, index + 1, starts[k], ends[k],
                   value)  # fmt: skip


TABLES: list[tuple[str, str, Any, str]] = [
    # table, columns, rows, constant columns appended to every row
    ("region", "id, code, name, name_en, level, parent_id, path", _rows_regions, ""),
    ("owner", "id, name, kind, region_id, parent_id", _rows_owners, ""),
    (
        "obligation",
        "id, plan_id, code, seq, title, domain, region_id, parent_id, state, attrs, "
        "reopened, version, created_at, updated_at",
        _rows_obligations,
        f"0\t1\t{STAMP}\t{STAMP}",
    ),
    ("assignment", "id, obligation_id, owner_id, role", _rows_assignments, ""),
    (
        "milestone",
        "id, obligation_id, title, due, done_on, uid, sequence, updated_at",
        _rows_milestones,
        f"0\t{STAMP}",
    ),
    (
        "report",
        "id, obligation_id, owner_id, percent, role, period, period_end, progress, "
        "submitted_by, submitted_at",
        _rows_reports,
        "lead\t2024-05\t2024-05-31\t按计划推进\tbench\t2024-05-31 02:00:00+00",
    ),
    ("site", "id, key, name, kind, region_id", _rows_sites, ""),
    (
        "target",
        "id, obligation_id, indicator, comparator, value, due, site_id, uid, sequence, updated_at",
        _rows_targets,
        f"0\t{STAMP}",
    ),
    (
        "measurement",
        "id, indicator, subject, site_id, period_start, period_end, value, recorded_by, "
        "recorded_at",
        _rows_readings,
        f"bench\t{STAMP}",
    ),
]


def _text(rows: Iterator[tuple], constant: str) -> Iterator[bytes]:
    """COPY text format in chunks of about a megabyte (no value holds a tab or a newline)."""
    tail = f"\t{constant}\n" if constant else "\n"
    lines: list[str] = []
    for row in rows:
        lines.append("\t".join("\\N" if v is None else str(v) for v in row) + tail)
        if len(lines) == 10_000:
            yield "".join(lines).encode()
            lines = []
    if lines:
        yield "".join(lines).encode()


def build_seed() -> None:
    """Generate the world into the seed database unless it is there at this scale."""
    if _comment(SEED) == _marker():
        return
    import psycopg

    started = time.perf_counter()
    _admin(f"DROP DATABASE IF EXISTS {SEED} WITH (FORCE)", f"CREATE DATABASE {SEED}")
    duban("init", "--empty", "--sandbox", db=SEED)
    w = World()
    big = [table for table, *_ in TABLES]
    with psycopg.connect(url(SEED), autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")  # no foreign-key triggers
        # Secondary indexes and unique constraints are built once after the load.
        constraints = conn.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'u' AND conrelid::regclass::text = ANY(%s)",
            (big,),
        ).fetchall()
        for table, name, _ in constraints:
            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        indexes = conn.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY(%s) "
            "AND i.indexname NOT LIKE '%%_pkey'",
            (big,),
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        conn.execute(
            "INSERT INTO plan (id, key, title) VALUES (1, 'national-2026', "
            "'全国生态环境保护重点任务督办（基准）')"
        )
        for table, columns, rows, constant in TABLES:
            began = time.perf_counter()
            with conn.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for chunk in _text(rows(w), constant):
                    copy.write(chunk)
            print(f"{table}: {time.perf_counter() - began:.0f} s", file=sys.stderr, flush=True)
        conn.execute("SET session_replication_role = DEFAULT")
        began = time.perf_counter()
        for table, name, definition in constraints:
            conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        for _, definition in indexes:
            conn.execute(definition)
        for table in big:
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        print(f"indexes: {time.perf_counter() - began:.0f} s", file=sys.stderr, flush=True)
        conn.execute("VACUUM ANALYZE")
    _admin(*_settings(SEED), f"COMMENT ON DATABASE {SEED} IS '{_marker()}'")
    print(f"seed built in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def _settings(db: str) -> list[str]:
    return [f"ALTER DATABASE {db} SET {name} = '{value}'" for name, value in SETTINGS.items()]


def fresh_run() -> None:
    """A copy of the seed for this run (what a sweep writes must not reach the seed)."""
    build_seed()
    _admin(
        f"DROP DATABASE IF EXISTS {RUN} WITH (FORCE)",
        f"CREATE DATABASE {RUN} TEMPLATE {SEED}",
        *_settings(RUN),
        f"COMMENT ON DATABASE {RUN} IS '{_marker()} fresh'",
    )


def swept_run() -> None:
    """The run copy swept once as of ``AS_OF``, as the read scenarios and an unchanged sweep
    need it; kept from the full sweep's scenario when that ran just before."""
    if _comment(RUN) == f"{_marker()} swept":
        return
    fresh_run()
    _sweep()
    _settle()
    _admin(f"COMMENT ON DATABASE {RUN} IS '{_marker()} swept'")


def _settle() -> None:
    """``VACUUM ANALYZE`` after the sweep (not timed), as autovacuum would in time: the
    planner's statistics for the million statuses and escalations it wrote, and the
    visibility map that lets counts read an index alone."""
    import psycopg

    with psycopg.connect(url(RUN), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


# Timed parts --------------------------------------------------------------------------------
def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _sweep(login: str | None = None) -> dict[str, Any]:
    """The sweep as of ``AS_OF`` by the tables' owner, or by ``login``."""
    from sqlalchemy.engine import make_url

    from duban.core.cli.context import Env
    from duban.core.services.sweep import owner_names, sweep

    db_url = url(RUN) if login is None else make_url(url(RUN)).set(username=login)
    env = Env.create(db_url=str(db_url), actor=None, as_of=AS_OF)
    env.ensure_schema()
    with env.session() as session:
        session.connection()
        started, cpu = time.perf_counter(), time.process_time()
        result = sweep(session=session, as_of=date.fromisoformat(AS_OF))
        data = result.to_dict(
            owner_names(session=session, ids={c.addressed_to_id for c in result.changes})
        )
    wall = time.perf_counter() - started  # the commit included
    env.close()
    return {
        "wall": wall,
        "cpu": time.process_time() - cpu,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "opened": data["opened"],
        "follow_ups": data["follow_ups"],
        "wrote": data["wrote"],
        "load": _load(),
    }


def full_sweep(workdir: Path, login: str | None = None) -> dict[str, Any]:
    figures = _sweep(login)
    assert figures["opened"] > 0 and figures["wrote"], figures
    _settle()
    _admin(f"COMMENT ON DATABASE {RUN} IS '{_marker()} swept'")
    return figures


def coordinators_sweep(workdir: Path) -> dict[str, Any]:
    """The full sweep by a coordinator's login, as an office runs it: row-level security
    applies to it, so its rows cannot go by COPY (``batch_writes``)."""
    duban("user", "add", COORDINATOR, "--role", "coordinator")
    return full_sweep(workdir, COORDINATOR)


def unchanged_sweep(workdir: Path) -> dict[str, Any]:
    figures = _sweep()
    assert not figures["wrote"] and figures["opened"] == 0, figures
    return figures


def _command(*args: str) -> dict[str, Any]:
    """Median wall and CPU time (user and system) of ``RUNS`` runs of a whole ``duban``
    process after a warm-up."""
    duban(*args)
    walls, cpus = [], []
    for _ in range(RUNS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        out = duban(*args)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return {
        "wall": statistics.median(walls),
        "cpu": statistics.median(cpus),
        "worst": max(walls),
        "rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "out": out.strip()[:40] if len(out) < 40 else f"{len(out.splitlines())} lines",
        "load": _load(),
    }


def overdue_count(workdir: Path) -> dict[str, Any]:
    return _command("--as-of", AS_OF, "list", "--overdue", "--count")


def list_window(workdir: Path) -> dict[str, Any]:
    return _command("--as-of", AS_OF, "list", "--region", "湖南省", "--overdue", "--limit", "50")


def search_count(workdir: Path) -> dict[str, Any]:
    return _command("--as-of", AS_OF, "list", "--search", "黑臭水体", "--count")


def search_window(workdir: Path) -> dict[str, Any]:
    return _command("--as-of", AS_OF, "list", "--search", "湖南3市7县", "--limit", "20")


def first_paint(workdir: Path) -> dict[str, Any]:
    """``duban`` typed in a terminal to the dashboard's obligation count (``scenarios/tui.py``)."""
    import psycopg

    tui = sibling("tui")
    # Quitting waits for the traffic lights' read, started once the figures are drawn: at
    # this scale it takes about 35 s, which the exit must be given (not what is timed).
    tui.EXIT_TIMEOUT = 120
    with psycopg.connect(url(RUN)) as conn:
        total = conn.execute("SELECT count(*) FROM obligation").fetchone()[0]
    runs = [tui._launch_once(workdir, total, db=url(RUN), user=None) for _ in range(RUNS)]
    counted = runs[1:]
    return {
        "wall": statistics.median(r["wall"] for r in counted),
        "worst": max(r["wall"] for r in counted),
        "rss_mb": max(r["rss_mb"] for r in runs),
        "load": _load(),
    }


def county_feed(workdir: Path) -> dict[str, Any]:
    """One county government's calendar feed served by ``duban serve``: the GET that builds
    the body after one of its deadlines moved (median of 5) and a 304."""
    calendar = sibling("calendar")
    county = "湖南3市7县人民政府"
    import json

    feed = json.loads(duban("feed", "add", "--owner", county, "--format", "json"))
    (workdir / "feed.json").write_text(json.dumps(feed))
    import psycopg

    with psycopg.connect(url(RUN)) as conn:
        milestones = [
            r[0]
            for r in conn.execute(
                "SELECT m.id FROM milestone m JOIN assignment a ON a.obligation_id = m.obligation_id "
                "JOIN owner o ON o.id = a.owner_id WHERE o.name = %s AND a.role = 'lead' "
                "AND m.done_on IS NULL ORDER BY m.id LIMIT %s",
                (county, RUNS),
            )
        ]
    with calendar.server(workdir, db=url(RUN), user=None) as (feed_url, _):
        started = time.perf_counter()
        status, headers, body = calendar.get(feed_url)
        first = time.perf_counter() - started
        assert status == 200, status
        rebuilt = []
        for i, ms in enumerate(milestones):
            duban("milestone", "move", str(ms), "--due", f"2027-01-{i + 10:02d}")
            started = time.perf_counter()
            status, headers, changed = calendar.get(feed_url)
            rebuilt.append(time.perf_counter() - started)
            assert status == 200 and changed != body
        started = time.perf_counter()
        status, _, _ = calendar.get(feed_url, {"If-None-Match": headers["ETag"]})
        cached = time.perf_counter() - started
        assert status == 304, status
    return {
        "wall": statistics.median(rebuilt),
        "rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "first_after_start": first,
        "not_modified": cached,
        "events": body.count(b"BEGIN:VEVENT"),
        "load": _load(),
    }


def _prepare(step: str):
    """Set-up in a process of its own (see ``sweep.py``): generating in the runner would
    inflate the measured processes' peak RSS."""

    def run(workdir: Path) -> None:
        subprocess.run([sys.executable, "-P", __file__, step], check=True)

    return run


SIZE = f"{TASKS * 2790:,} obligations, {TASKS * 2790 * READINGS:,} readings (PostgreSQL)"
SCENARIOS = [
    Scenario("national: duban sweep (full)", SIZE, full_sweep, _prepare("fresh"),
             "<= 120 s, <= 500 MB"),
    Scenario("national: duban sweep (full, a coordinator)", SIZE, coordinators_sweep,
             _prepare("fresh"), "<= 120 s, <= 500 MB"),
    Scenario("national: duban sweep (nothing changed)", SIZE, unchanged_sweep, _prepare("swept"),
             "<= 5 s, <= 500 MB"),
    Scenario("national: list --overdue --count", SIZE, overdue_count, _prepare("swept"),
             "<= 0.5 s"),
    Scenario("national: list --region --overdue --limit 50", SIZE, list_window, _prepare("swept"),
             "<= 0.5 s"),
    Scenario("national: list --search --count", SIZE, search_count, _prepare("swept"),
             "<= 0.5 s"),
    Scenario("national: list --search --limit 20", SIZE, search_window, _prepare("swept"),
             "<= 0.5 s"),
    Scenario("national: TUI first paint", SIZE, first_paint, _prepare("swept"),
             "<= 2 s, <= 500 MB"),
    Scenario("national: a county's calendar feed", SIZE, county_feed, _prepare("swept"),
             "<= 500 MB"),
]  # fmt: skip


if __name__ == "__main__":
    {"fresh": fresh_run, "swept": swept_run, "seed": build_seed}[sys.argv[1]]()
