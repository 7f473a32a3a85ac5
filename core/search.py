"""Full-text search over obligations, as plain SQL (the lean path and the ORM alike).

A word is found in an obligation's code, title and body, its milestones, its targets (the
indicator's key and name, the target's own text), the names and aliases of the owners
assigned to it, and its progress reports (those recorded by ``:seen_at``, ``visibility``).
Words are substrings, in Chinese as in English, without case; several words must all be
found, each anywhere.

The indexes are migration 0010's. On SQLite each source has an FTS5 table with the trigram
tokenizer, kept current by triggers; a trigram index cannot look up fewer than three
characters, so a shorter word is a LIKE over each column: checked on the rows longer words
found, or scanned when it is alone. On PostgreSQL each source has a ``pg_trgm`` GIN index on
the expression ``text_sql`` writes, which serves ILIKE (a word of three characters or more
through its trigrams). Owners are few: a LIKE over them.

Bulk inserts go through ``indexed_after``: on SQLite the FTS insert triggers are off while
the rows go in and the new rows are indexed set-wise at the end, ten times cheaper than a
trigger per row.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the lean path reads this module without SQLAlchemy
    from sqlmodel import Session

# The indexed text of each table: the column naming its obligation, the columns searched.
SOURCES = {
    "obligation": ("id", ("code", "title", "title_en", "body", "body_en")),
    "milestone": ("obligation_id", ("title", "title_en")),
    "target": ("obligation_id", ("indicator", "name", "name_en", "text")),
    "report": ("obligation_id", ("progress", "problems", "next_steps")),
}
# What ranks first: a word in the code or the title.
_HEAD = ("code", "title", "title_en")
TRIGRAM = 3  # the shortest word a trigram index looks up


@contextmanager
def indexed_after(session: Session) -> Iterator[None]:
    """Rows inserted inside are indexed for search when it ends, in the same transaction.
    Inside, rows may only be inserted into the sources, never updated or deleted (a new row
    is known by an id above the largest before)."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":  # PostgreSQL's GIN indexes take rows as they come
        yield
        return
    names = [f"{table}_fts_insert" for table in SOURCES]
    triggers = (
        conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name IN"
            f" ({', '.join('?' * len(names))})",
            tuple(names),
        )
        .scalars()
        .all()
    )
    before = {
        table: conn.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {table}").scalar()
        for table in SOURCES
    }
    for name in names:
        conn.exec_driver_sql(f"DROP TRIGGER {name}")
    try:
        yield
        for table, (_key, columns) in SOURCES.items():
            listed = ", ".join(columns)
            conn.exec_driver_sql(
                f"INSERT INTO {table}_fts(rowid, {listed})"
                f" SELECT id, {listed} FROM {table} WHERE id > ?",
                (before[table],),
            )
    finally:
        for sql in triggers:
            conn.exec_driver_sql(sql)


def words(text: str | None) -> list[str]:
    """The words of a search, in order, each once."""
    return list(dict.fromkeys((text or "").split()))


def text_sql(table: str, columns: tuple[str, ...], alias: str | None = None) -> str:
    """A source's columns as one text: the expression PostgreSQL's trigram index is on."""
    prefix = f"{alias}." if alias else ""
    return "(" + " || ' ' || ".join(f"coalesce({prefix}{c}, '')" for c in columns) + ")"


def _like(dialect: str) -> str:
    return "ILIKE" if dialect == "postgresql" else "LIKE"


def _contains(dialect: str, columns: tuple[str, ...], alias: str, i: int) -> str:
    """Word ``i`` is in one of the columns: where no index serves, a LIKE a column is two to
    three times cheaper than one over the columns joined (a word holds no space, so it never
    spans two of them)."""
    like = _like(dialect)
    return " OR ".join(f"{alias}.{c} {like} :sl{i} ESCAPE '\\'" for c in columns)


def like_pattern(word: str) -> str:
    """``%word%`` with LIKE's own characters taken literally (escaped by a backslash)."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _phrase(word: str) -> str:
    """An FTS5 query for the word as a substring (a quoted string, quotes doubled)."""
    return '"' + word.replace('"', '""') + '"'


def _found(dialect: str, table: str, i: int, *, short: bool) -> str:
    """``SELECT <obligation id>`` of the rows of ``table`` containing word ``i``; on SQLite
    through the table's FTS index unless the word is ``short`` for a trigram."""
    key, columns = SOURCES[table]
    seen = " AND x.submitted_at <= :seen_at" if table == "report" else ""
    if short:
        return f"SELECT x.{key} FROM {table} x WHERE ({_contains(dialect, columns, 'x', i)}){seen}"
    if dialect == "postgresql":
        return (
            f"SELECT x.{key} FROM {table} x"
            f" WHERE {text_sql(table, columns, 'x')} ILIKE :sl{i} ESCAPE '\\'{seen}"
        )
    fts = f"SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH :sq{i}"
    if table == "obligation":
        return fts
    return f"SELECT x.{key} FROM {table} x WHERE x.id IN ({fts}){seen}"


def _owners(dialect: str, i: int, *, of: str | None = None) -> str:
    """The obligations assigned to an owner whose name or an alias contains word ``i``;
    ``of``: only those of that obligation (an SQL expression)."""
    like = _like(dialect)
    only = f"a.obligation_id = {of} AND " if of else ""
    return (
        f"SELECT a.obligation_id FROM assignment a WHERE {only}a.owner_id IN ("
        f"SELECT o.id FROM owner o WHERE {_contains(dialect, ('name', 'name_en'), 'o', i)}"
        f" UNION SELECT oa.owner_id FROM owner_alias oa WHERE oa.alias {like} :sl{i} ESCAPE '\\')"
    )


def _each(dialect: str, i: int) -> str:
    """Word ``i`` is in this obligation, checked row by row: for a word too short for the
    index once longer words have narrowed the rows (cheaper than the scan ``_found`` is)."""
    found = []
    for table, (key, columns) in SOURCES.items():
        if table == "obligation":
            found.append(_contains(dialect, columns, table, i))
            continue
        seen = " AND x.submitted_at <= :seen_at" if table == "report" else ""
        found.append(
            f"EXISTS (SELECT 1 FROM {table} x WHERE x.{key} = obligation.id"
            f" AND ({_contains(dialect, columns, 'x', i)}){seen})"
        )
    found.append(f"EXISTS ({_owners(dialect, i, of='obligation.id')})")
    return " OR ".join(found)


def where(dialect: str, text: str | None) -> tuple[str, dict[str, Any]]:
    """A condition over ``obligation``: every word of ``text`` is found in it (see above),
    and its parameters but ``:seen_at``, which the caller binds. Words the index can look up
    come first; a shorter word is then checked on the rows they found, or, alone, scanned."""
    found = words(text)
    indexed = any(len(w) >= TRIGRAM for w in found)
    clauses, checks, params = [], [], {}
    for i, word in enumerate(found):
        short = len(word) < TRIGRAM
        params[f"sl{i}"] = like_pattern(word)
        if short and indexed:
            checks.append(f"({_each(dialect, i)})")
            continue
        if dialect == "sqlite" and not short:
            params[f"sq{i}"] = _phrase(word)
        parts = [_found(dialect, table, i, short=short) for table in SOURCES]
        parts.append(_owners(dialect, i))
        clauses.append(f"obligation.id IN ({' UNION ALL '.join(parts)})")
    return " AND ".join(clauses + checks), params


def rank_sql(text: str | None) -> tuple[str, dict[str, Any]]:
    """An ORDER BY key over ``obligation``: 0 when every word is in its code or title, else 1
    (evaluated on the matches only)."""
    head = text_sql("obligation", _HEAD, "obligation")
    hits = " AND ".join(
        f"lower({head}) LIKE lower(:rank{i}) ESCAPE '\\'" for i in range(len(words(text)))
    )
    params = {f"rank{i}": like_pattern(word) for i, word in enumerate(words(text))}
    return f"(CASE WHEN {hits} THEN 0 ELSE 1 END)", params
