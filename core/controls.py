"""Control characters: refused in every text a person or a file supplies, neutralised in
everything printed to a terminal.

A stored ``\\x1b]0;…\\x07`` would retitle a coordinator's terminal, ``\\x1b[2J`` clear it,
and a CR/LF in a feed name would break its HTTP headers. Services call ``check_text`` on
each field they store; ``neutralise`` guards output against rows written before, or around,
the check (older databases, direct SQL). Lean on purpose: the CLI's output imports it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, TypeVar

from .errors import UserError
from .i18n import t

# C0 but newline and tab, DEL, and C1.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_OR_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
# What a terminal shows instead: the Unicode control pictures (␛ for ESC), or � for C1.
_PICTURES = {code: chr(0x2400 + code) for code in range(0x20)} | {0x7F: "\u2421"}
_SHOWN = {code: _PICTURES.get(code, "\ufffd") for code in range(0xA0) if _CONTROL.match(chr(code))}


def check_text(value: str | None, what: str, *, single_line: bool = False) -> str | None:
    """``value`` unchanged, or UserError naming ``what`` and the (1-based) position of the
    first control character. Newline and tab are text, except in ``single_line`` fields
    (names, aliases, codes) where they are refused too."""
    if value is None:
        return None
    if not isinstance(value, str):  # a number or a list where a file should hold text
        raise UserError(t("{what}: expected text, not {value!r}", what=what, value=value))
    problem = control_problem(value, single_line=single_line)
    if problem is None:
        return value
    raise UserError(f"{what}: {problem}")


def control_problem(value: str, *, single_line: bool = False) -> str | None:
    """What ``check_text`` refuses in ``value``, said without the field (for importers that
    report a cell by row and column), or None."""
    found = (_CONTROL_OR_LINE if single_line else _CONTROL).search(value)
    if found is None:
        return None
    return t(
        "control character U+{code:04X} at position {position} is not allowed",
        code=ord(found.group()[0]),
        position=found.start() + 1,
    )


def neutralise(text: str) -> str:
    """``text`` safe to print to a terminal: every control character but newline and tab
    becomes a visible stand-in."""
    return text.translate(_SHOWN) if _CONTROL.search(text) else text


def neutralise_all(data: Any) -> Any:
    """``data`` (dicts, lists, tuples of strings and other values) with every string
    neutralised; other values as they are."""
    if isinstance(data, str):
        return neutralise(data)
    if isinstance(data, dict):
        return {neutralise_all(k): neutralise_all(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return type(data)(neutralise_all(v) for v in data)
    return data


F = TypeVar("F", bound=Callable[..., Any])


def shown(function: F) -> F:
    """Decorate a reader whose result goes to a terminal: its strings come back neutralised."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return neutralise_all(function(*args, **kwargs))

    return wrapper  # type: ignore[return-value]


def one_line(text: str) -> str:
    """``text`` with each run of control characters, newlines included, made one space: for
    values that must stay on one line whatever an older row holds (a calendar's name)."""
    return _CONTROL_OR_LINE.sub(" ", text) if _CONTROL_OR_LINE.search(text) else text
