"""The search indexes find what a plain LIKE (ILIKE on PostgreSQL) over the same text finds,
no more and no less, in the same order: words of one, two and more characters, several
words, letters in any case and width, LIKE's own characters, and text written by an import
(indexed at its end), by single writes, updates and deletes (kept by triggers)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from duban.core import search
from duban.core.db import dispose_all, get_engine, normalise_url
from duban.core.plugins import reset_host
from duban.core.testing import COORDINATOR, Runner, login_url

# Texts with short words everywhere: at the start and end of a column, across a space or
# two columns (which must not join), in letters of both widths and cases, with the
# characters FTS5 folds where LIKE does not (the Kelvin sign, the long s, é É), and letters
# whose case mappings change their length or add a mark (İ, ß, ẞ).
TEXTS = [
    ("长沙市四水治理", "推进长沙 沙市水体整治。四", "长沙"),
    ("ＡＢ号 full width", "abc ABC Ab aB", "ＡＢ"),
    ("甲乙 丙", "ok OK \u212a ſ s é É", "丁"),
    ("x", 'y 100%_done "quoted" back\\slash', "湘江"),
    ("化工园区整治", "水 水 水", "化工园区 长沙"),
    ("无关", "四水归一", "洞庭"),
    ("İzmir", "straße STRASSE ẞ i\u0307", "水İ"),
]
WORDS = [
    # one character
    *["长", "四", "水", "沙", "a", "A", "Ａ", "ａ", "k", "K", "s", "ſ", "é", "É", "%", "_"],
    *['"', "\\", "。", "丙", "丁", "湘", "无", "y", "İ", "i", "\u0307", "ß", "ẞ"],
    # two characters
    *["长沙", "沙市", "四水", "ab", "AB", "ＡＢ", "ａｂ", "Ab", "ok", "OK", "乙丙", "xy", "0%"],
    *["市四", "水体", "湘江", "丙ok", "水位", "水i", "ss"],
    # three and more
    *["长沙市", "化工园区", "abc", "ＡＢ号", "100%_done", "四水归一", "无此内容", "沙 市"],
    # several words
    *["长沙 化工园区", "水 四", "a 长沙", "长 沙", "ＡＢ 号", "湘江 四", "k ok"],
]


def _reference(dialect: str, word_count: int) -> str:
    """Every word in some column of some source, by LIKE alone."""
    like = "ILIKE" if dialect == "postgresql" else "LIKE"
    clauses = []
    for i in range(word_count):
        found = []
        for table, (key, columns) in search.SOURCES.items():
            seen = " AND submitted_at <= :seen_at" if table == "report" else ""
            any_column = " OR ".join(f"{c} {like} :sl{i} ESCAPE '\\'" for c in columns)
            found.append(f"SELECT {key} FROM {table} WHERE ({any_column}){seen}")
        found.append(
            "SELECT a.obligation_id FROM assignment a JOIN owner o ON o.id = a.owner_id"
            f" WHERE o.name {like} :sl{i} ESCAPE '\\' OR o.name_en {like} :sl{i} ESCAPE '\\'"
            " OR EXISTS (SELECT 1 FROM owner_alias oa WHERE oa.owner_id = o.id"
            f" AND oa.alias {like} :sl{i} ESCAPE '\\')"
        )
        clauses.append(f"obligation.id IN ({' UNION '.join(found)})")
    return " AND ".join(clauses)


def _reference_order(word_count: int) -> str:
    """Code and title hits first, by every word in the three joined and lower-cased."""
    head = (
        "lower(coalesce(code, '') || ' ' || coalesce(title, '') || ' ' || coalesce(title_en, ''))"
    )
    hits = " AND ".join(f"{head} LIKE lower(:rank{i}) ESCAPE '\\'" for i in range(word_count))
    return f" ORDER BY (CASE WHEN {hits} THEN 0 ELSE 1 END), plan_id IS NULL, plan_id, seq, id"


def _compare(db_url: str, seen_at: str = "9999-12-31") -> None:
    """Each word found by the indexes, and each word ``search.exact`` asked of every row
    (``walk``), as LIKE finds it."""
    engine = get_engine(db_url)
    dialect = engine.dialect.name
    with engine.connect() as conn:
        for words in WORDS:
            rank, rank_params = search.rank_sql(dialect, words)
            order = f" ORDER BY {rank}, plan_id IS NULL, plan_id, seq, id"
            plain = {f"sl{i}": search.like_pattern(w) for i, w in enumerate(search.words(words))}
            reference = _reference(dialect, len(plain))
            expected = conn.execute(
                text(f"SELECT id FROM obligation WHERE {reference}{_reference_order(len(plain))}"),
                {**plain, **rank_params, "seen_at": seen_at},
            ).all()
            walks = [False]
            if all(search.exact(w) for w in search.words(words)):
                walks.append(True)
            for walk in walks:
                clause, params = search.where(dialect, words, walk=walk)
                got = conn.execute(
                    text(f"SELECT id FROM obligation WHERE {clause}{order}"),
                    {**params, **rank_params, "seen_at": seen_at},
                ).all()
                assert got == expected, (words, walk)


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text(
        "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8"
    )
    return path


def _fill(duban: Runner, folder: Path) -> None:
    """Obligations, milestones, targets and owners with the texts above: half imported (the
    index built at the end), half added one by one (by triggers)."""
    for owner in dict.fromkeys(owner for _title, _body, owner in TEXTS):
        duban.ok("owner", "add", owner)
    rows = [
        {
            "title": title,
            "body": body,
            "lead": [owner],
            "milestones": [{"due": "2025-06-30", "title": f"{body[:4]} 里程碑{n}"}],
            "targets": [
                {
                    "indicator": "general.wetland_protection_rate",
                    "name": f"{title[-2:]}达标",
                    "comparator": "gte",
                    "value": 90,
                    "due": "2025-12-31",
                    "scope": {"type": "region", "code": "430000"},
                }
            ],
        }
        for n, (title, body, owner) in enumerate(TEXTS)
    ]
    duban.ok("import", "obligations", str(_write(folder / "in.jsonl", rows)))
    for title, body, owner in TEXTS:
        duban.ok("add", f"{body} 另", "--lead", owner, "--due", "2025-12-31")
        duban.ok("add", title[::-1], "--lead", owner, "--due", "2025-12-31")
    duban.ok("report", "add", "1", "--period", "2024-05", "--progress", "水位四米 ok")


@pytest.fixture
def varied(duban: Runner, db_url: str, tmp_path: Path) -> str:
    _fill(duban, tmp_path)
    return db_url


@pytest.fixture
def icu_database(db_url: str) -> Iterator[str]:
    """On PostgreSQL, a database of its own whose default collation is ICU's, where lower()
    may lengthen a text (İ becomes i and a combining dot, which ILIKE then finds)."""
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's collations")
    admin = create_engine(
        normalise_url(os.environ["DUBAN_TEST_DATABASE_URL"]), isolation_level="AUTOCOMMIT"
    )
    name = f"duban_icu_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            try:
                conn.execute(
                    text(
                        f"CREATE DATABASE {name} OWNER {COORDINATOR} LOCALE_PROVIDER icu"
                        " ICU_LOCALE 'und' TEMPLATE template0"
                    )
                )
            except DBAPIError as exc:
                pytest.skip(f"this server makes no ICU database: {exc.orig}")
        url = make_url(normalise_url(os.environ["DUBAN_TEST_DATABASE_URL"])).set(database=name)
        with create_engine(url, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text("CREATE EXTENSION pg_trgm"))
        yield login_url(url.render_as_string(hide_password=False), COORDINATOR)
    finally:
        dispose_all()
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def test_an_icu_database_finds_what_ilike_finds(icu_database: str, tmp_path: Path) -> None:
    """Where lower() adds a mark, a word LIKE would match differently is matched by ILIKE
    (``search.caseless``)."""
    reset_host()
    duban = Runner(icu_database)
    duban.ok("init", "--empty", "--sandbox")
    _fill(duban, tmp_path)
    with get_engine(icu_database).connect() as conn:
        assert conn.execute(text("SELECT 'İ' ILIKE '%' || chr(775) || '%'")).scalar_one()
    _compare(icu_database)


def test_the_indexes_find_what_like_finds(varied: str) -> None:
    _compare(varied)
    # A report recorded later is not seen before.
    _compare(varied, seen_at="2000-01-01")


def test_updates_and_deletes_keep_the_indexes(varied: str) -> None:
    """A contentless FTS5 table forgets a row only by the very tokens it indexed: an import
    spaces the text in Python, the triggers in SQL, and both must agree."""
    engine = get_engine(varied)
    with engine.begin() as conn:
        conn.execute(text("UPDATE obligation SET title = '新标题四', body = NULL WHERE id = 1"))
        conn.execute(text("UPDATE obligation SET body = body || ' 长' WHERE id % 2 = 0"))
        conn.execute(text("UPDATE milestone SET title = 'changed 沙' WHERE id = 2"))
        conn.execute(text("DELETE FROM milestone WHERE id = 3"))
        # The characters' index keys milestones and targets by their obligation too.
        conn.execute(text("UPDATE milestone SET obligation_id = 2 WHERE id = 4"))
        conn.execute(text("UPDATE target SET obligation_id = 3 WHERE id = 1"))
    _compare(varied)
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            for table in search.SOURCES:
                conn.exec_driver_sql(
                    f"INSERT INTO {table}_fts_chars({table}_fts_chars) VALUES ('integrity-check')"
                )


def test_python_spacing_is_the_views_tokens(db_url: str, duban) -> None:
    """``search.spaced_rows`` and migration 0016's view write the same tokens."""
    engine = get_engine(db_url)
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's characters' index")
    duban.ok("owner", "add", "长沙")
    duban.ok("add", "长沙 市\t四ＡＢ  x" * 3, "--lead", "长沙", "--due", "2025-12-31")
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT code, title, title_en, body, body_en FROM obligation")
        ).one()
        view = conn.execute(text("SELECT text FROM obligation_fts_chars_text")).scalar_one()
    # Only the space separates (a line feed or tab is a token); the view has more of them.
    assert [t for t in view.split(" ") if t] == search.spaced_rows([row])[0].split(" ")


def test_longer_words_fold_width_and_case_as_before(varied: str) -> None:
    """Words of three characters or more keep their index's folding (SQLite's trigram
    tables, PostgreSQL's ILIKE): ａｂ号 finds ＡＢ号, which a LIKE would not on SQLite."""
    engine = get_engine(varied)
    with engine.connect() as conn:
        found = {}
        for word in ("ＡＢ号", "ａｂ号"):
            clause, params = search.where(engine.dialect.name, word)
            found[word] = conn.execute(
                text(f"SELECT id FROM obligation WHERE {clause} ORDER BY id"),
                {**params, "seen_at": "9999-12-31"},
            ).all()
    assert found["ａｂ号"] == found["ＡＢ号"] != []
