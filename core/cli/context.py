"""What every command shares: the database, who acts, and what time it is."""

from __future__ import annotations

import getpass
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from ..clock import Clock, FixedClock, parse_instant, to_local_date
from ..errors import UserError
from ..i18n import t

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from ..queries import Lean

_schema_lock = threading.Lock()


@dataclass
class Env:
    db_url: str | None
    actor_arg: str | None
    clock: Clock
    as_of_given: bool = False
    # Set by ``duban init --sandbox`` while it creates the database: the clock may be set.
    creating_sandbox: bool = False
    _engine: Engine | None = field(default=None, repr=False)
    _actor: str | None = field(default=None, repr=False)
    _schema_checked: bool = field(default=False, repr=False)
    _sandbox: bool | None = field(default=None, repr=False)

    @classmethod
    def create(
        cls, *, db_url: str | None, actor: str | None, as_of: str | None, clock: Clock | None = None
    ) -> Env:
        if as_of:
            clock = FixedClock(parse_instant(as_of))
        return cls(db_url=db_url, actor_arg=actor, clock=clock or Clock(), as_of_given=bool(as_of))

    @property
    def today(self) -> date:
        return to_local_date(self.clock.now())

    @property
    def url(self) -> str:
        from ..dburl import default_url, normalise_url

        return normalise_url(self.db_url or default_url())

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden, for messages."""
        from sqlalchemy.engine import make_url

        return make_url(self.url).render_as_string(hide_password=True)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from ..db import get_engine

            self._engine = get_engine(self.url)
        return self._engine

    @property
    def claimed(self) -> str | None:
        """Who ``--as`` or ``DUBAN_USER`` says acts, if either does."""
        return self.actor_arg or os.environ.get("DUBAN_USER")

    @property
    def actor(self) -> str:
        """``--as``, else ``DUBAN_USER``, else the OS user; on PostgreSQL always the login,
        and a claim naming anyone else is refused (PermissionDenied)."""
        if self._actor is None:
            name = self.claimed
            if self.url.startswith("postgresql"):
                from ..db import login, require_login

                if name:
                    require_login(self.engine, name)
                name = login(self.engine)
            self._actor = name or getpass.getuser()
        return self._actor

    def ensure_schema(self) -> bool:
        """Create or upgrade the schema; True when the database was empty before.
        Checked once per Env, one thread at a time: the TUI's workers open their first
        sessions together, and two of them must not both migrate (or both create) it."""
        with _schema_lock:
            if self._schema_checked:
                return False
            fresh = self._create_or_upgrade()
            self._schema_checked = True
            return fresh

    def _create_or_upgrade(self) -> bool:
        from sqlalchemy.exc import OperationalError

        from ..db import require_schema, schema_revision, upgrade

        try:
            self.actor  # noqa: B018  (on PostgreSQL, refuses a claim before anything is written)
            require_schema(self.engine)
            fresh = schema_revision(self.engine) is None
        except OperationalError as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            raise UserError(
                t("cannot open the database {url}: {why}", url=self.safe_url, why=reason)
            ) from None
        upgrade(self.engine)
        if fresh:
            from ..db import open_session
            from ..services.users import bootstrap_first_user

            # Whoever creates the database becomes its first coordinator.
            with open_session(self.engine, actor=self.actor, clock=self.clock) as s:
                bootstrap_first_user(session=s)
        return fresh

    @property
    def sandbox(self) -> bool:
        """Whether the database was created with ``duban init --sandbox`` (false for a
        database that does not exist yet)."""
        if self._sandbox is None:
            from ..services.base import SANDBOX

            try:
                with self.engine.connect() as conn:
                    row = conn.exec_driver_sql(
                        f"SELECT value FROM setting WHERE key = '{SANDBOX}'"
                    ).first()
            except Exception:  # no schema yet
                row = None
            self._sandbox = row is not None
        return self._sandbox

    def check_writable(self) -> None:
        """Refuse to write with a set clock: system time comes from the real clock, and only
        a sandbox lets it be set. Called before anything is written."""
        if self.as_of_given and not self.creating_sandbox and not self.sandbox:
            raise UserError(
                t(
                    "--as-of only reads: this command writes, and writes are recorded at the "
                    "real time (a sandbox made by `duban init --sandbox` may set its clock)"
                )
            )

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        from ..db import open_session

        if write:
            self.check_writable()
        self.ensure_schema()
        with open_session(self.engine, actor=self.actor, clock=self.clock, write=write) as s:
            yield s

    @contextmanager
    def reading(self) -> Iterator[Lean]:
        """A read-only connection for SQL run through ``queries.Lean``: the bare driver when
        the database is at schema head and ``--as`` holds (``queries.lean_connect``), else
        a read-only ORM session's, which creates or upgrades the schema or refuses the claim
        as every command does."""
        from ..migrations import HEAD
        from ..queries import Lean, lean_connect

        lean = lean_connect(self.url, HEAD, self.claimed)
        if lean is not None:
            with lean:
                yield lean
            return
        with self.session(write=False) as session:
            yield Lean.of_session(session)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def _pass_env() -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    import click

    return click.make_pass_decorator(Env)


pass_env = _pass_env()
