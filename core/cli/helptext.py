"""``--help`` in the current language.

Commands keep their help in English in the code (docstrings, ``help=``); the formatter here
looks each text up in the catalog as it is written, so every command, a plugin's included,
speaks Chinese under ``--lang zh`` without its definition changing. Keys are the English
text with its white space collapsed (paragraphs kept apart by a blank line). Option names,
choices and defaults stay as typed; placeholders (``NAME``, ``DATE``) are translated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import click

from ..i18n import catalog, language, t


def cell_width(text: str) -> int:
    # core/spreadsheet.py's measure, imported only when help is written (start-up stays lean)
    from ..spreadsheet import cell_width as measure

    return measure(text)


_PARAGRAPHS = re.compile(r"\n\s*\n")
_PLACEHOLDER = re.compile(r"\b[A-Z][A-Z_]{2,}\b")
_EXTRA = re.compile(r"^(?P<text>.*?)\s*\[(?P<extra>[^\[\]]*)\]$", re.S)
_CLOSING = set("，。；：、）》”")
_SHORT = 30  # cells of a command's one-line help in a group's list


def msgid(text: str) -> str:
    """The catalog key of a help text: white space collapsed, paragraphs kept."""
    return "\n\n".join(" ".join(p.split()) for p in _PARAGRAPHS.split(text.strip()))


@lru_cache(maxsize=4)
def _by_prefix(size: int) -> dict[str, str]:
    # Short help is the long help cut at ~45 characters and ended with "..."; the cut text
    # is looked up by its start. ``size`` only keys the cache to the catalog it was built from.
    return {key[:40]: value for key, value in catalog().items() if len(key) > 40}


def translate(text: str) -> str:
    """``text`` (a docstring, an option's help, a command's short help) in the current
    language; English or an untranslated text comes back unchanged."""
    if language() != "zh" or not text.strip():
        return text
    key = msgid(text)
    found = catalog().get(key)
    if found is not None:
        return found
    if key.endswith("...") and len(key) > 40:
        whole = _by_prefix(len(catalog())).get(key[:40])
        if whole is not None:
            return _first_sentence(whole)
    extra = _EXTRA.match(key)
    if extra:
        head = translate(extra["text"]) if extra["text"] else ""
        return f"{head}  [{_extras(extra['extra'])}]".strip()
    return text


def _first_sentence(text: str) -> str:
    sentence = text.split("。")[0] + "。" if "。" in text else text
    if cell_width(sentence) <= 2 * _SHORT:
        return sentence
    cut = _wrap(sentence, 2 * _SHORT - 2)[0]
    if cut.count("`") % 2:  # never leave literal input half quoted
        cut = cut[: cut.rindex("`")].rstrip("：: ")
    return cut + "…"


def _extras(extra: str) -> str:
    parts = []
    for part in extra.split("; "):
        label, sep, value = part.partition(": ")
        parts.append(f"{t(label)}：{value}" if sep else t(part))
    return "；".join(parts)


def placeholders(text: str) -> str:
    """``--as NAME`` -> ``--as 名称``: upper-case placeholders that have a translation."""
    if language() != "zh":
        return text
    known = catalog()
    return _PLACEHOLDER.sub(lambda m: known.get(m.group(0), m.group(0)), text)


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` cells: breaks at spaces, or anywhere in Chinese text."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, used = "", 0
        # A bracketed default ([默认：table]) stays whole on its line.
        for token in re.findall(r"\[默认[^\]]*\]| +|[\x21-\x7e]+|.", paragraph):
            size = cell_width(token)
            # Never start a line with closing punctuation (。、）).
            if used + size > width and line.strip() and token not in _CLOSING:
                lines.append(line.rstrip())
                token, size = token.lstrip(), cell_width(token.lstrip())
                line, used = "", 0
            line += token
            used += size
        lines.append(line.rstrip())
    return lines


class TranslatedHelp(click.HelpFormatter):
    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, placeholders(args), prefix or f"{t('Usage:')} ")

    def write_heading(self, heading: str) -> None:
        super().write_heading(t(heading))

    def write_text(self, text: str) -> None:
        text = translate(text)
        if language() != "zh":
            super().write_text(text)
            return
        indent = " " * self.current_indent
        width = max(self.width - self.current_indent, 11)
        for n, paragraph in enumerate(text.split("\n\n")):
            if n:
                self.write("\n")
            for line in _wrap(paragraph, width):
                self.write(f"{indent}{line}\n")

    def write_dl(
        self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2
    ) -> None:
        rows = [(placeholders(term), translate(help)) for term, help in rows]
        if language() != "zh":
            super().write_dl(rows, col_max, col_spacing)
            return
        # click measures with len(); Chinese takes two cells a character.
        first = min(max((cell_width(term) for term, _ in rows), default=0), col_max) + col_spacing
        indent = " " * self.current_indent
        width = max(self.width - first - self.current_indent - 2, 10)
        for term, help in rows:
            self.write(f"{indent}{term}")
            if not help:
                self.write("\n")
                continue
            if cell_width(term) <= first - col_spacing:
                self.write(" " * (first - cell_width(term)))
            else:
                self.write("\n" + " " * (first + self.current_indent))
            lines = _wrap(help, width)
            self.write(lines[0] + "\n")
            for line in lines[1:]:
                self.write(" " * (first + self.current_indent) + line + "\n")


class HelpContext(click.Context):
    formatter_class = TranslatedHelp


def localise(command: click.Command) -> click.Command:
    """Give ``command`` and its sub-commands the translated help."""
    command.context_class = HelpContext
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            localise(sub)
    return command
