"""Acceptance (issue 16): an as-of read is a true snapshot, and the command line and the TUI
(driven by Textual's pilot) give the same answers on every date."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest

from duban.core.cli.context import Env
from duban.core.testing import COORDINATOR, Runner
from duban.tui import data, overview

from .pilot import SIZE, app_for, rows, settle

T1, T4, T2, T3 = "2024-03-01", "2024-03-20", "2024-04-01", "2024-05-01"


def _day_before(day: str) -> str:
    return (date.fromisoformat(day) - timedelta(days=1)).isoformat()


async def _tui(url: str, day: str) -> dict[str, Any]:
    """What the TUI shows as of ``day``: the obligations list and the open escalations."""
    env = Env.create(db_url=url, actor=COORDINATOR, as_of=day)
    try:
        app = app_for(env)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("o")
            await settle(pilot)
            listed = {r["id"]: r["state"] for r in rows(app)}
            await pilot.press("e")
            await settle(pilot)
            escalated = {r["id"]: r["level"] for r in app.screen.rows}
            await pilot.press("ctrl+q")
        return {"listed": listed, "escalations": escalated}
    finally:
        env.close()


def _cli(duban: Runner, ob: int, day: str) -> dict[str, Any]:
    listed = {r["id"]: r["state"] for r in duban.ok("list", "--format", "json", as_of=day).json()}
    shown = duban("show", str(ob), "--format", "json", as_of=day)
    escalated = {
        e["id"]: e["level"]
        for e in duban.ok("escalations", "--open", "--format", "json", as_of=day).json()
    }
    return {
        "listed": listed,
        "shown": shown.json()["state"] if shown.exit_code == 0 else None,
        "escalations": escalated,
    }


@pytest.mark.asyncio
@pytest.mark.usefixtures("without_report_rule")
async def test_added_submitted_verified_and_escalated_the_same_everywhere(duban: Runner) -> None:
    """In a sandbox: added at T1, escalated by a sweep at T4, submitted at T2, verified at
    T3 (the verification resolves the escalation)."""
    duban.ok("owner", "add", "湖南省水利厅", as_of=T1)
    duban.ok("user", "add", "li", "--role", "coordinator", as_of=T1)
    ob = int(
        duban.ok(
            "add", "河道整治", "--lead", "湖南省水利厅", "--due", "2024-03-15", as_of=T1
        ).stdout
    )
    duban.ok("sweep", as_of=T4)
    duban.ok("submit", str(ob), "--evidence", "https://example.org/r.pdf", as_of=T2)
    duban.ok("verify", str(ob), actor="li", as_of=T3)
    [esc] = [e["id"] for e in duban.ok("escalations", "--format", "json").json()]

    expected = {
        _day_before(T1): (None, {}),  # not yet recorded
        _day_before(T4): ("open", {}),  # the escalation is not there the day before
        T4: ("open", {esc: "supervise"}),
        "2024-04-15": ("submitted", {esc: "supervise"}),  # between T2 and T3
        _day_before(T3): ("submitted", {esc: "supervise"}),
        "2024-05-02": ("closed", {}),  # after T3: done, its escalation resolved
    }
    for day, (state, escalated) in expected.items():
        cli = _cli(duban, ob, day)
        assert cli == {
            "listed": {ob: state} if state else {},
            "shown": state,
            "escalations": escalated,
        }, day
        tui = await _tui(duban.url, day)
        assert tui == {"listed": cli["listed"], "escalations": escalated}, day
    # The agenda: the milestone is pending (overdue) while the obligation is live, not before
    # it was recorded and not once the close-out was.
    env = Env.create(db_url=duban.url, actor=COORDINATOR, as_of=None)
    try:
        with env.session(write=False) as session:
            agenda = lambda day: [  # noqa: E731
                (group, item["obligation_id"])
                for group, items in data.agenda(session=session, as_of=date.fromisoformat(day))[
                    "groups"
                ]
                for item in items
            ]
            assert agenda(_day_before(T1)) == []
            assert agenda("2024-04-15") == [("overdue", ob)]
            assert agenda("2024-05-02") == []
    finally:
        env.close()


@pytest.mark.asyncio
@pytest.mark.usefixtures("without_report_rule")
async def test_an_escalation_raised_later_has_its_earlier_level(duban: Runner) -> None:
    """Raised by a later sweep: as of a day before the raise it has the level it had then,
    in ``escalations``, ``show``, ``export``, the TUI's lists and the dashboard's ladder."""
    duban.ok("owner", "add", "湖南省水利厅", as_of=T1)
    ob = int(
        duban.ok(
            "add", "河道整治", "--lead", "湖南省水利厅", "--due", "2024-03-15", as_of=T1
        ).stdout
    )
    duban.ok("sweep", as_of=T4)  # 5 days overdue: supervise
    duban.ok("sweep", as_of="2024-04-20")  # 36 days: raised to list
    [esc] = duban.ok("escalations", "--format", "json").json()
    assert esc["level"] == "list"

    def levels(day: str) -> dict[str, Any]:
        exported = [
            r
            for r in map(
                json.loads,
                duban.ok("export", as_of=day).stdout.splitlines(),
            )
            if r["id"] == ob
        ]
        return {
            "escalations": [
                e["level"] for e in duban.ok("escalations", "--format", "json", as_of=day).json()
            ],
            "shown": [
                e["level"]
                for e in duban.ok("show", str(ob), "--format", "json", as_of=day).json()[
                    "escalations"
                ]
            ],
            "exported": [e["level"] for e in exported[0]["escalations"]] if exported else [],
        }

    duban.ok("ack", str(esc["id"]), "--note", "整改中", as_of="2024-04-25")
    cli = lambda day: duban.ok("escalations", "--format", "json", as_of=day).json()  # noqa: E731
    [before] = cli("2024-04-19")
    assert (before["raised"], before["acknowledged"]) == (None, None)
    [raised] = cli("2024-04-21")
    assert raised["raised"] is not None and raised["acknowledged"] is None
    assert cli("2024-04-25")[0]["acknowledged_by"] == COORDINATOR
    assert levels(_day_before(T4)) == {"escalations": [], "shown": [], "exported": []}
    then = {"escalations": ["supervise"], "shown": ["supervise"], "exported": ["supervise"]}
    assert levels("2024-04-19") == then
    assert levels("2024-04-20") == {k: ["list"] for k in then}

    env = Env.create(db_url=duban.url, actor=COORDINATOR, as_of=None)
    try:
        with env.session(write=False) as session:
            day = date(2024, 4, 19)
            listed = data.escalations(session=session, as_of=day)
            assert [r["level"] for r in listed["rows"]] == ["supervise"]
            assert listed["counts"] == {"supervise": 1}
            assert data.escalations(session=session, as_of=day, level="list")["total"] == 0
            assert data.top_levels(session=session, obligation_ids=[ob], as_of=day) == {
                ob: "supervise"
            }
            detail = data.obligation(session=session, obligation_id=ob, as_of=day)
            assert [e["level"] for e in detail["escalation_rows"]] == ["supervise"]
        with env.reading() as db:
            assert overview.ladder_counts(db, date(2024, 4, 19)) == {"supervise": 1}
            assert overview.ladder_counts(db, date(2024, 4, 20)) == {"list": 1}
    finally:
        env.close()
    tui = await _tui(duban.url, "2024-04-19")
    assert tui["escalations"] == {esc["id"]: "supervise"}


@pytest.mark.usefixtures("without_report_rule")
@pytest.mark.parametrize("raised_by", ["sweep", "hand"])
def test_an_acknowledgement_a_raise_cleared_is_there_before_the_raise(
    duban: Runner, raised_by: str
) -> None:
    """A raise clears the acknowledgement (the new level is acknowledged afresh): as of a day
    between the acknowledgement and the raise it is there, with who and the note; before the
    acknowledgement and after the raise it is not. Raised by a sweep or by hand."""
    duban.ok("owner", "add", "湖南省水利厅", as_of=T1)
    ob = duban.ok(
        "add", "河道整治", "--lead", "湖南省水利厅", "--due", "2024-03-15", as_of=T1
    ).stdout.strip()
    if raised_by == "sweep":
        duban.ok("sweep", as_of=T4)  # 5 days overdue: supervise
    else:
        duban.ok("escalate", ob, "--level", "supervise", "--reason", "逾期", as_of=T4)
    [esc] = duban.ok("escalations", "--format", "json").json()
    duban.ok("ack", str(esc["id"]), "--note", "整改中", as_of="2024-04-05")
    if raised_by == "sweep":
        duban.ok("sweep", as_of="2024-04-20")  # 36 days: raised to list
    else:
        duban.ok("escalate", ob, "--level", "list", "--reason", "仍未整改", as_of="2024-04-20")

    def acknowledged(day: str) -> tuple[str | None, str | None, str | None]:
        [e] = duban.ok("escalations", "--format", "json", as_of=day).json()
        return e["level"], e["acknowledged_by"], e["ack_note"]

    assert acknowledged("2024-04-04") == ("supervise", None, None)
    assert acknowledged("2024-04-10") == ("supervise", COORDINATOR, "整改中")
    assert acknowledged("2024-04-21") == ("list", None, None)
