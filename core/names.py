"""Finding things by the names people type: codes without their brackets or in half-width
forms (``四``, ``(四)`` for （四）), names by a unique suffix (水利厅, 省水利厅 for
湖南省水利厅), and "did you mean" for a name that is not there. Pure functions over names
already read; the services (obligations, owners, regions, listing) and through them the CLI
and the TUI all look things up here."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable

from .errors import NotFound, UserError
from .i18n import t

# What a code may be written with or without: brackets, enumeration commas, stops, spaces.
_CODE_NOISE = re.compile(r"[()\[\]{}【】〔〕〈〉《》「」、.,;:\s]")


def fold(text: str) -> str:
    """The form two spellings are compared in: NFKC (full-width to half-width), no case,
    no surrounding space."""
    return unicodedata.normalize("NFKC", text).casefold().strip()


def code_key(code: str) -> str:
    """A code as compared: folded, without brackets or punctuation (（四）-1 -> 四-1)."""
    return _CODE_NOISE.sub("", fold(code))


def code_like(ref: str) -> str | None:
    """A LIKE pattern every code with ``ref``'s key matches (and some others: the caller
    compares keys); None when ``ref`` has no key. An ASCII character may be stored in its
    full-width form: it matches any one character."""
    key = code_key(ref)
    if not key:
        return None
    return "%" + "%".join(ch if not ch.isascii() else "_" for ch in key) + "%"


def by_suffix(ref: str, names: Iterable[str]) -> list[str]:
    """The names ending in ``ref`` (folded), or else containing it: 水利厅 -> 湖南省水利厅."""
    folded = fold(ref)
    if not folded:
        return []
    names = list(dict.fromkeys(names))
    found = [n for n in names if fold(n).endswith(folded)]
    return found or [n for n in names if folded in fold(n)]


def suggestions(ref: str, names: Iterable[str], n: int = 3) -> list[str]:
    """The known names closest to ``ref``, best first."""
    by_fold: dict[str, str] = {}
    for name in names:
        by_fold.setdefault(fold(name), name)
    close = difflib.get_close_matches(fold(ref), list(by_fold), n=n, cutoff=0.5)
    return [by_fold[c] for c in close]


def not_found(message: str, ref: str, names: Iterable[str]) -> NotFound:
    """``message`` with "did you mean ..." when a known name is close (exit 4)."""
    close = suggestions(ref, names)
    if close:
        message = t("{message}; did you mean {names}?", message=message, names=", ".join(close))
    return NotFound(message)


def ambiguous(what: str, ref: str, names: list[str]) -> UserError:
    """``ref`` names several: say which (at most eight)."""
    shown = ", ".join(names[:8]) + (" …" if len(names) > 8 else "")
    return UserError(
        t("{what}: {ref!r} could be {names}; be more precise", what=what, ref=ref, names=shown)
    )


def check_choice(value: str, known: Iterable[str], message: str) -> None:
    """Refuse a value that is not one of the ``known``: ``message`` (which names them),
    with the closest, exit 4."""
    known = list(known)
    if value not in known:
        raise not_found(message, value, known)


def check_domain(value: str, known: list[str]) -> None:
    """``--domain``: one of the domains obligations are in (``queries.domains_sql``)."""
    check_choice(
        value,
        known,
        t(
            "--domain: unknown domain {value!r}; one of {choices}",
            value=value,
            choices=", ".join(known),
        ),
    )


def check_state(value: str, known: Iterable[str]) -> None:
    known = list(known)
    check_choice(
        value,
        known,
        t(
            "--state: unknown state {value!r}; one of {choices}",
            value=value,
            choices=", ".join(known),
        ),
    )
