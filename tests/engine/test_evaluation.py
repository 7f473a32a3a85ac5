"""Evaluating targets as of a date, over multi-year scenarios with an injected clock."""

from __future__ import annotations

import types
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from duban.core.cli.context import Env
from duban.core.contributions import Evaluation
from duban.core.dates import period as parse_period
from duban.core.hookspecs import hookimpl
from duban.core.models import Site, Target
from duban.core.plugins import get_host, reset_host

FOREST = "general.forest_coverage_rate"  # a rate, higher is better, yearly
PONDS = "general.tailings_pond_count"  # a count, lower is better, summed
METALS = "general.key_heavy_metal_discharge"


# When the obligations and targets are recorded: before every date the tests read as of.
RECORDED = "2020-06-01"


def obligation(runner, region: str = "430100", title: str = "提高森林覆盖率") -> str:
    return runner.ok(
        "add", title, "--lead", "湖南省人民政府", "--region", region, as_of=RECORDED
    ).stdout.strip()


def target(runner, ob: str, *args: str) -> str:
    return runner.ok("target", "add", ob, *args, as_of=RECORDED).stdout.strip()


def published(period: str) -> str:
    """The day after ``period`` ends: when its figure is recorded (reads as of a date see
    only readings recorded by then)."""
    return (parse_period(period, what="period")[1] + timedelta(days=1)).isoformat()


def readings(runner, indicator: str, region: str, values: dict[str, float]) -> None:
    for period, value in values.items():
        runner.ok(
            "record",
            indicator,
            str(value),
            "--region",
            region,
            "--at",
            period,
            as_of=published(period),
        )


def status(runner, ob: str, as_of: str) -> dict:
    [row] = runner.ok("status", "--obligation", ob, "--format", "json", as_of=as_of).json()
    return row


def forest_target(runner, region: str = "430100") -> str:
    """≥ 80 % by the end of 2025, from 60 % at the end of 2020: the path gains 4 points a year."""
    ob = obligation(runner, region)
    target(
        runner,
        ob,
        "--indicator",
        FOREST,
        "--gte",
        "80",
        "--due",
        "2025-12-31",
        "--baseline",
        "60",
        "--baseline-date",
        "2020-12-31",
    )
    return ob


def test_one_target_through_the_years(world) -> None:
    ob = forest_target(world)
    assert status(world, ob, "2021-06-01")["status"] == "no_data"
    readings(world, FOREST, "430100", {"2021": 64})
    row = status(world, ob, "2022-03-01")
    assert row["status"] == "on_track"  # exactly on the path; one point gives no forecast
    assert (row["latest_value"], row["latest_date"], row["forecast"]) == (64, "2021-12-31", None)
    assert row["expected"] == pytest.approx(60 + 20 * 425 / 1826, abs=1e-3)  # path on 2022-03-01
    readings(world, FOREST, "430100", {"2022": 66.6})
    row = status(world, ob, "2023-03-01")
    assert row["status"] == "off_track"  # 1.4 behind the path and heading for 74.4 at the due date
    assert row["forecast"] == pytest.approx(74.4, abs=0.05)
    readings(world, FOREST, "430100", {"2023": 72.5})
    assert status(world, ob, "2024-03-01")["status"] == "on_track"  # back ahead of the path
    readings(world, FOREST, "430100", {"2024": 81})
    assert status(world, ob, "2025-03-01")["status"] == "met"
    # Before the 2025 figure is published the year-end verdict waits (provisional)…
    assert status(world, ob, "2026-03-01")["status"] == "met"
    readings(world, FOREST, "430100", {"2025": 79})
    row = status(world, ob, "2026-04-01")
    assert row["status"] == "missed"  # …and the reading for the due year falls short
    assert "does not meet" in row["detail"]
    readings(world, FOREST, "430100", {"2026": 82})
    assert status(world, ob, "2027-04-01")["status"] == "met"  # met late; the latest counts
    # The past is unchanged by later readings: as of 2023-03-01 it was off track.
    assert status(world, ob, "2023-03-01")["status"] == "off_track"


@pytest.mark.parametrize(
    ("values", "as_of", "expected"),
    [
        ({"2021": 64, "2022": 68.5}, "2023-03-01", "on_track"),
        ({"2021": 64, "2022": 67.5, "2023": 70.5}, "2024-03-01", "at_risk"),
        ({"2021": 62, "2022": 61, "2023": 60}, "2024-03-01", "off_track"),
        ({"2021": 64, "2022": 70, "2023": 81}, "2024-03-01", "met"),
        ({"2021": 64, "2022": 68, "2023": 72, "2024": 76, "2025": 79.9}, "2026-04-01", "missed"),
        ({}, "2024-03-01", "no_data"),
        ({"2021": 64}, "2023-08-01", "stale"),
    ],
)
def test_each_status(world, values: dict[str, float], as_of: str, expected: str) -> None:
    ob = forest_target(world)
    readings(world, FOREST, "430100", values)
    assert status(world, ob, as_of)["status"] == expected


def test_stale_follows_the_reporting_window(world) -> None:
    ob = forest_target(world)
    readings(world, FOREST, "430100", {"2021": 64})
    # Yearly: the 2022 figure may come up to 180 days after the end of 2022.
    assert status(world, ob, "2023-06-30")["status"] == "on_track"
    row = status(world, ob, "2023-07-05")
    assert row["status"] == "stale" and "since 2021-12-31" in row["detail"]


def test_a_due_date_without_its_reading_waits_then_is_missed(world) -> None:
    ob = forest_target(world)
    readings(world, FOREST, "430100", {"2021": 64, "2022": 68, "2023": 72, "2024": 76})
    assert status(world, ob, "2026-03-01")["status"] == "on_track"
    row = status(world, ob, "2026-07-01")
    assert row["status"] == "missed" and row["detail"] == "no reading for the due date"


def test_decrease_pct_against_the_baseline_years_reading(world) -> None:
    ob = obligation(world, "430000", "重金属减排")
    target(
        world,
        ob,
        "--indicator",
        METALS,
        "--decrease-pct",
        "7",
        "--due",
        "2025-12-31",
        "--baseline-date",
        "2020-12-31",
    )
    readings(world, METALS, "430000", {"2022": 96})
    row = status(world, ob, "2023-03-01")
    assert row["status"] == "no_data" and "baseline date 2020-12-31" in row["detail"]
    readings(world, METALS, "430000", {"2020": 100, "2023": 94.5})
    row = status(world, ob, "2024-03-01")
    assert row["status"] == "on_track"
    assert row["expected"] == pytest.approx(100 - 7 * 1156 / 1826, abs=1e-3)
    readings(world, METALS, "430000", {"2024": 92.9})
    assert status(world, ob, "2025-03-01")["status"] == "met"  # 92.9 <= 100 x 0.93


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"2021": 320, "2022": 310, "2023": 305}, "met"),
        (
            {"2018": 320, "2019": 250, "2020": 260, "2021": 270, "2022": 280, "2023": 290},
            "at_risk",
        ),  # below the start, but rising over the last five readings
        ({"2021": 320, "2022": 330}, "off_track"),
        ({"2023": 320}, "on_track"),  # one reading: no trend yet
    ],
)
def test_trend_down(world, values: dict[str, float], expected: str) -> None:
    ob = obligation(world, "430000", "尾矿库数量持续下降")
    target(world, ob, "--indicator", PONDS, "--trend-down", "--due", "2025-12-31")
    readings(world, PONDS, "430000", values)
    assert status(world, ob, "2024-03-01")["status"] == expected


def test_eliminate_and_eq(world) -> None:
    ob = obligation(world, "430100", "消除")
    target(world, ob, "--indicator", PONDS, "--eliminate", "--due", "2025-12-31")
    readings(world, PONDS, "430100", {"2021": 10, "2022": 5})
    assert status(world, ob, "2023-03-01")["status"] == "on_track"
    readings(world, PONDS, "430100", {"2023": 0})
    assert status(world, ob, "2024-03-01")["status"] == "met"
    other = obligation(world, "430200", "持平")
    target(world, other, "--indicator", PONDS, "--eq", "12", "--due", "2025-12-31")
    readings(world, PONDS, "430200", {"2021": 12})
    assert status(world, other, "2022-03-01")["status"] == "met"


def test_region_targets_read_aggregated_sub_regions(world) -> None:
    ob = forest_target(world, "430100")
    for code, num, den in (("430102", 45, 50), ("430103", 10, 40), ("430104", 300, 400)):
        world.ok(
            "record",
            FOREST,
            str(num / den * 100),
            "--region",
            code,
            "--at",
            "2023",
            "--numerator",
            str(num),
            "--denominator",
            str(den),
            as_of=published("2023"),
        )
    row = status(world, ob, "2024-03-01")
    assert row["latest_value"] == pytest.approx(355 / 490 * 100, abs=1e-6)


def test_tolerances_come_from_duban_toml(world, tmp_path: Path, monkeypatch) -> None:
    ob = forest_target(world)
    readings(world, FOREST, "430100", {"2021": 64, "2022": 67.5, "2023": 70.5})
    assert status(world, ob, "2024-03-01")["status"] == "at_risk"
    config = tmp_path / "duban.toml"
    config.write_text("[evaluation]\non_track_tolerance = 0.2\nat_risk_tolerance = 0.3\n", "utf-8")
    monkeypatch.setenv("DUBAN_CONFIG", str(config))
    assert status(world, ob, "2024-03-01")["status"] == "on_track"
    config.write_text("[evaluation]\nstale_grace_days = {yearly = 30}\n", "utf-8")
    monkeypatch.setenv("DUBAN_CONFIG", str(tmp_path / "other.toml"))
    (tmp_path / "other.toml").write_text(
        "[evaluation]\nstale_grace_days = {yearly = 30}\n", "utf-8"
    )
    assert status(world, ob, "2025-02-15")["status"] == "stale"
    (tmp_path / "bad.toml").write_text("[evaluation]\nforecast_points = 'many'\n", "utf-8")
    monkeypatch.setenv("DUBAN_CONFIG", str(tmp_path / "bad.toml"))
    bad = world("status", as_of="2024-03-01")
    assert bad.exit_code == 2 and "[evaluation] forecast_points" in bad.stderr


def test_a_plugin_evaluates_its_own_indicator_first(world) -> None:
    from duban.core.contributions import Indicator

    seen: list[tuple] = []
    plugin = types.ModuleType("evaltest")
    own = "evaltest.ponds"

    @hookimpl
    def duban_register_indicators(register) -> None:
        register(Indicator(key=own, name="尾矿库", name_en="Ponds", direction="lower"))

    @hookimpl
    def duban_evaluate_target(target, measurements, as_of):
        seen.append((target.indicator, [m.value for m in measurements], as_of))
        if target.indicator != own:
            return None
        return Evaluation(
            "at_risk", latest_value=measurements[-1].value, detail="judged by evaltest"
        )

    plugin.duban_register_indicators = duban_register_indicators
    plugin.duban_evaluate_target = duban_evaluate_target
    get_host().register_module("evaltest", plugin)
    try:
        ob = obligation(world, "430100", "尾矿库")
        target(world, ob, "--indicator", own, "--lte", "5", "--due", "2025-12-31")
        forest = forest_target(world, "430200")
        readings(world, own, "430100", {"2022": 9, "2023": 4})
        readings(world, FOREST, "430200", {"2021": 64})
        row = status(world, ob, "2024-03-01")
        assert (row["status"], row["detail"]) == ("at_risk", "judged by evaltest")
        assert seen == [(own, [9, 4], date(2024, 3, 1))]
        # Core's indicators are judged by the default method; the plugin is not asked.
        assert status(world, forest, "2022-03-01")["status"] == "on_track"
        assert len(seen) == 1
    finally:
        reset_host()


def test_evaluate_all_agrees_with_evaluate(world) -> None:
    from duban.core.services.evaluation import evaluate, evaluate_all

    forest_target(world, "430100")
    ob = obligation(world, "430000", "全省")
    target(world, ob, "--indicator", PONDS, "--lte", "300", "--due", "2025-12-31")
    target(
        world, ob, "--indicator", PONDS, "--lte", "20", "--due", "2025-12-31", "--region", "430200"
    )
    env = Env.create(db_url=world.url, actor="coord", as_of=RECORDED)
    with env.session() as s:
        s.add(Site(key="xiangjiang-1", name="湘江1号断面", kind="water_section", region_id=None))
        s.flush()
    env.close()
    target(
        world,
        ob,
        "--indicator",
        PONDS,
        "--lte",
        "1",
        "--due",
        "2025-12-31",
        "--site",
        "xiangjiang-1",
    )
    target(
        world,
        obligation(world, "430300", "无读数"),
        "--indicator",
        FOREST,
        "--gte",
        "1",
        "--due",
        "2025-12-31",
    )
    readings(world, FOREST, "430100", {"2021": 64, "2022": 67.5})
    readings(world, PONDS, "430211", {"2022": 14, "2023": 12})
    readings(world, PONDS, "430100", {"2022": 300, "2023": 290})
    for period, value in (("2022", 3), ("2023", 1)):
        world.ok(
            "record",
            PONDS,
            str(value),
            "--site",
            "xiangjiang-1",
            "--at",
            period,
            as_of=published(period),
        )
    env = Env.create(db_url=world.url, actor="coord", as_of="2024-03-01")
    with env.session(write=False) as s:
        together = evaluate_all(session=s, as_of=date(2024, 3, 1))
        alone = [
            evaluate(session=s, target=tg, as_of=date(2024, 3, 1))
            for tg in s.execute(select(Target).order_by(Target.id)).scalars()
        ]
        just_one = evaluate_all(session=s, as_of=date(2024, 3, 1), obligation_id=int(ob))
        statuses = [ev.status for _, ev in together]
        one = [(tg.obligation_id, ev.latest_value) for tg, ev in just_one]
    env.close()
    assert [ev for _, ev in together] == alone
    # 长沙 behind; the province's 290 + 株洲's 12 = 302 is above 300 but ahead of the path;
    # 株洲 (from its county) and the site meet theirs; 湘潭 has no readings.
    assert statuses == ["at_risk", "on_track", "met", "met", "no_data"]
    assert one == [(int(ob), 302), (int(ob), 12), (int(ob), 1)]


def test_status_formats_and_errors(world) -> None:
    ob = forest_target(world)
    readings(world, FOREST, "430100", {"2021": 64, "2022": 68.5})
    table = world.ok("status", as_of="2023-03-01").stdout
    assert (
        "on_track" in table and "at least 80% 2025-12-31" in table and "68.5 (2022-12-31)" in table
    )
    zh = world.ok("status", as_of="2023-03-01", lang="zh").stdout
    assert "进度正常" in zh and "长沙市" in zh
    csv_text = world.ok("status", "--format", "csv", as_of="2023-03-01").stdout.splitlines()
    assert csv_text[0].startswith("target,obligation,obligation_code,indicator,scope,comparator")
    assert ",430100,gte,80.0," in csv_text[1]
    missing = world("status", "--obligation", "999", as_of="2023-03-01")
    assert missing.exit_code == 4 and "unknown obligation '999'" in missing.stderr
    assert world.ok("status", "--obligation", ob, "--format", "json").json()[0]["target"] == 1


def test_status_over_the_built_in_plan(hunan) -> None:
    rows = hunan.ok("status", "--format", "json", as_of="2024-06-01").json()
    assert len(rows) > 30 and {r["status"] for r in rows} == {"no_data"}
    hunan.ok(
        "record",
        "general.forest_coverage_rate",
        "59.9",
        "--region",
        "430000",
        "--at",
        "2023",
        as_of="2024-06-01",
    )
    [forest] = [
        r
        for r in hunan.ok("status", "--format", "json", as_of="2024-06-01").json()
        if r["indicator"] == "general.forest_coverage_rate"
    ]
    assert forest["status"] == "met"


SEWAGE = "water.urban_sewage_collection_rate"
ALTERNATIVE_PLAN = (
    "长沙市水环境治理实施方案\n2024年3月1日\n一、重点任务\n"
    "（一）治理污水。到2025年年底，长沙市城市生活污水集中收集率达到70%以上或比2020年提高"
    "5个百分点以上。（长沙市住房和城乡建设局负责）\n"
)


def alternative_target(runner, tmp_path: Path) -> str:
    """≥ 70 % by the end of 2025, or 5 points above the 2020 reading: one target, two routes."""
    plan = tmp_path / "plan.txt"
    plan.write_text(ALTERNATIVE_PLAN, encoding="utf-8")
    runner.ok("import", "plan", str(plan), as_of=RECORDED)
    [row] = runner.ok("status", "--format", "json", as_of="2024-04-01").json()
    return str(row["obligation"])


def test_an_alternative_target_is_met_by_either_route(world, tmp_path) -> None:
    ob = alternative_target(world, tmp_path)
    readings(world, SEWAGE, "430100", {"2020": 60, "2023": 63, "2024": 66})
    row = status(world, ob, "2025-03-01")
    # 66 is short of 70 but 6 points above 2020's 60: met by the other route
    assert row["status"] == "met"
    assert "by the alternative (5 percentage points above 2020)" in row["detail"]
    readings(world, SEWAGE, "430100", {"2025": 64})
    assert status(world, ob, "2026-04-01")["status"] == "missed"  # neither route at the due date
    readings(world, SEWAGE, "430100", {"2025": 71})
    row = status(world, ob, "2026-04-01")
    assert row["status"] == "met"
    assert row["detail"].startswith("the latest reading meets the target")


def test_an_alternative_judged_behind_both_paths(world, tmp_path) -> None:
    ob = alternative_target(world, tmp_path)
    # 2020: 50 → the alternative asks for 55, the primary route for 70
    readings(world, SEWAGE, "430100", {"2020": 50, "2022": 53, "2023": 54})
    row = status(world, ob, "2024-03-01")
    assert row["status"] == "on_track"  # far behind the path to 70, near the one to 55
    assert row["detail"].startswith("by the alternative (5 percentage points above 2020)")
    readings(world, SEWAGE, "430100", {"2020": 69, "2022": 66, "2023": 65})  # corrections
    row = status(world, ob, "2024-03-01")
    # the alternative (74) is further off than the plain 70: the verdict is the primary's
    assert "the alternative (5 percentage points above 2020)" in row["detail"]
    assert not row["detail"].startswith("by the alternative")


def test_an_alternative_without_its_baseline_reading_says_so(world, tmp_path) -> None:
    ob = alternative_target(world, tmp_path)
    readings(world, SEWAGE, "430100", {"2021": 60, "2022": 63, "2023": 66})
    row = status(world, ob, "2024-03-01")
    assert row["status"] != "met"  # 66 might be 5 points above 2020: no reading says so
    assert row["detail"].endswith(
        "the alternative (5 percentage points above 2020) cannot be judged: no reading for 2020"
    )
    zh = world.ok("status", "--obligation", ob, "--format", "json", as_of="2024-03-01", lang="zh")
    assert (
        "另一达标途径（比2020年提高5个百分点）无法评估：缺少2020年的数据" in zh.json()[0]["detail"]
    )


def test_show_gives_both_routes(world, tmp_path) -> None:
    ob = alternative_target(world, tmp_path)
    [target] = world.ok("show", ob, "--format", "json").json()["targets"]
    assert (target["comparator"], target["value"], target["alternative"]) == (
        "gte",
        70,
        {"comparator": "increase_pp", "value": 5, "unit": "pp", "baseline_year": 2020},
    )
    assert "at least 70% · or 5 percentage points above 2020" in world.ok("show", ob).stdout
    assert "或比2020年提高5个百分点" in world.ok("show", ob, lang="zh").stdout


@pytest.mark.parametrize(
    ("lang", "route"),
    [("en", "or 5 percentage points above 2020"), ("zh", "或比2020年提高5个百分点")],
)
def test_the_detail_screen_gives_both_routes(world, tmp_path, lang: str, route: str) -> None:
    from duban.core.i18n import set_language
    from duban.tui import data
    from duban.tui.screens.detail import DetailScreen

    ob = alternative_target(world, tmp_path)
    readings(world, SEWAGE, "430100", {"2020": 60, "2024": 66})
    env = Env.create(db_url=world.url, actor="coord", as_of=None)  # recorded today
    set_language(lang)
    try:
        with env.session(write=False) as session:
            shown = data.obligation(session=session, obligation_id=int(ob), as_of=env.today)
        [tg] = shown["target_rows"]
        text = DetailScreen._target_text(None, tg).plain  # type: ignore[arg-type]
    finally:
        set_language("en")
        env.close()
    assert route in text
    assert tg["status"]["status"] == "met"


def test_a_reading_recorded_after_the_date_is_not_seen(world) -> None:
    """A figure published late does not change what was known before it was recorded: the
    same in ``status``, ``evaluate``/``evaluate_all`` and the TUI's detail."""
    from duban.core.services.evaluation import evaluate, evaluate_all
    from duban.tui import data

    ob = forest_target(world)
    readings(world, FOREST, "430100", {"2021": 64})
    world.ok("record", FOREST, "81", "--region", "430100", "--at", "2022", as_of="2023-06-01")
    before = status(world, ob, "2023-03-01")
    assert (before["latest_value"], before["latest_date"], before["status"]) == (
        64,
        "2021-12-31",
        "on_track",
    )
    after = status(world, ob, "2023-06-01")
    assert (after["latest_value"], after["status"]) == (81, "met")
    # A region read from its counties (summed) sees only their readings recorded by then.
    region_ob = obligation(world, "430200", "尾矿库")
    target(world, region_ob, "--indicator", PONDS, "--lte", "20", "--due", "2025-12-31")
    readings(world, PONDS, "430211", {"2021": 30})
    world.ok("record", PONDS, "10", "--region", "430211", "--at", "2022", as_of="2023-06-01")
    assert status(world, region_ob, "2023-03-01")["latest_value"] == 30
    assert status(world, region_ob, "2023-06-01")["latest_value"] == 10
    # A target of an obligation recorded later is not there yet either.
    late = world.ok(
        "add", "后来的任务", "--lead", "湖南省人民政府", "--region", "430300", as_of="2023-06-01"
    ).stdout.strip()
    world.ok(
        "target",
        "add",
        late,
        "--indicator",
        FOREST,
        "--gte",
        "70",
        "--due",
        "2025-12-31",
        as_of="2023-06-01",
    )
    obligations = lambda day: {  # noqa: E731
        r["obligation"] for r in world.ok("status", "--format", "json", as_of=day).json()
    }
    assert obligations("2023-03-01") == {int(ob), int(region_ob)}
    assert int(late) in obligations("2023-06-01")
    env = Env.create(db_url=world.url, actor="coord", as_of=None)
    try:
        with env.session(write=False) as s:
            day = date(2023, 3, 1)
            together = [ev for _, ev in evaluate_all(session=s, as_of=day)]
            alone = [
                evaluate(session=s, target=tg, as_of=day)
                for tg in s.execute(
                    select(Target).where(Target.obligation_id != int(late)).order_by(Target.id)
                ).scalars()
            ]
            assert together == alone
            assert [ev.latest_value for ev in together] == [64, 30]
            [shown] = data.obligation(session=s, obligation_id=int(ob), as_of=day)["target_rows"]
            assert shown["status"]["latest_value"] == 64
            assert [value for _, value in shown["readings"]] == [64]
    finally:
        env.close()
