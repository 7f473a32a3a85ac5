"""Shared fixtures. The whole suite runs on SQLite, and on PostgreSQL when
``DUBAN_TEST_DATABASE_URL`` is set (each test then gets a schema of its own)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from duban.core.cli.context import Env
from duban.core.db import dispose_all, normalise_url
from duban.core.i18n import set_language
from duban.core.plugins import reset_host
from duban.core.testing import COORDINATOR, Runner

PG_URL = os.environ.get("DUBAN_TEST_DATABASE_URL")


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var in (
        "DUBAN_DATABASE_URL",
        "DUBAN_USER",
        "DUBAN_AS_OF",
        "DUBAN_LOAD_PLUGINS",
        "DUBAN_TRACE_PLUGINS",
        "DUBAN_CONFIG",
    ):
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


@pytest.fixture
def duban(db_url: str) -> Runner:
    """Run ``duban`` against a fresh database whose creator, ``coord``, is a coordinator."""
    reset_host()
    runner = Runner(db_url)
    runner.ok("init", "--empty", "--sandbox")
    return runner


@pytest.fixture
def env(db_url: str) -> Iterator[Env]:
    """A CLI environment on a fresh sandbox database; ``coord`` is its coordinator."""
    Runner(db_url).ok("init", "--empty", "--sandbox")
    environment = Env.create(db_url=db_url, actor=COORDINATOR, as_of=None)
    yield environment
    environment.close()


_template: dict[str, Path] = {}
# When the built-in plan is recorded in the ``hunan`` sandbox: before every date tests read
# it as of (reads see only what was recorded by then).
HUNAN_RECORDED = "2023-01-01"


@pytest.fixture
def hunan(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Runner:
    """A sandbox with the built-in Hunan plan loaded as of ``HUNAN_RECORDED`` (copied from a
    template on SQLite)."""
    reset_host()
    runner = Runner(db_url)
    if db_url.startswith("sqlite"):
        if "db" not in _template:
            path = tmp_path_factory.mktemp("template") / "hunan.db"
            Runner(f"sqlite:///{path}").ok("init", "--sandbox", as_of=HUNAN_RECORDED)
            dispose_all()
            _template["db"] = path
        shutil.copy(_template["db"], db_url.removeprefix("sqlite:///"))
    else:
        runner.ok("init", "--sandbox", as_of=HUNAN_RECORDED)
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

    from sqlalchemy import inspect as sa_inspect

    from duban.core.db import get_engine

    digest = hashlib.sha256()
    engine = get_engine(url)
    with engine.connect() as conn:
        for table in sorted(sa_inspect(conn).get_table_names()):
            digest.update(table.encode())
            for row in conn.execute(text(f'SELECT * FROM "{table}" ORDER BY 1')):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()
