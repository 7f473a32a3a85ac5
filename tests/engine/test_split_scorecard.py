"""Decomposition to cities and counties, and per-owner scorecards."""

from __future__ import annotations

import pytest
from sqlalchemy import text

pytestmark = pytest.mark.usefixtures("without_report_rule")


def count(db_url: str, table: str) -> int:
    from duban.core.db import get_engine

    with get_engine(db_url).connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()


@pytest.fixture
def parent(hunan):
    ob = hunan.ok(
        "add",
        "城市黑臭水体治理",
        "--lead",
        "湖南省生态环境厅",
        "--due",
        "2024-12-31",
        "--code",
        "（九）",
    ).stdout.strip()
    hunan.ok(
        "target",
        "add",
        ob,
        "--indicator",
        "general.forest_coverage_rate",
        "--gte",
        "60",
        "--due",
        "2025-12-31",
        "--region",
        "430000",
        "--baseline",
        "50",
        "--baseline-date",
        "2022-12-31",
    )
    return ob


def test_split_by_city_with_targets(hunan, db_url, parent) -> None:
    children = hunan.ok("split", parent, "--by", "city", "--targets", "--format", "json").json()
    assert len(children) == 14
    assert (
        children[0]["lead"] == ["长沙市人民政府"]
        and children[0]["title"] == "城市黑臭水体治理（长沙市）"
    )
    shown = hunan.ok("show", str(children[0]["id"]), "--format", "json").json()
    assert shown["parent"] == int(parent) and shown["region"] == "长沙市"
    assert [m["due"] for m in shown["milestones"]] == ["2024-12-31"]
    [target] = shown["targets"]
    assert target["scope"]["name"] == "长沙市" and target["value"] == 60
    assert target["baseline"] is None  # the province's baseline is not a city's

    again = hunan("split", parent, "--by", "county")
    assert again.exit_code == 5 and "already split" in again.stderr
    hunan.ok("audit", "verify")


def test_split_by_county_within_a_city(hunan) -> None:
    ob = hunan.ok(
        "add",
        "长沙市污水管网",
        "--lead",
        "长沙市人民政府",
        "--region",
        "长沙市",
        "--due",
        "2025-06-30",
    ).stdout.strip()
    children = hunan.ok("split", ob, "--by", "county", "--format", "json").json()
    assert len(children) == 9
    assert all(c["lead"][0].endswith("人民政府") for c in children)
    county = hunan.ok(
        "add", "浏阳任务", "--lead", "浏阳市人民政府", "--region", "430181"
    ).stdout.strip()
    nothing = hunan("split", county, "--by", "county")
    assert nothing.exit_code == 2 and "nothing to split" in nothing.stderr


def test_split_bad_input_writes_nothing(hunan, db_url, parent) -> None:
    before = (count(db_url, "obligation"), count(db_url, "audit_event"))
    assert hunan("split", parent, "--by", "province").exit_code == 2
    assert hunan("split", "99999", "--by", "city").exit_code == 4
    hunan.ok("user", "add", "viewer", "--role", "viewer")
    assert hunan("split", parent, "--by", "city", actor="viewer").exit_code == 3
    assert (
        count(db_url, "obligation"),
        count(db_url, "audit_event") - 1,
    ) == before  # user.add only


def test_parent_overdue_state_aggregates_children(hunan, parent) -> None:
    children = hunan.ok("split", parent, "--by", "city", "--format", "json").json()
    ids = {c["id"] for c in children}
    result = hunan.ok("sweep", "--format", "json", as_of="2025-01-02").json()
    mine = [c for c in result["changes"] if c["obligation_id"] in ids | {int(parent)}]
    # The children's governments are supervised; the parent's own milestone raises nothing.
    assert len(mine) == 14 and {c["obligation_id"] for c in mine} == ids
    assert {c["addressed_to"] for c in mine} == {c["lead"][0] for c in children}

    # Closing the parent waits for its children.
    refused = hunan("submit", parent, "--evidence", "https://e.org/x")
    assert refused.exit_code == 5 and "14 sub-obligations still open" in refused.stderr

    hunan.ok("user", "add", "auditor", "--role", "coordinator")
    changsha = str(children[0]["id"])
    hunan.ok("submit", changsha, "--evidence", "https://e.org/cs", as_of="2025-01-03")
    hunan.ok("verify", changsha, actor="auditor", as_of="2025-01-04")
    rows = {
        r["owner"]: r
        for r in hunan.ok(
            "scorecard", "--level", "city", "--format", "json", as_of="2025-01-05"
        ).json()
    }
    assert rows["长沙市人民政府"]["overdue"] == 0 and rows["株洲市人民政府"]["overdue"] == 1
    assert rows["长沙市人民政府"]["on_time_rate"] == 0.0  # done 2025-01-03 for 2024-12-31
    assert rows["株洲市人民政府"]["rank"] < rows["长沙市人民政府"]["rank"]  # worst first

    from duban.core.db import get_engine, open_session
    from duban.core.services.split import overdue_ids, rollup

    with open_session(get_engine(hunan.url), actor="coord", write=False) as session:
        from datetime import date

        roll = rollup(session=session, parent_ids=[int(parent)], as_of=date(2025, 1, 5))[
            int(parent)
        ]
        assert (roll.children, roll.closed, roll.overdue, roll.is_overdue) == (14, 1, 13, True)
        assert int(parent) in overdue_ids(session=session, as_of=date(2025, 1, 5))
        # Before the deadline nobody is overdue, the parent included.
        assert int(parent) not in overdue_ids(session=session, as_of=date(2024, 12, 31))


def test_scorecard_ranks_and_counts(duban) -> None:
    for name in ("甲厅", "乙厅", "丙厅"):
        duban.ok("owner", "add", name)
    duban.ok("user", "add", "reviewer", "--role", "coordinator")
    on_time = duban.ok(
        "add", "按期任务", "--lead", "甲厅", "--due", "2024-06-30", as_of="2024-01-01"
    ).stdout.strip()
    duban.ok(
        "add",
        "逾期任务",
        "--lead",
        "甲厅",
        "--participant",
        "丙厅",
        "--due",
        "2024-06-30",
        as_of="2024-01-01",
    )
    late = duban.ok(
        "add", "迟交任务", "--lead", "乙厅", "--due", "2024-06-30", as_of="2024-01-01"
    ).stdout.strip()
    duban.ok("submit", on_time, "--evidence", "https://e.org/a", as_of="2024-06-20")
    duban.ok("verify", on_time, actor="reviewer", as_of="2024-06-21")
    duban.ok("submit", late, "--evidence", "https://e.org/b", as_of="2024-07-10")
    duban.ok("verify", late, actor="reviewer", as_of="2024-07-11")
    duban.ok("sweep", as_of="2024-08-01")

    rows = duban.ok("scorecard", "--format", "json", as_of="2024-08-01").json()
    by_owner = {r["owner"]: r for r in rows}
    a, b, c = by_owner["甲厅"], by_owner["乙厅"], by_owner["丙厅"]
    assert (
        a["lead"],
        a["participant"],
        a["milestones_closed"],
        a["on_time_rate"],
        a["overdue"],
    ) == (2, 0, 1, 1.0, 1)
    assert a["escalations"]["list"] == 1 and a["escalation_weight"] == 3
    assert (b["lead"], b["on_time_rate"], b["overdue"]) == (1, 0.0, 0)
    assert (c["participant"], c["on_time_rate"]) == (1, None)
    # Worst first: 甲厅 has an escalation; 乙厅 delivered late; 丙厅 has nothing against it.
    assert [r["owner"] for r in rows] == ["甲厅", "乙厅", "丙厅"]
    assert [r["rank"] for r in rows] == [1, 2, 3]
    table = duban.ok("scorecard", as_of="2024-08-01", lang="zh").stdout
    assert "排名" in table and "挂牌督办" in table and "100%" in table
    assert duban("scorecard", "--level", "province").exit_code == 2
    assert duban.ok("scorecard", "--level", "department", "--format", "json").json()


def test_a_split_parent_is_overdue_by_its_children_everywhere(hunan) -> None:
    """The list, its lean count, show and the sweep agree: once split, the children's
    deadlines decide, not the parent's own milestone."""
    ob = hunan.ok(
        "add",
        "长沙市污水管网",
        "--lead",
        "长沙市人民政府",
        "--region",
        "长沙市",
        "--due",
        "2025-06-30",
        as_of="2025-01-01",
    ).stdout.strip()
    children = hunan.ok(
        "split", ob, "--by", "county", "--format", "json", as_of="2025-01-01"
    ).json()
    for child in children:  # every county is given until the end of the year
        [milestone] = hunan.ok("show", str(child["id"]), "--format", "json").json()["milestones"]
        hunan.ok(
            "milestone", "move", str(milestone["id"]), "--due", "2025-12-31", as_of="2025-01-01"
        )

    def overdue(day: str) -> tuple[bool, bool, bool, int]:
        listed = {
            r["id"] for r in hunan.ok("list", "--overdue", "--format", "json", as_of=day).json()
        }
        count = int(hunan.ok("list", "--overdue", "--count", as_of=day).stdout)
        shown = hunan.ok("show", ob, "--format", "json", as_of=day).json()["overdue"]
        return (
            int(ob) in listed,
            shown,
            count == len(listed),
            sum(c["id"] in listed for c in children),
        )

    # The parent's own milestone is past due, its children's are not: nobody is late.
    assert overdue("2025-07-05") == (False, False, True, 0)
    changes = hunan.ok("sweep", "--format", "json", as_of="2025-07-05").json()["changes"]
    assert not [c for c in changes if c["obligation_id"] in {int(ob)} | {c["id"] for c in children}]
    # After the counties' deadline all of them are late, and so is the parent.
    assert overdue("2026-01-05") == (True, True, True, len(children))


def test_scorecard_leaves_out_cancelled_obligations_as_of_their_cancellation(duban) -> None:
    """An owner's obligations by role count what was live then: an obligation cancelled
    later still counts as of a date before its cancellation, and one added later does not."""
    from duban.core.cli.context import Env
    from duban.core.models import Obligation
    from duban.core.services.obligations import set_state

    duban.ok("owner", "add", "甲厅")
    duban.ok("owner", "add", "乙厅")
    _kept, called_off = (
        duban.ok(
            "add",
            title,
            "--lead",
            "甲厅",
            "--participant",
            "乙厅",
            "--due",
            "2024-12-31",
            as_of="2024-01-01",
        ).stdout.strip()
        for title in ("保留任务", "撤销任务")
    )
    duban.ok("add", "后加任务", "--lead", "乙厅", "--due", "2024-12-31", as_of="2024-05-01")
    with Env.create(db_url=duban.url, actor="coord", as_of="2024-03-01T10:00").session() as session:
        set_state(
            session=session, obligation=session.get(Obligation, int(called_off)), state="cancelled"
        )

    def tallies(as_of: str) -> dict[str, tuple[int, int]]:
        rows = duban.ok("scorecard", "--format", "json", as_of=as_of).json()
        return {r["owner"]: (r["lead"], r["participant"]) for r in rows}

    assert tallies("2024-02-01") == {"甲厅": (2, 0), "乙厅": (0, 2)}
    assert tallies("2024-04-01") == {"甲厅": (1, 0), "乙厅": (0, 1)}
    assert tallies("2024-06-01") == {"甲厅": (1, 0), "乙厅": (1, 1)}
