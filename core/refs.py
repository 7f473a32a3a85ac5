"""An obligation named the way people type it (an id, or a code when unique), found with
plain SQL through ``queries.Lean``: the read commands resolve it on the bare driver, the
services (``services.obligations.get_obligation``) on their session's connection."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import names
from .errors import NotFound, UserError
from .i18n import t

if TYPE_CHECKING:
    from .queries import Lean


def obligation_id(db: Lean, ref: str | int) -> int:
    """The id of the obligation ``ref`` names: by id, or by code when that code is unique:
    as written (（四）), in half-width forms or without its brackets ((四), 四;
    ``names.code_key``)."""
    text = str(ref).strip()
    if text.isdigit() and db.one("SELECT id FROM obligation WHERE id = :id", id=int(text)):
        return int(text)
    matches = db.rows("SELECT id, code FROM obligation WHERE code = :code LIMIT 2", code=text)
    if not matches and (pattern := names.code_like(text)) is not None:
        key = names.code_key(text)
        matches = [
            (oid, code)
            for oid, code in db.rows(
                "SELECT id, code FROM obligation WHERE code LIKE :pattern", pattern=pattern
            )
            if names.code_key(code or "") == key
        ]
    if len(matches) == 1:
        return int(matches[0][0])
    if len(matches) > 1:
        raise UserError(
            t(
                "{ref!r} names several obligations ({found}); use the id",
                ref=text,
                found=", ".join(f"#{oid} {code}" for oid, code in matches[:8]),
            )
        )
    raise NotFound(t("unknown obligation {ref!r}", ref=text))
