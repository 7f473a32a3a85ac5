"""Pytest fixtures shipped with duban, for duban's own tests and for plugin authors.

Installed as a pytest plugin (entry point ``pytest11``), so a plugin package's tests can
use ``duban_env`` without any conftest.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def duban_env(tmp_path, monkeypatch):
    """A fresh SQLite database with every installed plugin loaded; yields a CLI ``Env``."""
    from duban.core.cli.context import Env
    from duban.core.plugins import reset_host

    url = f"sqlite:///{tmp_path / 'duban.db'}"
    monkeypatch.setenv("DUBAN_DATABASE_URL", url)
    monkeypatch.setenv("DUBAN_USER", "tester")
    reset_host()
    env = Env.create(db_url=url, actor="tester", as_of=None)
    env.ensure_schema()
    yield env
    env.close()
    reset_host()
