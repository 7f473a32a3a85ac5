"""Search that finds: ``list --search`` and the TUI's free words look through everything an
obligation says (core/search.py, migration 0010's indexes), and codes, owners, domains and
states are found by the short forms people type (core/names.py)."""

from __future__ import annotations

import json
from datetime import date
from importlib import resources
from itertools import product
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import text

from duban.core.db import get_engine
from duban.core.search import where as search_where


def _seed_tasks() -> list[dict[str, Any]]:
    """Every task of the built-in plan and every part of one, as the seed file writes it."""
    plan = resources.files("duban.core") / "data" / "plans" / "hunan-yangtze-2023.yaml"
    found = []

    def walk(tasks: list[dict[str, Any]]) -> None:
        for task in tasks:
            found.append({k: v for k, v in task.items() if k != "parts"})
            walk(task.get("parts") or [])

    walk(yaml.safe_load(plan.read_text(encoding="utf-8"))["tasks"])
    return found


def _mentioning(word: str) -> set[str]:
    """The codes of the seed's tasks whose own text (code, title, summary, milestones,
    targets, owners) mentions ``word``, without case."""
    return {
        task["code"]
        for task in _seed_tasks()
        if word.casefold() in json.dumps(task, ensure_ascii=False, default=str).casefold()
    }


def _searched(runner, *args: str) -> list[dict[str, Any]]:
    return runner.ok("list", "--search", *args, "--format", "json").json()


@pytest.mark.parametrize("word", ["化工园区", "黑臭", "饮用水", "Yangtze", "洞庭湖"])
def test_list_search_finds_every_task_that_mentions_it(hunan, word: str) -> None:
    expected = _mentioning(word)
    assert expected, f"the seed no longer mentions {word}"
    rows = _searched(hunan, word)
    assert {r["code"] for r in rows} == expected
    assert hunan.ok("list", "--search", word, "--count").stdout.strip() == str(len(expected))
    # Ranked: code and title hits first, each group in plan order.
    in_title = [word.casefold() in (r["title"] + (r["title_en"] or "")).casefold() for r in rows]
    assert in_title == sorted(in_title, reverse=True)


def test_the_acceptance_example(hunan) -> None:
    rows = _searched(hunan, "化工园区")
    assert {r["code"] for r in rows} == _mentioning("化工园区") == {"（七）", "（十七）"}


def test_words_are_all_found_each_anywhere_and_other_filters_apply(hunan) -> None:
    both = _mentioning("化工园区") & _mentioning("地下水")
    assert {r["code"] for r in _searched(hunan, "化工园区 地下水")} == both == {"（十七）"}
    # A word too short for the index is checked on the rows the longer words found.
    short = _mentioning("化工园区") & _mentioning("地下")
    assert {r["code"] for r in _searched(hunan, "地下 化工园区")} == short == {"（十七）"}
    assert {r["code"] for r in _searched(hunan, "湖南 化工园区")} == _mentioning("化工园区")
    assert _searched(hunan, "化工园区", "--domain", "general") == []
    assert _searched(hunan, "100%_no_such") == []  # LIKE's own characters are literal


def test_search_reaches_milestones_targets_owners_and_reports(duban, tmp_path: Path) -> None:
    duban.ok("owner", "add", "湖南省交通运输厅", "--alias", "省交通厅")
    path = tmp_path / "in.jsonl"
    path.write_text(
        json.dumps(
            {
                "title": "航道整治",
                "body": "清理沉船",
                "lead": ["湖南省交通运输厅"],
                "milestones": [{"due": "2025-06-30", "title": "完成锚地搬迁"}],
                "targets": [
                    {
                        "indicator": "general.wetland_protection_rate",
                        "name": "断面达标率",
                        "comparator": "gte",
                        "value": 90,
                        "due": "2025-12-31",
                        "scope": {"type": "region", "code": "430000"},
                    }
                ],
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    duban.ok("import", "obligations", str(path))
    duban.ok("add", "无关任务", "--lead", "省交通厅", "--due", "2025-12-31")
    for word in ("整治", "沉船", "锚地搬迁", "断面达标", "交通运输", "交通厅"):
        assert {r["title"] for r in _searched(duban, word)} >= {"航道整治"}, word
    assert [r["title"] for r in _searched(duban, "锚地")] == ["航道整治"]
    # Written later: found once recorded, and not by a read as of a day before.
    duban.ok("report", "add", "1", "--period", "2024-05", "--progress", "完成疏浚八公里")
    assert [r["title"] for r in _searched(duban, "疏浚八公里")] == ["航道整治"]
    before = duban.ok(
        "list", "--search", "疏浚八公里", "--format", "json", as_of="2024-01-01"
    ).json()
    assert before == []


def test_the_indexes_are_read(hunan, db_url: str) -> None:
    """SQLite answers from the FTS tables; PostgreSQL can use its trigram indexes."""
    from duban.core import search

    engine = get_engine(db_url)
    clause, params = search.where(engine.dialect.name, "化工园区")
    sql = f"SELECT obligation.id FROM obligation WHERE {clause}"
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            plan = conn.execute(
                text("EXPLAIN QUERY PLAN " + sql),
                {**params, "seen_at": "9999-12-31"},
            ).all()
            assert "VIRTUAL TABLE INDEX" in " ".join(row[-1] for row in plan)
            clause, params = search.where(engine.dialect.name, "四 长沙")
            plan = conn.execute(
                text(f"EXPLAIN QUERY PLAN SELECT obligation.id FROM obligation WHERE {clause}"),
                {**params, "seen_at": "9999-12-31"},
            ).all()
            shown = " ".join(row[-1] for row in plan)
            for table in ("obligation", "milestone", "target", "report"):
                assert f"SCAN {table}_fts_chars VIRTUAL TABLE INDEX" in shown, shown
            return
        conn.execute(text("SET enable_seqscan = off"))
        plan = conn.execute(
            text("EXPLAIN " + sql), {**params, "seen_at": date(9999, 12, 31)}
        ).scalars()
        shown = " ".join(plan)
        for table in ("obligation", "milestone", "target", "report"):
            assert f"ix_{table}_search" in shown, shown
        # A word of one or two characters: the characters and pairs (migration 0016). é has
        # case, so its rows are checked as well (四 and 长沙 need no check).
        clause, params = search.where(engine.dialect.name, "四 长沙 é")
        sql = f"EXPLAIN SELECT obligation.id FROM obligation WHERE {clause}"
        params["seen_at"] = date(9999, 12, 31)
        shown = " ".join(conn.execute(text(sql), params).scalars())
        for table in ("obligation", "milestone", "target", "report"):
            assert f"ix_{table}_grams_search" in shown, shown
        # And never the trigram index, which is read whole for such a word: once a database
        # was vacuumed, the planner combined it with the pairs index to check the rows found
        # (10 times slower at 100k obligations). Without the pairs index, in a transaction
        # rolled back, nothing is left that it could serve.
        for table in ("obligation", "milestone", "target", "report"):
            conn.execute(text(f"DROP INDEX ix_{table}_grams_search"))
        shown = " ".join(conn.execute(text(sql), params).scalars())
        conn.rollback()
        for table in ("obligation", "milestone", "target", "report"):
            assert f"ix_{table}_search" not in shown, shown


@pytest.mark.parametrize("ref", ["（四）", "(四)", "四", " ( 四 ) ", "四、"])
def test_show_finds_a_code_in_its_short_and_half_width_forms(hunan, ref: str) -> None:
    expected = hunan.ok("show", "（四）", "--format", "json").json()["id"]
    assert hunan.ok("show", ref, "--format", "json").json()["id"] == expected


def test_show_a_part_by_its_code_and_a_missing_code(hunan) -> None:
    assert hunan.ok("show", "(六)-1", "--format", "json").json()["code"] == "（六）-1"
    assert hunan.ok("show", "四十", "--format", "json").json()["code"] == "（四十）"
    missing = hunan("show", "(九十九)")
    assert missing.exit_code == 4 and "unknown obligation" in missing.stderr


def test_owner_filters_accept_short_forms(hunan) -> None:
    full = hunan.ok("list", "--owner", "湖南省水利厅", "--format", "json").json()
    assert full
    for short in ("省水利厅", "水利厅", "水利厅 "):
        assert hunan.ok("list", "--owner", short, "--format", "json").json() == full
        assert hunan.ok("list", "--owner", short, "--count").stdout.strip() == str(len(full))


def test_an_ambiguous_owner_lists_the_candidates(hunan) -> None:
    result = hunan("list", "--owner", "局")
    assert result.exit_code == 2
    assert "湖南省林业局" in result.stderr and "be more precise" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--owner", "湖南省水力厅"], "--owner: unknown owner '湖南省水力厅'; did you mean"),
        (["--domain", "watr"], "--domain: unknown domain 'watr'; one of"),
        (["--state", "opn"], "--state: unknown state 'opn'; one of"),
        (["--region", "长沙是"], "--region: unknown region '长沙是'; did you mean 长沙"),
    ],
)
@pytest.mark.parametrize("count", [False, True])
def test_unknown_names_exit_4_with_did_you_mean(hunan, args, message, count: bool) -> None:
    result = hunan("list", *args, *(["--count"] if count else []))
    assert result.exit_code == 4, result.stderr
    assert message in result.stderr and "did you mean" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    chinese = hunan("--lang", "zh", "list", *args)
    assert chinese.exit_code == 4 and "是否要找" in chinese.stderr


def test_the_tui_filter_line_searches_and_suggests(hunan) -> None:
    from duban.core.cli.context import Env
    from duban.core.errors import NotFound
    from duban.tui import data
    from duban.tui.filters import parse

    env = Env.create(db_url=hunan.url, actor="coord", as_of=None)
    try:
        with env.session(write=False) as session:
            query = parse("化工园区 领域:water")
            found = data.window(session=session, query=query, as_of=env.today, offset=0, limit=50)
            assert {r["code"] for r in found} == _mentioning("化工园区")
            assert data.count(session=session, query=query, as_of=env.today) == len(found)
            owner = parse("单位:水利厅")
            assert data.count(session=session, query=owner, as_of=env.today) > 0
    finally:
        env.close()
    with pytest.raises(NotFound, match="did you mean"):
        parse("state:opn")


def test_imported_rows_are_in_the_search_indexes(duban, db_url: str, tmp_path: Path) -> None:
    """An import indexes its rows in one pass at the end: every one is found through the
    index, the index agrees with the tables, and what is written afterwards is indexed too."""
    duban.ok("owner", "add", "湖南省交通运输厅")
    duban.ok("add", "已有任务甲乙丙", "--lead", "湖南省交通运输厅", "--due", "2025-12-31")
    path = tmp_path / "in.jsonl"
    lines = [
        {
            "code": f"K{n}",
            "title": f"航道整治第{n}号",
            "body": f"清理沉船编号{n}号",
            "lead": ["湖南省交通运输厅"],
            "milestones": [{"due": "2025-06-30", "title": f"锚地搬迁第{n}段"}],
            "targets": [
                {
                    "indicator": "general.wetland_protection_rate",
                    "name": f"断面达标第{n}处",
                    "comparator": "gte",
                    "value": 90,
                    "due": "2025-12-31",
                    "scope": {"type": "region", "code": "430000"},
                }
            ],
        }
        for n in range(1, 4)
    ]
    path.write_text(
        "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8"
    )
    duban.ok("import", "obligations", str(path))
    for n in range(1, 4):
        for word in (f"整治第{n}号", f"沉船编号{n}", f"搬迁第{n}段", f"达标第{n}处"):
            assert [r["code"] for r in _searched(duban, word)] == [f"K{n}"], word
    assert [r["title"] for r in _searched(duban, "已有任务")] == ["已有任务甲乙丙"]
    duban.ok("add", "之后的任务", "--lead", "湖南省交通运输厅", "--due", "2025-12-31")
    assert [r["title"] for r in _searched(duban, "之后的任务")] == ["之后的任务"]
    engine = get_engine(db_url)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            for table in ("obligation", "milestone", "target", "report"):
                # With rank 1, FTS5 checks the index against the table's rows.
                conn.exec_driver_sql(
                    f"INSERT INTO {table}_fts({table}_fts, rank) VALUES ('integrity-check', 1)"
                )
                conn.exec_driver_sql(
                    f"INSERT INTO {table}_fts_chars({table}_fts_chars) VALUES ('integrity-check')"
                )
            triggers = conn.exec_driver_sql(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_fts_%'"
            ).scalar()
            assert triggers == 28  # 0010: 3 per source; 0016: 4
            return
        conn.execute(text("SET enable_seqscan = off"))
        clause, params = search_where(engine.dialect.name, "搬迁第2段")
        ids = conn.execute(
            text(f"SELECT obligation.code FROM obligation WHERE {clause}"),
            {**params, "seen_at": date(9999, 12, 31)},
        ).scalars()
        assert list(ids) == ["K2"]


def test_a_word_in_most_obligations_walks_the_listing_to_the_same_windows(
    hunan, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ranked window of a word in most obligations walks the listing rank by rank
    (``listing.walks``) and gives the rows, in the order, that ranking every match gives:
    windows at the start, across the ranks, within the second and past the end."""
    from duban.core import listing, search
    from duban.core.filters import ObligationFilter
    from duban.core.migrations import HEAD
    from duban.core.queries import lean_connect

    # A letter that LIKE and SQLite's index fold apart is never asked of the rows there.
    assert search.walkable("postgresql", "水 Kelvin")
    assert not search.walkable("sqlite", "水 Kelvin")
    assert search.walkable("sqlite", "水 ab 长沙")
    lean = lean_connect(db_url, HEAD)
    assert lean is not None
    as_of = date(2024, 6, 1)
    with lean:
        assert listing.walks(lean, ObligationFilter(text="水"), as_of)
        assert listing.walks(lean, ObligationFilter(text="湖南 水"), as_of)
        # Found in few or none, or not ranked: no walk.
        assert not listing.walks(lean, ObligationFilter(text="化工园区"), as_of)
        assert not listing.walks(lean, ObligationFilter(text="无此内容"), as_of)
        assert not listing.walks(lean, ObligationFilter(text="水", sort="title"), as_of)
        assert not listing.walks(lean, ObligationFilter(text="水 洞庭湖"), as_of)
        for words in ("水", "湖南", "水 治理"):
            f = ObligationFilter(text=words)
            everything = len(listing.ids(lean, f, as_of, limit=None))
            assert everything > 10
            windows = [(0, None), (3, None), (everything + 3, 5)]
            windows += [(offset, limit) for offset in range(0, everything, 7) for limit in (1, 9)]
            for offset, limit in windows:
                monkeypatch.setattr(listing, "WALK_SHARE", 2)  # never
                ranked = listing.ids(lean, f, as_of, offset=offset, limit=limit)
                monkeypatch.setattr(listing, "WALK_SHARE", 0)  # always
                walked = listing.ids(lean, f, as_of, offset=offset, limit=limit)
                assert walked == ranked, (words, offset, limit)
            monkeypatch.undo()


def test_a_search_alone_is_counted_from_the_ids_it_finds(
    hunan, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a count of a search and nothing else (``queries.count_sql``) counts the
    distinct ids the search finds, but those the as-of lens hides, rather than asking each
    obligation: it counts what asking each obligation counts, an obligation found in several
    sources once, and any other filter puts the question back to each row; so does a lens
    that hides more than ``HASHED`` obligations."""
    from duban.core import queries
    from duban.core.filters import ObligationFilter
    from duban.core.migrations import HEAD
    from duban.core.queries import lean_connect

    # Recorded after the plan, and found twice: in its title and through its lead.
    hunan.ok("add", "水库清淤", "--lead", "湖南省水利厅", "--due", "2024-12-31", as_of="2024-03-01")
    lean = lean_connect(db_url, HEAD)
    assert lean is not None
    with lean:
        for hashed, day in product(
            (queries.HASHED, 1), (date(2022, 12, 1), date(2024, 1, 1), date(2024, 6, 1))
        ):
            monkeypatch.setattr(queries, "HASHED", hashed)
            for words in ("水", "水库", "湖南 水", "化工园区", "长沙", "无此内容"):
                for lens in (True, False):
                    for f in (
                        ObligationFilter(text=words),
                        ObligationFilter(text=words, state="open"),
                    ):
                        where = f.where(lean, day, lens=lens)
                        alone = lean.dialect == "postgresql" and f.state is None
                        assert (where.found is not None) is alone
                        counted = lean.one(queries.count_sql(where), **where.params)
                        asked = lean.one(
                            f"SELECT COUNT(*) FROM obligation WHERE {where.sql}", **where.params
                        )
                        assert counted == asked, (hashed, day, words, lens, f.state)
        # The one recorded later: found once, by the days that see it.
        for day, expected in ((date(2024, 6, 1), 1), (date(2024, 1, 1), 0)):
            where = ObligationFilter(text="水库").where(lean, day)
            assert lean.one(queries.count_sql(where), **where.params) == expected
