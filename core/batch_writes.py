"""Bulk writes for imports and sweeps: Core executemany in batches, never the ORM's bulk path
(several times slower), and ids reserved up front so that no RETURNING is needed (SQLite
otherwise falls back to one statement per row)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlmodel import Session

BATCH = 5000


def reserve_ids(session: Session, model: Any, n: int) -> list[int]:
    """``n`` fresh primary keys for ``model``'s table."""
    conn = session.connection()
    table = model.__table__
    if conn.dialect.name == "postgresql":
        return list(
            conn.execute(
                text(
                    "SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"
                ),
                {"t": table.name, "n": n},
            ).scalars()
        )
    # SQLite: the transaction holds the write lock (BEGIN IMMEDIATE), so MAX(id) is stable.
    start = conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    return list(range(start + 1, start + n + 1))


def insert_many(
    session: Session, model: Any, rows: list[dict[str, Any]], *, returning: bool = False
) -> list[int]:
    """Insert ``rows`` (all with the same keys); with ``returning``, their new ids in order."""
    if not rows:
        return []
    ids: list[int] = []
    if returning:
        ids = reserve_ids(session, model, len(rows))
        rows = [{**row, "id": new_id} for row, new_id in zip(rows, ids, strict=True)]
    conn = session.connection()
    for start in range(0, len(rows), BATCH):
        conn.execute(insert(model.__table__), rows[start : start + BATCH])
    return ids


def update_many(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Executemany updates by id; every row carries the same keys."""
    if not rows:
        return
    table = model.__table__
    keys = [k for k in rows[0] if k != "id"]
    stmt = (
        update(table)
        .where(table.c.id == bindparam("_id"))
        .values({k: bindparam(f"_{k}") for k in keys})
    )
    conn = session.connection()
    for start in range(0, len(rows), BATCH):
        conn.execute(
            stmt, [{f"_{k}": v for k, v in row.items()} for row in rows[start : start + BATCH]]
        )
