"""Stored control characters (an older database, direct SQL) never reach the terminal."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from duban.core.cli.context import Env

from .pilot import SIZE, app_for, settle

HOSTILE = "\x1b]0;pwned\x07\x1b[2J\x9b"


def _clean(screen: str) -> bool:
    return not any(ch in screen for ch in "\x1b\x07\x9b")


@pytest.mark.slow
@pytest.mark.asyncio
async def test_stored_escapes_are_neutralised_on_every_screen(campaign: Env) -> None:
    with campaign.engine.begin() as conn:
        conn.execute(
            text("UPDATE obligation SET title = title || :h, title_en = title_en || :h, body = :h"),
            {"h": HOSTILE},
        )
        conn.execute(text("UPDATE owner SET name = name || :h"), {"h": HOSTILE})
    app = app_for(campaign)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert _clean(app.export_screenshot()), "dashboard"
        for key in ("o", "w", "e", "a"):
            await pilot.press(key)
            await settle(pilot)
            assert _clean(app.export_screenshot()), key
        await pilot.press("o")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "DetailScreen"
        shot = app.export_screenshot()
        assert _clean(shot) and "␛]0;pwned␇" in shot.replace("&#160;", " ")
        await pilot.press("ctrl+q")
