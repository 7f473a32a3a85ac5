"""The built-in Hunan plan as a coordinator first meets it: `duban init`, then list and show."""

from __future__ import annotations

import csv
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
    assert [r["code"] for r in rows] == CODES
    by_code = {r["code"]: r for r in rows}
    assert by_code["（四）"]["lead"] == ["湖南省生态环境厅", "湖南省水利厅"]
    assert by_code["（四）"]["next_due"] == "2024-12-31" and not by_code["（四）"]["overdue"]
    assert by_code["（二十）"]["lead"] == ["湖南省农业农村厅"]
    assert by_code["（二十）"]["domain"] == "fishing_ban"
    # A commitment due at the end of 2023 and not done is overdue in mid-2024.
    assert by_code["（七）"]["next_due"] == "2023-12-31" and by_code["（七）"]["overdue"]
    assert all(r["lead"] and r["next_due"] for r in rows)


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
