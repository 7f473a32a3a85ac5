"""The built-in Hunan plan as a coordinator first meets it: `duban init`, then list and show."""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path

from sqlalchemy import text

from duban.core.db import get_engine

CODES = [
    "（三）",
    "（四）",
    "（五）",
    "（六）",
    "（七）",
    "（八）",
    "（九）",
    "（十）",
    "（十一）",
    "（十二）",
    "（十三）",
    "（十四）",
    "（十五）",
    "（十六）",
    "（十七）",
    "（十八）",
    "（十九）",
    "（二十）",
    "（二十一）",
    "（二十二）",
    "（二十三）",
    "（二十四）",
    "（二十五）",
    "（二十六）",
    "（二十七）",
    "（二十八）",
    "（二十九）",
    "（三十）",
    "（三十一）",
    "（三十二）",
    "（三十三）",
    "（三十四）",
    "（三十五）",
    "（三十六）",
    "（三十七）",
    "（三十八）",
    "（三十九）",
    "（四十）",
]
REFERENCE = Path(__file__).resolve().parents[3] / "shared/reference/hunan_divisions.csv"


def test_list_gives_the_goals_and_the_37_tasks(hunan) -> None:
    rows = hunan.ok("list", "--format", "json", as_of="2024-06-01").json()
    # the tasks, each followed by its parts (（六）-1 …) where its paragraphs name other bodies
    assert [r["code"] for r in rows if "-" not in r["code"]] == CODES
    assert [r["code"] for r in rows][3:7] == ["（六）", "（六）-1", "（六）-2", "（六）-3"]
    assert len(rows) == 38 + 25
    by_code = {r["code"]: r for r in rows}
    assert by_code["（四）"]["lead"] == ["湖南省生态环境厅", "湖南省水利厅"]
    assert by_code["（四）"]["next_due"] == "2024-12-31" and not by_code["（四）"]["overdue"]
    assert by_code["（二十）"]["lead"] == ["湖南省农业农村厅"]
    assert by_code["（二十）"]["domain"] == "fishing_ban"
    # A commitment due at the end of 2023 and not done is overdue in mid-2024.
    assert by_code["（七）"]["next_due"] == "2023-12-31" and by_code["（七）"]["overdue"]
    assert all(r["lead"] for r in rows)
    # a task the plan dates nothing for has no deadline (its horizon is the plan's end)
    assert by_code["（十一）"]["next_due"] is None and not by_code["（十一）"]["overdue"]


def test_show_task_four(hunan) -> None:
    data = hunan.ok("show", "（四）", "--format", "json", as_of="2024-06-01").json()
    leads = [a["owner"] for a in data["assignments"] if a["role"] == "lead"]
    participants = [a["owner"] for a in data["assignments"] if a["role"] == "participant"]
    assert leads == ["湖南省生态环境厅", "湖南省水利厅"]
    assert "湖南省卫生健康委员会" in participants
    assert sorted({m["due"] for m in data["milestones"]}) == ["2024-12-31", "2025-12-31"]
    assert any(
        t["value"] == 95.8 and t["comparator"] == "gte" and t["unit"] == "%"
        for t in data["targets"]
    )
    # Short names used by the plan resolve to the canonical owners.
    for alias in ("省生态环境厅", "省水利厅", "省卫生健康委"):
        assert hunan.ok("list", "--owner", alias, "--count").stdout.strip() != "0"


def test_show_task_thirteen_manganese(hunan) -> None:
    data = hunan.ok("show", "（十三）", "--format", "json").json()
    manganese = [t for t in data["targets"] if t["indicator"] == "water.manganese"]
    assert len(manganese) == 2
    assert {(t["comparator"], t["value"], t["unit"], t["due"]) for t in manganese} == {
        ("lte", 0.3, "mg/L", "2023-12-31")
    }
    assert {t["scope"]["type"] for t in manganese} == {"site"}


def test_regions_are_complete_with_their_governments(hunan) -> None:
    with get_engine(hunan.url).connect() as conn:
        levels = dict(conn.execute(text("SELECT level, COUNT(*) FROM region GROUP BY level")).all())
        governments = conn.execute(
            text(
                "SELECT COUNT(*) FROM owner o JOIN region r ON r.id = o.region_id "
                "WHERE o.kind = 'government'"
            )
        ).scalar()
        codes = {c for (c,) in conn.execute(text("SELECT code FROM region"))}
    assert levels == {"province": 1, "city": 14, "county": 122, "zone": 14}
    assert governments == 151
    if REFERENCE.is_file():
        with REFERENCE.open(encoding="utf-8") as handle:
            assert codes == {row["code"] for row in csv.DictReader(handle)}


# ---------------------------------------------------------------- fidelity to the source

ROOT = Path(__file__).resolve().parents[2]
_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V"}


def _builtin() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "core/data/plans/hunan-yangtze-2023.yaml").read_text("utf-8"))


def test_plan_targets_are_stated_by_the_seed() -> None:
    """Every target of the built-in plan's data is the plan's own: its value is written in its
    task's text in the source (2/3 as a fraction, 全覆盖/全面达标 as all, 消除 as none)."""
    from duban.core.planparse import parse_file

    seed = ROOT / "tests/plan/data/hunan-yangtze-2023.txt"
    texts = {t["code"]: t["title"] + t["summary"] for t in parse_file(seed).data["tasks"]}
    checked = 0
    for task in _builtin()["tasks"]:
        text = texts[task["code"]]
        for x in (task, *task.get("parts", [])):
            for g in x.get("targets", []):
                assert g.get("source", "plan") == "plan"
                value, words = g["value"], g.get("text") or ""
                if value is None:
                    continue
                if g["comparator"] == "eliminate":
                    assert re.search("消除|清零|消劣|零就业", words), g["name"]
                elif g["unit"] == "class":  # 消劣: no worse than class V
                    assert _ROMAN[int(value)] + "类" in text or "消劣" in words, g["name"]
                elif value == 100 and re.search("全覆盖|全面稳定达标", words):
                    pass
                elif value == 66.6:
                    assert "2/3" in text, g["name"]
                else:
                    number = str(int(value)) if float(value).is_integer() else str(value)
                    assert number in text, g["name"]
                checked += 1
    assert checked > 30


def test_no_province_wide_task_is_tagged_to_one_place(hunan) -> None:
    rows = hunan.ok("list", "--format", "json").json()
    assert all(r["region"] is None for r in rows)  # every task is the whole province's
    assert all(not t.get("regions") for t in _builtin()["tasks"])


def test_plugin_targets_are_offered_and_labelled(hunan) -> None:
    fishing = hunan.ok("show", "（二十）", "--format", "json").json()
    sources = {t["name"]: t["source"] for t in fishing["targets"]}
    assert sources["退捕渔民养老保险参保率（应保尽保）"] == "fishing_ban"  # a suggestion
    assert sources['退捕渔民"零就业"家庭'] == "plan"
    shipping = hunan.ok("show", "（九）", "--format", "json").json()
    assert {t["source"] for t in shipping["targets"]} == {"shipping"}  # the plan states none


def test_undated_tasks_show_the_plan_end_as_implied(hunan) -> None:
    data = hunan.ok("show", "（十一）", "--format", "json").json()  # the plan dates nothing
    assert data["milestones"] == [] and data["next_due"] is None  # no invented milestone
    assert data["horizon"] == {"due": "2025-12-31", "implied": True}
    shown = hunan.ok("show", "（十一）").stdout.splitlines()
    [facts] = [line for line in shown if "Horizon" in line]
    assert facts.endswith(" · Horizon: 2025-12-31, the plan's end (implied)")
    assert "Next due" not in facts
    zh = hunan.ok("show", "（十一）", lang="zh").stdout
    assert "2025-12-31，方案期末（推定）" in zh
    four = hunan.ok("show", "（四）", "--format", "json").json()  # dated: no horizon
    assert four["milestones"] and four["horizon"] is None
    # The horizon is no deadline: after the plan's end nothing undated is overdue, escalated,
    # scored late or on a calendar.
    rows = hunan.ok("list", "--format", "json").json()
    ids = {r["code"]: r["id"] for r in rows}
    dues = {
        r["code"]: hunan.ok("show", str(r["id"]), "--format", "json").json()["milestones"]
        for r in rows
    }
    # neither it nor its parts dated (a parent carries its parts' deadlines)
    undated = {c for c in dues if not any(dues[p] for p in dues if p == c or p.startswith(c + "-"))}
    assert "（十一）" in undated
    late = hunan.ok("list", "--overdue", "--format", "json", as_of="2026-03-01").json()
    assert not undated & {r["code"] for r in late}, undated & {r["code"] for r in late}
    hunan.ok("sweep", as_of="2026-03-01")
    escalated = hunan.ok("escalations", "--format", "json", as_of="2026-03-01").json()
    late = {e["obligation_id"] for e in escalated if e["rule"] == "core.milestone_overdue"}
    assert late  # the dated ones are
    assert not {ids[c] for c in undated} & late


def test_parts_are_obligations_of_their_task(hunan) -> None:
    parent = hunan.ok("show", "（六）", "--format", "json").json()
    part = hunan.ok("show", "（六）-2", "--format", "json").json()
    assert part["parent"] == parent["id"]
    assert [a["owner"] for a in part["assignments"] if a["role"] == "lead"] == [
        "湖南省住房和城乡建设厅"
    ]


def test_the_detail_screen_shows_the_horizon_as_implied(hunan) -> None:
    from types import SimpleNamespace

    import duban.tui.app  # noqa: F401  (registers the TUI's catalog)
    from duban.core.i18n import set_language
    from duban.tui.screens.detail import DetailScreen

    data = hunan.ok("show", "（十一）", "--format", "json").json()
    screen = SimpleNamespace(app=SimpleNamespace(as_of=date(2026, 3, 1)))
    assert DetailScreen._milestones(screen, data).plain == "· 2025-12-31 the plan's end (implied)"
    set_language("zh")
    try:
        assert "方案期末（推定）" in DetailScreen._milestones(screen, data).plain
    finally:
        set_language("en")


def test_limiting_wording_is_kept(hunan) -> None:
    three = hunan.ok("show", "（三）", "--format", "json").json()
    texts = {g["name"]: g["text"] for g in three["targets"]}
    assert texts["洞庭湖国考断面水质达到III类的比例"] == "力争2/3以上国考断面水质达到III类"
    four = hunan.ok("show", "（四）", "--format", "json").json()
    assert any(m["title"].startswith("基本完成") for m in four["milestones"])
