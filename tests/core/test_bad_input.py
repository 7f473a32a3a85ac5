"""Bad input: one clear line naming what and where, a non-zero exit, an unchanged database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

GOOD = {"title": "好任务", "lead": ["湖南省水利厅"], "milestones": [{"due": "2025-12-31"}]}


@pytest.fixture
def seeded(duban):
    duban.ok("owner", "add", "湖南省水利厅", "--alias", "省水利厅")
    duban.ok("add", "任务", "--lead", "省水利厅", "--due", "2025-12-31")
    return duban


def jsonl(tmp_path: Path, *lines: object) -> str:
    path = tmp_path / "in.jsonl"
    path.write_text(
        "".join(
            (ln if isinstance(ln, str) else json.dumps(ln, ensure_ascii=False)) + "\n"
            for ln in lines
        ),
        encoding="utf-8",
    )
    return str(path)


CASES = {
    "unknown owner": (["add", "x", "--lead", "省不存在厅"], "--lead: unknown owner '省不存在厅'"),
    "malformed date": (
        ["add", "x", "--lead", "省水利厅", "--due", "2025-02-30"],
        "--due: not a date",
    ),
    "insane date": (["add", "x", "--lead", "省水利厅", "--due", "2205-12-31"], "outside"),
    "bad as-of": (["--as-of", "yesterday", "list"], "--as-of: not a date"),
    "bad email": (
        ["owner", "set", "省水利厅", "--email", "not-an-address"],
        "--email: not an e-mail",
    ),
    "bad webhook URL": (
        ["owner", "set", "省水利厅", "--webhook", "ftp://x"],
        "--webhook: not an http(s) URL",
    ),
    "unknown id": (["show", "999"], "unknown obligation '999'"),
    "unknown region": (["list", "--region", "火星"], "--region: unknown region '火星'"),
    "unknown parent": (
        ["owner", "add", "新单位", "--parent", "无此单位"],
        "--parent: unknown owner",
    ),
    "duplicate owner": (["owner", "add", "省水利厅"], "already exists"),
    "bad role": (["user", "add", "x", "--role", "boss"], "--role: must be one of"),
    "empty title": (["add", "  ", "--lead", "省水利厅"], "title must not be empty"),
    "unknown import kind": (["import", "nonsense", "x.csv"], "No such command 'nonsense'"),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_argument(seeded, fingerprint, case: str) -> None:
    args, message = CASES[case]
    before = fingerprint(seeded.url)
    result = seeded(*args)
    assert result.exit_code != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert fingerprint(seeded.url) == before


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ((GOOD, "{not json", GOOD), ":2:2: not valid JSON"),
        ((GOOD, GOOD, ["a", "list"]), ":3: expected a JSON object"),
        ((GOOD, {"lead": ["湖南省水利厅"]}), ":2: `title` must be a non-empty string"),
        ((GOOD, {"title": "无牵头", "lead": []}), ":2: an obligation needs at least one lead"),
        (
            (GOOD, {**GOOD, "milestones": [{"due": "2025-13-01"}]}),
            ":2: milestones[0].due: not a date",
        ),
        ((GOOD, {**GOOD, "state": "finished"}), ":2: unknown state 'finished'"),
        (
            (
                GOOD,
                {
                    **GOOD,
                    "targets": [
                        {
                            "indicator": "x",
                            "comparator": "gte",
                            "value": "lots",
                            "due": "2025-12-31",
                        }
                    ],
                },
            ),
            ":2: targets[0]: value must be a number",
        ),
    ],
)
def test_import_rejects_the_whole_file(seeded, fingerprint, tmp_path, lines, message) -> None:
    path = jsonl(tmp_path, *lines)
    before = fingerprint(seeded.url)
    result = seeded("import", "obligations", path)
    assert result.exit_code == 2
    assert f"{path}{message}" in result.stderr
    assert fingerprint(seeded.url) == before
    assert seeded.ok("list", "--count").stdout.strip() == "1"


def test_unreadable_and_missing_files(seeded, fingerprint, tmp_path) -> None:
    before = fingerprint(seeded.url)
    missing = seeded("import", "obligations", str(tmp_path / "nope.jsonl"))
    assert missing.exit_code == 2 and "no such file" in missing.stderr
    binary = tmp_path / "blob.jsonl"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    result = seeded("import", "obligations", str(binary))
    assert result.exit_code == 2 and "neither UTF-8 nor GB18030" in result.stderr
    wrong_ext = seeded("import", "obligations", str(tmp_path / "data.csv"))
    assert wrong_ext.exit_code == 2
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert "no obligations" in seeded("import", "obligations", str(empty)).stderr
    assert fingerprint(seeded.url) == before


def test_bad_database_url(tmp_path) -> None:
    import io
    from contextlib import redirect_stderr

    from duban.core.cli import main

    err = io.StringIO()
    with redirect_stderr(err):
        code = main(["--db", "nosuchdriver://x/y", "list"])
    assert code == 2 and "not a database URL" in err.getvalue()
