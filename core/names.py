"""Finding things by the names people type: codes without their brackets or in half-width
forms (``四``, ``(四)`` for （四）), names by a unique suffix (水利厅, 省水利厅 for
湖南省水利厅), and "did you mean" for a name that is not there. Pure functions over names
already read, and the look-ups of owners and regions by what people type as SQL over
``queries.Lean`` (the lean list path and the ORM's services alike); the services
(obligations, owners, regions, listing) and through them the CLI and the TUI all look things
up here."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING

from .errors import NotFound, UserError
from .i18n import t

if TYPE_CHECKING:
    from .queries import Lean

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


def owner_id(db: Lean, ref: str, *, what: str = "--owner", loose: bool = True) -> int:
    """An owner by canonical name, any alias, English name or id (省水利厅 = 湖南省水利厅);
    ``loose``, also by a unique suffix of a name or alias or in half-width forms (水利厅 ->
    湖南省水利厅, ``by_suffix``). Several fit: the candidates, exit 2; none: the
    closest names, exit 4."""
    ref = ref.strip()
    found = db.one("SELECT id FROM owner WHERE name = :ref OR name_en = :ref LIMIT 1", ref=ref)
    if found is None:
        found = db.one("SELECT owner_id FROM owner_alias WHERE alias = :ref LIMIT 1", ref=ref)
    if found is None and ref.isdigit():
        found = db.one("SELECT id FROM owner WHERE id = :id", id=int(ref))
    if found is not None:
        return int(found)
    message = t("{what}: unknown owner {ref!r}", what=what, ref=ref)
    if not loose:
        raise NotFound(message)
    spellings: dict[str, int] = {}  # every name and alias -> the owner
    known: dict[int, str] = {}
    for oid, name, name_en in db.rows("SELECT id, name, name_en FROM owner"):
        known[oid] = name
        spellings[name] = oid
        if name_en:
            spellings.setdefault(name_en, oid)
    for oid, alias in db.rows("SELECT owner_id, alias FROM owner_alias"):
        spellings.setdefault(alias, oid)
    hits = by_suffix(ref, spellings)
    owners = list(dict.fromkeys(spellings[h] for h in hits))
    if len(owners) == 1:
        return owners[0]
    if owners:
        raise ambiguous(what, ref, [known[i] for i in owners])
    raise not_found(message, ref, spellings)


# 长沙 -> 长沙市 rather than 长沙县: the highest level wins.
_LEVEL_RANK = {"province": 0, "city": 1, "county": 2, "zone": 3}


def region_id(db: Lean, ref: str, *, what: str = "--region") -> int:
    """A region by GB/T 2260 code, id, exact name, or a name without its suffix (长沙 =
    长沙市; a tie between the highest levels is ambiguous)."""
    ref = ref.strip()
    if not ref:
        raise UserError(t("{what}: empty region", what=what))
    found = db.one(
        "SELECT id FROM region WHERE code = :ref OR name = :ref OR name_en = :ref LIMIT 1", ref=ref
    )
    if found is None and ref.isdigit() and len(ref) < 6:
        found = db.one("SELECT id FROM region WHERE id = :id", id=int(ref))
    if found is None:
        candidates = db.rows("SELECT id, name, level FROM region WHERE name LIKE :p", p=ref + "%")
        if candidates:
            best = min(_LEVEL_RANK.get(level, 9) for _, _, level in candidates)
            top = [(i, name) for i, name, level in candidates if _LEVEL_RANK.get(level, 9) == best]
            if len(top) > 1:
                raise UserError(
                    t(
                        "{what}: {ref!r} could be {names}; be more precise",
                        what=what,
                        ref=ref,
                        names=", ".join(name for _, name in top[:5]),
                    )
                )
            found = top[0][0]
    if found is None:
        known = [name for (name,) in db.rows("SELECT name FROM region")]
        raise not_found(t("{what}: unknown region {ref!r}", what=what, ref=ref), ref, known)
    return int(found)


def obligation_id(db: Lean, ref: str | int) -> int:
    """An obligation by id, or by code when that code is unique: as written (（四）), in
    half-width forms or without its brackets ((四), 四; ``code_key``)."""
    text = str(ref).strip()
    if text.isdigit():
        found = db.one("SELECT id FROM obligation WHERE id = :id", id=int(text))
        if found is not None:
            return int(found)
    matches = db.rows("SELECT id, code FROM obligation WHERE code = :code LIMIT 2", code=text)
    if not matches and (pattern := code_like(text)) is not None:
        key = code_key(text)
        matches = [
            (i, code)
            for i, code in db.rows("SELECT id, code FROM obligation WHERE code LIKE :p", p=pattern)
            if code_key(code or "") == key
        ]
    if len(matches) == 1:
        return int(matches[0][0])
    if len(matches) > 1:
        raise UserError(
            t(
                "{ref!r} names several obligations ({found}); use the id",
                ref=text,
                found=", ".join(f"#{i} {code}" for i, code in matches[:8]),
            )
        )
    raise NotFound(t("unknown obligation {ref!r}", ref=text))
