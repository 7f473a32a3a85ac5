"""The ``campaign`` fixture: the seeded campaign of ``pilot.seed`` on a fresh database."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from duban.core.cli.context import Env
from duban.core.db import dispose_all
from duban.core.i18n import set_language
from duban.core.plugins import reset_host

from .pilot import AS_OF, seed

_template: dict[str, Path] = {}


@pytest.fixture
def campaign(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """The seeded campaign; on SQLite copied from a template built once."""
    reset_host()
    if db_url.startswith("sqlite"):
        if "db" not in _template:
            path = tmp_path_factory.mktemp("tui") / "campaign.db"
            seed(f"sqlite:///{path}")
            dispose_all()
            _template["db"] = path
        shutil.copy(_template["db"], db_url.removeprefix("sqlite:///"))
    else:
        seed(db_url)
    env = Env.create(db_url=db_url, actor="coord", as_of=AS_OF)
    yield env
    env.close()
    set_language("en")
