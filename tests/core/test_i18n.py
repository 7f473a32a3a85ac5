"""Chinese and English, complete in both: every message in the code has its translation."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [ROOT / "core", ROOT / "plugins", ROOT / "tui"]
# t() and the helpers that pass their first argument to it (rules keep both languages).
TRANSLATORS = {"t", "t_zh", "both", "_both"}


def messages() -> dict[str, str]:
    """msgid -> where it is used, for every literal passed to t()."""
    found: dict[str, str] = {}
    for package in PACKAGES:
        for path in package.rglob("*.py"):
            tree = ast.parse(path.read_text("utf-8"))
            for node in ast.walk(tree):
                func = node.func if isinstance(node, ast.Call) else None
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if (
                    isinstance(node, ast.Call)
                    and name in TRANSLATORS
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    found.setdefault(node.args[0].value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def catalog() -> dict[str, str]:
    merged: dict[str, str] = {}
    for package in PACKAGES:
        for path in sorted(package.rglob("locale/zh/*.toml")):
            merged.update(tomllib.loads(path.read_text("utf-8")))
    return merged


def test_every_message_has_a_chinese_translation() -> None:
    known = catalog()
    missing = {msgid: where for msgid, where in messages().items() if msgid not in known}
    assert not missing, "untranslated messages:\n" + "\n".join(
        f"{w}: {m!r}" for m, w in missing.items()
    )


def test_translations_keep_their_placeholders() -> None:
    import string

    def fields(text: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    wrong = {m: z for m, z in catalog().items() if fields(m) != fields(z)}
    assert not wrong, f"placeholders differ: {wrong}"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_errors_speak_the_chosen_language(duban, lang: str) -> None:
    result = duban("show", "999", lang=lang)
    expected = "未知任务" if lang == "zh" else "unknown obligation"
    assert expected in result.stderr


def _click_messages() -> set[str]:
    """Every literal click's modules pass to gettext's ``_`` or ``ngettext``."""
    from duban.core.cli import clicktext

    found = set()
    for module in clicktext.MODULES:
        tree = ast.parse(Path(module.__file__).read_text("utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("_", "ngettext")
            ):
                found.update(
                    a.value
                    for a in node.args[:2]
                    if isinstance(a, ast.Constant) and isinstance(a.value, str)
                )
    return found


def test_every_click_message_has_a_chinese_translation() -> None:
    assert _click_messages(), "click's messages were not found"
    missing = _click_messages() - catalog().keys()
    assert not missing, f"click's messages without Chinese: {sorted(missing)}"


# Usage errors, each from another of click's messages.
USAGE_ERRORS = [
    ("list", "--nosuch"),
    ("--nosuch",),
    ("lst",),
    ("add",),
    ("list", "--limit", "abc"),
    ("list", "--limit", "0"),
    ("list", "extra", "more"),
    ("add", "x", "--due"),
    ("list", "--format", "xml"),
    ("list", "--count=yes"),
]


@pytest.mark.parametrize("args", USAGE_ERRORS)
def test_usage_errors_are_all_chinese_under_zh(duban, args: tuple[str, ...]) -> None:
    import re

    zh = duban(*args, lang="zh")
    assert zh.exit_code == 2
    assert zh.stderr.startswith("duban: 错误: ")
    # What the user typed comes back as typed: quoted, or an option, a command's name.
    said = re.sub(r"'[^']*'|`[^`]*`|--?[\w-]+|\bduban\b|\bx>=1\b", "", zh.stderr)
    typed = {a for a in args if not a.startswith("-")}
    english = [w for w in re.findall(r"[A-Za-z]{2,}", said) if w not in typed]
    assert not english, zh.stderr
    en = duban(*args, lang="en")
    assert en.exit_code == 2
    assert not re.search(r"[\u4e00-\u9fff]", en.stderr), en.stderr


@pytest.mark.parametrize(("lang", "expected"), [("zh", "duban，版本 "), ("en", "duban, version ")])
def test_the_version_line_speaks_the_chosen_language(duban, lang: str, expected: str) -> None:
    assert duban("--version", lang=lang).stdout.startswith(expected)
