"""A TUI that keeps up with the keyboard: forms take the keys from the moment they open, the
agenda names each milestone, the owners screen ranks as ``duban scorecard`` does, and
titles sort in pinyin order."""

from __future__ import annotations

import pytest
from textual import events
from textual.widgets import Input, Select, TextArea

from duban.core.cli.context import Env
from duban.core.testing import Runner

from .pilot import AS_OF, SIZE, app_for, settle

# form -> (obligation whose detail opens it, key)
FORMS = {
    "ReportForm": (8, "b"),
    "RecordForm": (2, "r"),
    "EvidenceForm": (8, "v"),
    "SubmitForm": (8, "s"),
    "RejectForm": (13, "n"),
    "EscalateForm": (8, "x"),
    "SplitForm": (8, "p"),
    "EditForm": (8, "u"),
}


@pytest.mark.asyncio
@pytest.mark.parametrize("form", list(FORMS))
async def test_a_form_opens_with_its_first_field_focused(campaign: Env, form: str) -> None:
    obligation, key = FORMS[form]
    # The close-out of （十） was submitted by coord, who may not decide on it.
    app = app_for(campaign, actor="lead2" if form == "RejectForm" else None)
    async with app.run_test(size=SIZE) as pilot:
        app.open_obligation(obligation)
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)
        assert type(app.screen).__name__ == form
        first = app.screen.query(".form-row Input, .form-row Select, .form-row TextArea").first()
        assert app.focused is first
        assert isinstance(first, Input | Select | TextArea)


@pytest.mark.asyncio
async def test_keys_typed_while_a_form_opens_go_into_it(campaign: Env) -> None:
    """The keys arrive before the form has mounted (as a fast typist's do): none is lost and
    none fires a shortcut of the screen underneath."""
    app = app_for(campaign, actor="lead2")
    async with app.run_test(size=SIZE) as pilot:
        app.open_obligation(13)
        await settle(pilot)
        await app.screen.run_action("reject")  # the form is pushed, not yet mounted
        for ch in "materials incomplete":
            app.post_message(events.Key(ch if ch != " " else "space", ch))
        await settle(pilot)
        assert type(app.screen).__name__ == "RejectForm"
        assert app.screen.query_one("#field-reason", Input).value == "materials incomplete"


@pytest.mark.asyncio
async def test_typing_on_the_list_goes_into_its_filter(campaign: Env) -> None:
    """Keys no shortcut wants, typed as the list opens, filter it rather than vanish."""
    app = app_for(campaign)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.run_action("go('obligations')")
        for ch in "衡阳":
            app.post_message(events.Key(ch, ch))
        await settle(pilot)
        box = app.screen.query_one("#filter-input", Input)
        assert box.value == "衡阳" and app.focused is box
        assert app.screen.query_ == app.screen.query_.__class__(text="衡阳")


@pytest.mark.asyncio
async def test_the_agenda_shows_each_milestones_own_text(campaign: Env) -> None:
    app = app_for(campaign, lang="zh")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        await settle(pilot)
        titles = {i["title"] for i in app.screen.items if i and i["kind"] == "milestone"}
    with campaign.session(write=False) as session:
        from sqlmodel import select

        from duban.core.models import Milestone, Obligation

        milestone_titles = set(session.exec(select(Milestone.title)).all())
        obligation_titles = set(session.exec(select(Obligation.title)).all())
    assert titles and titles <= milestone_titles
    assert "全省所有化工园区完成认定工作，建立化工园区清单" in titles  # （七）'s, overdue
    assert not titles & (obligation_titles - milestone_titles)


def test_one_ranking_worst_first_in_the_cli_and_the_tui(campaign: Env) -> None:
    from duban.tui import data

    cli = Runner(campaign.db_url or "").ok("scorecard", "--format", "json", as_of=AS_OF).json()
    with campaign.session(write=False) as session:
        tui = data.owner_scores(session, campaign.today)
    assert [(r["owner"], r["rank"]) for r in cli] == [(r["name"], r["rank"]) for r in tui]
    ranked = [r for r in cli if r["rank"] is not None]
    assert ranked[0]["rank"] == 1 and ranked[0]["escalation_weight"] == max(
        r["escalation_weight"] for r in cli
    )
    assert [r["rank"] for r in ranked] == sorted(r["rank"] for r in ranked)
    # Bodies with nothing assigned (escalated to, say, but leading nothing) are not ranked.
    for r in cli:
        assigned = r["lead"] or r["participant"] or r["implementer"]
        assert (r["rank"] is None) == (not assigned), r["owner"]


def test_titles_sort_in_pinyin_order(duban) -> None:
    duban.ok("owner", "add", "湖南省水利厅")
    for title in ("湖泊保护", "安全生产", "长江禁渔", "巴陵整治", "Zeta plan", "中央督察"):
        duban.ok("add", title, "--lead", "湖南省水利厅", "--due", "2030-12-31")
    listed = duban.ok("list", "--sort", "title", "--format", "json").json()
    assert [r["title"] for r in listed] == [
        "Zeta plan",
        "安全生产",  # an
        "巴陵整治",  # ba
        "长江禁渔",  # chang
        "湖泊保护",  # hu
        "中央督察",  # zhong
    ]
    window = duban.ok("list", "--sort", "title", "--format", "json", "--limit", "2").json()
    assert [r["title"] for r in window] == ["Zeta plan", "安全生产"]
