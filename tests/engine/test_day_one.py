"""A sweep a coordinator can trust on day one: a plan loaded late climbs from its load date,
escalations go to the bodies that must answer, follow-ups are unique, close-outs resolve."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from duban.core.clock import Clock
from duban.core.testing import Runner


@pytest.fixture
def today_plan(db_url: str) -> Runner:
    """The built-in plan loaded today (its deadlines long past), in a sandbox."""
    runner = Runner(db_url)
    runner.ok("init", "--sandbox")
    return runner


def test_first_sweep_after_loading_opens_only_the_first_rung(today_plan: Runner) -> None:
    preview = today_plan.ok("sweep", "--dry-run", "--format", "json").json()
    assert today_plan.ok("escalations", "--format", "json").json() == []  # nothing written
    swept = today_plan.ok("sweep", "--format", "json").json()
    assert swept["opened"] == preview["opened"] > 0
    rows = today_plan.ok("escalations", "--format", "json").json()
    assert {r["level"] for r in rows} == {"supervise"}
    assert "湖南省人民政府" not in {r["addressed_to"] for r in rows}
    follow = [
        r for r in today_plan.ok("list", "--format", "json").json() if "整改报告" in r["title"]
    ]
    assert not [t for t, n in Counter(r["title"] for r in follow).items() if n > 1]


def test_the_ladder_climbs_from_the_load_date(today_plan: Runner) -> None:
    today = Clock().today()
    today_plan.ok("sweep")
    day = (today + timedelta(days=28)).isoformat()  # 29 days since loading
    assert today_plan.ok("sweep", "--format", "json", as_of=day).json()["raised"] == 0
    day = (today + timedelta(days=29)).isoformat()  # the 30th day: the second rung
    raised = today_plan.ok("sweep", "--format", "json", as_of=day).json()
    assert raised["raised"] > 0
    assert {c["level"] for c in raised["changes"] if c["action"] == "raise"} == {"list"}


@pytest.mark.usefixtures("without_report_rule")
def test_one_open_follow_up_per_obligation_and_level(duban: Runner) -> None:
    duban.ok("owner", "add", "湖南省人民政府", "--kind", "government")
    duban.ok("owner", "add", "湖南省水利厅", "--parent", "湖南省人民政府")
    ob = duban.ok(
        "add",
        "河道采砂整治",
        "--code",
        "（二十）",
        "--lead",
        "湖南省水利厅",
        "--due",
        "2024-01-31",
        "--due",
        "2024-02-29",
        as_of="2023-06-01",
    ).stdout.strip()
    swept = duban.ok("sweep", "--format", "json", as_of="2024-06-30").json()
    summons = [c for c in swept["changes"] if c["level"] == "summon"]
    assert len(summons) == 2  # one per milestone, each at least 90 days late
    made = {f["obligation"] for f in swept["follow_up_obligations"]}
    assert len(made) == 1
    [follow] = [r for r in duban.ok("list", "--format", "json").json() if r["id"] in made]
    assert follow["title"].startswith("书面整改报告：（二十） 河道采砂整治（约谈 #")
    rows = duban.ok("escalations", "--format", "json").json()
    assert {r["follow_up_id"] for r in rows if r["obligation_id"] == int(ob)} == made
    assert {(r["addressed_to"], r["convened_by"]) for r in rows} == {
        ("湖南省水利厅", "湖南省人民政府")
    }


@pytest.mark.usefixtures("without_report_rule")
def test_verify_resolves_open_escalations_without_a_sweep(duban: Runner) -> None:
    duban.ok("owner", "add", "湖南省水利厅")
    ob = duban.ok(
        "add", "任务", "--lead", "湖南省水利厅", "--due", "2024-01-31", as_of="2024-01-01"
    ).stdout.strip()
    duban.ok("user", "add", "li", "--role", "coordinator")
    duban.ok("sweep", as_of="2024-03-01")
    assert len(duban.ok("escalations", "--open", "--format", "json").json()) == 1
    duban.ok("submit", ob, "--evidence", "https://example.org/r.pdf", as_of="2024-03-02")
    duban.ok("verify", ob, actor="li", as_of="2024-03-03")
    assert duban.ok("escalations", "--open", "--format", "json").json() == []
    [row] = duban.ok("escalations", "--format", "json").json()
    assert row["resolved_on"] == "2024-03-03"


def test_the_dashboard_says_how_many_deadlines_had_passed_at_load(
    today_plan: Runner, tmp_path
) -> None:
    from duban.core.cli.context import Env
    from duban.tui import overview

    env = Env.create(db_url=today_plan.url, actor="coord", as_of=None)
    try:
        with env.reading() as db:
            figures = overview.figures(db, env.today)
            assert figures["plan"]["late_at_load"] > 0
            assert overview.identity(db, "coord")["sandbox"] is True
    finally:
        env.close()
    [load] = today_plan.ok("audit", "log", "--entity", "plan", "--format", "json").json()
    assert load["after"]["late_at_load"] == figures["plan"]["late_at_load"]
    today_plan.ok("notice", "--format", "md", "-o", str(tmp_path / "notice.md"))
    assert "沙盒" in (tmp_path / "notice.md").read_text(encoding="utf-8")
