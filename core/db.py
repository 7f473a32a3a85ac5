"""One engine per database URL, SQLite tuned on connect, schema kept at Alembic head.

SQLite is the default (a file in the user data directory); ``--db URL`` or
``DUBAN_DATABASE_URL`` selects another, e.g. ``postgresql+psycopg://host/db``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlmodel import Session, create_engine

from . import pinyin
from .clock import Clock
from .dburl import default_url, normalise_url, with_options
from .errors import PermissionDenied, UserError
from .i18n import t

SQLITE_BUSY_MS = 10_000
# A SQLite connection's ``info`` key: its count of changed rows when its writing transaction
# began (None in a reading one).
WRITER_SINCE = "duban_writer_since"
_engines: dict[str, Engine] = {}
_logins: dict[Engine, str] = {}


def _tune_sqlite(dbapi_conn: Any, _record: Any) -> None:
    # Autocommit at the driver level; SQLAlchemy's "begin" event below starts transactions.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()
    pinyin.register(dbapi_conn)


def _begin(conn: Any) -> None:
    # Writers take the lock up front: a deferred transaction that reads and then writes fails
    # with SQLITE_BUSY instead of waiting when another writer got there first. Readers don't,
    # so that with WAL they never wait for a writer.
    read_only = conn.get_execution_options().get("duban_read_only", False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
    # Whether this transaction has written yet (``queries.Lean.shared_file``).
    conn.connection.info[WRITER_SINCE] = (
        None if read_only else conn.connection.driver_connection.total_changes
    )


def get_engine(url: str | None = None) -> Engine:
    url = normalise_url(url or default_url())
    engine = _engines.get(url)
    if engine is None:
        try:
            parsed = make_url(url)
            parsed.get_dialect()
        except (ArgumentError, NoSuchModuleError):
            raise UserError(t("--db: not a database URL: {url}", url=url)) from None
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_MS / 1000})
            event.listen(engine, "connect", _tune_sqlite)
            event.listen(engine, "begin", _begin)
        else:
            options = with_options(parsed.query.get("options"))
            engine = create_engine(url, pool_pre_ping=True, connect_args={"options": options})
        _engines[url] = engine
    return engine


def dispose_all() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()
    _logins.clear()


def login(engine: Engine) -> str | None:
    """The authenticated user of a PostgreSQL engine (``session_user``); None on SQLite,
    where nothing authenticates anyone. Every connection of an engine is the same login."""
    if engine.dialect.name != "postgresql":
        return None
    name = _logins.get(engine)
    if name is None:
        with engine.connect() as conn:
            name = _logins[engine] = conn.execute(text("SELECT session_user")).scalar_one()
    return name


def require_login(engine: Engine, actor: str) -> None:
    """On PostgreSQL one acts only as one's own login (``--as`` may name only oneself)."""
    user = login(engine)
    if user is not None and actor != user:
        raise PermissionDenied(
            t(
                "--as {actor}: you are connected as {login}, and on PostgreSQL you act as "
                "your own login; connect as {actor} to act as {actor}",
                actor=actor,
                login=user,
            )
        )


def require_schema(engine: Engine) -> None:
    """On PostgreSQL a login that holds no duban role sees no schema at all; say so rather
    than take the database for an empty one."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        if conn.execute(text("SELECT current_schema()")).scalar() is None:
            raise PermissionDenied(
                t(
                    "{user} is not a registered user; a coordinator can add it with "
                    "`duban user add {user} --role ...`",
                    user=login(engine),
                )
            )


def schema_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at, or None for an empty database."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> bool:
    """Bring the schema to head; True if anything ran. Cheap when already there."""
    from .migrations import HEAD, run_upgrade

    if schema_revision(engine) == HEAD:
        return False
    run_upgrade(engine)
    if engine.dialect.name == "postgresql":
        from .db_roles import apply

        apply(engine)
    return True


@contextmanager
def open_session(
    engine: Engine, *, actor: str, clock: Clock | None = None, write: bool = True
) -> Iterator[Session]:
    """A session carrying who acts and what time it is; commits on success.

    Services read ``session.info["actor"]`` and ``session.info["clock"]``. On PostgreSQL the
    actor must be the login itself: the database, not the caller, says who acts.
    """
    require_login(engine, actor)
    bind = engine if write else engine.execution_options(duban_read_only=True)
    with Session(bind, expire_on_commit=False) as session:
        session.info["actor"] = actor
        session.info["clock"] = clock or Clock()
        try:
            yield session
            if write:
                session.commit()
            else:
                session.rollback()
        except BaseException:
            session.rollback()
            raise
