"""Filtering, sorting and paging obligations (``core/listing.py``) on a session's connection."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlmodel import Session

from .. import listing
from ..filters import ObligationFilter
from ..queries import Lean


def count(*, session: Session, f: ObligationFilter, as_of: date) -> int:
    return listing.count(Lean.of_session(session), f, as_of)


def page(
    *, session: Session, f: ObligationFilter, as_of: date, offset: int = 0, limit: int | None = 100
) -> list[dict[str, Any]]:
    """One window of obligations in the ``duban list`` shape, in ``f``'s order."""
    return listing.page(Lean.of_session(session), f, as_of, offset=offset, limit=limit)


def iterate(
    *, session: Session, f: ObligationFilter, as_of: date, batch: int = 2000
) -> Iterator[dict[str, Any]]:
    """Every matching obligation, fetched a batch at a time."""
    return listing.iterate(Lean.of_session(session), f, as_of, batch=batch)
