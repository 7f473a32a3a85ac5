"""The bulk write and read helpers a sweep relies on (``core/batch_writes.py``,
``queries.Lean.stream``), on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlmodel import select

from duban.core.batch_writes import insert_many, insert_tuples
from duban.core.cli.context import Env
from duban.core.db import dispose_all, normalise_url
from duban.core.models import AuditEvent, Escalation
from duban.core.queries import Lean
from duban.core.testing import COORDINATOR, Runner, login_url

STAMP = datetime(2024, 6, 1, 2, 30, 15, 123456, tzinfo=UTC)


def _escalation(n: int) -> dict:
    return {
        "subject_type": "obligation",
        "subject_id": n,
        "condition": f"c:{n}",
        "rule": "core.test",
        "level": "remind",
        "reason": "逾期",
    }


def test_values_shared_by_every_row_are_stored_as_when_given_in_each(env: Env) -> None:
    """``same`` goes through the column's conversion once: the instant and the flag are
    stored as they are when each row carries them (SQLite's driver would store a raw
    datetime differently)."""
    with env.session() as session:
        each = [{**_escalation(n), "opened_at": STAMP, "manual": True} for n in (1, 2)]
        ids = insert_many(session, Escalation, each, returning=True)
        ids += insert_many(
            session,
            Escalation,
            [_escalation(n) for n in (3, 4)],
            returning=True,
            same={"opened_at": STAMP, "manual": True},
        )
        insert_tuples(
            session,
            Escalation,
            tuple(_escalation(5)),
            [tuple(_escalation(5).values())],
            same={"manual": True, "opened_at": STAMP},
        )
        stored = session.execute(
            text("SELECT id, subject_id, opened_at, manual FROM escalation ORDER BY id")
        ).all()
    assert [row[1] for row in stored] == [1, 2, 3, 4, 5] and [row[0] for row in stored[:4]] == ids
    assert len({(row[2], row[3]) for row in stored}) == 1
    with env.session() as session:
        [escalation] = session.exec(select(Escalation).where(Escalation.subject_id == 5)).all()
        assert escalation.opened_at == STAMP and escalation.manual is True


def test_a_stream_gives_every_row_across_its_batches_and_may_stop_early(env: Env) -> None:
    count = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < :last)"
    with env.session() as session:
        db = Lean.of_session(session)
        rows = list(db.stream(count + " SELECT x, x * 2 FROM n ORDER BY x", last=45_001))
        assert rows == [(x, 2 * x) for x in range(1, 45_002)]
        first = db.stream(count + " SELECT x FROM n ORDER BY x", last=30_000)
        assert [next(first) for _ in range(3)] == [(1,), (2,), (3,)]
        del first  # its cursor closes; the connection reads on
        assert db.one("SELECT 7") == 7


def test_bulk_rows_keep_every_character_and_value_as_the_orm_stores_them(env: Env) -> None:
    """On PostgreSQL bulk rows go through COPY (for the tables' owner, as here), whose text
    format escapes tabs, newlines and backslashes: what is read back is what was given, as
    for a row the ORM adds; a JSON document given as encoded text is stored as that
    document."""
    awkward = "整改\t滞后\n第二行 \\N \\\\ 'q' \"dq\" \r end"
    with env.session() as session:
        session.add(Escalation(**{**_escalation(1), "reason": awkward, "opened_at": STAMP}))
        session.flush()
        insert_tuples(
            session,
            Escalation,
            ("subject_type", "subject_id", "condition", "rule", "level", "reason", "reason_en"),
            [("obligation", 2, "c:2", "core.test", "remind", awkward, None)],
            same={"opened_at": STAMP, "manual": False},
        )
        insert_tuples(
            session,
            AuditEvent,
            ("seq", "action", "entity_type", "entity_id", "after", "hash", "prev_hash"),
            [(10**9, "test.bulk", "escalation", "2", '{"why":"整改\\t滞后"}', "h", "p")],
            encoded=("after",),
            same={"at": STAMP, "actor": "coord", "os_user": "coord"},
        )
    with env.session() as session:
        rows = session.exec(select(Escalation).order_by(Escalation.id)).all()
        assert [(r.reason, r.reason_en, r.opened_at, r.manual) for r in rows] == [
            (awkward, None, STAMP, False)
        ] * 2
        [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "test.bulk")).all()
        assert event.after == {"why": "整改\t滞后"} and event.entity_id == "2"


def _written_as_coordinator(url: str, name: str) -> None:
    """As ``name``, a coordinator who does not own the tables, so under row-level security:
    escalations and audit events written in bulk come back as given."""
    env = Env.create(db_url=login_url(url, name), actor=name, as_of=None)
    awkward = "整改\t滞后\n \\N \\\\ 'q' \"dq\" \r"
    columns = ("subject_type", "subject_id", "condition", "rule", "level", "reason", "reason_en")
    given = [
        ("obligation", i, f"c:{i}", "core.test", "remind", f"{awkward}{i}", None if i % 3 else "x")
        for i in range(2507)
    ]
    try:
        with env.session() as session:
            secured = "SELECT row_security_active('escalation'::regclass)"
            assert session.connection().exec_driver_sql(secured).scalar_one()
            insert_tuples(session, Escalation, columns, given, same={"opened_at": STAMP})
            insert_tuples(
                session,
                AuditEvent,
                ("seq", "action", "entity_type", "entity_id", "after", "hash", "prev_hash"),
                [
                    (10**9 + i, "test.bulk", "escalation", str(i), f'{{"n":{i}}}', "h", "p")
                    for i in (1, 2)
                ],
                encoded=("after",),
                same={"at": STAMP, "actor": name, "os_user": name},
            )
        with env.session() as session:
            rows = session.exec(select(Escalation).order_by(Escalation.subject_id)).all()
            assert [
                (r.subject_type, r.subject_id, r.condition, r.rule, r.level, r.reason, r.reason_en)
                for r in rows
            ] == given
            assert {(r.opened_at, r.manual) for r in rows} == {(STAMP, False)}
            events = session.exec(select(AuditEvent).where(AuditEvent.action == "test.bulk")).all()
            assert sorted((e.entity_id, e.after, e.actor) for e in events) == [
                ("1", {"n": 1}, name),
                ("2", {"n": 2}, name),
            ]
    finally:
        env.close()


def test_bulk_rows_under_row_level_security_are_written_as_given(duban: Runner) -> None:
    """PostgreSQL refuses COPY under row-level security: a coordinator's rows go by COPY into
    a temporary table, then one INSERT ... SELECT that the policies check; every value as
    given and as the column stores it, JSON given as encoded text included."""
    if not duban.url.startswith("postgresql"):
        pytest.skip("row-level security is PostgreSQL's")
    name = f"c_{uuid.uuid4().hex[:8]}"
    duban.ok("user", "add", name, "--role", "coordinator")
    _written_as_coordinator(duban.url, name)


def test_bulk_rows_where_no_temporary_table_may_be_made(db_url: str) -> None:
    """On a server whose database does not let everyone make temporary tables, a coordinator
    who does not own the tables writes an INSERT per row, with the same result."""
    if not db_url.startswith("postgresql"):
        pytest.skip("row-level security is PostgreSQL's")
    database = f"duban_t_{uuid.uuid4().hex[:10]}"
    server = make_url(normalise_url(os.environ["DUBAN_TEST_DATABASE_URL"]))
    _admin(server, f'CREATE DATABASE {database} OWNER "{COORDINATOR}"')
    _admin(server, f"REVOKE TEMPORARY ON DATABASE {database} FROM PUBLIC")
    url = make_url(db_url).set(database=database, query={}).render_as_string(False)
    try:
        _admin(server.set(database=database), "CREATE EXTENSION pg_trgm")
        runner = Runner(url)
        runner.ok("init", "--empty", "--sandbox")
        name = f"c_{uuid.uuid4().hex[:8]}"
        runner.ok("user", "add", name, "--role", "coordinator")
        check = create_engine(login_url(url, name))
        with check.connect() as conn:
            temporary = "SELECT has_database_privilege(current_database(), 'TEMPORARY')"
            assert conn.execute(text(temporary)).scalar_one() is False
        check.dispose()
        _written_as_coordinator(url, name)
    finally:
        dispose_all()
        _admin(server, f"DROP DATABASE {database} WITH (FORCE)")


def _admin(url: URL, statement: str) -> None:
    """One statement by the server's administrator, outside a transaction."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()
