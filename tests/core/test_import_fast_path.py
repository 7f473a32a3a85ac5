"""``duban import obligations`` checks a well-formed line on a fast path (``quick``) and
falls back to the detailed checks (``validate``) for anything else; it writes new rows as
tuples straight to the driver, and rebuilds the indexes after a large load. Each of these
must give what the straightforward path gives: the same result for every line it accepts,
the same error for every line it refuses, and the same rows in the database."""

from __future__ import annotations

import copy
import gc
import json
import random
import re
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import text

from duban.core import batch_writes, obligation_lines, search
from duban.core.db import get_engine
from duban.core.errors import UserError
from duban.core.services import transfer
from duban.core.testing import Runner

from .lines import TARGET

BASE: dict[str, Any] = {
    "code": "B000001",
    "title": "岳阳市黑臭水体治理（第1批）",
    "title_en": "Black and odorous water",
    "body": "第一段，第二段",
    "domain": "water",
    "state": "in_progress",
    "region": "岳阳市",
    "region_code": "430600",
    "seq": 3,
    "assignments": [
        {"owner": "湖南省水利厅", "role": "lead"},
        {"owner": "岳阳市人民政府", "role": "participant"},
    ],
    "milestones": [
        {"title": "阶段任务", "due": "2024-03-07", "done": "2024-02-01"},
        {"due": "2025-01-13", "done": None},
    ],
}
# Values a hand-edited or hostile file may hold where a field is expected.
ODD: list[Any] = [
    None,
    "",
    "  ",
    " 2025-12-31",
    "2025-02-30",
    "1989-12-31",
    "2101-01-01",
    "2025-W01-1",
    "20251231",
    "2025-12-31",
    "a\tb",
    "a\nb",
    "\x1b[2J",
    "\u0085",
    "back\\slash",
    "lead",
    "participant",
    "implementer",
    "boss",
    "closed",
    0,
    -1,
    5,
    2**31,
    5.5,
    True,
    False,
    [],
    ["x"],
    {},
    {"owner": "x"},
    {"owner": "x", "role": "lead"},
]
TOP = ["title", *obligation_lines.TEXTS, "state", "seq", "assignments", "lead", "participants"]
TOP += ["milestones", "targets", "id", "parent"]
NESTED = [
    ("assignments", 0, "owner"),
    ("assignments", 0, "role"),
    ("assignments", 1, "role"),
    ("milestones", 0, "title"),
    ("milestones", 0, "title_en"),
    ("milestones", 0, "due"),
    ("milestones", 0, "done"),
    ("milestones", 1, "due"),
]


def _variants(count: int, seed: int = 23) -> list[str]:
    """``count`` lines: the base line and the lead/participants form with one to three
    fields replaced by odd values, written plainly or with every non-ASCII character escaped."""
    rng = random.Random(seed)
    lines = []
    for i in range(count):
        data = copy.deepcopy(BASE)
        if i % 5 == 1:
            del data["assignments"]
            data["lead"], data["participants"] = [" 湖南省水利厅 "], ["岳阳市人民政府"]
        if i % 7 == 2:
            data["targets"] = [copy.deepcopy(TARGET)]
        for _ in range(rng.randint(1, 3)):
            value = copy.deepcopy(rng.choice(ODD))
            if rng.random() < 0.5:
                key = rng.choice(TOP)
                if value is None and rng.random() < 0.5:
                    data.pop(key, None)
                else:
                    data[key] = value
            else:
                field, j, key = rng.choice(NESTED)
                items = data.get(field)
                if isinstance(items, list) and len(items) > j and isinstance(items[j], dict):
                    items[j][key] = value
        lines.append(json.dumps(data, ensure_ascii=rng.random() < 0.2))
    return lines


def _detailed(path: Path, number: int, data: dict[str, Any]) -> Any:
    try:
        return obligation_lines.validate(path, number, data)
    except UserError as exc:
        return ("error", str(exc))


def _fast(path: Path, number: int, data: dict[str, Any], plain: bool) -> Any:
    try:
        return (
            plain and obligation_lines.quick(path, number, data, {})
        ) or obligation_lines.validate(path, number, data)
    except UserError as exc:
        return ("error", str(exc))


def test_the_fast_check_agrees_with_the_detailed_one(tmp_path: Path) -> None:
    lines = [json.dumps(BASE, ensure_ascii=False), *_variants(3000)]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    quick = refused = 0
    for number, data, plain in obligation_lines.read_lines(path):
        expected = _detailed(path, number, data)
        assert _fast(path, number, data, plain) == expected, lines[number - 1]
        if plain:
            try:
                accepted = obligation_lines.quick(path, number, data, {})
            except UserError:
                accepted = None
            quick += accepted is not None
        refused += isinstance(expected, tuple)
    # Both paths were taken, and many variants refused for varied reasons.
    assert quick > 300 and refused > 1000, (quick, refused)


def test_a_plain_line_holds_no_control_character(tmp_path: Path) -> None:
    cases = {
        json.dumps({"title": "a\tb"}): False,
        json.dumps({"title": "a\u0085b"}, ensure_ascii=False): False,
        json.dumps({"title": "a\\b"}): False,
        '{"title":\t"ab"}': False,
        json.dumps({"title": "好"}, ensure_ascii=False): True,
        json.dumps({"title": "好"}): False,
    }
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(cases) + "\n", encoding="utf-8")
    assert [plain for _, _, plain in obligation_lines.read_lines(path)] == list(cases.values())


@pytest.mark.parametrize(
    "line",
    [
        "",
        "   ",
        '  {"title": "t", "lead": ["x"]}  ',
        '{"title": "t", "lead": ["x"]} {"title": "u"}',
        '{"title": "t", "lead": ["x"]},',
        "[1, 2]",
        "NaN",
        '"text"',
        '{"title": "t"',
        "[" * 100_000,
    ],
)
def test_reading_a_line_gives_what_json_loads_gives(tmp_path: Path, line: str) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    try:
        got: Any = [(n, d) for n, d, _ in obligation_lines.read_lines(path)]
    except UserError as exc:
        got = str(exc)
    if not line.strip():
        assert got == []
        return
    try:
        data = json.loads(line)
    except RecursionError:
        assert got == f"{path}:1: nested too deeply"
    except json.JSONDecodeError as exc:
        assert got == f"{path}:1:{exc.colno}: not valid JSON: {exc.msg}"
    else:
        assert got == (
            [(1, data)] if isinstance(data, dict) else f"{path}:1: expected a JSON object"
        )


BAD = [
    ({**BASE, "title": 5}, "`title` must be a non-empty string"),
    ({**BASE, "body": "\x1b[2J"}, "body: control character U+001B at position 1"),
    ({**BASE, "code": "a\tb"}, "code: control character U+0009"),
    ({**BASE, "state": "sleeping"}, "unknown state 'sleeping'"),
    ({**BASE, "assignments": [{"owner": "x", "role": "boss"}]}, "unknown role 'boss'"),
    ({**BASE, "assignments": [{"owner": "x", "role": []}]}, "unknown role []"),
    ({**BASE, "assignments": [{"owner": "x", "role": "participant"}]}, "at least one lead"),
    ({**BASE, "milestones": [{"due": "2025-02-30"}]}, "milestones[0].due: not a date"),
    ({**BASE, "milestones": [{"due": "2101-01-01"}]}, "is outside 1990-01-01..2100-12-31"),
    ({**BASE, "milestones": [{"due": "2025-01-01", "done": 5}]}, "milestones[0].done"),
    ({**BASE, "seq": -1}, "`seq` must be a whole number, not -1"),
    ({**BASE, "seq": True}, "`seq` must be a whole number, not True"),
    ({**BASE, "targets": [{**TARGET, "comparator": "~~"}]}, "unknown comparator '~~'"),
    ({**BASE, "id": [1]}, "`id` must be a number or a string, not [1]"),
    ({**BASE, "parent": {"id": 1}}, "`parent` must be a number or a string, not {'id': 1}"),
]


@pytest.mark.parametrize(("line", "message"), BAD)
def test_a_bad_line_gets_the_detailed_message(
    duban, fingerprint, tmp_path: Path, line: dict[str, Any], message: str
) -> None:
    path = tmp_path / "in.jsonl"
    good = json.dumps({**BASE, "code": "B0"}, ensure_ascii=False)
    path.write_text(good + "\n" + json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    data = json.loads(path.read_text(encoding="utf-8").splitlines()[1])
    expected = _detailed(path, 2, data)
    assert expected[0] == "error" and message in expected[1]
    before = fingerprint(duban.url)
    result = duban("import", "obligations", str(path))
    assert result.exit_code == 2, result.stderr
    assert result.stderr.strip() == f"duban: error: {expected[1]}"
    assert fingerprint(duban.url) == before


UID_IN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}@duban")
HASH = re.compile(r"^[0-9a-f]{64}$")
INSTANT = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(\+00:00)?")


def _steady(value: Any) -> Any:
    if isinstance(value, dict | list):  # JSON as PostgreSQL's driver gives it
        value = json.dumps(value, sort_keys=True)
    if not isinstance(value, str):
        return value
    return HASH.sub("<hash>", UID_IN.sub("<uid>", INSTANT.sub("<instant>", value)))


def _rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, but the random UIDs (checked apart), the instants of writing and
    the audit chain's hashes of them (which differ run to run; ``audit verify`` checks them)."""
    skip = {"uid", "at", "hash", "prev_hash", "created_at", "updated_at", "recorded_at"}
    engine = get_engine(url)
    out = {}
    with engine.connect() as conn:
        inspector = sa_inspect(conn)
        for table in sorted(inspector.get_table_names()):
            columns = [c["name"] for c in inspector.get_columns(table) if c["name"] not in skip]
            listed = ", ".join(f'"{c}"' for c in columns)
            out[table] = [
                tuple(_steady(v) for v in r)
                for r in conn.execute(text(f'SELECT {listed} FROM "{table}"'))
            ]
            out[table].sort(key=repr)
    return out


UID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}@duban$")


def _varied_file(path: Path) -> None:
    """Good lines in the forms an export and a person write: owners new and known, with
    spaces, twice; regions by code or name, new or known; lines with and without state,
    milestones, done dates, targets, parents, escapes and tabs."""
    rng = random.Random(7)
    lines = []
    for i in range(300):
        line: dict[str, Any] = {
            "id": i + 1,
            "code": f"C{i:04d}" if i % 9 else None,
            "title": f" 任务{i} " if i % 11 == 0 else f"任务{i}",
            "domain": rng.choice(["water", "general", "supervision"]),
        }
        if i % 4:
            line["state"] = rng.choice(["open", "closed", "submitted", ""])
        if i % 3:
            line["region_code"] = rng.choice(["430600", "430100", "439999", None])
        if i % 5:
            line["region"] = rng.choice(["岳阳市", "新区", None])
        owners = ["湖南省水利厅", " 湖南省水利厅", "新单位甲", "新单位乙", "湖南省财政厅"]
        if i % 2:
            line["assignments"] = [
                {"owner": rng.choice(owners), "role": "lead"},
                {"owner": rng.choice(owners), "role": rng.choice(["participant", "lead"])},
            ]
        else:
            line["lead"] = [rng.choice(owners)]
            line["participants"] = rng.sample(owners, 2)
        line["milestones"] = [
            {
                "title": rng.choice([None, "阶段", "含\t制表符"]),
                "due": f"202{rng.randint(3, 7)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                "done": rng.choice([None, "", "2024-01-05"]),
            }
            for _ in range(rng.randint(0, 3))
        ]
        if i % 13 == 0:
            line["targets"] = [TARGET]
        if i % 17 == 0 and i:
            line["parent"] = i
        if i % 19 == 0:
            line["body"] = '引号"与\\反斜杠'
        lines.append(json.dumps(line, ensure_ascii=i % 23 == 0))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _import_both_ways(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    make_runner: Any,
    *,
    large: bool,
    helped: bool = False,
) -> tuple[Any, Any]:
    path = tmp_path / "varied.jsonl"
    _varied_file(path)
    # Every third line first: the whole file's batches then mix new lines and lines there.
    part = tmp_path / "part.jsonl"
    part.write_text("".join(path.read_text(encoding="utf-8").splitlines(True)[::3]), "utf-8")
    slow, fast = make_runner("slow"), make_runner("fast")
    for runner in (slow, fast):
        runner.ok("owner", "add", "湖南省水利厅", "--alias", "省水利厅")
        runner.ok("init")
    if large:  # every load counts as large: indexes dropped and built again
        monkeypatch.setattr(transfer, "LOAD_AT", 0)
        monkeypatch.setattr(transfer, "LINE_BYTES", 1)
    with monkeypatch.context() as patched:
        patched.setattr(transfer, "HELPED_AT", 10**12)  # the slow path is this process's
        patched.setattr(obligation_lines, "quick", lambda *args: None)
        # The slow import hands the driver dates and instants as they are, for insert_tuples'
        # own conversions: the fast one's values converted once must come out the same.
        patched.setattr(transfer, "stored_as", lambda *args: lambda value: value)
        patched.setattr(
            transfer,
            "insert_tuples",
            lambda *args, encoded=(): batch_writes.insert_tuples(*args),
        )
        slow.ok("import", "obligations", str(part))
        slow.ok("import", "obligations", str(path))
    if helped:  # batches of ten, so that some hold no targets and go as columns
        monkeypatch.setattr(transfer, "HELPED_AT", 0)
        monkeypatch.setattr(obligation_lines, "BATCH", 10)
    fast.ok("import", "obligations", str(part))
    fast.ok("import", "obligations", str(path))
    return slow, fast


@pytest.fixture
def make_runner(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Runners on fresh databases of their own (SQLite, or schemas on PostgreSQL)."""
    # The suite's conftest, as pytest loaded it: its fresh_database makes either kind.
    (fresh_database,) = {
        plugin.fresh_database
        for plugin in request.config.pluginmanager.get_plugins()
        if hasattr(plugin, "fresh_database")
    }
    with ExitStack() as stack:

        def make(name: str) -> Runner:
            folder = tmp_path / name
            folder.mkdir()
            return Runner(stack.enter_context(fresh_database(folder)))

        yield make


@pytest.mark.parametrize(
    ("large", "helped"), [(False, False), (True, False), (True, True)], ids=["", "large", "helped"]
)
def test_the_fast_path_writes_what_the_detailed_path_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_runner: Any, large: bool, helped: bool
) -> None:
    slow, fast = _import_both_ways(tmp_path, monkeypatch, make_runner, large=large, helped=helped)
    before, after = _rows(slow.url), _rows(fast.url)
    assert before.keys() == after.keys()
    for table in before:
        assert before[table] == after[table], table
    assert len(after["obligation"]) > 300 and len(after["milestone"]) > 300
    with get_engine(fast.url).connect() as conn:
        uids = [u for (u,) in conn.execute(text("SELECT uid FROM milestone"))]
    assert all(UID.match(u) for u in uids) and len(set(uids)) == len(uids)
    fast.ok("audit", "verify")
    again = fast.ok("import", "obligations", str(tmp_path / "varied.jsonl"), "--format", "json")
    assert again.json()["unchanged"] == 300 and again.json()["obligations"] == 0


def _schema(url: str) -> list[tuple[Any, ...]]:
    with get_engine(url).connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name")
            )
        ]


def test_a_large_load_that_fails_leaves_rows_and_indexes_as_they_were(
    duban, fingerprint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transfer, "LOAD_AT", 0)
    monkeypatch.setattr(transfer, "LINE_BYTES", 1)
    duban.ok("init")
    lines = [json.dumps({**BASE, "code": f"L{i}"}, ensure_ascii=False) for i in range(4500)]
    lines.append(json.dumps({**BASE, "code": "L-bad", "state": "sleeping"}))
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sqlite = duban.url.startswith("sqlite")
    schema = _schema(duban.url) if sqlite else None
    before = fingerprint(duban.url)
    result = duban("import", "obligations", str(path))
    assert result.exit_code == 2 and result.stderr.startswith(f"duban: error: {path}:4501: ")
    assert fingerprint(duban.url) == before
    if sqlite:
        assert _schema(duban.url) == schema
    path.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    duban.ok("import", "obligations", str(path))
    if sqlite:
        assert _schema(duban.url) == schema
        database = duban.url.removeprefix("sqlite:///").split("?")[0]
        assert sqlite3.connect(database).execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_new_uids_are_increasing_version_7_uuids() -> None:
    before = time.time_ns() // 1_000_000
    uids = batch_writes.new_uids(2000)
    again = batch_writes.new_uids(2000)
    after = time.time_ns() // 1_000_000
    assert len(set(uids + again)) == 4000 and all(UID.match(u) for u in uids + again)
    # Increasing within a batch: their unique index grows at its end.
    assert uids == sorted(uids) and again == sorted(again)
    parsed = [uuid.UUID(u.removesuffix("@duban")) for u in uids + again]
    assert {p.version for p in parsed} == {7} and {p.variant for p in parsed} == {uuid.RFC_4122}
    assert all(before <= p.int >> 80 <= after for p in parsed)  # milliseconds since 1970
    # Each batch counts up from its own random start (the 74 bits after the time and version
    # but for the variant's two).
    counted = [p.int & ((1 << 76) - 1) for p in parsed]
    assert counted[2000] - counted[0] not in range(-4000, 4000)
    assert all(b - a == 1 for a, b in pairwise(counted[:2000]))
    assert batch_writes.new_uids(0) == []


def test_converted_values_keep_their_type() -> None:
    seen: list[Any] = []

    def process(value: Any) -> str:
        seen.append(value)
        return repr(value)

    values = [1, True, 1.0, None, 1, True, "1"]
    assert batch_writes._converted(values, process) == [
        "1",
        "True",
        "1.0",
        None,
        "1",
        "True",
        "'1'",
    ]
    assert sorted(map(repr, seen)) == sorted(["1", "True", "1.0", "'1'"])
    objects = [{"a": 1}, None, {"a": 1}]
    assert batch_writes._converted(objects, process) == ["{'a': 1}", None, "{'a': 1}"]


def test_the_stamps_of_imported_rows_are_written_as_the_orm_writes_them(
    duban, tmp_path: Path
) -> None:
    duban.ok("owner", "add", "湖南省水利厅")
    duban.ok("add", "手工录入", "--lead", "湖南省水利厅")
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(BASE, ensure_ascii=False) + "\n", encoding="utf-8")
    duban.ok("import", "obligations", str(path))
    with get_engine(duban.url).connect() as conn:
        rows = conn.execute(text("SELECT created_at, updated_at FROM obligation ORDER BY id")).all()
        days = conn.execute(text("SELECT due, done_on FROM milestone ORDER BY id")).all()
    added, imported = rows
    assert [type(v) for v in imported] == [type(v) for v in added]
    # The same text shape (SQLite stores them as text): digits where the ORM wrote digits.
    shape = [re.sub(r"[0-9]", "9", str(v)) for v in added]
    assert [re.sub(r"[0-9]", "9", str(v)) for v in imported] == shape
    assert [str(v) for v in days[-2]] == ["2024-03-07", "2024-02-01"]
    assert [str(v) for v in days[-1]] == ["2025-01-13", "None"]


def test_the_cyclic_collector_is_off_during_an_import_and_back_after(
    duban, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    real = transfer.insert_tuples

    def watched(*args: Any, **kwargs: Any) -> None:
        seen.append(gc.isenabled())
        real(*args, **kwargs)

    monkeypatch.setattr(transfer, "insert_tuples", watched)
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(BASE, ensure_ascii=False) + "\n", encoding="utf-8")
    assert gc.isenabled()
    duban.ok("import", "obligations", str(path))
    assert seen and not any(seen) and gc.isenabled()
    path.write_text(json.dumps({**BASE, "code": "X", "state": "sleeping"}) + "\n")
    assert duban("import", "obligations", str(path)).exit_code == 2
    assert gc.isenabled()
    gc.disable()
    try:  # a caller's choice stands
        with batch_writes.without_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def _spaced(row: tuple[str | None, ...]) -> str:
    """The characters' index's text of one row, written plainly (``search.spaced_rows``)."""
    return " ".join("\n".join(t or "" for t in row).replace(" ", "\n"))


def test_spaced_rows_are_each_row_spaced() -> None:
    rng = random.Random(5)
    alphabet = [
        "a",
        "Z",
        " ",
        "\n",
        "\t",
        "长",
        "沙",
        "é",
        "\u0301",
        "😀",
        "𠀀",
        "ſ",
        "\uffff",
        "0",
    ]
    rows: list[tuple[str | None, ...]] = [(None, None), ("", ""), (" ", None), ("😀",)]
    for _ in range(500):
        width = rng.randint(1, 5)
        rows.append(
            tuple(
                None
                if rng.random() < 0.2
                else "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
                for _ in range(width)
            )
        )
    assert search.spaced_rows(rows) == [_spaced(row) for row in rows]
    assert search.spaced_rows([]) == []


def _vocabulary(conn: sqlite3.Connection, table: str) -> list[tuple[Any, ...]]:
    conn.execute(f"CREATE VIRTUAL TABLE temp.v_{table} USING fts5vocab(main, {table}, instance)")
    return conn.execute(f"SELECT * FROM temp.v_{table} ORDER BY 1, 2, 3, 4").fetchall()


def test_an_import_in_many_batches_indexes_every_row_once(
    duban, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The search indexes after an import of several batches, with obligations already
    there updated (their new milestones indexed at the end) and rows added one by one,
    hold what indexes built afresh from the rows hold."""
    if not duban.url.startswith("sqlite"):
        pytest.skip("the FTS5 tables are SQLite's")
    monkeypatch.setattr(transfer, "BATCH", 7)
    duban.ok("owner", "add", "湖南省水利厅")
    duban.ok("add", "长沙 单独录入", "--lead", "湖南省水利厅")
    first = tmp_path / "first.jsonl"
    lines = [{**BASE, "code": f"F{i}", "title": f"第{i}项 水体"} for i in range(10)]
    first.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), "utf-8")
    duban.ok("import", "obligations", str(first))
    again = tmp_path / "again.jsonl"
    lines[3]["milestones"] = [*BASE["milestones"], {"title": "新增 节点", "due": "2026-05-05"}]
    lines += [{**BASE, "code": f"G{i}", "body": f"正文 {i} ſK"} for i in range(30)]
    again.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), "utf-8")
    duban.ok("import", "obligations", str(again), "--update")
    duban.ok("add", "又一 单独录入", "--lead", "湖南省水利厅")
    database = duban.url.removeprefix("sqlite:///").split("?")[0]
    conn = sqlite3.connect(database)
    got = {
        f"{table}_{index}": _vocabulary(conn, f"{table}_{index}")
        for table in search.SOURCES
        for index in ("fts", "fts_chars")
    }
    with conn:  # afresh: the trigram tables from their rows, the characters' from the views
        for table in search.SOURCES:
            conn.execute(f"INSERT INTO {table}_fts({table}_fts) VALUES ('rebuild')")
            conn.execute(f"INSERT INTO {table}_fts_chars({table}_fts_chars) VALUES ('delete-all')")
            conn.execute(
                f"INSERT INTO {table}_fts_chars(rowid, text) SELECT doc, text"
                f" FROM {table}_fts_chars_text"
            )
    conn.close()
    conn = sqlite3.connect(database)
    fresh = {name: _vocabulary(conn, name) for name in got}
    assert len(got["milestone_fts_chars"]) > 100
    for name in got:
        assert got[name] == fresh[name], name
