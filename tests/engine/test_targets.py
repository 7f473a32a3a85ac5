"""``duban target add``: goals of an obligation for a region or a site."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from duban.core.cli.context import Env
from duban.core.models import AuditEvent, Target

FOREST = "general.forest_coverage_rate"


def _count(runner) -> tuple[int, int]:
    env = Env.create(db_url=runner.url, actor="coord", as_of=None)
    with env.session(write=False) as s:
        found = (
            s.execute(select(func.count()).select_from(Target)).scalar_one(),
            s.execute(select(func.count()).select_from(AuditEvent)).scalar_one(),
        )
    env.close()
    return found


def test_add_a_target_and_show_it(world) -> None:
    ob = world.ok(
        "add", "提高森林覆盖率", "--lead", "湖南省人民政府", "--region", "430100"
    ).stdout.strip()
    tid = world.ok(
        "target",
        "add",
        ob,
        "--indicator",
        FOREST,
        "--gte",
        "59",
        "--due",
        "2025-12-31",
        "--baseline",
        "57.5",
        "--baseline-date",
        "2020-12-31",
    ).stdout.strip()
    [shown] = world.ok("show", ob, "--format", "json").json()["targets"]
    assert shown == {
        "id": int(tid),
        "indicator": FOREST,
        "name": "森林覆盖率（林木绿化率）",
        "name_en": "Forest coverage rate (tree cover rate)",
        "comparator": "gte",
        "value": 59.0,
        "unit": "%",
        "due": "2025-12-31",
        "text": None,  # no plan's words
        "source": None,  # added by hand: neither the plan's nor a plugin's
        "scope": {"type": "region", "code": "430100", "name": "长沙市"},
        "baseline": {"value": 57.5, "date": "2020-12-31"},
    }
    other = world.ok(
        "target",
        "add",
        ob,
        "--indicator",
        "general.tailings_pond_count",
        "--trend-down",
        "--due",
        "2025-12-31",
        "--region",
        "株洲市",
    ).stdout.strip()
    targets = world.ok("show", ob, "--format", "json").json()["targets"]
    assert [(t["id"], t["comparator"], t["value"], t["scope"]["code"]) for t in targets] == [
        (int(tid), "gte", 59.0, "430100"),
        (int(other), "trend_down", None, "430200"),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--indicator", "general.nope", "--gte", "1", "--due", "2025-12-31"],
            "--indicator: unknown indicator 'general.nope'",
        ),
        (["--indicator", FOREST, "--due", "2025-12-31"], "give exactly one of --gte, --lte, --eq"),
        (
            ["--indicator", FOREST, "--gte", "1", "--lte", "2", "--due", "2025-12-31"],
            "give exactly one of",
        ),
        (
            ["--indicator", FOREST, "--gte", "lots", "--due", "2025-12-31"],
            "--gte: not a number: 'lots'",
        ),
        (
            ["--indicator", FOREST, "--gte", "1", "--due", "2205-12-31"],
            "--due: 2205-12-31 is outside",
        ),
        (
            ["--indicator", FOREST, "--gte", "1", "--due", "2025-12-31", "--baseline", "50"],
            "--baseline needs --baseline-date",
        ),
        (
            [
                "--indicator",
                FOREST,
                "--gte",
                "1",
                "--due",
                "2025-12-31",
                "--baseline",
                "5",
                "--baseline-date",
                "2026-01-01",
            ],
            "--baseline-date: 2026-01-01 is not before the due date",
        ),
        (
            ["--indicator", FOREST, "--gte", "1", "--due", "2025-12-31", "--region", "火星"],
            "--region: unknown region '火星'",
        ),
        (
            [
                "--indicator",
                FOREST,
                "--gte",
                "1",
                "--due",
                "2025-12-31",
                "--region",
                "430100",
                "--site",
                "x",
            ],
            "give exactly one of --region and --site",
        ),
    ],
)
def test_bad_targets_are_refused_and_write_nothing(world, args: list[str], message: str) -> None:
    ob = world.ok("add", "任务", "--lead", "湖南省人民政府", "--region", "430100").stdout.strip()
    before = _count(world)
    result = world("target", "add", ob, *args)
    assert result.exit_code != 0 and message in result.stderr
    assert _count(world) == before


def test_scope_defaults_to_the_obligations_region_or_is_required(world) -> None:
    ob = world.ok("add", "全省任务", "--lead", "湖南省人民政府").stdout.strip()
    result = world("target", "add", ob, "--indicator", FOREST, "--gte", "1", "--due", "2025-12-31")
    assert result.exit_code == 2 and f"obligation #{ob} covers no single region" in result.stderr
    missing = world(
        "target", "add", "999", "--indicator", FOREST, "--gte", "1", "--due", "2025-12-31"
    )
    assert missing.exit_code == 4 and "unknown obligation '999'" in missing.stderr


def test_only_coordinators_set_targets(world) -> None:
    ob = world.ok("add", "任务", "--lead", "长沙市人民政府", "--region", "430100").stdout.strip()
    world.ok("user", "add", "li", "--role", "member", "--owner", "长沙市人民政府")
    result = world(
        "target", "add", ob, "--indicator", FOREST, "--gte", "1", "--due", "2025-12-31", actor="li"
    )
    assert result.exit_code == 3
