"""Alembic migrations for every schema change, run programmatically (no alembic.ini)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

# The newest revision; ``db.upgrade`` compares against it without importing alembic.
HEAD = "0021"

HERE = Path(__file__).parent


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """What autogenerate compares: not search's indexes, revisions 0010's and 0016's rather
    than the models' (SQLite: the FTS5 tables ``obligation_fts``, ``obligation_fts_chars``,
    their shadow tables ``obligation_fts_data``...; PostgreSQL: the indexes
    ``ix_obligation_search``, ``ix_obligation_grams_search``...)."""
    if name is None:
        return True
    if type_ == "table":
        return "_fts" not in name
    return not (type_ == "index" and name.startswith("ix_") and name.endswith("_search"))


def config(engine: Engine):  # -> alembic.config.Config
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["engine"] = engine
    return cfg


def run_upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(config(engine), revision)
