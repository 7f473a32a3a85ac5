"""Which database: a lean module, so that reading the URL imports no SQLAlchemy."""

from __future__ import annotations

import os
from pathlib import Path


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
