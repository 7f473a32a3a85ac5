"""Importing a plan document from the TUI: the preview comes first, nothing is written
until it is confirmed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from duban.core.cli.context import Env
from duban.core.models import Obligation, Plan
from duban.tui.screens.preview import preview_lines

from .pilot import SIZE, app_for, settle

CITY = Path(__file__).resolve().parents[1] / "plan" / "data" / "changsha-water-2024.txt"


def _plans(env: Env) -> list[str]:
    with env.session(write=False) as session:
        return list(session.exec(select(Plan.title)).all())


def test_preview_lines_show_parts_and_what_was_not_read() -> None:
    from duban.core.planparse import parse_file

    lines = preview_lines(parse_file(CITY).summary())
    text = "\n".join(lines)
    assert lines[0].startswith("长沙市水环境质量提升三年行动方案（2024—2026年）  2024-02-20")
    assert "    3.（1） 2024年底前，完成城区雨污分流改造120公里" in lines  # a part, indented
    assert "        2024-12-31 完成城区雨污分流改造120公里" in lines
    assert "2024-03-31 (quarterly) 水源水质全指标监测" in text
    assert "◎ 城市生活污水集中收集率 ≥75% (2025-12-31)" in text


@pytest.mark.slow
@pytest.mark.asyncio
async def test_import_a_plan_after_its_preview(campaign: Env, tmp_path: Path) -> None:
    before = _plans(campaign)
    app = app_for(campaign)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app._run_import(("plan", CITY))
        await settle(pilot)
        assert type(app.screen).__name__ == "PlanPreview"
        shown = str(app.screen.query_one("#preview-text").render())
        assert "市住房城乡建设局" in shown and "3.（2）" in shown
        await pilot.press("escape")  # cancelled: nothing written
        await settle(pilot)
        assert _plans(campaign) == before
        app._run_import(("plan", CITY))
        await settle(pilot)
        await pilot.click("#preview-import")
        await settle(pilot)
        assert type(app.screen).__name__ == "ProgressScreen"
        assert "Imported 长沙市水环境质量提升三年行动方案" in str(
            app.screen.query_one("#progress-result").render()
        )
    assert _plans(campaign) == [*before, "长沙市水环境质量提升三年行动方案（2024—2026年）"]
    with campaign.session(write=False) as session:
        part = session.exec(select(Obligation).where(Obligation.code == "3.（1）")).one()
        assert session.get(Obligation, part.parent_id).code == "3."


@pytest.mark.asyncio
async def test_a_bad_plan_file_is_reported_not_previewed(campaign: Env, tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("", encoding="utf-8")
    app = app_for(campaign)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app._run_import(("plan", path))
        await settle(pilot)
        assert type(app.screen).__name__ == "DashboardScreen"


def test_preview_gives_both_routes_of_a_target() -> None:
    from duban.core.planparse import parse_plan

    text = (
        "某市水环境治理实施方案\n2024年3月1日\n一、重点任务\n（一）治理污水。到2025年年底，"
        "城市生活污水集中收集率达到70%以上或比2020年提高5个百分点以上。（市住房和城乡建设局负责）\n"
    )
    lines = preview_lines(parse_plan(text, source="t.txt").summary())
    assert (
        "    ◎ 城市生活污水集中收集率 ≥70% or 5 percentage points above 2020 (2025-12-31)" in lines
    )
