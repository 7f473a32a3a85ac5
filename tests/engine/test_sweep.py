"""The escalation sweep over a multi-year scenario with an injected clock (``--as-of``):
escalations open, climb, resolve and re-open; a summons creates its follow-up once;
sweeps are idempotent; a broken plugin rule is reported, not fatal."""

from __future__ import annotations

import types
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

# The day the ``hunan`` fixture records its plan (tests/conftest.py): the county target is
# recorded then too, before every sweep reads it.
HUNAN_RECORDED = "2023-01-01"

TABLES = (
    "escalation",
    "obligation",
    "milestone",
    "assignment",
    "sweep",
    "target_status",
    "submission",
    "evidence",
    "audit_event",
)


def snapshot(db_url: str) -> dict[str, int]:
    """Row counts of the tables a sweep may write, plus the audit chain's head."""
    from duban.core.db import get_engine

    with get_engine(db_url).connect() as conn:
        counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in TABLES}
        counts["escalation_state"] = conn.execute(
            text(
                "SELECT count(*), coalesce(sum(id * (length(level) + CASE WHEN resolved_at IS NULL THEN 0 "
                "ELSE 100 END)), 0) FROM escalation"
            )
        ).one()[1]
    return counts


def escalations(runner, **filters: str) -> list[dict]:
    args = ["escalations", "--format", "json"]
    for key, value in filters.items():
        args += [f"--{key}"] if value is True else [f"--{key}", value]
    return runner.ok(*args).json()


def sweep(runner, day: str, *extra: str) -> dict:
    return runner.ok("sweep", "--format", "json", *extra, as_of=day).json()


@pytest.fixture
def campaign(duban):
    """An empty database with a department under a provincial government and one task."""
    duban.ok("owner", "add", "湖南省人民政府", "--kind", "government")
    duban.ok(
        "owner", "add", "湖南省生态环境厅", "--parent", "湖南省人民政府", "--alias", "省生态环境厅"
    )
    ob = duban.ok(
        "add", "黑臭水体整治", "--lead", "省生态环境厅", "--due", "2024-03-31"
    ).stdout.strip()
    duban.ok("user", "add", "li", "--role", "coordinator")
    duban.ok("user", "add", "wang", "--role", "member", "--owner", "湖南省生态环境厅")
    return {"ob": int(ob)}


def test_milestone_ladder_over_months(duban, db_url, campaign) -> None:
    ob = campaign["ob"]
    assert sweep(duban, "2024-03-31")["opened"] == 0  # due today: not yet overdue

    first = sweep(duban, "2024-04-01")
    assert first["opened"] == 1
    [esc] = escalations(duban, open=True)
    assert (esc["level"], esc["addressed_to"], esc["obligation_id"]) == (
        "supervise",
        "湖南省生态环境厅",
        ob,
    )
    assert esc["subject_type"] == "milestone" and "1 days overdue" in esc["reason"]
    assert esc["opened"].startswith("2024-03-31T16:00")  # local midnight of the sweep date, in UTC

    # The same moment again changes nothing at all, not even the audit log.
    before = snapshot(db_url)
    again = sweep(duban, "2024-04-01")
    assert (again["opened"], again["raised"], again["resolved"], again["wrote"]) == (0, 0, 0, False)
    assert snapshot(db_url) == before

    assert sweep(duban, "2024-04-29")["raised"] == 0  # 29 days
    listed = sweep(duban, "2024-04-30")  # 30 days
    assert [(c["action"], c["previous_level"], c["level"]) for c in listed["changes"]] == [
        ("raise", "supervise", "list")
    ]
    assert sweep(duban, "2024-06-28")["unchanged"] == 1

    summoned = sweep(duban, "2024-06-29")  # 90 days: summoned, by the body above it
    assert summoned["raised"] == 1 and summoned["follow_ups"] == 1
    [esc] = escalations(duban, open=True)
    assert (esc["id"], esc["level"], esc["addressed_to"], esc["convened_by"]) == (
        1,
        "summon",
        "湖南省生态环境厅",
        "湖南省人民政府",
    )
    follow = duban.ok("show", str(esc["follow_up_id"]), "--format", "json").json()
    assert follow["title"] == "书面整改报告：黑臭水体整治（约谈 #1）"
    assert follow["lead"] == ["湖南省生态环境厅"]
    assert [m["due"] for m in follow["milestones"]] == ["2024-07-29"]

    # The follow-up appears exactly once, however often the sweep runs.
    assert sweep(duban, "2024-06-29")["wrote"] is False
    assert sweep(duban, "2024-07-10")["follow_ups"] == 0
    listed = duban.ok("list", "--format", "json").json()
    assert sum(r["title"].startswith("书面整改报告") for r in listed) == 1
    order = [r["id"] for r in listed]
    assert order.index(follow["id"]) == order.index(ob) + 1  # right after its source

    # Not reported in time: the report itself becomes overdue and is escalated to its lead.
    late = sweep(duban, "2024-07-30")
    assert [(c["action"], c["obligation_id"], c["addressed_to"]) for c in late["changes"]] == [
        ("open", follow["id"], "湖南省生态环境厅")
    ]

    # Close-out by the lead's member, verified by another coordinator: the condition clears.
    evidence = (
        Path(db_url.removeprefix("sqlite:///")).parent / "report.txt"
        if db_url.startswith("sqlite")
        else None
    )
    proof = str(evidence) if evidence else "https://example.org/report.pdf"
    if evidence:
        evidence.write_text("整改报告", encoding="utf-8")
    duban.ok("submit", str(ob), "--evidence", proof, actor="wang", as_of="2024-08-01")
    duban.ok("verify", str(ob), actor="li", as_of="2024-08-02")
    # The close-out resolves its escalations itself, without waiting for a sweep.
    history = {e["id"]: e for e in escalations(duban)}
    assert history[1]["resolved_on"] == "2024-08-02"
    assert history[1]["resolve_reason"] == "截至2024-08-02，任务 #1 已销号"
    cleared = sweep(duban, "2024-08-03")
    assert [c for c in cleared["changes"] if c["action"] == "resolve"] == []
    history = {e["id"]: e for e in escalations(duban)}
    assert history[1]["resolved"] and history[1]["resolve_reason"]
    assert history[1]["level"] == "summon"  # never lowered, never deleted
    assert [e["id"] for e in escalations(duban, open=True)] == [2]


def test_sweeps_only_move_forward_and_dry_runs_write_nothing(duban, db_url, campaign) -> None:
    before = snapshot(db_url)
    preview = sweep(duban, "2024-09-01", "--dry-run")
    assert preview["dry_run"] is True and preview["opened"] == 1 and preview["follow_ups"] == 1
    assert preview["changes"][0]["level"] == "summon" and preview["changes"][0]["id"] is None
    assert snapshot(db_url) == before

    sweep(duban, "2024-09-01")
    after = snapshot(db_url)
    back = duban("sweep", as_of="2024-05-01")
    assert back.exit_code == 2
    assert "the last sweep was as of 2024-09-01" in back.stderr and "--dry-run" in back.stderr
    assert snapshot(db_url) == after
    # Looking at the past is allowed without writing.
    past = sweep(duban, "2024-05-01", "--dry-run")  # 30 days overdue then: below today's summons
    assert (past["changes"], past["unchanged"]) == ([], 1)
    assert snapshot(db_url) == after


def test_sweep_needs_a_coordinator_and_a_sane_date(duban, db_url, campaign) -> None:
    before = snapshot(db_url)
    refused = duban("sweep", as_of="2024-09-01", actor="wang")
    assert refused.exit_code == 3 and "coordinator" in refused.stderr
    bad = duban("sweep", "--as-of", "2205-01-01")
    assert bad.exit_code == 2 and "--as-of" in bad.stderr and "outside" in bad.stderr
    assert duban("sweep", "--as-of", "yesterday").exit_code == 2
    assert snapshot(db_url) == before
    # The command-level --as-of is the same as the global one.
    assert (
        duban.ok("sweep", "--as-of", "2024-04-02", "--format", "json").json()["as_of"]
        == "2024-04-02"
    )


def test_rejected_twice_summons_the_head_body(duban, db_url, campaign, tmp_path) -> None:
    ob = str(campaign["ob"])
    proof = tmp_path / "proof.pdf"
    proof.write_bytes(b"%PDF-1.4 evidence")
    for day in ("2024-01-10", "2024-01-20"):
        duban.ok("submit", ob, "--evidence", str(proof), actor="wang", as_of=day)
        duban.ok("reject", ob, "--reason", "证据不足", actor="li", as_of=day)
    result = sweep(duban, "2024-02-01")
    [change] = result["changes"]
    assert (change["level"], change["rule"], change["addressed_to"]) == (
        "summon",
        "core.closeout_rejected",
        "湖南省生态环境厅",
    )
    assert "rejected 2 times" in change["reason"]
    assert result["follow_ups"] == 1

    duban.ok("submit", ob, "--evidence", str(proof), actor="wang", as_of="2024-02-05")
    duban.ok("verify", ob, actor="li", as_of="2024-02-06")
    assert escalations(duban, open=True) == []  # resolved by the close-out itself
    assert sweep(duban, "2024-02-07")["changes"] == []


def test_manual_escalation_climbs_only_and_ack(duban, db_url, campaign) -> None:
    ob = str(campaign["ob"])
    first = duban.ok(
        "escalate", ob, "--level", "督办", "--reason", "群众反映强烈", as_of="2024-01-05"
    )
    assert "#1" in first.stdout
    before = snapshot(db_url)
    down = duban("escalate", ob, "--level", "remind", "--reason", "x", as_of="2024-01-06")
    assert down.exit_code == 5 and "only climbs" in down.stderr
    unknown = duban("escalate", ob, "--level", "jail", "--reason", "x")
    assert unknown.exit_code == 2 and "unknown level 'jail'" in unknown.stderr
    assert duban("escalate", ob, "--level", "list", "--reason", "  ").exit_code == 2
    assert duban("escalate", ob, "--level", "list", "--reason", "x", actor="wang").exit_code == 3
    assert snapshot(db_url) == before

    duban.ok("escalate", ob, "--level", "summon", "--reason", "约谈", as_of="2024-01-07")
    [esc] = escalations(duban)
    assert (esc["level"], esc["manual"], esc["addressed_to"], esc["convened_by"]) == (
        "summon",
        True,
        "湖南省生态环境厅",
        "湖南省人民政府",
    )
    assert esc["follow_up_id"] is not None
    # Sweeps leave a hand-made escalation alone while its obligation is live.
    assert sweep(duban, "2024-01-08")["resolved"] == 0

    # Acknowledgement: by the addressed body's member or a coordinator, with a note, once.
    duban.ok("user", "add", "zhao", "--role", "member", "--owner", "湖南省人民政府")
    assert duban("ack", "1", "--note", "收到", actor="zhao").exit_code == 3  # not addressed
    assert duban("ack", "99", "--note", "收到").exit_code == 4
    assert duban("ack", "1", "--note", " ").exit_code == 2
    duban.ok("ack", "1", "--note", "已安排约谈", actor="li")
    again = duban("ack", "1", "--note", "again")
    assert again.exit_code == 5 and "already acknowledged by li" in again.stderr
    [esc] = escalations(duban)
    assert esc["acknowledged_by"] == "li" and esc["ack_note"] == "已安排约谈"


def test_escalations_filters(duban, campaign) -> None:
    duban.ok("add", "另一项任务", "--lead", "湖南省人民政府", "--due", "2024-04-30")
    sweep(duban, "2024-05-15")
    rows = escalations(duban)
    assert {r["level"] for r in rows} == {"list", "supervise"}
    assert all(
        {"id", "level", "subject", "addressed_to", "reason", "opened", "resolved"} <= set(r)
        for r in rows
    )
    assert [r["addressed_to"] for r in escalations(duban, owner="省生态环境厅")] == [
        "湖南省生态环境厅"
    ]
    assert [r["level"] for r in escalations(duban, level="挂牌督办")] == ["list"]
    assert len(escalations(duban, open=True)) == 2
    bad = duban("escalations", "--level", "nope")
    assert bad.exit_code == 2 and "--level" in bad.stderr
    assert duban("escalations", "--owner", "没有这个单位").exit_code == 4
    table = duban.ok("escalations", lang="zh").stdout
    assert "挂牌督办" in table and "督办对象" in table


def test_thresholds_come_from_duban_toml(duban, campaign, tmp_path, monkeypatch) -> None:
    config = tmp_path / "duban.toml"
    config.write_text(
        '[rules."core.milestone_overdue"]\nsupervise = 10\nlist = 20\nsummon = 400\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("DUBAN_CONFIG", str(config))
    from duban.core.settings import reset_settings

    reset_settings()
    assert sweep(duban, "2024-04-05")["opened"] == 0
    assert sweep(duban, "2024-04-21")["changes"][0]["level"] == "list"

    config.write_text('[rules."core.milestone_overdue"]\nlist = "soon"\n', encoding="utf-8")
    reset_settings()
    result = duban("sweep", "--format", "json", as_of="2024-04-22")
    assert result.exit_code == 0
    [failure] = result.json()["rule_failures"]
    assert failure["rule"] == "core.milestone_overdue" and "list" in failure["error"]
    assert "warning: rule core.milestone_overdue failed" in result.stderr
    assert escalations(duban, open=True)[0]["level"] == "list"  # a failed rule resolves nothing
    reset_settings()


def test_a_broken_plugin_rule_is_reported_not_fatal(duban, campaign) -> None:
    from duban.core.contributions import EscalationRule
    from duban.core.hookspecs import hookimpl
    from duban.core.plugins import get_host

    def explode(ctx):
        raise RuntimeError("sensor database offline")

    plugin = types.ModuleType("broken_rules")

    @hookimpl
    def duban_register_escalation_rules(register):
        register(
            EscalationRule(key="broken.rule", name="坏规则", name_en="Broken", evaluate=explode)
        )

    plugin.duban_register_escalation_rules = duban_register_escalation_rules
    get_host().register_module("broken", plugin)
    result = duban("sweep", "--format", "json", as_of="2024-04-02")
    assert result.exit_code == 0
    data = result.json()
    assert data["opened"] == 1  # core's rules still ran
    assert data["rule_failures"] == [
        {
            "rule": "broken.rule",
            "plugin": "broken",
            "error": "RuntimeError: sensor database offline",
        }
    ]


@pytest.fixture
def liuyang(hunan, tmp_path, monkeypatch):
    """A county target on the Hunan tree with readings over four years."""
    config = tmp_path / "duban.toml"
    config.write_text(
        '[rules."core.region_quality_missed"]\nindicators = ["general.forest_*"]\n'
        '[rules."core.milestone_overdue"]\nenabled = false\n'
        '[rules."core.report_missing"]\nenabled = false\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("DUBAN_CONFIG", str(config))
    from duban.core.settings import reset_settings

    reset_settings()
    ob = hunan.ok(
        "add",
        "浏阳市森林覆盖率",
        "--lead",
        "湖南省林业局",
        "--region",
        "430181",
        as_of=HUNAN_RECORDED,
    ).stdout.strip()
    hunan.ok(
        "target",
        "add",
        ob,
        "--indicator",
        "general.forest_coverage_rate",
        "--gte",
        "60",
        "--due",
        "2025-12-31",
        "--region",
        "430181",
        "--baseline",
        "50",
        "--baseline-date",
        "2022-12-31",
        as_of=HUNAN_RECORDED,
    )
    readings = {
        "2023-06-30": "49",
        "2023-12-31": "49.5",
        "2024-06-30": "56",
        "2024-12-31": "50",
        "2025-06-30": "50",
        "2025-12-31": "52",
        "2026-06-30": "61",
    }
    for day, value in readings.items():  # each recorded the day after its period ends
        published = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
        hunan.ok(
            "record",
            "general.forest_coverage_rate",
            value,
            "--region",
            "430181",
            "--at",
            day,
            as_of=published,
        )
    yield int(ob)
    reset_settings()


def test_target_escalations_open_climb_resolve_and_reopen(hunan, db_url, liuyang) -> None:
    def mine(result: dict) -> list[tuple[str, str, str | None]]:
        return [
            (c["action"], c["level"], c["addressed_to"])
            for c in result["changes"]
            if c["obligation_id"] == liuyang
        ]

    # Off track once is not enough; twice in consecutive sweeps opens a supervision notice
    # addressed to the county's government (a regional target).
    assert mine(sweep(hunan, "2023-07-01")) == []
    assert mine(sweep(hunan, "2024-01-01")) == [("open", "supervise", "浏阳市人民政府")]
    assert mine(sweep(hunan, "2024-01-01")) == []
    assert mine(sweep(hunan, "2024-07-01")) == [
        ("resolve", "supervise", "浏阳市人民政府")
    ]  # on track
    assert mine(sweep(hunan, "2025-01-01")) == []  # off track again: once
    assert mine(sweep(hunan, "2025-07-01")) == [
        ("open", "supervise", "浏阳市人民政府")
    ]  # re-opened

    # Missed at the due date: the same escalation climbs to a summons (convened by the body
    # above), and
    # the county's government faces a regional approval freeze.
    missed = sweep(hunan, "2026-01-02")
    assert sorted(mine(missed)) == [
        ("open", "freeze", "浏阳市人民政府"),
        ("raise", "summon", "浏阳市人民政府"),
    ]
    assert [
        f
        for f in missed["follow_up_obligations"]
        if f["escalation"] in {c["id"] for c in missed["changes"] if c["obligation_id"] == liuyang}
    ]
    before = snapshot(db_url)
    assert mine(sweep(hunan, "2026-01-02")) == []
    assert snapshot(db_url) == before

    # A reading that meets the target clears both.
    assert sorted(mine(sweep(hunan, "2026-07-01"))) == [
        ("resolve", "freeze", "浏阳市人民政府"),
        ("resolve", "summon", "浏阳市人民政府"),
    ]
    history = [e for e in escalations(hunan) if e["obligation_id"] == liuyang]
    assert [(e["level"], e["resolved_on"]) for e in history] == [
        ("supervise", "2024-07-01"),
        ("summon", "2026-07-01"),
        ("freeze", "2026-07-01"),
    ]
    statuses = hunan.ok(
        "status", "--obligation", str(liuyang), "--format", "json", as_of="2026-07-01"
    ).json()
    assert statuses[0]["status"] == "met"


def test_new_readings_on_the_same_day_are_taken_into_account(hunan, db_url, liuyang) -> None:
    sweep(hunan, "2023-07-01")
    sweep(hunan, "2024-01-01")
    # A corrected reading recorded later the same day: the sweep re-evaluates, not reuses.
    hunan.ok(
        "record",
        "general.forest_coverage_rate",
        "53.5",
        "--region",
        "430181",
        "--at",
        "2023-12-31",
        "--note",
        "corrected",
        as_of="2024-01-01",
    )
    result = sweep(hunan, "2024-01-01")
    statuses = hunan.ok(
        "status", "--obligation", str(liuyang), "--format", "json", as_of="2024-01-01"
    ).json()
    assert statuses[0]["status"] == "on_track"
    assert [
        (c["action"], c["level"]) for c in result["changes"] if c["obligation_id"] == liuyang
    ] == [("resolve", "supervise")]
    assert sweep(hunan, "2024-01-01")["wrote"] is False


def test_audit_chain_holds_after_bulk_sweeps(duban, campaign) -> None:
    for i in range(30):
        duban.ok("add", f"任务{i}", "--lead", "省生态环境厅", "--due", f"2024-01-{i + 1:02d}")
    assert sweep(duban, "2024-06-01")["opened"] == 31
    assert duban.ok("audit", "verify").exit_code == 0


def test_a_follow_up_is_listed_right_after_its_plan_task(hunan) -> None:
    """A summons's written report belongs to the task it is about: in code order it comes
    right after that task, not before the plan's first one."""
    hunan.ok("escalate", "（七）", "--level", "summon", "--reason", "整改滞后", as_of="2024-06-01")
    [esc] = escalations(hunan, open=True)
    assert esc["follow_up_id"]
    listed = [(r["id"], r["code"]) for r in hunan.ok("list", "--format", "json").json()]
    at = next(i for i, (_, code) in enumerate(listed) if code == "（七）")
    assert listed[at + 1][0] == esc["follow_up_id"]


def test_a_sweep_in_batches_of_targets_finds_what_one_batch_finds(
    hunan, db_url, liuyang, monkeypatch
) -> None:
    """Beyond ``evaluation_store.WHOLE`` targets a sweep evaluates a batch at a time and keeps
    only figures; its findings, statuses and the rows it writes are the same."""
    from duban.core import target_status
    from duban.core.services import evaluation_store

    sweep(hunan, "2023-07-01")  # off track counts over consecutive sweeps
    whole = sweep(hunan, "2024-01-01", "--dry-run")
    assert whole["changes"] and sum(whole["statuses"].values()) > 4
    # Two targets a batch, each batch reading its subjects' readings by one parameter.
    monkeypatch.setattr(evaluation_store, "BATCH", 2)
    monkeypatch.setattr(evaluation_store, "WHOLE", 2)
    monkeypatch.setattr(target_status, "_IN_LIMIT", 0)
    assert sweep(hunan, "2024-01-01", "--dry-run") == whole
    written = sweep(hunan, "2024-01-01")
    assert {k: written[k] for k in ("opened", "raised", "resolved", "statuses")} == {
        k: whole[k] for k in ("opened", "raised", "resolved", "statuses")
    }
    assert snapshot(db_url)["target_status"] == 2 * sum(whole["statuses"].values())
    hunan.ok(
        "record", "general.forest_coverage_rate", "53.5", "--region", "430181",
        "--at", "2023-12-31", "--note", "corrected", as_of="2024-01-01",
    )  # fmt: skip
    again = sweep(hunan, "2024-01-01")  # the same date: existing rows compared batch by batch
    assert again["wrote"] and [(c["action"], c["obligation_id"]) for c in again["changes"]] == [
        ("resolve", liuyang)
    ]
    assert snapshot(db_url)["target_status"] == 2 * sum(whole["statuses"].values())
