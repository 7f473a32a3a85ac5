"""With ``--lang zh`` no English word reaches a person: every command's ``--help``, the
everyday tables and every TUI screen are read for ASCII words of three letters or more.

What may stay (``ALLOWED``): codes and standards (JSON, CSV, URL, GB, TLS...), units (mg/L)
and names of products (SQLite, PostgreSQL, pytest). Stripped before reading, because a
person types them as they are: option names (``--as-of``), choice lists (``[zh|en]``),
defaults, command names in a command list, text in backticks (literal input), file names
and paths, web addresses, environment variables (``DUBAN_LANG``), ``key=value`` samples,
water quality classes (III), login names, names of keys (esc, tab) and plugin marks in
the filter language (标记:ledger).
"""

from __future__ import annotations

import getpass
import re

import click
import pytest

from duban.core.testing import Runner

from .pilot import AS_OF, SIZE, app_for, settle

ALLOWED = {
    "JSON",
    "JSONL",
    "CSV",
    "URL",
    "HTTP",
    "TLS",
    "RFC",
    "YAML",
    "SQLite",
    "PostgreSQL",
    "VTODO",
    "SEQUENCE",
    "YYYY",
    "pytest",
    "duban",
    "iCalendar",
    "Excel",
    "GDP",
    "English",  # the language switch names the other language in its own words
    "SVG",
    "mg/L",
    "sha",
    "docx",
    "xlsx",
    "ics",
    "SHA",
}

_LITERALS = [
    r"`[^`]*`",  # literal input
    r"(?:https?|webcal)://\S+|http\(s\)",  # addresses
    r"(?<![\w-])--?[A-Za-z][\w-]*",  # option names
    r"\[[A-Za-z0-9_|.-]+\]|\{[A-Za-z0-9_|.-]+\}",  # choice lists
    r"默认：[^\]；）\n]*",  # a default value, as typed
    r"[\w.-]*[/\\][\w./\\-]+|[\w-]*\.(?:md|txt|docx|xlsx|csv|ics|yaml|toml|pdf)\b",  # paths
    r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b",  # environment variables
    r"\S+=\S*|\b[a-z_]+…",  # key=value samples and settings (cut short by the column)
    r"\b[a-z0-9]+(?:[._][a-z0-9]+)+\b",  # identifiers: indicator, rule and hook keys
    r"(?<![A-Za-z])(?:water|waste|shipping|supervision|fishing_ban)(?![A-Za-z])",  # plugin names
    r"mg/L",
    r"\b[0-9a-f]{32,}\b",  # digests (the audit chain's hashes, a file's SHA-256)
    r"(?<![A-Za-z])[IVX]+(?![A-Za-z])",  # water quality classes (III类)
    r"(?<=标记:)[\w.]+",  # a plugin's mark in the filter language (标记:ledger)
    r"\b(?:esc|tab|shift|ctrl|super|enter|space)\b",  # names of keys, as printed on them
    r"\b(?:coord|lead2)\b",  # the campaign's logins: names, not words
]
_LITERAL = re.compile("|".join(_LITERALS))
_WORD = re.compile(r"[A-Za-z]{3,}")


def english_words(text: str) -> set[str]:
    """ASCII words of three letters or more not allowed on a Chinese screen."""
    return {w for w in _WORD.findall(_LITERAL.sub(" ", text)) if w not in ALLOWED}


def test_the_checker_finds_english_and_passes_literals() -> None:
    assert english_words("状态：open") == {"open"}
    assert english_words("Focus Next") == {"Focus", "Next"}
    assert not english_words("--as-of 日期  按此日期（YYYY-MM-DD）查看 `duban audit head`")
    assert not english_words("--lang [zh|en]  输出格式。  [默认：table] 见 docs/calendar.md")


def _command_paths() -> list[tuple[str, ...]]:
    from duban.core.cli import cli
    from duban.tui.entry import tui

    cli.add_command(tui)  # as the console script does
    ctx = click.Context(cli)
    found: list[tuple[str, ...]] = [()]

    def walk(group: click.Group, path: tuple[str, ...]) -> None:
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            found.append((*path, name))
            if isinstance(command, click.Group):
                walk(command, (*path, name))

    walk(cli, ())
    return found


def _help_prose(text: str, path: tuple[str, ...]) -> str:
    """The help minus what is typed: the usage line's program and a command list's names."""
    lines = []
    for line in text.splitlines():
        line = line.replace(" ".join(("duban", *path)), " ")
        lines.append(re.sub(r"^  ([a-z][\w-]*)(?=\s{2}|$)", " ", line))
    return "\n".join(lines)


def test_every_help_is_in_chinese(duban) -> None:
    leaks: dict[str, set[str]] = {}
    for path in _command_paths():
        result = duban.ok(*path, "--help", lang="zh")
        words = english_words(_help_prose(result.stdout, path))
        if words:
            leaks[" ".join(("duban", *path, "--help"))] = words
    assert not leaks, "English in Chinese help:\n" + "\n".join(
        f"{k}: {sorted(v)}" for k, v in leaks.items()
    )


TABLES = [
    ("list",),
    ("list", "--overdue", "--sort", "title"),
    ("show", "（七）"),
    ("show", "（十）"),
    ("status",),
    ("scorecard",),
    ("escalations",),
    ("ledger", "list"),
    ("report", "list"),
    ("report", "list", "--missing"),
    ("owner", "list"),
    ("user", "list"),
    ("inbox",),
    ("history", "（七）"),
    ("audit", "log", "--limit", "30"),
    ("audit", "head"),
]


@pytest.mark.parametrize("args", TABLES, ids=" ".join)
def test_tables_are_in_chinese(campaign, args: tuple[str, ...]) -> None:
    run = Runner(campaign.db_url or "")
    run.ok(
        "report",
        "add",
        "（四）",
        "--period",
        "2024-05",
        "--progress",
        "已完成乡镇级水源保护区定界立标",
        "--percent",
        "60",
        as_of=AS_OF,
    )
    result = run.ok(*args, as_of=AS_OF, lang="zh")
    assert result.stdout.strip()
    words = english_words(result.stdout) - {getpass.getuser()}  # the audit log's OS user
    assert not words, " ".join(sorted(words)) + "\n" + result.stdout


def test_records_are_in_chinese(campaign, tmp_path) -> None:
    """What a write prints back (one labelled line per field) names its fields in Chinese."""
    run = Runner(campaign.db_url or "")
    milestone = run.ok("show", "（四）", "--format", "json", as_of=AS_OF).json()["milestones"][0]
    exported = tmp_path / "tasks.jsonl"
    exported.write_text(run.ok("export", as_of=AS_OF).stdout, encoding="utf-8")
    printed = [
        run.ok("import", "obligations", str(exported), as_of=AS_OF, lang="zh"),
        run.ok("milestone", "done", str(milestone["id"]), "--on", AS_OF, as_of=AS_OF, lang="zh"),
        run.ok("feed", "add", "--name", "水利厅", "--owner", "湖南省水利厅", lang="zh"),
    ]
    for result in printed:
        assert result.stdout.strip()
        words = english_words(result.stdout)
        assert not words, " ".join(sorted(words)) + "\n" + result.stdout
    assert "未变" in printed[0].stdout and "完成日期" in printed[1].stdout


def screen_text(app) -> str:
    """What the terminal shows now, as text (from Textual's own screenshot)."""
    import html

    svg = app.export_screenshot()
    spans = re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.S)
    return html.unescape("".join(spans)).replace("\xa0", " ")


# Every screen a person can reach, by the keys that reach it from the dashboard (after
# ``open`` when it starts at an obligation's detail).
SCREENS: dict[str, tuple[int | None, list[str]]] = {
    "dashboard": (None, []),
    "obligations": (None, ["o"]),
    "escalations": (None, ["e"]),
    "owners": (None, ["w"]),
    "agenda": (None, ["a"]),
    "agenda by month": (None, ["a", "m"]),
    "reports": (None, ["b"]),
    "ledger": (None, ["l"]),
    "plugins": (None, ["g"]),
    "inbox": (None, ["i"]),
    "help": (None, ["question_mark"]),
    "as of": (None, ["t"]),
    "palette": (None, ["ctrl+p"]),
    "detail": (8, []),
    "detail submitted": (13, []),
    "report form": (8, ["b"]),
    "record form": (2, ["r"]),
    "evidence form": (8, ["v"]),
    "submit form": (8, ["s"]),
    "verify form": (13, ["y"]),
    "reject form": (13, ["n"]),
    "escalate form": (8, ["x"]),
    "split form": (8, ["p"]),
    "edit form": (8, ["u"]),
}


# A walk through every screen in a real app, two seconds each: .ci/run's slow step.
@pytest.mark.slow
@pytest.mark.asyncio
@pytest.mark.parametrize("name", list(SCREENS))
async def test_every_screen_is_in_chinese(campaign, name: str) -> None:
    start, keys = SCREENS[name]
    app = app_for(campaign, lang="zh")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        if start is not None:
            app.open_obligation(start)
            await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        await pilot.pause(0.3)  # the palette gathers its entries asynchronously
        text = screen_text(app)
    assert not english_words(text), " ".join(sorted(english_words(text))) + "\n" + text
