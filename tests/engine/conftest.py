"""Fixtures the engine tests share."""

from __future__ import annotations

import pytest

from duban.core.cli.context import Env
from duban.core.testing import Runner


@pytest.fixture
def world(duban: Runner) -> Runner:
    """``duban`` on a database holding Hunan's regions (no plan)."""
    from duban.core.services.plans import load_regions

    env = Env.create(db_url=duban.url, actor="coord", as_of=None)
    with env.session() as session:
        load_regions(session=session)
    env.close()
    return duban
