"""Fixtures the engine tests share."""

from __future__ import annotations

from typing import Any

import pytest

from duban.core import judging
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


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each helper started answered (False: its part was judged here instead)."""
    seen: list[bool] = []
    answer = judging.Helper._answer

    def spied(self: judging.Helper) -> Any:
        found = answer(self)
        seen.append(found is not None)
        return found

    monkeypatch.setattr(judging.Helper, "_answer", spied)
    return seen
