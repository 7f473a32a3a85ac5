"""Control characters: refused in whatever a person or a file supplies (exit 2, naming the
field and the position), and neutralised in what a terminal shows, whatever is stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

RETITLE = "\x1b]0;x\x07"


@pytest.fixture
def seeded(duban):
    duban.ok("owner", "add", "湖南省水利厅")
    duban.ok("add", "任务", "--lead", "湖南省水利厅", "--due", "2025-12-31")
    return duban


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["add", f"标题{RETITLE}", "--lead", "湖南省水利厅"],
            "title: control character U+001B at position 3",
        ),
        (
            ["add", "x", "--lead", "湖南省水利厅", "--body", "a\x9bb"],
            "body: control character U+009B at position 2",
        ),
        (["owner", "add", "新\x1b[2J单位"], "NAME: control character U+001B at position 2"),
        (
            ["owner", "set", "湖南省水利厅", "--alias", "水\r\n利"],
            "--alias: control character U+000D",
        ),
        (["user", "add", "a\x00b", "--role", "viewer"], "NAME: control character U+0000"),
        (
            ["feed", "add", "--all", "--name", "a\r\nb"],
            "--name: control character U+000D at position 2",
        ),
        (
            ["escalate", "1", "--level", "list", "--reason", "慢\x1b"],
            "--reason: control character U+001B",
        ),
    ],
)
def test_control_characters_are_refused(seeded, fingerprint, args, message) -> None:
    before = fingerprint(seeded.url)
    result = seeded(*args)
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert fingerprint(seeded.url) == before


def test_newline_and_tab_are_text(seeded) -> None:
    seeded.ok("add", "两行", "--lead", "湖南省水利厅", "--body", "第一行\n\t第二行")


def test_import_refuses_a_control_character(seeded, fingerprint, tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    line = {
        "title": f"好{RETITLE}",
        "lead": ["湖南省水利厅"],
        "milestones": [{"due": "2025-12-31"}],
    }
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    before = fingerprint(seeded.url)
    result = seeded("import", "obligations", str(path))
    assert result.exit_code == 2
    assert f"{path}:1: title: control character U+001B at position 2" in result.stderr
    assert fingerprint(seeded.url) == before


def _store_escapes(url: str) -> None:
    """What an older database or direct SQL may hold."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE obligation SET title = :t, body = :b"),
            {"t": f"任务{RETITLE}\x1b[2J\x9b", "b": "正文\x1b[31m红"},
        )
        conn.execute(text("UPDATE owner SET name = :n"), {"n": "湖南省\x1b[5m水利厅"})
    engine.dispose()


def test_stored_escapes_never_reach_the_terminal(seeded) -> None:
    _store_escapes(seeded.url)
    for args in (["show", "1"], ["list"], ["owner", "list"], ["show", "1", "--format", "json"]):
        out = seeded.ok(*args).stdout
        assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out, args
    shown = seeded.ok("show", "1").stdout
    assert "任务␛]0;x␇" in shown
    # JSON keeps the data: the escapes are JSON escapes, not raw bytes.
    data = seeded.ok("show", "1", "--format", "json").json()
    assert data["title"] == f"任务{RETITLE}\x1b[2J\x9b"


def test_a_feed_named_with_a_line_break_still_serves(seeded) -> None:
    """A feed stored before names were checked answers, its name on one line."""
    import urllib.request

    from duban.core.cli.context import Env
    from duban.core.serve import create_app, serve_in_thread

    url = seeded.ok("feed", "add", "--all", "--name", "水利", "--format", "json").json()["url"]
    env = Env.create(db_url=seeded.url, actor="coord", as_of=None)
    with env.session() as session:  # around the service, as an older version stored it
        from duban.core.models import FeedToken

        row = session.get(FeedToken, 1)
        row.name = "水\r\n利"
        row.scope = {**row.scope, "name": "水\r\n利"}
        session.add(row)
    app = create_app(engine=env.engine, actor="coord")
    with serve_in_thread(app) as base:
        body = urllib.request.urlopen(base + "/feeds/" + url.split("/feeds/")[1]).read()
    env.close()
    assert b"NAME:\xe6\xb0\xb4 \xe5\x88\xa9\r\n" in body


def test_stored_escapes_never_reach_the_tui(seeded, tmp_path: Path) -> None:
    """Every string the screens read passes through the same neutralisation."""
    from datetime import date

    from duban.core.cli.context import Env
    from duban.tui import data

    _store_escapes(seeded.url)
    env = Env.create(db_url=seeded.url, actor="coord", as_of=None)
    with env.session(write=False) as session:
        shown = data.obligation(session=session, obligation_id=1, as_of=date(2025, 1, 1))
        from duban.tui.filters import Query

        rows = data.window(
            session=session, query=Query(), as_of=date(2025, 1, 1), offset=0, limit=10
        )
    env.close()
    for found in (
        json.dumps(shown, default=str, ensure_ascii=False),
        json.dumps(rows, default=str, ensure_ascii=False),
    ):
        assert "\x1b" not in found and "\x07" not in found and "\x9b" not in found
    assert shown["title"].startswith("任务␛]0;x␇")
