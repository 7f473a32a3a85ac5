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


def _drop_triggers(url: str) -> None:
    """What someone with the sqlite3 shell does first: drop the append-only triggers."""
    with get_engine(url).begin() as conn:
        if conn.dialect.name == "sqlite":
            for (name,) in conn.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            ).all():
                conn.execute(text(f"DROP TRIGGER {name}"))


def _tamper(url: str, sql: str) -> None:
    _drop_triggers(url)
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
    _drop_triggers(duban.url)
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


def _head(runner) -> str:
    found = runner.ok("audit", "head", "--format", "json").json()
    return f"{found['seq']}:{found['hash']}"


def _history(runner) -> None:
    runner.ok("owner", "add", "湖南省水利厅")
    for i in range(12):
        runner.ok("add", f"任务{i}", "--lead", "湖南省水利厅")


def test_audit_rows_are_append_only_on_sqlite(duban) -> None:
    import pytest
    from sqlalchemy.exc import IntegrityError

    if not duban.url.startswith("sqlite"):
        pytest.skip("PostgreSQL protects audit rows by privileges")
    _history(duban)
    for sql in ("DELETE FROM audit_event", "UPDATE audit_event SET actor = 'mallory'"):
        with (
            pytest.raises(IntegrityError, match="append-only"),
            get_engine(duban.url).begin() as conn,
        ):
            conn.execute(text(sql))
    assert duban("audit", "verify").exit_code == 0


def test_witness_holds_for_an_intact_chain(duban) -> None:
    _history(duban)
    early = _head(duban)
    duban.ok("add", "任务后", "--lead", "湖南省水利厅")
    assert duban("audit", "verify", "--witness", early, "--witness", _head(duban)).exit_code == 0
    bad = duban("audit", "verify", "--witness", "12:abc")
    assert bad.exit_code == 2 and "--witness" in bad.stderr


def test_witness_detects_a_wiped_chain(duban) -> None:
    _history(duban)
    witness = _head(duban)
    _tamper(duban.url, "DELETE FROM audit_event")
    _tamper(duban.url, "DELETE FROM audit_head")
    assert duban("audit", "verify").exit_code == 0  # an empty chain is consistent...
    result = duban("audit", "verify", "--witness", witness)
    assert result.exit_code == 1 and "missing" in result.stderr  # ...but not the witness


def test_witness_detects_a_truncated_chain(duban) -> None:
    _history(duban)
    witness = _head(duban)
    seq = int(witness.split(":")[0])
    _tamper(duban.url, f"DELETE FROM audit_event WHERE seq > {seq - 10}")
    _tamper(
        duban.url,
        f"UPDATE audit_head SET seq = {seq - 10}, last_hash = "
        f"(SELECT hash FROM audit_event WHERE seq = {seq - 10})",
    )
    assert duban("audit", "verify").exit_code == 0
    assert duban("audit", "verify", "--witness", witness).exit_code == 1


def test_witness_detects_a_rewritten_chain(duban) -> None:
    """Rewrite one event and recompute every hash after it: the chain verifies, the
    witness does not."""
    from sqlmodel import select

    from duban.core.audit import GENESIS, event_hash
    from duban.core.db import open_session
    from duban.core.models import AuditEvent, AuditHead

    _history(duban)
    witness = _head(duban)
    _drop_triggers(duban.url)
    with open_session(get_engine(duban.url), actor="coord") as session:
        prev = GENESIS
        for event in session.exec(select(AuditEvent).order_by(AuditEvent.seq)).all():
            if event.seq == 3:
                event.actor = "mallory"
            event.prev_hash = prev
            event.hash = prev = event_hash(
                seq=event.seq,
                at=event.at,
                actor=event.actor,
                action=event.action,
                entity_type=event.entity_type,
                entity_id=event.entity_id,
                before=event.before,
                after=event.after,
                prev_hash=prev,
                os_user=event.os_user,
            )
            session.add(event)
        session.get(AuditHead, 1).last_hash = prev
    assert duban("audit", "verify").exit_code == 0
    result = duban("audit", "verify", "--witness", witness)
    assert result.exit_code == 1 and "rewritten" in result.stderr


def test_many_events_at_once_store_what_they_hash(duban) -> None:
    """``record_many`` encodes each payload once: the text it stores is ``event_hash``'s
    encoding (keys sorted, compact, characters unescaped) of the payload as ``normalise``
    returns it, it reads back as that payload, and the chain verifies. The payloads are the awkward ones: keys that are not strings
    (JSON sorts them as strings), nested containers, tuples, enums, instants and days."""
    import json
    from datetime import UTC, date, datetime

    import sqlalchemy as sa

    from duban.core.audit import normalise, record_many
    from duban.core.db import open_session
    from duban.core.models import AuditEvent, State

    payloads = [
        None,
        {"b": 1, "a": "督办", "at": datetime(2024, 5, 31, 16, tzinfo=UTC), "on": date(2024, 6, 1)},
        {2: "x", 10: "y"},
        {"nested": {10: [1, (2, 3)], "k": {"z": None, "a": 1.5}}, "state": State.open},
        {"list": [{"b": True}, {"a": False}], "ratio": 0.1, "big": 2**70},
    ]
    pairs = list(zip(payloads, reversed(payloads), strict=True))
    with open_session(get_engine(duban.url), actor="coord") as session:
        record_many(session, [("test.event", "thing", n, *pair) for n, pair in enumerate(pairs)])
    table = AuditEvent.__table__
    with get_engine(duban.url).connect() as conn:
        stored = conn.execute(
            sa.select(sa.cast(table.c.before, sa.Text), sa.cast(table.c.after, sa.Text))
            .where(table.c.action == "test.event")
            .order_by(table.c.seq)
        ).all()
    canonical = {"ensure_ascii": False, "sort_keys": True, "separators": (",", ":")}
    assert [tuple(row) for row in stored] == [
        tuple(None if p is None else json.dumps(normalise(p), **canonical) for p in pair)
        for pair in pairs
    ]
    with open_session(get_engine(duban.url), actor="coord") as session:
        read = session.exec(
            sa.select(AuditEvent.before, AuditEvent.after)
            .where(AuditEvent.action == "test.event")
            .order_by(AuditEvent.seq)
        ).all()
    assert [tuple(row) for row in read] == [tuple(map(normalise, pair)) for pair in pairs]
    assert duban("audit", "verify").exit_code == 0
