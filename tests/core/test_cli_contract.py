"""The command-line contract scripts depend on (documented in the README)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# Reads below look at the record as of 2023-2026: it was recorded before all of them.
RECORDED = "2023-01-01"


@pytest.fixture
def campaign(duban):
    duban.ok(
        "owner", "add", "湖南省生态环境厅", "--alias", "省生态环境厅", "--name-en", "Hunan DEE"
    )
    duban.ok("owner", "add", "湖南省水利厅", "--alias", "省水利厅")
    duban.ok("owner", "add", "湖南省卫生健康委员会", "--alias", "省卫生健康委")
    ids = {
        "water": duban.ok(
            "add",
            "饮用水水源整治",
            "--lead",
            "省生态环境厅",
            "--lead",
            "省水利厅",
            "--participant",
            "省卫生健康委",
            "--due",
            "2024-12-31",
            "--due",
            "2025-12-31",
            "--domain",
            "water",
            "--code",
            "（四）",
            as_of=RECORDED,
        ).stdout.strip(),
        "health": duban.ok(
            "add",
            "卫生任务",
            "--lead",
            "湖南省卫生健康委员会",
            "--participant",
            "1",
            "--due",
            "2023-06-30",
            as_of=RECORDED,
        ).stdout.strip(),
        "open": duban.ok("add", "无期限任务", "--lead", "Hunan DEE", as_of=RECORDED).stdout.strip(),
    }
    return ids


def test_add_prints_the_id(duban, campaign) -> None:
    assert [int(v) for v in campaign.values()] == [1, 2, 3]


def test_list_json_shape(duban, campaign) -> None:
    rows = duban.ok("list", "--format", "json", as_of="2024-06-01").json()
    first = rows[0]
    assert {
        "id",
        "code",
        "title",
        "domain",
        "state",
        "region",
        "lead",
        "participants",
        "next_due",
        "overdue",
    } <= set(first)
    assert first["lead"] == ["湖南省生态环境厅", "湖南省水利厅"]
    assert first["participants"] == ["湖南省卫生健康委员会"]
    assert first["next_due"] == "2024-12-31" and first["overdue"] is False
    assert rows[1]["overdue"] is True and rows[1]["next_due"] == "2023-06-30"
    assert rows[2]["next_due"] is None and rows[2]["overdue"] is False


def test_overdue_follows_as_of(duban, campaign) -> None:
    count = lambda day: int(duban.ok("list", "--overdue", "--count", as_of=day).stdout)  # noqa: E731
    assert (count("2023-06-30"), count("2023-07-01"), count("2025-01-01"), count("2026-01-01")) == (
        0,
        1,
        2,
        2,
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--owner", "省水利厅"], [1]),
        (["--owner", "湖南省生态环境厅", "--role", "participant"], [2]),
        (["--owner", "1", "--role", "lead"], [1, 3]),
        (["--domain", "water"], [1]),
        (["--state", "open"], [1, 2, 3]),
        (["--due-before", "2024-01-01"], [2]),
        (["--overdue"], [2]),
        # The title's hit first, then the task whose participant is named so.
        (["--search", "卫生"], [2, 1]),
    ],
)
def test_list_filters(duban, campaign, args: list[str], expected: list[int]) -> None:
    rows = duban.ok("list", *args, "--format", "json", as_of="2024-06-01").json()
    assert [r["id"] for r in rows] == expected
    # --count answers through the lean driver-only path where it can: it must agree.
    assert duban.ok("list", *args, "--count", as_of="2024-06-01").stdout.strip() == str(
        len(expected)
    )


def test_region_filter_includes_sub_regions(duban, tmp_path: Path) -> None:
    duban.ok("owner", "add", "长沙市人民政府")
    line = json.dumps(
        {
            "title": "芙蓉区任务",
            "lead": ["长沙市人民政府"],
            "region": "芙蓉区",
            "region_code": "430102",
        },
        ensure_ascii=False,
    )
    path = tmp_path / "r.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    duban.ok("import", "obligations", str(path))
    # The region is unknown to an empty database, so the import created it by name and code.
    assert duban.ok("list", "--region", "芙蓉区", "--count").stdout.strip() == "1"


def test_region_filter_on_the_hunan_tree(hunan) -> None:
    count = lambda r: int(hunan.ok("list", "--region", r, "--count").stdout)  # noqa: E731
    changsha, zhuzhou = count("长沙市"), count("株洲市")
    hunan.ok("add", "芙蓉区任务", "--lead", "芙蓉区人民政府", "--region", "芙蓉区")
    hunan.ok("add", "浏阳任务", "--lead", "浏阳市人民政府", "--region", "430181")
    hunan.ok("add", "株洲任务", "--lead", "株洲市人民政府", "--region", "株洲市")
    assert count("长沙市") == count("长沙") == changsha + 2
    assert (count("430102"), count("株洲市")) == (1, zhuzhou + 1)
    ambiguous = hunan("list", "--region", "长沙市芙")
    assert ambiguous.exit_code == 4


def test_show_json_shape(duban, campaign) -> None:
    data = duban.ok("show", campaign["water"], "--format", "json", as_of="2024-06-01").json()
    assert data["code"] == "（四）" and data["body"] is None
    assert {"owner": "湖南省卫生健康委员会", "role": "participant"} in data["assignments"]
    assert [m["due"] for m in data["milestones"]] == ["2024-12-31", "2025-12-31"]
    assert data["targets"] == [] and data["escalations"] == []
    assert duban.ok("show", "（四）", "--format", "json").json()["id"] == data["id"]


def test_owner_names_aliases_and_ids_are_interchangeable(duban, campaign) -> None:
    by_alias = duban.ok("list", "--owner", "省生态环境厅", "--format", "json").json()
    by_name = duban.ok("list", "--owner", "湖南省生态环境厅", "--format", "json").json()
    by_id = duban.ok("list", "--owner", "1", "--format", "json").json()
    assert by_alias == by_name == by_id


def test_csv_and_table_formats(duban, campaign) -> None:
    csv_out = duban.ok("list", "--format", "csv", as_of="2024-06-01").stdout.splitlines()
    assert csv_out[0].startswith("id,code,title,lead")
    assert csv_out[1].split(",")[5] == "false"
    table = duban.ok("list", as_of="2024-06-01").stdout
    assert "饮用水水源整治" in table


def test_owner_set_and_list(duban, campaign) -> None:
    duban.ok(
        "owner",
        "set",
        "省水利厅",
        "--email",
        "slt@example.org",
        "--webhook",
        "https://hooks.example.org/x",
        "--alias",
        "水利厅",
    )
    owners = {o["name"]: o for o in duban.ok("owner", "list", "--format", "json").json()}
    assert owners["湖南省水利厅"]["email"] == "slt@example.org"
    assert "水利厅" in owners["湖南省水利厅"]["aliases"]


def test_export_import_round_trip(duban, campaign, runner_for, tmp_path: Path) -> None:
    first = tmp_path / "first.jsonl"
    duban.ok("export", "--format", "jsonl", "-o", str(first), as_of="2024-06-01")
    assert len(first.read_text().splitlines()) == 3

    other = runner_for(f"sqlite:///{tmp_path / 'other.db'}")
    other.ok("init", "--empty", "--sandbox")
    summary = other.ok(
        "import", "obligations", str(first), "--format", "json", as_of=RECORDED
    ).json()
    assert summary["obligations"] == 3
    assert sorted(summary["owners_created"]) == [
        "湖南省卫生健康委员会",
        "湖南省水利厅",
        "湖南省生态环境厅",
    ]
    second = tmp_path / "second.jsonl"
    other.ok("export", "-o", str(second), as_of="2024-06-01")

    def without_ids(text: str) -> list[dict]:
        rows = [json.loads(line) for line in text.splitlines()]
        for row in rows:
            row.pop("id")
            for m in row["milestones"]:
                m.pop("id")
        return rows

    assert without_ids(first.read_text()) == without_ids(second.read_text())


def test_init_is_idempotent_and_respects_empty(db_url: str, runner_for) -> None:
    from duban.core.db import get_engine, open_session
    from duban.core.services.plans import initialise

    runner = runner_for(db_url)
    assert runner.ok("list", "--count").stdout.strip() == "0"  # a read creates the schema only
    with open_session(get_engine(db_url), actor="coord") as session:
        # What the first run of the TUI does: the plan is loaded once.
        assert initialise(session=session) is not None
        assert initialise(session=session) is None
    assert "already loaded" in runner.ok("init").stdout
    assert runner.ok("list", "--count").stdout.strip() == "63"  # 38 tasks and 25 parts
