"""A helper process judges part of a large evaluation (``core/judging.py``): what it finds is
what this process would find, and it is used only where it reads what this process reads."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from duban.core import judging, target_status
from duban.core.cli.context import Env
from duban.core.models import Measurement, Site
from duban.core.services.evaluation import evaluate_all

SCENARIO = Path(__file__).resolve().parents[2] / "benchmarks" / "scenarios" / "sweep.py"
PONDS = "general.tailings_pond_count"
DAY = date(2024, 6, 1)


@pytest.fixture
def populated(duban, db_url: str):
    """The sweep benchmark's world at 300 obligations (a site target each, ten readings per
    site), with two sites whose readings are gone and readings of a site without a target."""
    spec = importlib.util.spec_from_file_location("sweep_scenario", SCENARIO)
    scenario = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scenario)
    scenario.populate(db_url, 300, actor="coord")
    env = Env.create(db_url=db_url, actor="coord", as_of=None)
    with env.session() as s:
        s.execute(
            sa.delete(Measurement).where(
                Measurement.subject.in_(["site:site-000298", "site:site-000299"])
            )
        )
        s.add(Site(key="zz-no-target", name="无目标点位", kind="tailings_pond"))
        s.flush()
        site = s.execute(sa.select(Site.id).where(Site.key == "zz-no-target")).scalar_one()
        s.add_all(
            Measurement(
                indicator=PONDS,
                subject="site:zz-no-target",
                site_id=site,
                period_start=date(year, 1, 1),
                period_end=date(year, 12, 31),
                value=5,
                recorded_at=datetime(2023, 1, 1, tzinfo=UTC),
            )
            for year in (2021, 2022)
        )
    env.close()
    return duban


def _evaluate(
    url: str, day: date = DAY, *, first: Callable[[Any], None] | None = None
) -> list[tuple[int, Any]]:
    """Every target's evaluation as of ``day``, in a writing session (as a sweep's) that
    ``first`` may write in; nothing is kept."""
    env = Env.create(db_url=url, actor="coord", as_of=day.isoformat())
    with env.session() as s:
        if first is not None:
            first(s)
        found = [(tg.id, ev) for tg, ev in evaluate_all(session=s, as_of=day)]
        s.rollback()
    env.close()
    return found


def _shared(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(target_status, "SHARED_FROM", 1)


def _on_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


@pytest.mark.parametrize("day", [DAY, date(2024, 2, 1)])
def test_a_helper_judges_as_this_process_would(
    populated, db_url: str, monkeypatch: pytest.MonkeyPatch, answers: list[bool], day: date
) -> None:
    # A new reading recorded on 2024-03-01: not seen as of 2024-02-01, so that read goes
    # through the lens.
    populated.ok("record", PONDS, "40", "--site", "site-000298", "--at", "2023", as_of="2024-03-01")
    alone = _evaluate(db_url, day)
    assert answers == []
    _shared(monkeypatch)
    together = _evaluate(db_url, day)
    assert together == alone
    assert len(alone) > 300 and {ev.status for _, ev in alone} >= {"met", "no_data"}
    # On PostgreSQL the helper's own connection could not read as the login does.
    assert answers == ([True] if _on_sqlite(db_url) else [])


@pytest.mark.parametrize(
    "command",
    [
        ("-c", "import sys; sys.exit(3)"),
        ("-c", "import sys; sys.stdin.buffer.read(); sys.stdout.write('cut short')"),
        ("-c", "import os; os.kill(os.getpid(), 9)"),
    ],
)
def test_a_helper_that_fails_leaves_its_part_judged_here(
    populated, db_url: str, monkeypatch: pytest.MonkeyPatch, answers: list[bool], command
) -> None:
    if not _on_sqlite(db_url):
        pytest.skip("no helper on PostgreSQL")
    alone = _evaluate(db_url)
    _shared(monkeypatch)
    monkeypatch.setattr(judging.Helper, "COMMAND", (sys.executable, *command))
    assert _evaluate(db_url) == alone
    assert answers == [False]


def test_no_helper_once_the_transaction_has_written(
    populated, db_url: str, monkeypatch: pytest.MonkeyPatch, answers: list[bool]
) -> None:
    """A helper reads the last commit: after this transaction's own writes it would judge
    without them."""

    def high(s: Any) -> None:
        s.execute(
            sa.update(Measurement)
            .where(Measurement.subject == "site:site-000290")
            .values(value=1_000_000)
        )

    alone = _evaluate(db_url, first=high)
    before = dict(_evaluate(db_url))
    _shared(monkeypatch)
    together = _evaluate(db_url, first=high)
    assert together == alone
    assert [ev for (_, ev) in together] != list(before.values())  # the write counts
    assert answers == []


def test_a_helper_still_running_is_stopped(populated, db_url: str, monkeypatch) -> None:
    if not _on_sqlite(db_url):
        pytest.skip("no helper on PostgreSQL")
    monkeypatch.setattr(
        judging.Helper, "COMMAND", (sys.executable, "-c", "import time; time.sleep(60)")
    )
    job = judging.Job("SELECT 1", {}, [("site:x", [1])], "yearly", None, DAY, "en")  # type: ignore[arg-type]
    helper = judging.Helper(db_url.removeprefix("sqlite:///"), job)
    process = helper.process
    assert process is not None and process.poll() is None
    helper.stop()
    assert process.returncode == -9 and helper.process is None


def test_the_working_directory_does_not_shadow_the_helpers_modules(
    populated, db_url: str, monkeypatch: pytest.MonkeyPatch, answers: list[bool], tmp_path: Path
) -> None:
    if not _on_sqlite(db_url):
        pytest.skip("no helper on PostgreSQL")
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "pickle.py").write_text("raise SystemExit('shadowed')\n", encoding="utf-8")
    monkeypatch.chdir(folder)
    _shared(monkeypatch)
    _evaluate(db_url)
    assert answers == [True]
