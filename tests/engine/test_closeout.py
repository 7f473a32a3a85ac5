"""Close-out (销号): submit with evidence, verify or reject by someone else, all audited."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import text


def rows(db_url: str, sql: str) -> list:
    from duban.core.db import get_engine

    with get_engine(db_url).connect() as conn:
        return list(conn.execute(text(sql)).all())


@pytest.fixture
def task(duban):
    duban.ok("owner", "add", "湖南省水利厅", "--alias", "省水利厅")
    duban.ok("owner", "add", "湖南省林业局")
    ob = duban.ok(
        "add",
        "河湖清四乱",
        "--lead",
        "省水利厅",
        "--participant",
        "湖南省林业局",
        "--due",
        "2024-06-30",
        "--due",
        "2025-06-30",
    ).stdout.strip()
    duban.ok("user", "add", "zhang", "--role", "member", "--owner", "湖南省水利厅")
    duban.ok("user", "add", "liu", "--role", "member", "--owner", "湖南省林业局")
    duban.ok("user", "add", "chen", "--role", "coordinator")
    return ob


def test_submit_verify_closes_and_fingerprints(duban, db_url, task, tmp_path) -> None:
    photo = tmp_path / "整改前后对比.jpg"
    photo.write_bytes(b"\xff\xd8 before and after")
    duban.ok(
        "submit",
        task,
        "--evidence",
        str(photo),
        "--evidence",
        "https://example.org/report",
        "--note",
        "已完成",
        actor="zhang",
        as_of="2024-06-20",
    )
    shown = duban.ok("show", task, "--format", "json").json()
    assert shown["state"] == "submitted"
    evidence = rows(db_url, "SELECT uri, sha256, added_by FROM evidence ORDER BY id")
    assert evidence[0][1] == hashlib.sha256(photo.read_bytes()).hexdigest()
    assert evidence[1] == ("https://example.org/report", None, "zhang")

    duban.ok("verify", task, actor="chen", as_of="2024-07-05")
    shown = duban.ok("show", task, "--format", "json").json()
    assert shown["state"] == "closed"
    # Pending milestones count as done on the day the close-out was submitted.
    assert [m["done"] for m in shown["milestones"]] == ["2024-06-20", "2024-06-20"]
    decision = rows(db_url, "SELECT submitted_by, decision, decided_by FROM submission")
    assert decision == [("zhang", "verified", "chen")]
    actions = [r[0] for r in rows(db_url, "SELECT action FROM audit_event ORDER BY seq")]
    assert {"evidence.add", "closeout.submit", "closeout.verify", "milestone.done"} <= set(actions)
    assert duban.ok("audit", "verify").exit_code == 0


def test_self_verification_is_refused(duban, db_url, task, tmp_path) -> None:
    proof = tmp_path / "p.txt"
    proof.write_text("x")
    duban.ok("submit", task, "--evidence", str(proof), as_of="2024-06-01")  # coord submits
    before = rows(db_url, "SELECT count(*) FROM audit_event")
    refused = duban("verify", task)
    assert refused.exit_code == 3
    assert "coord submitted this close-out and may not decide it" in refused.stderr
    assert duban("reject", task, "--reason", "自己退回").exit_code == 3
    assert rows(db_url, "SELECT count(*) FROM audit_event") == before
    assert duban.ok("show", task, "--format", "json").json()["state"] == "submitted"
    duban.ok("verify", task, actor="chen")


def test_reject_sends_back_to_in_progress(duban, db_url, task, tmp_path) -> None:
    proof = tmp_path / "p.txt"
    proof.write_text("x")
    duban.ok("submit", task, "--evidence", str(proof), actor="zhang")
    assert duban("reject", task, "--reason", " ", actor="chen").exit_code == 2
    duban.ok("reject", task, "--reason", "照片不能证明整改到位", actor="chen")
    assert duban.ok("show", task, "--format", "json").json()["state"] == "in_progress"
    assert rows(db_url, "SELECT decision, reason FROM submission") == [
        ("rejected", "照片不能证明整改到位")
    ]
    # Nothing awaits a decision now.
    again = duban("verify", task, actor="chen")
    assert again.exit_code == 5 and "no close-out awaiting a decision" in again.stderr
    duban.ok("submit", task, "--evidence", str(proof), actor="zhang")  # a second try is allowed


@pytest.mark.parametrize(
    ("args", "actor", "code", "message"),
    [
        ([], "zhang", 2, "--evidence: a close-out needs at least one file or URL"),
        (["--evidence", "no/such/file.pdf"], "zhang", 2, "no such file, and not an http(s) URL"),
        (["--evidence", "ftp://example.org/x"], "zhang", 2, "not an http(s) URL"),
        (["--evidence", "https://example.org/x"], "liu", 3, "only a lead owner submits"),
        # On PostgreSQL a login of no duban role is refused before the service says why.
        (["--evidence", "https://example.org/x"], "nobody", 3, "nobody"),
    ],
)
def test_bad_submissions_write_nothing(duban, db_url, task, args, actor, code, message) -> None:
    before = rows(
        db_url, "SELECT (SELECT count(*) FROM audit_event), (SELECT count(*) FROM evidence)"
    )
    result = duban("submit", task, *args, actor=actor)
    assert result.exit_code == code and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert (
        rows(db_url, "SELECT (SELECT count(*) FROM audit_event), (SELECT count(*) FROM evidence)")
        == before
    )
    assert duban.ok("show", task, "--format", "json").json()["state"] == "open"


def test_state_rules(duban, task) -> None:
    assert duban("submit", "999", "--evidence", "https://e.org/x").exit_code == 4
    assert duban("verify", task, actor="chen").exit_code == 5  # nothing submitted
    duban.ok("submit", task, "--evidence", "https://e.org/x", actor="zhang")
    twice = duban("submit", task, "--evidence", "https://e.org/x", actor="zhang")
    assert twice.exit_code == 5 and "submitted" in twice.stderr
    duban.ok("verify", task, actor="chen")
    closed = duban("submit", task, "--evidence", "https://e.org/x", actor="zhang")
    assert closed.exit_code == 5 and "closed" in closed.stderr


def test_messages_in_chinese(duban, task) -> None:
    result = duban("submit", task, actor="zhang", lang="zh")
    assert "至少需要一个文件或网址" in result.stderr
