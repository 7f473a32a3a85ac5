"""Full-text search over obligations, as plain SQL (the lean path and the ORM alike).

A word is found in an obligation's code, title and body, its milestones, its targets (the
indicator's key and name, the target's own text), the names and aliases of the owners
assigned to it, and its progress reports (those recorded by ``:seen_at``, ``visibility``).
Words are substrings, in Chinese as in English, without case; several words must all be
found, each anywhere.

Every word is looked up in an index, per source, and the sources' obligation ids joined.
On SQLite a word of three characters or more goes to migration 0010's FTS5 tables with the
trigram tokenizer; a shorter one to migration 0016's ``<source>_fts_chars``, where every
character is a token, as a phrase of its characters. Both fold case beyond ASCII, which
LIKE does not: where that could find more for a short word (see ``exact``), the rows found
are checked with LIKE, as short words were found before; longer words keep the trigram
tables' folding. On PostgreSQL each source has a ``pg_trgm`` GIN index on the expression
``text_sql`` writes, which serves ILIKE for three characters or more, and a GIN index on
``duban_search_grams`` of it (its characters and pairs of characters, lower-cased) for
fewer; a word without case (``caseless``: most Chinese words) is matched by LIKE, which
finds the same rows without lower-casing every text it reads. Owners are few: a LIKE over
them. On PostgreSQL the ids holding every word are one array, probed through the key; a
count of a search and nothing else counts those ids instead (``ids_sql``).

Bulk inserts go through ``indexed_after``: on SQLite the FTS insert triggers are off while
the rows go in and the new rows are indexed set-wise at the end, ten times cheaper than a
trigger per row.

Joining a set of ids costs about a microsecond per id, whatever the window: for a word in most
obligations, that is most of a search's time. A ranked window (``listing``) of ``walkable``
words found in most of the first obligations walks the listing instead, asking each row
(``where(walk=True)``: a LIKE on its own columns, an indexed probe into its milestones,
targets, reports and owners) and stopping at the window's last row.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .sql import id_in

if TYPE_CHECKING:  # the lean path reads this module without SQLAlchemy
    from sqlalchemy.engine import Connection
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
# The FTS5 indexes of each source on SQLite: 0010's trigrams, 0016's characters.
_INDEXES = ("fts", "fts_chars")
# Characters FTS5 also finds in others, where LIKE would not: K in the Kelvin sign, S in the
# long s, and U+FFFD to U+FFFF in one another.
_FOLDED = frozenset("ksKS\ufffd\ufffe\uffff")
_BATCH = 10_000  # rows spaced for the characters' index at a time
# Sources whose entries in the characters' index have as rowid their obligation's id shifted
# left by _SHIFT bits, or'ed with their own id (migration 0016's views).
PACKED = ("milestone", "target")
_SHIFT = 32


@contextmanager
def indexed_after(session: Session) -> Iterator[None]:
    """Rows inserted inside are indexed for search when it ends, in the same transaction.
    Inside, rows inserted into the sources may not be updated or deleted (a new row is known
    by an id above the largest before); rows there before may (their triggers stay)."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":  # PostgreSQL's GIN indexes take rows as they come
        yield
        return
    names = [f"{table}_{index}_insert" for table in SOURCES for index in _INDEXES]
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
        table: int(conn.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {table}").scalar_one())
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
            _index_characters(conn, table, columns, before[table])
    finally:
        for sql in triggers:
            conn.exec_driver_sql(sql)


def _index_characters(conn: Connection, table: str, columns: tuple[str, ...], after: int) -> None:
    """Index the rows of ``table`` above id ``after`` in its characters' table, spaced here
    (spacing in SQL, the view, costs ten times as much), through the driver's own cursor:
    SQLAlchemy's rows cost more than the reading."""
    listed = ", ".join(columns)
    doc = f"(obligation_id << {_SHIFT}) | id" if table in PACKED else "id"
    cursor = conn.connection.cursor()
    try:
        while rows := cursor.execute(
            f"SELECT id, {doc}, {listed} FROM {table} WHERE id > ? ORDER BY id LIMIT {_BATCH}",
            (after,),
        ).fetchall():
            cursor.executemany(
                f"INSERT INTO {table}_fts_chars(rowid, text) VALUES (?, ?)",
                list(
                    zip(
                        [row[1] for row in rows],
                        spaced_rows([row[2:] for row in rows]),
                        strict=True,
                    )
                ),
            )
            after = rows[-1][0]
    finally:
        cursor.close()


def spaced_rows(rows: Sequence[Sequence[str | None]]) -> list[str]:
    """Each row's text as its characters' FTS5 table indexes it: the columns joined by a
    line feed, a space a line feed too, then a space after every character. Migration 0016's
    view ``<source>_fts_chars_text`` writes the same tokens (with more spaces) in SQL. The
    characters of all rows are spaced in one pass (UTF-32 code units interleaved with
    spaces): per row, making a string of every character cost more than SQLite's indexing
    of them."""
    texts = ["\n".join([t or "" for t in row]) for row in rows]
    joined = "".join(texts).replace(" ", "\n")
    units = joined.encode("utf-32-le", "surrogatepass")
    out = bytearray(b" \0\0\0") * (2 * len(joined))
    for byte in range(4):
        out[byte::8] = units[byte::4]
    text = out.decode("utf-32-le", "surrogatepass")
    result, at = [], 0
    for n in map(len, texts):
        # Row by row: its 2n - 1 code points (a character and a space each, the last alone).
        result.append(text[2 * at : 2 * (at + n) - 1] if n else "")
        at += n
    return result


def words(text: str | None) -> list[str]:
    """The words of a search, in order, each once."""
    return list(dict.fromkeys((text or "").split()))


def text_sql(table: str, columns: tuple[str, ...], alias: str | None = None) -> str:
    """A source's columns as one text: the expression PostgreSQL's trigram index is on."""
    prefix = f"{alias}." if alias else ""
    return "(" + " || ' ' || ".join(f"coalesce({prefix}{c}, '')" for c in columns) + ")"


def caseless(word: str) -> bool:
    """No character of ``word`` has case (nor is a mark, which one case mapping adds): then
    PostgreSQL's ILIKE finds it where LIKE does, and LIKE costs a fraction as much (ILIKE
    lower-cases all of every text it reads)."""
    return all(
        c.lower() == c == c.upper() and not unicodedata.category(c).startswith("M") for c in word
    )


def _like(dialect: str, word: str) -> str:
    """The operator that matches ``word``: on PostgreSQL ILIKE, unless the word is
    ``caseless``; on SQLite LIKE, which ignores ASCII case."""
    return "ILIKE" if dialect == "postgresql" and not caseless(word) else "LIKE"


def _contains(
    dialect: str, columns: tuple[str, ...], alias: str, i: int, word: str, param: str = "sl"
) -> str:
    """Word ``i`` (the pattern ``:<param><i>``) is in one of the columns: where no index
    serves, a LIKE a column is two to three times cheaper than one over the columns joined
    (a word holds no space, so it never spans two of them)."""
    like = _like(dialect, word)
    return " OR ".join(f"{alias}.{c} {like} :{param}{i} ESCAPE '\\'" for c in columns)


def like_pattern(word: str) -> str:
    """``%word%`` with LIKE's own characters taken literally (escaped by a backslash)."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _phrase(word: str) -> str:
    """An FTS5 query for the word as a substring (a quoted string, quotes doubled): in the
    trigram tables the word itself, in the characters' tables its characters apart."""
    tokens = word if len(word) >= TRIGRAM else " ".join(word)
    return '"' + tokens.replace('"', '""') + '"'


def exact(word: str) -> bool:
    """FTS5 finds the word where LIKE does, no more: its case folding, unlike LIKE's, also
    maps letters beyond ASCII, and a few of them onto ASCII letters (found by indexing every
    character and looking each up)."""
    return not any(
        c in _FOLDED or (not c.isascii() and (c.lower() != c or c.upper() != c)) for c in word
    )


def _found(dialect: str, table: str, i: int, word: str) -> str:
    """``SELECT <obligation id>`` of the rows of ``table`` containing word ``i``, through
    the table's index for the word's length."""
    key, columns = SOURCES[table]
    seen = _seen(table)
    if dialect == "postgresql":
        text = text_sql(table, columns, "x")
        if len(word) >= TRIGRAM:
            like = _like(dialect, word)
            return f"SELECT x.{key} FROM {table} x WHERE {text} {like} :sl{i} ESCAPE '\\'{seen}"
        # The pairs index finds a short word. An ``exact`` word is found as ILIKE finds it:
        # both compare lower-cased text, and neither its characters nor a pair of them can
        # span two columns (joined by a space, which a word never holds). Another's rows are
        # checked column by column, an expression the trigram index is not on: once the
        # table was vacuumed, the planner combined that index with this one for the check,
        # reading all of it for a word it cannot look up (水's count 0.25 -> 3 s at 100k).
        grams = f'(duban_search_grams({text}) COLLATE "C") @> ARRAY[lower(CAST(:sl{i}w AS text))]'
        check = "" if exact(word) else f" AND ({_contains(dialect, columns, 'x', i, word)})"
        return f"SELECT x.{key} FROM {table} x WHERE {grams}{check}{seen}"
    index = f"{table}_fts" if len(word) >= TRIGRAM else f"{table}_fts_chars"
    match = f"FROM {index} WHERE {index} MATCH :sq{i}"
    # Words of three characters or more keep the trigram tables' own folding, as before.
    plain = len(word) >= TRIGRAM or exact(word)
    check = "" if plain else f" AND ({_contains(dialect, columns, 'x', i, word)})"
    if len(word) < TRIGRAM and table in PACKED:
        if not check:
            return f"SELECT rowid >> {_SHIFT} {match}"
        return (
            f"SELECT x.{key} FROM {table} x WHERE x.id IN"
            f" (SELECT rowid & {(1 << _SHIFT) - 1} {match}){check}{seen}"
        )
    if table == "obligation" and not check:
        return f"SELECT rowid {match}"
    return f"SELECT x.{key} FROM {table} x WHERE x.id IN (SELECT rowid {match}){check}{seen}"


def _seen(table: str) -> str:
    """Reports are searched as recorded by ``:seen_at``; the other sources as they are."""
    return " AND x.submitted_at <= :seen_at" if table == "report" else ""


def _owner_ids(dialect: str, i: int, word: str) -> str:
    """The owners whose name or an alias contains word ``i``."""
    return (
        f"SELECT o.id FROM owner o WHERE {_contains(dialect, ('name', 'name_en'), 'o', i, word)}"
        f" UNION SELECT oa.owner_id FROM owner_alias oa"
        f" WHERE oa.alias {_like(dialect, word)} :sl{i} ESCAPE '\\'"
    )


def _asked(dialect: str, i: int, word: str) -> str:
    """Word ``i`` is in this ``obligation`` row or what belongs to it, asked of the row: its
    columns by LIKE, its other sources and owners each by a probe of their obligation's
    index. Equal to the indexed lookup for an ``exact`` word."""
    asked = [_contains(dialect, SOURCES["obligation"][1], "obligation", i, word)]
    for table in ("milestone", "target", "report"):
        key, columns = SOURCES[table]
        asked.append(
            f"EXISTS (SELECT 1 FROM {table} x WHERE x.{key} = obligation.id{_seen(table)}"
            f" AND ({_contains(dialect, columns, 'x', i, word)}))"
        )
    # The owners once (on PostgreSQL an array, not joined again for every row asked).
    owners = id_in(dialect, "a.owner_id", _owner_ids(dialect, i, word))
    asked.append(
        f"EXISTS (SELECT 1 FROM assignment a WHERE a.obligation_id = obligation.id AND {owners})"
    )
    return "(" + " OR ".join(asked) + ")"


def where(dialect: str, text: str | None, *, walk: bool = False) -> tuple[str, dict[str, Any]]:
    """A condition over ``obligation``: every word of ``text`` is found in it (see above),
    and its parameters but ``:seen_at``, which the caller binds. ``walk``: asked of each row
    rather than looked up as a set (for ``walkable`` words only)."""
    found = words(text)
    if not found:
        return "", {}
    if walk:
        params = {f"sl{i}": like_pattern(word) for i, word in enumerate(found)}
        return " AND ".join(_asked(dialect, i, word) for i, word in enumerate(found)), params
    if dialect == "postgresql":
        # One array of the ids holding every word (``id_in``): the planner cannot estimate
        # the sources' rows, and on a guess of a few thousand it joined them by rescanning a
        # materialised list for each obligation (1.2 s for 四's first hundred, 0.2 s so).
        select, params = ids_sql(dialect, text)
        return id_in(dialect, "obligation.id", select), params
    each, params = _found_per_word(dialect, text)
    return " AND ".join(f"obligation.id IN ({select})" for select in each), params


def ids_sql(dialect: str, text: str | None) -> tuple[str, dict[str, Any]]:
    """``SELECT`` of the ids of the obligations holding every word of ``text`` (at least
    one), some more than once: what ``where`` finds, with the same parameters, and what a
    count of a search reads without asking each obligation whether its id is among them."""
    each, params = _found_per_word(dialect, text)
    return " INTERSECT ".join(f"({select})" for select in each) if each[1:] else each[0], params


def _found_per_word(dialect: str, text: str | None) -> tuple[list[str], dict[str, Any]]:
    """Per word, the ``SELECT`` of the obligation ids of every source holding it."""
    found: list[str] = []
    params: dict[str, Any] = {}
    for i, word in enumerate(words(text)):
        params[f"sl{i}"] = like_pattern(word)
        if dialect == "postgresql":
            params[f"sl{i}w"] = word
        else:
            params[f"sq{i}"] = _phrase(word)
        parts = [_found(dialect, table, i, word) for table in SOURCES]
        parts.append(
            f"SELECT a.obligation_id FROM assignment a WHERE a.owner_id IN ({_owner_ids(dialect, i, word)})"
        )
        found.append(" UNION ALL ".join(parts))
    return found, params


def walkable(dialect: str, text: str | None) -> bool:
    """Whether every word of ``text`` may be asked of each row (``where(walk=True)``) and
    found as the indexes find it: always on PostgreSQL, whose indexes find what ILIKE finds;
    on SQLite for ``exact`` words."""
    found = words(text)
    return bool(found) and (dialect == "postgresql" or all(exact(w) for w in found))


def rank_sql(dialect: str, text: str | None) -> tuple[str, dict[str, Any]]:
    """An ORDER BY key over ``obligation``: 0 when every word is in its code or title, else 1
    (evaluated on the matches only), a LIKE a column: a third cheaper than the columns
    joined and lower-cased."""
    found = words(text)
    each = [
        f"({_contains(dialect, _HEAD, 'obligation', i, word, 'rank')})"
        for i, word in enumerate(found)
    ]
    params = {f"rank{i}": like_pattern(word) for i, word in enumerate(found)}
    return f"(CASE WHEN {' AND '.join(each)} THEN 0 ELSE 1 END)", params
