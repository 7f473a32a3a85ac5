"""Which database: a lean module, so that reading the URL imports no SQLAlchemy."""

from __future__ import annotations

import os
from pathlib import Path

# Options of every duban connection to PostgreSQL, the ORM's and the lean path's alike (added to
# those the URL gives, such as a search_path). Its statements are short and their best plan
# depends on the values bound: no JIT compilation, which the server starts for any plan whose
# estimate is high and which took longer than running it (2.0 s of a 2.05 s full-text
# count, 0.3 s of a 0.2 s overdue count); and a plan for each execution's values, never the
# generic plan the server otherwise settles on once psycopg prepares a statement run five
# times (a full-text search repeated in one session went from 0.2 s to 1.5 s, and to 9 s).
SESSION = "-c jit=off -c plan_cache_mode=force_custom_plan"


def with_options(options: object) -> str:
    """A PostgreSQL connection's ``options``: the URL's own, then ``SESSION``."""
    return f"{options or ''} {SESSION}".strip()


def default_url() -> str:
    """``DUBAN_DATABASE_URL`` or a SQLite file in the platform's user data directory."""
    env = os.environ.get("DUBAN_DATABASE_URL")
    if env:
        return env
    from platformdirs import user_data_path

    return f"sqlite:///{user_data_path('duban', appauthor=False) / 'duban.db'}"


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and plain file paths as well as full SQLAlchemy URLs."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url
