"""Bulk writes for imports and sweeps: the driver's executemany in batches, never the ORM's
bulk path (several times slower), and ids reserved up front so that no RETURNING is needed
(SQLite otherwise falls back to one statement per row). Inserts go to the driver with each
column's bind conversion applied once per value: SQLAlchemy's per-row parameter handling
cost more than SQLite's own work."""

from __future__ import annotations

from collections.abc import Callable, Collection
from operator import itemgetter
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
    session: Session,
    model: Any,
    rows: list[dict[str, Any]],
    *,
    returning: bool = False,
    encoded: Collection[str] = (),
) -> list[int]:
    """Insert ``rows`` (all with the same keys); with ``returning``, their new ids in order.
    ``encoded``: columns whose values are already as the column stores them (JSON text)."""
    if not rows:
        return []
    ids: list[int] = []
    if returning:
        ids = reserve_ids(session, model, len(rows))
        rows = [{**row, "id": new_id} for row, new_id in zip(rows, ids, strict=True)]
    conn = session.connection()
    dialect = conn.dialect
    table = model.__table__
    compiled = insert(table).compile(
        dialect=dialect, column_keys=list(rows[0]), for_executemany=True
    )
    order = list(compiled.positiontup or compiled.binds)
    # A column left out takes its default, as Core's insert would (the schema's are constants).
    columns = [
        (
            key,
            table.c[key].default.arg if key not in rows[0] else None,
            None if key in encoded else table.c[key].type._cached_bind_processor(dialect),
        )
        for key in order
    ]
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        # Column by column: each column's conversion applied in one pass.
        values = list(
            zip(
                *(
                    _converted(
                        list(map(itemgetter(key), batch))
                        if key in rows[0]
                        else [default] * len(batch),
                        process,
                    )
                    for key, default, process in columns
                ),
                strict=True,
            )
        )
        conn.exec_driver_sql(
            compiled.string,
            values if compiled.positional else [dict(zip(order, v, strict=True)) for v in values],
        )
    return ids


def _converted(values: list[Any], process: Callable[[Any], Any] | None) -> list[Any]:
    """``values`` through a column's bind conversion; None stays None, and a value repeated
    from the row before (a sweep's one timestamp) is converted once."""
    if process is None:
        return values
    out: list[Any] = []
    last: Any = out  # nothing converted yet
    done: Any = None
    for value in values:
        if value is not last:
            last, done = value, None if value is None else process(value)
        out.append(done)
    return out


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
