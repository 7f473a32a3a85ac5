"""Shared fixtures. The whole suite runs on SQLite, and on PostgreSQL when
``DUBAN_TEST_DATABASE_URL`` is set (each test then gets a schema of its own).

On PostgreSQL one acts only as one's own login, so every actor a test names connects as a
login role of that name, created on first use (``Runner.ensure_login``); the coordinator
``coord`` owns each test's schema and may create roles, as whoever runs ``duban init``
would. The cluster is the suite's own: when the run ends, the logins and the duban group
roles are dropped."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from duban.core.cli.context import Env
from duban.core.db import dispose_all, normalise_url
from duban.core.i18n import set_language
from duban.core.plugins import reset_host
from duban.core.testing import COORDINATOR, Runner, login_url

PG_URL = os.environ.get("DUBAN_TEST_DATABASE_URL")
TEST_LOGIN = "duban test login"


def ensure_login(name: str) -> None:
    """Create the login ``name`` unless it exists (several pytest workers may race here).
    No password: the test server trusts loopback connections (.ci/run sees to it)."""
    options = " CREATEROLE" if name == COORDINATOR else ""
    with _admin().begin() as conn:
        quoted = conn.execute(text("SELECT quote_ident(:n)"), {"n": name}).scalar_one()
        conn.execute(
            text(
                "DO $$ BEGIN "
                f"IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {_literal(name)}) THEN "
                f"CREATE ROLE {quoted} LOGIN{options}; "
                f"COMMENT ON ROLE {quoted} IS '{TEST_LOGIN}'; END IF; "
                "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
            )
        )


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


_admins: list = []


def _admin():
    """The administrator's engine (the URL of DUBAN_TEST_DATABASE_URL), one per process."""
    if not _admins:
        _admins.append(create_engine(normalise_url(PG_URL or "")))
    return _admins[0]


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Drop the test logins and the group roles once, when every worker is done."""
    if not PG_URL or hasattr(session.config, "workerinput"):
        return
    from sqlalchemy.exc import DBAPIError

    with _admin().connect() as conn:
        roles = conn.execute(
            text(
                "SELECT r.rolname FROM pg_roles r "
                "LEFT JOIN pg_shdescription d ON d.objoid = r.oid "
                "AND d.classoid = 'pg_authid'::regclass "
                "WHERE d.description = :mark OR r.rolname LIKE 'duban\\_%' "
                "OR r.oid IN (SELECT m.member FROM pg_auth_members m JOIN pg_roles g "
                "ON g.oid = m.roleid WHERE g.rolname LIKE 'duban\\_%') "
                "ORDER BY r.rolname LIKE 'duban\\_%'"
            ),
            {"mark": TEST_LOGIN},
        ).all()
        conn.commit()
        for (role,) in roles:
            quoted = conn.execute(text("SELECT quote_ident(:n)"), {"n": role}).scalar_one()
            # Every test dropped its schema, and with it all the roles owned or were granted
            # here; a role that still has either (another run's, perhaps) stays.
            try:
                conn.execute(text(f"DROP ROLE {quoted}"))
                conn.commit()
            except DBAPIError:
                conn.rollback()
    _admin().dispose()


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
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
    # Where plugin failures are remembered between processes (core/plugins.py).
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / ".state"))
    set_language("en")
    yield
    set_language("en")


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database."""
    with fresh_database(tmp_path) as url:
        yield url


@contextmanager
def fresh_database(folder: Path) -> Iterator[str]:
    """An empty database: a SQLite file in ``folder``, or a schema of its own on PostgreSQL."""
    if not PG_URL:
        yield f"sqlite:///{folder / 'duban.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    Runner.ensure_login = ensure_login
    ensure_login(COORDINATOR)
    with _admin().begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}" AUTHORIZATION "{COORDINATOR}"'))
        # Once per database, by its administrator, as a deployment would (search's
        # trigram indexes); left to the migration it would land in, and go with, a
        # test's schema.
        conn.execute(
            text(
                "DO $$ BEGIN CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public; "
                "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
            )
        )
    sep = "&" if "?" in PG_URL else "?"
    yield login_url(normalise_url(f"{PG_URL}{sep}options=-csearch_path%3D{schema}"), COORDINATOR)
    dispose_all()
    with _admin().begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


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


@pytest.fixture(scope="module")
def hunan_shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    """One database with the built-in plan for a whole module: for tests whose failures
    write nothing and that check so (the fuzz suite)."""
    reset_host()
    with fresh_database(tmp_path_factory.mktemp("shared")) as url:
        runner = Runner(url)
        runner.ok("init")
        yield runner


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


@pytest.fixture
def without_report_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A duban.toml that turns the missing-report rule off, for tests about the other rules
    (every obligation owes monthly progress reports by default)."""
    config = tmp_path / "no-report-rule.toml"
    config.write_text('[rules."core.report_missing"]\nenabled = false\n', encoding="utf-8")
    monkeypatch.setenv("DUBAN_CONFIG", str(config))
