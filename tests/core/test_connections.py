"""Every duban connection to PostgreSQL, the ORM's and the lean path's, runs without JIT
compilation and plans each statement for its own values (``dburl.SESSION``), keeping the
options its URL gives (the tests' own search_path)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from duban.core.db import get_engine
from duban.core.migrations import HEAD
from duban.core.queries import lean_connect

SHOW = "SELECT current_setting('jit'), current_setting('plan_cache_mode'), current_schema()"


def test_postgresql_sessions_plan_each_statement_without_jit(duban, db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's session settings")
    schema = db_url.rsplit("search_path%3D", 1)[1]
    expected = ("off", "force_custom_plan", schema)
    with get_engine(db_url).connect() as conn:
        assert tuple(conn.execute(text(SHOW)).one()) == expected
    lean = lean_connect(db_url, HEAD)
    assert lean is not None
    with lean:
        assert lean.rows(SHOW)[0] == expected
