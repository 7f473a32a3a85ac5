"""Shared fixtures. The whole suite runs on SQLite, and on PostgreSQL when
``DUBAN_TEST_DATABASE_URL`` is set (each test then gets a schema of its own)."""

from __future__ import annotations

import io
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest
from duban.core import cli as core_cli
from duban.core.cli.context import Env
from duban.core.db import dispose_all, normalise_url
from duban.core.i18n import set_language
from duban.core.plugins import reset_host
from sqlalchemy import create_engine, text

PG_URL = os.environ.get("DUBAN_TEST_DATABASE_URL")
COORDINATOR = "coord"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var in ("DUBAN_DATABASE_URL", "DUBAN_USER", "DUBAN_AS_OF", "DUBAN_LOAD_PLUGINS",
                "DUBAN_TRACE_PLUGINS", "DUBAN_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DUBAN_LANG", "en")
    set_language("en")
    yield
    set_language("en")


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'duban.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(PG_URL))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    yield normalise_url(f"{PG_URL}{sep}options=-csearch_path%3D{schema}")
    dispose_all()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self):
        import json

        return json.loads(self.stdout)


class Runner:
    """Runs the real ``duban`` command line in-process against one database."""

    def __init__(self, url: str, actor: str = COORDINATOR) -> None:
        self.url = url
        self.actor = actor

    def __call__(self, *args: str, as_of: str | None = None, actor: str | None = None,
                 lang: str | None = None) -> Result:
        argv = ["--db", self.url, "--as", actor or self.actor]
        if as_of:
            argv += ["--as-of", as_of]
        if lang:
            argv += ["--lang", lang]
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = core_cli.main([*argv, *args])
        set_language("en")
        return Result(code, out.getvalue(), err.getvalue())

    def ok(self, *args: str, **kw: str) -> Result:
        result = self(*args, **kw)
        assert result.exit_code == 0, f"duban {' '.join(args)} failed: {result.stderr or result.stdout}"
        return result


@pytest.fixture
def duban(db_url: str) -> Runner:
    """Run ``duban`` against a fresh database whose creator, ``coord``, is a coordinator."""
    reset_host()
    runner = Runner(db_url)
    runner.ok("init", "--empty")
    return runner


@pytest.fixture
def env(db_url: str) -> Iterator[Env]:
    """A CLI environment on a fresh database; ``coord`` is its coordinator."""
    environment = Env.create(db_url=db_url, actor=COORDINATOR, as_of=None)
    environment.ensure_schema()
    yield environment
    environment.close()


_template: dict[str, Path] = {}


@pytest.fixture
def hunan(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Runner:
    """A database with the built-in Hunan plan loaded (copied from a template on SQLite)."""
    reset_host()
    runner = Runner(db_url)
    if db_url.startswith("sqlite"):
        if "db" not in _template:
            path = tmp_path_factory.mktemp("template") / "hunan.db"
            Runner(f"sqlite:///{path}").ok("init")
            dispose_all()
            _template["db"] = path
        shutil.copy(_template["db"], db_url.removeprefix("sqlite:///"))
    else:
        runner.ok("init")
    return runner


@pytest.fixture
def runner_for():
    """Make a Runner for another database URL (e.g. a second, empty database)."""
    return Runner


@pytest.fixture
def fingerprint():
    """``fingerprint(url)``: a hash of every row; equal before and after = nothing written."""
    return db_fingerprint


def db_fingerprint(url: str) -> str:
    """A hash of every row of every table: equal before and after means nothing was written."""
    import hashlib

    from duban.core.db import get_engine
    from sqlalchemy import inspect as sa_inspect

    digest = hashlib.sha256()
    engine = get_engine(url)
    with engine.connect() as conn:
        for table in sorted(sa_inspect(conn).get_table_names()):
            digest.update(table.encode())
            for row in conn.execute(text(f'SELECT * FROM "{table}" ORDER BY 1')):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()
