"""Bulk writes for imports and sweeps: COPY on PostgreSQL (through a temporary table where
row-level security applies to the login), the driver's executemany in batches elsewhere,
never the ORM's bulk path (several times slower), and ids reserved up front so that no
RETURNING is needed (SQLite otherwise falls back to one statement per row). Inserts go to
the driver with each column's bind conversion applied once per distinct value:
SQLAlchemy's per-row parameter handling cost more than SQLite's own work."""

from __future__ import annotations

import functools
import gc
import os
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from operator import itemgetter
from typing import Any

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlmodel import Session

BATCH = 5000
# SQLite's page cache while loading (KiB): the indexes of a large load stay in memory
# instead of being spilled to the WAL and read back (the default is 2 MB).
LOAD_CACHE_KIB = 128 * 1024


@contextmanager
def without_gc() -> Iterator[None]:
    """A bulk write holds a few hundred thousand small objects at once; the cyclic collector
    rescanning them on every allocation threshold took a sixth of an import's time and
    doubled a sweep's. Cycles made meanwhile are collected once it is back on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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


def new_uids(n: int) -> list[str]:
    """``n`` calendar UIDs, in increasing order: UUIDs of version 7 (RFC 9562), then
    ``@duban``. Their first 48 bits are the time in milliseconds; 73 of the others are
    random, counted up from one UID to the next (the RFC's monotonic random), so that the
    unique index of a batch's UIDs grows at its end instead of at random places (an import
    of 100k obligations: 0.3 s less). The time they show is when they were made, which the
    audit log records anyway."""
    stamp = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    # 12 random bits, then 61 of the 62 after the variant: a batch counts up from there
    # without ever carrying into the variant's bits.
    first = (stamp << 80) | (7 << 76) | ((rand >> 68) << 64) | (2 << 62) | (rand & ((1 << 61) - 1))
    out = []
    for value in range(first, first + n):
        h = f"{value:032x}"
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}@duban")
    return out


def insert_many(
    session: Session,
    model: Any,
    rows: list[dict[str, Any]],
    *,
    returning: bool = False,
    encoded: Collection[str] = (),
    same: Mapping[str, Any] | None = None,
) -> list[int]:
    """Insert ``rows`` (all with the same keys); with ``returning``, their new ids in order.
    ``encoded``: columns whose values are already as the column stores them (JSON text);
    ``same`` as for ``insert_tuples``."""
    if not rows:
        return []
    keys = list(rows[0])
    get = itemgetter(*keys)
    values = [get(row) for row in rows] if len(keys) > 1 else [(get(row),) for row in rows]
    ids: list[int] = []
    if returning:
        ids = reserve_ids(session, model, len(rows))
        keys.append("id")
        values = [(*row, new_id) for row, new_id in zip(values, ids, strict=True)]
    insert_tuples(session, model, keys, values, encoded=encoded, same=same)
    return ids


def insert_tuples(
    session: Session,
    model: Any,
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
    *,
    encoded: Collection[str] = (),
    same: Mapping[str, Any] | None = None,
) -> None:
    """Insert ``rows``, each a tuple of the ``columns``' values in that order; a column of
    the table left out takes its default. ``same``: columns with one value for every row
    (a sweep's instant), converted once and not repeated in each tuple. ``encoded`` as for
    ``insert_many``."""
    if not rows:
        return
    same = same or {}
    conn = session.connection()
    dialect = conn.dialect
    table = model.__table__
    sql, positional, order = _statement(table, (*columns, *same), dialect)
    place = {key: i for i, key in enumerate(columns)}
    plan: list[tuple[int | None, Any, Callable[[Any], Any] | None]] = []
    for key in order:
        process = None if key in encoded else table.c[key].type._cached_bind_processor(dialect)
        if key in place:
            plan.append((place[key], None, process))
        elif key in same:
            value = same[key]
            plan.append((None, value if value is None or process is None else process(value), None))
        else:
            # Left out: its default, as Core's insert would (the schema's are constants).
            plan.append((None, table.c[key].default.arg, process))
    as_given = [i for i, _, process in plan] == list(range(len(columns))) and not any(
        process for _, _, process in plan
    )

    def batches() -> Iterator[list[tuple[Any, ...]]]:
        """The rows as the driver takes them, in ``order``, a batch at a time."""
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            if as_given:
                yield batch
                continue
            # Column by column: each column's conversion applied in one pass.
            given = list(zip(*batch, strict=True))
            yield list(
                zip(
                    *(
                        [default] * len(batch) if i is None else _converted(given[i], process)
                        for i, default, process in plan
                    ),
                    strict=True,
                )
            )

    if dialect.name == "postgresql":
        names = [table.c[key].name for key in order]
        secured, staging = conn.exec_driver_sql(
            "SELECT row_security_active(%(t)s::regclass),"
            " has_database_privilege(current_database(), 'TEMPORARY')",
            {"t": table.name},
        ).one()
        if not secured:
            _copy(conn, table.name, names, batches())
            return
        # COPY FROM is refused where row-level security applies to the login: its rows go
        # through a temporary table, unless the login may not create one.
        if staging:
            _staged(conn, table.name, names, batches())
            return
    for values in batches():
        conn.exec_driver_sql(
            sql, values if positional else [dict(zip(order, v, strict=True)) for v in values]
        )


def _copy(conn: Any, table: str, columns: list[str], batches: Iterator[list[tuple]]) -> None:
    """The rows written by one COPY on PostgreSQL: executemany runs an INSERT per row, and a
    national sweep's million target statuses took the server minutes that way."""
    from psycopg import sql

    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with conn.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for values in batches:
            for row in values:
                copy.write_row(row)


def _staged(conn: Any, table: str, columns: list[str], batches: Iterator[list[tuple]]) -> None:
    """The rows written under row-level security on PostgreSQL: by COPY into a temporary
    table of the same columns and types, then one INSERT ... SELECT, whose every row the
    table's policies and triggers check as for any INSERT (a national sweep by a
    coordinator: 194 s with an INSERT per row, 115 s so; benchmarks/README.md)."""
    from psycopg import sql

    stage = f"duban_staged_{table}"
    with conn.connection.driver_connection.cursor() as cursor:
        types = dict(
            cursor.execute(
                "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
                " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                (table,),
            ).fetchall()
        )
        listed = sql.SQL(", ").join(map(sql.Identifier, columns))
        cursor.execute(
            sql.SQL("CREATE TEMPORARY TABLE {} ({}) ON COMMIT DROP").format(
                sql.Identifier(stage),
                sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(types[c])) for c in columns
                ),
            )
        )
        _copy(conn, stage, columns, batches)
        cursor.execute(
            sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(
                sql.Identifier(table), listed, listed, sql.Identifier(stage)
            )
        )
        # Dropped now, not only at commit: the same table may be written again before it.
        cursor.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(stage)))


def stored_as(session: Session, model: Any, column: str) -> Callable[[Any], Any]:
    """A value of ``model``'s ``column`` as the driver takes it (the column's bind conversion,
    None kept), for rows built already converted and inserted with ``encoded``."""
    process = model.__table__.c[column].type._cached_bind_processor(session.connection().dialect)
    if process is None:
        return lambda value: value
    return lambda value: None if value is None else process(value)


@functools.lru_cache(maxsize=64)
def _statement(table: Any, columns: tuple[str, ...], dialect: Any) -> tuple[str, bool, list[str]]:
    """The INSERT of ``columns`` for the driver's executemany, compiled once per process (an
    import writes the same rows in batches): its text, whether it binds by position, and the
    order of its parameters."""
    compiled = insert(table).compile(
        dialect=dialect, column_keys=list(columns), for_executemany=True
    )
    return compiled.string, compiled.positional, list(compiled.positiontup or compiled.binds)


def _converted(values: Sequence[Any], process: Callable[[Any], Any] | None) -> Sequence[Any]:
    """``values`` through a column's bind conversion; None stays None, and each distinct
    value (a sweep's one timestamp, the few hundred due dates of 100k milestones) is
    converted once."""
    if process is None:
        return values
    try:
        # Keyed by type too: equal values of different types (1 and True) may convert apart.
        keys = list(zip(map(type, values), values, strict=True))
        done = {key: None if key[1] is None else process(key[1]) for key in set(keys)}
    except TypeError:  # unhashable values (JSON objects): one at a time
        return [None if value is None else process(value) for value in values]
    return list(map(done.__getitem__, keys))


@contextmanager
def loading(session: Session, tables: Collection[str], *, keep: Collection[str]) -> Iterator[None]:
    """A large load into ``tables`` on SQLite: their secondary indexes are dropped while rows
    go in and built again at the end, set-wise (several times cheaper than keeping them row by
    row), inside the caller's transaction, so a failed load leaves them as they were; and the
    page cache is larger meanwhile. Indexes whose first column is in ``keep`` stay: those the
    load itself looks rows up by. Elsewhere (PostgreSQL: dropping an index would lock the
    table for everyone) nothing changes."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        yield
        return
    listed = ", ".join("?" * len(tables))
    indexes = [
        (name, sql)
        for name, sql in conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
            f" AND sql IS NOT NULL AND tbl_name IN ({listed}) ORDER BY name",
            tuple(tables),
        )
        if conn.exec_driver_sql(f"PRAGMA index_info({name})").all()[0][2] not in keep
    ]
    cache = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{LOAD_CACHE_KIB}")
    for name, _ in indexes:
        conn.exec_driver_sql(f"DROP INDEX {name}")
    try:
        yield
    finally:
        for _, sql in indexes:
            conn.exec_driver_sql(sql)
        conn.exec_driver_sql(f"PRAGMA cache_size = {cache}")


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
