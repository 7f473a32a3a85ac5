"""The TUI driven by Textual's pilot: navigation, every filter, every action, and snapshots
of each screen in both languages (pytest-textual-snapshot; update with --snapshot-update).
The campaign is ``pilot.seed``'s."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from duban.core.cli.context import Env
from duban.core.models import (
    Escalation,
    Evidence,
    Measurement,
    Obligation,
    Submission,
)
from duban.core.plugins import reset_host
from duban.core.testing import Runner

from .pilot import AS_OF, SIZE, app_for, fill, rows, settle


# Navigation ------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.asyncio
async def test_every_section_opens_from_its_key(campaign: Env) -> None:
    app = app_for(campaign)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.current_mode == "dashboard"
        for key, mode in (
            ("o", "obligations"),
            ("e", "escalations"),
            ("w", "owners"),
            ("a", "agenda"),
            ("l", "ledger"),
            ("i", "inbox"),
            ("g", "plugins"),
            ("d", "dashboard"),
        ):
            await pilot.press(key)
            await settle(pilot)
            assert app.current_mode == mode, key
        await pilot.press("question_mark")
        await settle(pilot)
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        await pilot.press("ctrl+q")
    assert app.return_code == 0


@pytest.mark.slow
@pytest.mark.asyncio
async def test_dashboard_numbers_are_doors(campaign: Env) -> None:
    from duban.tui.widgets.door import Door

    app = app_for(campaign)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        overdue = next(d for d in app.screen.query(Door) if d.filter_line == "overdue")
        await pilot.click(overdue)
        await settle(pilot)
        assert app.current_mode == "obligations"
        assert app.screen.query_one("#filter-input").value == "overdue"
        assert {r["code"] for r in rows(app)} == {"（七）", "（十）", "（十五）"}
        await pilot.press("d")
        await settle(pilot)
        summons = app.screen.query_one("#rung-summon", Door)
        assert "4" in str(summons.render())
        summons.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.query_one("#filter-input").value == "level:summon"
        assert len(rows(app)) == 3  # four summons on three obligations
        # "Due within 30 days" counts what its list shows: due in the window, not already late.
        await pilot.press("d")
        await settle(pilot)
        due = next(d for d in app.screen.query(Door) if d.filter_line == "due:30 sort:due")
        shown = str(due.render()).split()[-1]
        await pilot.click(due)
        await settle(pilot)
        assert str(app.screen.total) == shown
        assert not {r["code"] for r in rows(app)} & {
            "（七）",
            "（十）",
            "（十五）",
        }  # late, not due


@pytest.mark.slow
@pytest.mark.asyncio
async def test_open_detail_and_back(campaign: Env) -> None:
    app = app_for(campaign)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("o")
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "DetailScreen"
        assert app.screen.obligation_id == rows_second_id(app)
        await pilot.press("escape")
        await settle(pilot)
        assert type(app.screen).__name__ == "ObligationsScreen"


def rows_second_id(app) -> int:
    below = app.screen_stack[-2]
    from duban.tui.widgets.table import ObligationTable

    return below.query_one(ObligationTable).rows[1]["id"]


# Filters -----------------------------------------------------------------------------------
FILTERS = [
    # Free words search everything (which tasks mention it: tests/core/test_search.py).
    # and the written report a summons on （七） asked for, whose body quotes its milestone.
    ("化工园区", lambda r: r["code"] in ("（七）", "（十七）") or "（七）" in r["title"]),
    ("owner:湖南省水利厅", lambda r: "湖南省水利厅" in r["lead"] + r["participants"]),
    ("owner:湖南省水利厅 role:lead", lambda r: "湖南省水利厅" in r["lead"]),
    ("region:岳阳市", lambda r: r["region"] == "岳阳市"),  # the plan's tasks are province-wide
    ("domain:water", lambda r: r["domain"] == "water"),
    ("has:ledger", lambda r: r["code"].startswith("督察反馈问题#")),  # not （三十五）/（三十九）
    # the plan's two supervision tasks and their parts (（三十九）-4 ...)
    (
        "domain:supervision 无标记:ledger",
        lambda r: r["code"].split("-")[0] in ("（三十五）", "（三十九）"),
    ),
    ("state:submitted", lambda r: r["state"] == "submitted"),
    ("level:list", lambda r: r["code"] == "（七）"),  # listed by hand; its top level is summon
    ("overdue", lambda r: r["overdue"]),
    ("due:30", lambda r: r["next_due"] is not None and r["next_due"] <= "2024-07-01"),
    ("单位:湖南省水利厅 角色:牵头", lambda r: "湖南省水利厅" in r["lead"]),
]


@pytest.mark.slow
@pytest.mark.asyncio
@pytest.mark.parametrize(("line", "keep"), FILTERS, ids=[f[0] for f in FILTERS])
async def test_each_filter_narrows_the_table(campaign: Env, line: str, keep) -> None:
    from duban.tui import data
    from duban.tui.filters import parse

    app = app_for(campaign)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("o")
        await settle(pilot)
        everything = app.screen.total
        await pilot.press("slash")
        await pilot.press(*line)
        await settle(pilot)
        shown = rows(app)
        assert shown and all(keep(r) for r in shown), line
        assert app.screen.total < everything
        with campaign.session(write=False) as session:
            expected = data.count(session=session, query=parse(line), as_of=date(2024, 6, 1))
        assert app.screen.total == len(shown) == expected


@pytest.mark.slow
@pytest.mark.asyncio
async def test_sorting_and_a_bad_filter_explained_in_place(campaign: Env) -> None:
    app = app_for(campaign)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("o")
        await settle(pilot)
        await pilot.press("s")  # code -> due
        await settle(pilot)
        dues = [r["next_due"] or "9999" for r in rows(app)]
        assert dues == sorted(dues)
        assert app.screen.query_one("#filter-input").value == "sort:due"
        await pilot.press("S")
        await settle(pilot)
        descending = [r["next_due"] or "9999" for r in rows(app)]
        assert descending == sorted(descending, reverse=True) and descending[0] >= dues[-1]
        app.screen.set_filter("owner:没有这个单位")
        await settle(pilot)
        message = str(app.screen.query_one("#filter-message").render())
        assert "没有这个单位" in message
        app.screen.set_filter("colour:red")
        await settle(pilot)
        assert "colour" in str(app.screen.query_one("#filter-message").render())


@pytest.mark.asyncio
async def test_table_scrolls_through_windows(campaign: Env) -> None:
    """Paging to the end fetches later windows; the cache holds rows near the view only."""
    app = app_for(campaign)
    async with app.run_test(size=(120, 16)) as pilot:
        await pilot.press("o")
        await settle(pilot)
        await pilot.press("end")
        await settle(pilot)
        from duban.tui.widgets.table import ObligationTable

        table = app.screen.query_one(ObligationTable)
        assert table.cursor == table.total - 1
        assert table.total - 1 in table.rows


# Actions -----------------------------------------------------------------------------------
async def open_detail(pilot, obligation_id: int) -> None:
    pilot.app.open_obligation(obligation_id)
    await settle(pilot)


def form_error(app) -> str:
    return str(app.screen.query_one("#form-error").render())


@pytest.mark.slow
@pytest.mark.asyncio
async def test_record_a_reading(campaign: Env) -> None:
    app = app_for(campaign)
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot, 2)
        await pilot.press("r")
        await settle(pilot)
        await fill(pilot, period="2024-13", value="95")
        assert "2024-13" in form_error(app)  # explained in place; the form stays open
        await fill(pilot, period="2024-Q1", value="96.2")
        assert type(app.screen).__name__ == "DetailScreen"
    with campaign.session(write=False) as session:
        got = session.exec(select(Measurement).where(Measurement.value == 96.2)).one()
        assert got.period_start == date(2024, 1, 1) and got.recorded_by == "coord"


@pytest.mark.slow
@pytest.mark.asyncio
async def test_attach_evidence(campaign: Env, tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    report.write_text("整改报告", encoding="utf-8")
    app = app_for(campaign)
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot, 3)
        await pilot.press("v")
        await settle(pilot)
        await fill(pilot, ref=str(tmp_path / "missing.pdf"))
        assert "missing.pdf" in form_error(app)
        await fill(pilot, ref=str(report), note="第一季度")
    with campaign.session(write=False) as session:
        ev = session.exec(select(Evidence).where(Evidence.obligation_id == 3)).one()
        assert ev.sha256 and ev.note == "第一季度"


@pytest.mark.slow
@pytest.mark.asyncio
async def test_submit_then_self_verification_is_refused_and_another_verifies(campaign: Env) -> None:
    app = app_for(campaign)
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot, 12)
        await pilot.press("s")
        await settle(pilot)
        await fill(pilot, evidence="https://example.org/4.pdf", note="完成")
        await settle(pilot)
        assert app.screen.data["state"] == "submitted"
        await pilot.press("y")
        await settle(pilot)
        await pilot.click("#form-ok")
        await settle(pilot)
        assert "may not decide it" in form_error(app)  # separation of duties, shown in place
        await pilot.press("escape")
    with campaign.session(write=False) as session:
        assert session.get(Obligation, 12).state == "submitted"
    app = app_for(campaign, actor="lead2")
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot, 12)
        await pilot.press("y")
        await settle(pilot)
        await pilot.click("#form-ok")
        await settle(pilot)
        assert app.screen.data["state"] == "closed"


@pytest.mark.asyncio
async def test_reject_a_close_out(campaign: Env) -> None:
    app = app_for(campaign, actor="lead2")
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot, 13)
        await pilot.press("n")
        await settle(pilot)
        await fill(pilot, reason="")
        assert form_error(app)  # required
        await fill(pilot, reason="证据不足")
        assert app.screen.data["state"] == "in_progress"
    with campaign.session(write=False) as session:
        sub = session.exec(select(Submission).where(Submission.obligation_id == 13)).one()
        assert (sub.decision, sub.decided_by, sub.reason) == ("rejected", "lead2", "证据不足")


@pytest.mark.slow
@pytest.mark.asyncio
async def test_escalate_by_hand_and_the_ladder_only_climbs(campaign: Env) -> None:
    app = app_for(campaign)
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot, 8)
        await pilot.press("x")
        await settle(pilot)
        await fill(pilot, level="remind", reason="再次提醒")
        assert form_error(app)  # already listed: the ladder only climbs
        await fill(pilot, level="freeze", reason="拒不整改")
        assert app.screen.data["level"] == "freeze"


@pytest.mark.asyncio
async def test_split_by_region(campaign: Env) -> None:
    app = app_for(campaign)
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot, 3)
        await pilot.press("p")
        await settle(pilot)
        await fill(pilot, by="city", targets="no")
        assert app.screen.data["children"] > 0
    with campaign.session(write=False) as session:
        children = session.exec(select(Obligation).where(Obligation.parent_id == 3)).all()
        assert children and all(c.region_id is not None for c in children)


@pytest.mark.asyncio
async def test_edit_state_with_version_check(campaign: Env) -> None:
    app = app_for(campaign)
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot, 9)
        await pilot.press("u")
        await settle(pilot)
        with campaign.session() as session:  # someone else changes it meanwhile
            from duban.core.services.obligations import get_obligation, set_state

            set_state(
                session=session,
                obligation=get_obligation(session=session, ref=9),
                state="in_progress",
            )
        await fill(pilot, state="cancelled")
        assert "changed by someone else" in form_error(app)
        await pilot.press("escape")
        await settle(pilot)
        app.screen.load()
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        await fill(pilot, state="cancelled")
        assert app.screen.data["state"] == "cancelled"


@pytest.mark.slow
@pytest.mark.asyncio
async def test_acknowledge_an_escalation(campaign: Env) -> None:
    app = app_for(campaign)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        await settle(pilot)
        first = app.screen.rows[0]
        await pilot.press("k")
        await settle(pilot)
        await fill(pilot, note="已约谈相关负责人")
        assert next(r for r in app.screen.rows if r["id"] == first["id"])["acknowledged"]
        await pilot.press("f")  # level filter: remind only
        await settle(pilot)
        assert app.screen.rows == []
        await pilot.press("f", "f")  # supervise, then list
        await settle(pilot)
        assert [r["level"] for r in app.screen.rows] == ["list"]
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.obligation_id == 8
    with campaign.session(write=False) as session:
        assert session.get(Escalation, first["id"]).ack_note == "已约谈相关负责人"


@pytest.mark.slow
@pytest.mark.asyncio
async def test_owner_drill_down_agenda_and_inbox(campaign: Env) -> None:
    app = app_for(campaign)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("w")
        await settle(pilot)
        worst = app.screen.rows[0]["name"]
        await pilot.press("enter")
        await settle(pilot)
        assert app.current_mode == "obligations"
        assert worst in app.screen.query_one("#filter-input").value
        await pilot.press("a")
        await settle(pilot)
        assert app.screen.items[0]["overdue"]
        await pilot.press("m")
        await settle(pilot)
        assert app.screen.by == "month"
        await pilot.press("i")
        await settle(pilot)
        assert app.screen.rows[0]["read"] is False
        await pilot.press("m")
        await settle(pilot)
        assert app.screen.rows[0]["read"] is True
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.obligation_id == 8


@pytest.mark.slow
@pytest.mark.asyncio
async def test_ledger_is_the_supervision_plugins_screen_and_agrees_with_the_cli(
    campaign: Env,
) -> None:
    """The supervision plugin adds the ledger through duban_tui_screens; it lists what
    ``duban ledger list`` lists (not the plan's own supervision tasks)."""
    from duban.tui.widgets.door import Door

    listed = Runner(campaign.db_url).ok("ledger", "list", "--format", "json", as_of=AS_OF).json()
    app = app_for(campaign)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.plugin_screens["ledger"].plugin == "supervision"
        await pilot.press("l")
        await settle(pilot)
        assert app.current_mode == "ledger"
        assert app.screen.query_one("#filter-input").value == "domain:supervision has:ledger"
        assert sorted(r["id"] for r in rows(app)) == sorted(item["id"] for item in listed)
        doors = {d.filter_line: d for d in app.screen.query("#ledger-stages Door").results(Door)}
        rectifying = doors["domain:supervision has:ledger state:in_progress"]
        assert "整改中 1" in str(rectifying.render()) or "Rectifying 1" in str(rectifying.render())
        await pilot.click(rectifying)
        await settle(pilot)
        assert [r["code"] for r in rows(app)] == ["督察反馈问题#1"]


@pytest.mark.asyncio
async def test_without_the_supervision_plugin_there_is_no_ledger(
    campaign: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DUBAN_LOAD_PLUGINS", "water,fishing_ban,waste,shipping")
    reset_host()
    app = app_for(campaign)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "ledger" not in app.plugin_screens
        assert "l" not in app.screen.active_bindings
        await pilot.press("l")
        await settle(pilot)
        assert app.current_mode == "dashboard"
    reset_host()


@pytest.mark.slow
@pytest.mark.asyncio
async def test_language_and_as_of_switch_at_runtime(campaign: Env) -> None:
    app = app_for(campaign)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "Escalation ladder" in app.screen.query_one("#panel-ladder").border_title
        await pilot.press("L")
        await settle(pilot)
        assert app.screen.query_one("#panel-ladder").border_title == "督办阶梯"
        assert "截至 2024-06-01" in str(app.screen.query_one("#status-right").render())
        assert "协调员 coord" in str(app.screen.query_one("#status-right").render())
        await pilot.press("t")
        await settle(pilot)
        await fill(pilot, day="2023-06-01")
        assert app.as_of == date(2023, 6, 1)
        assert "截至 2023-06-01" in str(app.screen.query_one("#status-right").render())
        overdue = next(d for d in app.screen.query("Door") if d.filter_line == "overdue")
        assert "0" in str(overdue.render())  # nothing was overdue a year earlier
        await pilot.press("t")
        await settle(pilot)
        await fill(pilot, day="2023-02-30")
        assert "2023-02-30" in form_error(app)


@pytest.mark.slow
@pytest.mark.asyncio
async def test_command_palette_speaks_both_languages(campaign: Env) -> None:
    from duban.tui.commands import entries

    app = app_for(campaign, lang="zh")
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot, 2)
        texts = {e.text("zh"): e.text("en") for e in entries(app)}
        assert texts["任务: 记录读数"] == "obligation: record reading"
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"record reading")
        await settle(pilot)
        await pilot.pause(0.5)  # the palette gathers hits asynchronously
        await pilot.press("down", "enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "RecordForm"


@pytest.mark.asyncio
async def test_the_palette_offers_an_obligations_actions_as_its_footer_does(campaign: Env) -> None:
    from duban.tui.commands import entries

    app = app_for(campaign)
    async with app.run_test(size=SIZE) as pilot:
        offered = {}
        for obligation_id in (8, 13):  # （七） is in progress; （十） was submitted for close-out
            await open_detail(pilot, obligation_id)
            offered[obligation_id] = {e.verb for e in entries(app) if e.noun == "obligation"}
            footer = {b.binding.action for b in app.screen.active_bindings.values() if b.enabled}
            assert ("verify" in footer) == ("verify close-out" in offered[obligation_id])
            await pilot.press("escape")
            await settle(pilot)
        assert {"submit for close-out", "escalate"} <= offered[8]
        assert not {"verify close-out", "reject close-out"} & offered[8]
        assert {"verify close-out", "reject close-out"} <= offered[13]
        assert "submit for close-out" not in offered[13]


@pytest.mark.asyncio
async def test_sweep_from_the_palette_shows_progress(campaign: Env) -> None:
    app = app_for(campaign)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.set_as_of(date(2024, 7, 1))
        app.action_sweep()
        await settle(pilot)
        assert type(app.screen).__name__ == "ProgressScreen"
        assert "Sweep as of 2024-07-01" in str(app.screen.query_one("#progress-result").render())
        await pilot.press("escape")
        await settle(pilot)
        assert type(app.screen).__name__ == "DashboardScreen"


@pytest.mark.asyncio
async def test_sweep_preview_shows_what_would_change_and_writes_nothing(campaign: Env) -> None:
    from sqlmodel import func, select

    from duban.core.models import AuditHead

    def head() -> int:
        with campaign.session(write=False) as session:
            return session.exec(select(func.max(AuditHead.seq))).one()

    before = head()
    app = app_for(campaign)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.set_as_of(date(2024, 7, 1))
        app.action_sweep_preview()
        await settle(pilot)
        assert type(app.screen).__name__ == "ProgressScreen"
        text = str(app.screen.query_one("#progress-result").render())
        assert "Preview as of 2024-07-01" in text and "nothing was written" in text
    assert head() == before


# Snapshots ---------------------------------------------------------------------------------
SCREENS = {
    "dashboard": [],
    "obligations": ["o"],
    "detail": [],  # （七）: overdue, listed, summoned (opened in run_before)
    "escalations": ["e"],
    "owners": ["w"],
    "agenda": ["a"],
    "ledger": ["l"],
    "plugins": ["g"],
    "inbox": ["i"],
    "help": ["question_mark"],
}


# Every screen rendered and compared in both languages, two seconds each: .ci/run's slow step.
@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_snapshot(campaign: Env, snap_compare, screen: str, lang: str) -> None:
    async def run_before(pilot) -> None:
        await settle(pilot)
        if screen == "detail":
            pilot.app.open_obligation(8)  # （七）
            await settle(pilot)
        for key in SCREENS[screen]:
            await pilot.press(key)
            await settle(pilot)
        # A blinking cursor would make the picture depend on the moment it is taken.
        from textual.widgets import Input

        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False
        await settle(pilot)

    assert snap_compare(app_for(campaign, lang=lang), terminal_size=SIZE, run_before=run_before)


@pytest.mark.asyncio
async def test_closing_stops_a_read_still_running(
    campaign: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Quitting does not wait for a read nobody will see: the statement running in its
    worker is stopped (the dashboard's lights took 35 s at national scale) and dropped."""
    import threading
    import time

    from duban.tui import overview

    started, ended = threading.Event(), threading.Event()
    raised: list[str] = []

    def slow_lights(db, as_of):
        started.set()
        try:  # a statement of a minute or more
            if db.dialect == "sqlite":
                db.one(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                    " WHERE i < 1000000000) SELECT count(*) FROM n"
                )
            else:
                db.one("SELECT pg_sleep(120)")
        except Exception as exc:
            raised.append(type(exc).__name__)
            raise
        finally:
            ended.set()
        return {}

    monkeypatch.setattr(overview, "light_counts", slow_lights)
    app = app_for(campaign)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(400):
            if started.is_set():
                break
            await pilot.pause(0.05)
        assert started.is_set()
        closed = time.monotonic()
    assert ended.wait(15), "the read was not stopped"
    assert time.monotonic() - closed < 15
    assert raised and app.closing
