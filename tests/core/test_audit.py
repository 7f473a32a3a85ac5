"""The hash-chained audit log: every mutation writes an event; tampering is detected."""

from __future__ import annotations

from sqlalchemy import text

from duban.core.db import get_engine


def _events(url: str) -> list[tuple]:
    with get_engine(url).connect() as conn:
        return list(
            conn.execute(text("SELECT seq, action, entity_type FROM audit_event ORDER BY seq"))
        )


def test_every_mutation_is_audited(duban) -> None:
    duban.ok("owner", "add", "湖南省水利厅", "--alias", "省水利厅")
    duban.ok("owner", "set", "省水利厅", "--email", "shuili@example.org")
    duban.ok("add", "任务", "--lead", "省水利厅", "--due", "2025-12-31")
    duban.ok("user", "add", "li", "--role", "viewer")
    actions = [row[1] for row in _events(duban.url)]
    assert actions == [
        "user.add",
        "database.init",
        "owner.add",
        "owner.set",
        "obligation.add",
        "user.add",
    ]
    assert "6 events" in duban.ok("audit", "verify").stdout


def test_log_filters_by_entity(duban) -> None:
    duban.ok("owner", "add", "湖南省水利厅")
    ob = duban.ok("add", "任务", "--lead", "湖南省水利厅").stdout.strip()
    rows = duban.ok("audit", "log", "--entity", f"obligation:{ob}", "--format", "json").json()
    assert [r["action"] for r in rows] == ["obligation.add"]
    assert rows[0]["after"]["title"] == "任务"


def _tamper(url: str, sql: str) -> None:
    with get_engine(url).begin() as conn:
        conn.execute(text(sql))


def test_edited_row_is_detected(duban) -> None:
    duban.ok("owner", "add", "湖南省水利厅")
    duban.ok("add", "任务", "--lead", "湖南省水利厅")
    duban.ok("add", "任务二", "--lead", "湖南省水利厅")
    _tamper(duban.url, "UPDATE audit_event SET actor = 'mallory' WHERE seq = 3")
    result = duban("audit", "verify")
    assert result.exit_code == 1
    assert "#3" in result.stderr and "content does not match" in result.stderr


def test_deleted_row_is_detected(duban) -> None:
    duban.ok("owner", "add", "湖南省水利厅")
    duban.ok("add", "任务", "--lead", "湖南省水利厅")
    duban.ok("add", "任务二", "--lead", "湖南省水利厅")
    _tamper(duban.url, "DELETE FROM audit_event WHERE seq = 2")
    result = duban("audit", "verify")
    assert result.exit_code == 1
    assert "#3" in result.stderr


def test_truncated_tail_is_detected(duban) -> None:
    duban.ok("owner", "add", "湖南省水利厅")
    duban.ok("add", "任务", "--lead", "湖南省水利厅")
    _tamper(duban.url, "DELETE FROM audit_event WHERE seq = (SELECT MAX(seq) FROM audit_event)")
    assert duban("audit", "verify").exit_code == 1


def test_rehashed_row_still_breaks_the_link(duban) -> None:
    """Recomputing a tampered row's own hash does not help: the next event's link breaks."""
    from sqlmodel import select

    from duban.core.audit import event_hash
    from duban.core.db import open_session
    from duban.core.models import AuditEvent

    duban.ok("owner", "add", "湖南省水利厅")
    duban.ok("add", "任务", "--lead", "湖南省水利厅")
    with open_session(get_engine(duban.url), actor="coord") as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.seq == 2)).one()
        event.actor = "mallory"
        event.hash = event_hash(
            seq=2,
            at=event.at,
            actor="mallory",
            action=event.action,
            entity_type=event.entity_type,
            entity_id=event.entity_id,
            before=event.before,
            after=event.after,
            prev_hash=event.prev_hash,
            os_user=event.os_user,
        )
    result = duban("audit", "verify")
    assert result.exit_code == 1 and "#3" in result.stderr
