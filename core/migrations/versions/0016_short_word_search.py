"""search indexes for words of one and two characters

Revision 0010's trigram indexes cannot look up fewer than three characters. On SQLite each
source gets a second FTS5 table, ``<source>_fts_chars``, over its text with a space after
every character (the view ``<source>_fts_chars_text`` writes it) and a unicode61 tokenizer
that keeps every character as a token, so a word is a phrase of characters: 长沙 is
``"长 沙"``. The columns are one text, joined by a line feed, and a space in them becomes
one too: a token that no word holds (a search splits words at whitespace), so characters
either side of it never make a phrase. The tables are contentless, kept by triggers that read the view (the view holds
the one recursive CTE, which a trigger may not).

On PostgreSQL each source gets a GIN index on ``duban_search_grams`` of the text
revision 0010 indexes: its lower-cased characters and pairs of characters.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As core/search.py's SOURCES at this revision (a migration keeps its own copy).
SOURCES = {
    "obligation": ("code", "title", "title_en", "body", "body_en"),
    "milestone": ("title", "title_en"),
    "target": ("indicator", "name", "name_en", "text"),
    "report": ("progress", "problems", "next_steps"),
}
PACKED = ("milestone", "target")  # as core/search.py's PACKED
# Every Unicode category is a token character, and only the space separates.
TOKENIZER = "unicode61 remove_diacritics 0 categories ''L* N* M* P* S* Z* C*'' separators '' ''"


CHUNK = 16  # characters spaced per step: a step of the recursion costs more than a substr


def _spaced(columns: tuple[str, ...]) -> str:
    # The columns joined by a line feed, which no word holds, so no word spans two. A
    # substr past the end is '', so the last step leaves extra spaces, which separate.
    joined = " || char(10) || ".join(f"coalesce({c}, '')" for c in columns)
    pieces = " || ' ' || ".join(f"substr(t, {j}, 1)" for j in range(1, CHUNK + 1))
    return (
        f"(WITH RECURSIVE n(c, t) AS (SELECT '', replace({joined}, ' ', char(10))"
        f" UNION ALL SELECT {pieces}, substr(t, {CHUNK + 1}) FROM n WHERE t <> '')"
        " SELECT group_concat(c, ' ') FROM n)"
    )


def _text(columns: tuple[str, ...]) -> str:
    # The very expression search.text_sql writes, or PostgreSQL would not use the index.
    return "(" + " || ' ' || ".join(f"coalesce({c}, '')" for c in columns) + ")"


def _sqlite(table: str, columns: tuple[str, ...]) -> None:
    fts, view = f"{table}_fts_chars", f"{table}_fts_chars_text"
    # A milestone's or target's entry carries its obligation's id in the high bits of its
    # rowid, so a search reads the obligation from the index alone (no row looked up).
    doc = "(obligation_id << 32) | id" if table in PACKED else "id"
    op.execute(
        f"CREATE VIEW {view} AS SELECT id, {doc} AS doc, {_spaced(columns)} AS text FROM {table}"
    )
    op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5(text, content='', tokenize='{TOKENIZER}')")
    # Pending terms written out every 16 MB rather than 1 MB: a bulk build a fifth cheaper.
    op.execute(f"INSERT INTO {fts}({fts}, rank) VALUES ('hashsize', {16 << 20})")
    op.execute(f"INSERT INTO {fts}(rowid, text) SELECT doc, text FROM {view}")
    insert = f"INSERT INTO {fts}(rowid, text) SELECT doc, text FROM {view} WHERE id = new.id;"
    delete = (
        f"INSERT INTO {fts}({fts}, rowid, text) SELECT 'delete', doc, text"
        f" FROM {view} WHERE id = old.id;"
    )
    cols = ", ".join((*columns, "obligation_id") if table in PACKED else columns)
    # A contentless table forgets a row by the text it indexed: read before it changes.
    op.execute(f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN {insert} END")
    op.execute(f"CREATE TRIGGER {fts}_delete BEFORE DELETE ON {table} BEGIN {delete} END")
    op.execute(f"CREATE TRIGGER {fts}_unset BEFORE UPDATE OF {cols} ON {table} BEGIN {delete} END")
    op.execute(f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {cols} ON {table} BEGIN {insert} END")


# Its characters, then each pair of neighbours (unnest zips the characters with themselves
# shifted by one); GIN drops the repeats. Dear to run, which the planner must know, or it
# would call it on every row rather than read the index. The index compares its keys
# bytewise (COLLATE "C"), which makes writing it half as dear as by the locale's rules.
GRAMS = """
CREATE FUNCTION duban_search_grams(text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 10000 AS $$
    SELECT c || ARRAY(SELECT a || b FROM unnest(c, c[2:]) AS u(a, b) WHERE b IS NOT NULL)
    FROM regexp_split_to_array(lower($1), '') AS c
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table, columns in SOURCES.items():
            _sqlite(table, columns)
        return
    op.execute(GRAMS)
    for table, columns in SOURCES.items():
        op.execute(
            f"CREATE INDEX ix_{table}_grams_search ON {table}"
            f' USING gin ((duban_search_grams({_text(columns)}) COLLATE "C"))'
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in SOURCES:
            for trigger in ("insert", "delete", "unset", "update"):
                op.execute(f"DROP TRIGGER {table}_fts_chars_{trigger}")
            op.execute(f"DROP TABLE {table}_fts_chars")
            op.execute(f"DROP VIEW {table}_fts_chars_text")
        return
    for table in SOURCES:
        op.execute(f"DROP INDEX ix_{table}_grams_search")
    op.execute("DROP FUNCTION duban_search_grams(text)")
