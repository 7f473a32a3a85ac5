"""full-text search

The indexes ``core/search.py`` reads: on SQLite an FTS5 table with the trigram tokenizer
per source (obligations, milestones, targets, reports), external-content tables kept
current by triggers; on PostgreSQL ``pg_trgm`` GIN indexes on each source's text.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As core/search.py's SOURCES at this revision (a migration keeps its own copy).
SOURCES = {
    "obligation": ("code", "title", "title_en", "body", "body_en"),
    "milestone": ("title", "title_en"),
    "target": ("indicator", "name", "name_en", "text"),
    "report": ("progress", "problems", "next_steps"),
}


def _text(columns: tuple[str, ...]) -> str:
    # The very expression search.text_sql writes, or PostgreSQL would not use the index.
    return "(" + " || ' ' || ".join(f"coalesce({c}, '')" for c in columns) + ")"


def _sqlite(table: str, columns: tuple[str, ...]) -> None:
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    fts = f"{table}_fts"
    op.execute(
        f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{table}',"
        " content_rowid='id', tokenize='trigram')"
    )
    op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
    insert = f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new});"
    delete = f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old});"
    op.execute(f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN {insert} END")
    op.execute(f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN {delete} END")
    # Only when the text changes: an obligation's state and version change far more often.
    op.execute(
        f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {cols} ON {table} BEGIN {delete} {insert} END"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table, columns in SOURCES.items():
            _sqlite(table, columns)
        return
    bind = op.get_bind()
    schema = bind.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
        " WHERE e.extname = 'pg_trgm'"
    ).scalar()
    if schema is None:
        # A trusted extension: the database's owner (or whoever may create in it) may.
        op.execute("CREATE EXTENSION pg_trgm")
        schema = bind.exec_driver_sql(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n"
            " ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
        ).scalar()
    quoted = bind.exec_driver_sql(f"SELECT quote_ident('{schema}')").scalar()
    for table, columns in SOURCES.items():
        op.execute(
            f"CREATE INDEX ix_{table}_search ON {table}"
            f" USING gin ({_text(columns)} {quoted}.gin_trgm_ops)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in SOURCES:
            for trigger in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER {table}_fts_{trigger}")
            op.execute(f"DROP TABLE {table}_fts")
        return
    for table in SOURCES:
        op.execute(f"DROP INDEX ix_{table}_search")
