"""Progress reports in the TUI: a member sees 待报送 first and reports from the detail screen;
coordinators see who has reported and urge an owner; lights in the table and the dashboard."""

from __future__ import annotations

import pytest
from sqlmodel import select

from duban.core.cli.context import Env
from duban.core.models import Notification, Report
from duban.core.testing import Runner

from .pilot import AS_OF, SIZE, app_for, fill, rows, settle

OWNER = "湖南省生态环境厅"


@pytest.mark.slow
@pytest.mark.asyncio
async def test_a_member_sees_what_to_report_first_and_reports(campaign: Env) -> None:
    Runner(campaign.db_url).ok("user", "add", "ma", "--role", "member", "--owner", OWNER)
    app = app_for(campaign, actor="ma")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.current_mode == "reports"
        screen = app.screen
        pending = screen.found["rows"]
        assert screen.found["mode"] == "pending" and pending
        assert {r["period"] for r in pending} == {"2024-05"}
        first = pending[0]
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "DetailScreen"
        await pilot.press("b")
        await settle(pilot)
        assert app.screen.query_one("#field-period").value == "2024-05"
        await fill(pilot, progress="完成排查\n正在整治", percent="130")
        assert "0 to 100" in str(app.screen.query_one("#form-error").render())
        await fill(pilot, progress="完成排查\n正在整治", problems="资金缺口", percent="35")
        assert type(app.screen).__name__ == "DetailScreen"
        # The detail screen reloads with the report in its history.
        assert [r["percent"] for r in app.screen.data["reports"]] == [35]
    with campaign.session(write=False) as session:
        made = session.exec(select(Report)).one()
        assert (made.obligation_id, made.period, made.percent) == (
            first["obligation"],
            "2024-05",
            35,
        )
        assert made.progress == "完成排查\n正在整治" and made.submitted_by == "ma"


@pytest.mark.asyncio
async def test_coordinators_see_who_reported_and_urge(campaign: Env) -> None:
    app = app_for(campaign)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        assert app.current_mode == "reports"
        owners = app.screen.found["rows"]
        assert owners and owners[0]["missing"] >= owners[-1]["missing"]
        assert all(o["due"] == o["received"] + o["missing"] for o in owners)
        await pilot.press("u")
        await settle(pilot)
        await pilot.press("u")  # once a day: the second is refused, and says so
        await settle(pilot)
    with campaign.session(write=False) as session:
        sent = session.exec(select(Notification).where(Notification.occasion == "urge")).all()
        assert [n.channel for n in sent] == ["inbox"]
        assert owners[0]["owner"] and str(owners[0]["missing"]) in sent[0].subject


@pytest.mark.slow
@pytest.mark.asyncio
async def test_lights_in_the_table_and_on_the_dashboard(campaign: Env) -> None:
    from duban.tui.widgets.door import Door

    app = app_for(campaign)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        doors = {str(d.filter_line): d for d in app.screen.query(Door) if d.filter_line}
        assert {"light:red", "light:yellow", "light:green"} <= set(doors)
        red = int(str(doors["light:red"].render()).split()[-1])
        await pilot.click(doors["light:red"])
        await settle(pilot)
        assert app.current_mode == "obligations"
        shown = rows(app)
        assert shown and {r["light"] for r in shown} == {"red"}
        assert len(shown) <= red
    cli = Runner(campaign.db_url)
    assert int(cli.ok("list", "--light", "red", "--count", as_of=AS_OF).stdout) == red
