"""As-of reads are a true snapshot: what was recorded after the date is invisible, in the
state things had then, the same in list, show, escalations, export, history and the TUI."""

from __future__ import annotations

import json

import pytest

from duban.core.cli.context import Env
from duban.core.testing import COORDINATOR, Runner

T1, T2, T3, T4 = "2024-03-01", "2024-04-01", "2024-05-01", "2024-06-01"


def _setup(duban: Runner, sweep_on: str | None = None) -> str:
    duban.ok("owner", "add", "湖南省水利厅", as_of=T1)
    duban.ok("user", "add", "li", "--role", "coordinator", as_of=T1)
    ob = duban.ok(
        "add", "河道整治", "--lead", "湖南省水利厅", "--due", "2024-03-15", as_of=T1
    ).stdout.strip()
    if sweep_on:
        duban.ok("sweep", as_of=sweep_on)
    duban.ok("submit", ob, "--evidence", "https://example.org/r.pdf", as_of=T2)
    duban.ok("verify", ob, actor="li", as_of=T3)
    return ob


def _seen(duban: Runner, ob: str, day: str) -> dict:
    listed = {r["id"]: r for r in duban.ok("list", "--format", "json", as_of=day).json()}
    shown = duban("show", ob, "--format", "json", as_of=day)
    count = int(duban.ok("list", "--count", as_of=day).stdout)
    return {
        "listed": listed.get(int(ob), {}).get("state"),
        "shown": shown.json()["state"] if shown.exit_code == 0 else shown.exit_code,
        "count": count,
    }


def test_an_obligation_as_of_each_day(duban: Runner) -> None:
    ob = _setup(duban)
    assert _seen(duban, ob, "2024-02-29") == {"listed": None, "shown": 4, "count": 0}
    assert _seen(duban, ob, T1) == {"listed": "open", "shown": "open", "count": 1}
    assert _seen(duban, ob, "2024-04-15") == {
        "listed": "submitted",
        "shown": "submitted",
        "count": 1,
    }
    assert _seen(duban, ob, "2024-04-15") == _seen(duban, ob, T2)
    assert _seen(duban, ob, T3)["shown"] == "closed"
    # Milestones done by the close-out are done only once it was recorded.
    milestones = lambda day: duban.ok("show", ob, "--format", "json", as_of=day).json()[  # noqa: E731
        "milestones"
    ]
    assert [m["done"] for m in milestones("2024-04-15")] == [None]
    assert [m["done"] for m in milestones(T3)] == [T2]
    # The export is the same snapshot as show.
    exported = lambda day: [  # noqa: E731
        json.loads(line) for line in duban.ok("export", as_of=day).stdout.splitlines()
    ]
    assert exported("2024-02-29") == []
    [then] = exported("2024-04-15")
    assert then["state"] == "submitted" and [m["done"] for m in then["milestones"]] == [None]
    [later] = exported(T3)
    assert later["state"] == "closed" and [m["done"] for m in later["milestones"]] == [T2]
    assert duban.ok("list", "--overdue", "--count", as_of="2024-04-15").stdout.strip() == "1"
    assert (
        duban.ok("list", "--state", "submitted", "--count", as_of="2024-04-15").stdout.strip()
        == "1"
    )
    assert (
        duban.ok("list", "--state", "closed", "--count", as_of="2024-04-15").stdout.strip() == "0"
    )
    # History as recorded, in order.
    actions = [e["action"] for e in duban.ok("history", ob, "--format", "json").json()]
    assert actions[0] == "obligation.add"
    assert {"closeout.submit", "closeout.verify", "milestone.done"} <= set(actions)


@pytest.mark.usefixtures("without_report_rule")
def test_an_escalation_is_invisible_before_the_sweep_that_opened_it(duban: Runner) -> None:
    duban.ok("owner", "add", "湖南省水利厅", as_of=T1)
    ob = duban.ok(
        "add", "河道整治", "--lead", "湖南省水利厅", "--due", "2024-03-15", as_of=T1
    ).stdout.strip()
    duban.ok("sweep", as_of=T4)
    esc = lambda day: duban.ok("escalations", "--format", "json", as_of=day).json()  # noqa: E731
    assert esc("2024-05-31") == []
    assert [e["obligation_id"] for e in esc(T4)] == [int(ob)]
    shown = lambda day: duban.ok("show", ob, "--format", "json", as_of=day).json()  # noqa: E731
    assert shown("2024-05-31")["escalations"] == []
    assert len(shown(T4)["escalations"]) == 1
    actions = [e["action"] for e in duban.ok("history", ob, "--format", "json").json()]
    assert "escalation.open" in actions


def test_the_tui_reads_the_same_snapshot(duban: Runner) -> None:
    from datetime import date

    from duban.tui import data, overview
    from duban.tui.filters import Query

    ob = int(_setup(duban, sweep_on="2024-03-20"))  # an escalation the close-out resolves
    env = Env.create(db_url=duban.url, actor=COORDINATOR, as_of=None)
    try:
        with env.session(write=False) as session:

            def rows(day: date) -> dict[int, str]:
                window = data.window(session=session, query=Query(), as_of=day, offset=0, limit=100)
                return {r["id"]: r["state"] for r in window}

            assert rows(date(2024, 2, 29)) == {}
            assert rows(date(2024, 4, 15)) == {ob: "submitted"}
            assert rows(date(2024, 5, 1)) == {ob: "closed"}
            detail = data.obligation(session=session, obligation_id=ob, as_of=date(2024, 4, 15))
            assert detail["state"] == "submitted"
            assert [e["resolved"] for e in detail["escalation_rows"]] == [None]
            assert "closeout.verify" not in {a["action"] for a in detail["audit"]}
            assert data.escalations(session=session, as_of=date(2024, 4, 15))["total"] == 1
            assert data.escalations(session=session, as_of=date(2024, 5, 1))["total"] == 0
        with env.reading() as db:
            early = overview.figures(db, date(2024, 2, 29))
            assert early["total"] == 0 and early["overdue"] == 0
            then = overview.figures(db, date(2024, 4, 15))
            assert then["states"] == {"submitted": 1} and then["overdue"] == 1
    finally:
        env.close()


def test_history_of_an_imported_obligation_starts_with_its_import(
    duban, runner_for, tmp_path
) -> None:
    duban.ok("owner", "add", "湖南省水利厅", as_of=T1)
    duban.ok("add", "河道整治", "--lead", "湖南省水利厅", "--due", "2024-12-31", as_of=T1)
    exported = tmp_path / "ob.jsonl"
    duban.ok("export", "--format", "jsonl", "-o", str(exported))
    other = runner_for(f"sqlite:///{tmp_path / 'other.db'}")
    other.ok("init", "--empty")
    [made] = range(
        *(lambda s: (s["first_id"], s["last_id"] + 1))(
            other.ok("import", "obligations", str(exported), "--format", "json").json()
        )
    )
    first = other.ok("history", str(made), "--format", "json").json()[0]
    assert first["action"] == "import.obligations" and "ob.jsonl" in first["summary"]
    assert {"seq", "at", "actor", "action", "entity", "summary"} <= set(first)
