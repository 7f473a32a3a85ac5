"""Pytest fixtures shipped with duban, for duban's own tests and for plugin authors.

Installed as a pytest plugin (entry point ``pytest11``), so a plugin package's tests can use
them without a conftest:

- ``duban_cli``: runs the real ``duban`` command line in-process against a fresh SQLite
  sandbox database (``duban init --sandbox``: ``--as-of`` may set its clock) whose
  coordinator is ``coord``; ``duban_cli("list", "--format", "json").json()``.
- ``duban_env``: the same database as a CLI ``Env`` (``env.session()`` for services).

Every installed plugin, yours included, is loaded as in production.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest

COORDINATOR = "coord"


def login_url(url: str, actor: str) -> str:
    """The URL that acts as ``actor``: on PostgreSQL one acts only as one's own login, so
    the user name in the URL becomes the actor; SQLite URLs are returned unchanged."""
    if not url.startswith("postgresql"):
        return url
    from sqlalchemy.engine import make_url

    return make_url(url).set(username=actor).render_as_string(hide_password=False)


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


class Runner:
    """Runs the real ``duban`` command line in-process against one database, on PostgreSQL
    connecting as each actor's own login (``url`` is the default actor's)."""

    # Set by a suite on PostgreSQL: makes sure a login exists before it connects.
    ensure_login: ClassVar[Any] = None

    def __init__(self, url: str, actor: str = COORDINATOR) -> None:
        self.url = login_url(url, actor)
        self.actor = actor

    def url_for(self, actor: str) -> str:
        if Runner.ensure_login is not None and self.url.startswith("postgresql"):
            Runner.ensure_login(actor)
        return login_url(self.url, actor)

    def __call__(
        self,
        *args: str,
        as_of: str | None = None,
        actor: str | None = None,
        lang: str | None = None,
    ) -> Result:
        from duban.core import cli
        from duban.core.i18n import set_language

        actor = actor or self.actor
        argv = ["--db", self.url_for(actor), "--as", actor]
        if as_of:
            argv += ["--as-of", as_of]
        if lang:
            argv += ["--lang", lang]
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = cli.main([*argv, *args])
        set_language("en")
        return Result(code, out.getvalue(), err.getvalue())

    def ok(self, *args: str, **kw: str) -> Result:
        """Run and insist on success (the assertion shows stderr)."""
        result = self(*args, **kw)
        assert result.exit_code == 0, (
            f"duban {' '.join(args)} failed: {result.stderr or result.stdout}"
        )
        return result


@pytest.fixture
def duban_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runner]:
    """A fresh SQLite sandbox (schema only) and a runner for the ``duban`` command line."""
    from duban.core.db import dispose_all
    from duban.core.i18n import set_language
    from duban.core.plugins import reset_host

    monkeypatch.setenv("DUBAN_LANG", "en")
    set_language("en")
    reset_host()
    runner = Runner(f"sqlite:///{tmp_path / 'duban.db'}")
    runner.ok("init", "--empty", "--sandbox")
    yield runner
    dispose_all()
    reset_host()


@pytest.fixture
def duban_env(duban_cli: Runner) -> Iterator[Any]:
    """The ``duban_cli`` database as a CLI ``Env`` acting as the coordinator."""
    from duban.core.cli.context import Env

    env = Env.create(db_url=duban_cli.url, actor=COORDINATOR, as_of=None)
    yield env
    env.close()
