"""Schema revisions: a database made by an earlier duban upgrades in place on its next
command, keeping its data, and the listing index serves the order it was made for."""

from __future__ import annotations

from datetime import UTC, date

import pytest
from alembic import command
from sqlalchemy import inspect, select, text

from duban.core.db import get_engine, schema_revision
from duban.core.migrations import HEAD, config
from duban.core.testing import Runner


def _indexes(url: str) -> set[str]:
    engine = get_engine(url)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":  # expression indexes are not reflected there
            return set(
                conn.execute(
                    text(
                        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'obligation'"
                    )
                ).scalars()
            )
        return {ix["name"] for ix in inspect(conn).get_indexes("obligation")}


def test_a_database_at_the_first_revision_upgrades_on_the_next_command(
    hunan: Runner, db_url: str
) -> None:
    engine = get_engine(db_url)
    command.downgrade(config(engine), "0001")
    assert schema_revision(engine) == "0001"
    assert "ix_obligation_listing" not in _indexes(db_url)
    before = hunan.ok("list", "--overdue", "--count", as_of="2024-06-01").stdout

    assert hunan.ok("list", "--overdue", "--count", as_of="2024-06-01").stdout == before
    assert schema_revision(engine) == HEAD
    assert "ix_obligation_listing" in _indexes(db_url)
    assert "深入实施工业污染治理" in hunan.ok("show", "（七）").stdout


def test_a_filtered_window_in_code_order_reads_the_listing_index(
    hunan: Runner, db_url: str
) -> None:
    """The first rows of a filtered list come from walking the index in order, not from
    sorting every match (which made a keystroke in the TUI's filter take a quarter second
    on 100k obligations)."""
    if not db_url.startswith("sqlite"):
        pytest.skip("the plan is SQLite's; PostgreSQL chooses by its statistics")
    from datetime import date

    from duban.core.cli.context import Env
    from duban.core.filters import ObligationFilter
    from duban.core.queries import Lean

    env = Env.create(db_url=db_url, actor="coord", as_of="2024-06-01")
    with env.session(write=False) as session:
        as_of = date(2024, 6, 1)
        lean = Lean.of_session(session)
        # (A search is ranked, so it sorts its matches: test_search.py.)
        for f in (ObligationFilter(overdue=True), ObligationFilter()):
            where = f.where(lean, as_of)
            order, _ = f.order(lean.dialect)
            sql = (
                f"SELECT obligation.id FROM obligation WHERE {where.sql} ORDER BY {order} LIMIT 40"
            )
            plan = " / ".join(
                str(row[-1]) for row in lean.rows("EXPLAIN QUERY PLAN " + sql, **where.params)
            )
            assert "INDEX ix_obligation_listing" in plan, (f, plan)
            assert "TEMP B-TREE" not in plan, (f, plan)
    env.close()


def test_threads_opening_their_first_sessions_together_create_the_schema_once(db_url: str) -> None:
    """As the TUI's workers do on start: one creates (or upgrades) the database, the others
    wait for it, and whoever created it is its only coordinator."""
    import threading

    from duban.core.cli.context import Env
    from duban.core.models import User

    env = Env.create(db_url=db_url, actor="coord", as_of="2024-06-01")
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def first_session() -> None:
        start.wait()
        try:
            with env.session(write=False) as session:
                session.scalars(select(User.name)).all()
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=first_session) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert schema_revision(get_engine(db_url)) == HEAD
    with env.session(write=False) as session:
        assert session.scalars(select(User.name)).all() == ["coord"]
    env.close()


def test_stored_horizons_stop_being_milestones(hunan: Runner, db_url: str) -> None:
    """0013: the plan's end stored as an ``implied`` milestone of an undated task counted as
    a deadline; those not done go, one already done stays as an ordinary milestone."""
    from datetime import date, datetime

    import sqlalchemy as sa

    from duban.core.models import UTCDateTime

    undated = hunan.ok("show", "（十一）", "--format", "json").json()
    dated = hunan.ok("show", "（四）", "--format", "json").json()
    engine = get_engine(db_url)
    command.downgrade(config(engine), "0009")
    milestone = sa.table(
        "milestone",
        *(sa.column(c) for c in ("obligation_id", "title", "uid", "sequence")),
        sa.column("due", sa.Date),
        sa.column("done_on", sa.Date),
        sa.column("implied", sa.Boolean),
        sa.column("updated_at", UTCDateTime(timezone=True)),
    )
    row = {"title": "方案期末前完成", "sequence": 0, "implied": True, "done_on": None}
    row["updated_at"] = datetime(2024, 1, 2, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            milestone.insert(),
            [
                {**row, "obligation_id": undated["id"], "uid": "h1", "due": date(2025, 12, 31)},
                {
                    **row,
                    "obligation_id": dated["id"],
                    "uid": "h2",
                    "due": date(2025, 12, 31),
                    "done_on": date(2025, 11, 30),
                },
            ],
        )
    overdue = hunan.ok("list", "--overdue", "--format", "json", as_of="2026-06-01").json()
    assert schema_revision(engine) == HEAD
    assert undated["code"] not in {r["code"] for r in overdue}
    shown = hunan.ok("show", "（十一）", "--format", "json").json()
    assert shown["milestones"] == [] and shown["horizon"] == {"due": "2025-12-31", "implied": True}
    kept = hunan.ok("show", "（四）", "--format", "json").json()["milestones"]
    assert [m["done"] for m in kept if m["title"] == "方案期末前完成"] == ["2025-11-30"], kept


@pytest.mark.usefixtures("without_report_rule")
def test_raises_made_before_revision_0011_are_kept_from_the_audit_log(
    duban: Runner, db_url: str
) -> None:
    """Upgrading to 0011 fills ``escalation_change`` from the audit log's raises, so that
    reads as of an earlier date see the level an escalation had then."""
    from duban.core.cli.context import Env
    from duban.tui import overview

    duban.ok("owner", "add", "湖南省水利厅", as_of="2024-03-01")
    duban.ok("add", "河道整治", "--lead", "湖南省水利厅", "--due", "2024-03-15", as_of="2024-03-01")
    duban.ok("sweep", as_of="2024-03-20")  # supervise
    duban.ok("sweep", as_of="2024-04-20")  # raised to list
    engine = get_engine(db_url)
    command.downgrade(config(engine), "0009")
    assert "escalation_change" not in inspect(engine).get_table_names()
    duban.ok("list", "--count")  # upgrades
    assert schema_revision(engine) == HEAD
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT from_level, to_level FROM escalation_change")).all()
    assert [tuple(r) for r in rows] == [("supervise", "list")]
    env = Env.create(db_url=db_url, actor="coord", as_of=None)
    try:
        with env.reading() as db:
            assert overview.ladder_counts(db, date(2024, 4, 19)) == {"supervise": 1}
    finally:
        env.close()
