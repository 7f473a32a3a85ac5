"""The fishing-ban plugin end to end: importers, indicators by level, rules in the sweep, panel."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from duban.core.clock import FixedClock, local_midnight
from duban.core.db import get_engine, open_session
from duban.core.models import Measurement, Obligation, Region, Site, Target
from duban.core.plugins import get_host
from duban.core.services.measurements import series

# EXAMPLE DATA SET. The provincial totals are Hunan's published figures for November 2022
# (20,376 boats and 28,588 fishers withdrawn, 28,429 insured, 19,260 re-employed). The split
# over seven counties, the "eligible" count (taken as every retired fisher) and the number
# needing work are invented for the example.
EXAMPLE_HEADER = "地区,时间,退捕渔船（艘）,退捕渔民（人）,应参保人数,已参保人数,有就业需求人数,已转产就业人数,备注"
EXAMPLE_ROWS = [
    # county, boats, fishers, eligible, insured, need work, employed
    ("沅江市", 4210, 5960, 5960, 5930, 4050, 4010),
    ("南县", 2530, 3540, 3540, 3540, 2400, 2390),
    ("汉寿县", 3120, 4310, 4310, 4290, 2930, 2900),
    ("安乡县", 2050, 2890, 2890, 2880, 1960, 1950),
    ("华容县", 2810, 3960, 3960, 3930, 2690, 2660),
    ("湘阴县", 2440, 3420, 3420, 3400, 2320, 2300),
    ("君山区", 3216, 4508, 4508, 4459, 3060, 3050),
]


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def example_file(tmp_path: Path, period: str = "2022-11", name: str = "example.csv") -> Path:
    rows = [
        f"{c},{period},{b},{f},{e},{i},{n},{w},示例数据" for c, b, f, e, i, n, w in EXAMPLE_ROWS
    ]
    return write(tmp_path / name, [EXAMPLE_HEADER, *rows])


def session_at(duban, day: date):
    return open_session(get_engine(duban.url), actor="coord", clock=FixedClock(local_midnight(day)))


def latest(duban, indicator: str, region: str, day: date) -> Measurement:
    with session_at(duban, day) as s:
        rid = s.exec(select(Region.id).where(Region.name == region)).one()
        return series(session=s, indicator=indicator, region_id=rid, until=day)[-1]


def sweep_and_list(duban, day: str) -> list[dict]:
    duban.ok("sweep", as_of=day)
    return [
        r
        for r in duban.ok("escalations", "--format", "json", as_of=day).json()
        if r["condition"].startswith("fishing_ban:")
    ]


def test_example_import_aggregates_by_county_city_and_province(hunan, tmp_path):
    out = hunan.ok(
        "import", "fishing-ban", str(example_file(tmp_path)), "--format", "json", as_of="2022-12-05"
    ).json()
    assert out["rows"] == 7 and out["inserted"] == 7 * 4 and out["updated"] == 0
    day = date(2022, 12, 5)
    # County: its own figures.
    m = latest(hunan, "fishing_ban.pension_insurance_rate", "君山区", day)
    assert (m.numerator, m.denominator) == (4459, 4508) and m.value == pytest.approx(
        98.9130, abs=1e-3
    )
    # City: 岳阳市 = 华容县 + 湘阴县 + 君山区, summed before dividing.
    m = latest(hunan, "fishing_ban.pension_insurance_rate", "岳阳市", day)
    assert (m.numerator, m.denominator) == (3930 + 3400 + 4459, 3960 + 3420 + 4508)
    assert m.value == pytest.approx(100 * 11789 / 11888)
    # Province: the published totals.
    assert latest(hunan, "fishing_ban.retired_boats", "湖南省", day).value == 20376
    assert latest(hunan, "fishing_ban.retired_fishers", "湖南省", day).value == 28588
    m = latest(hunan, "fishing_ban.pension_insurance_rate", "湖南省", day)
    assert (m.numerator, m.denominator) == (28429, 28588)
    assert m.value == pytest.approx(99.4438, abs=1e-4)
    mean_of_rates = sum(100 * i / e for _, _, _, e, i, _, _ in EXAMPLE_ROWS) / len(EXAMPLE_ROWS)
    assert abs(m.value - mean_of_rates) > 1e-3  # a rate of sums, not a mean of rates
    m = latest(hunan, "fishing_ban.employment_rate", "湖南省", day)
    assert (m.numerator, m.denominator) == (19260, 19410)
    # Re-importing the same file changes nothing.
    again = hunan.ok(
        "import", "fishing-ban", str(example_file(tmp_path)), "--format", "json", as_of="2022-12-05"
    ).json()
    assert again["inserted"] == again["updated"] == 0 and again["unchanged"] == 28


def test_xlsx_import(hunan, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(
        [
            "地区",
            "时间",
            "非法捕捞案件（起）",
            "涉案人员（人）",
            "暗访检查（次）",
            "禁捕水域（个）",
            "巡护覆盖水域（个）",
        ]
    )
    sheet.append(["沅江市", "2022年第三季度", 4, 9, 12, 10, 9])
    sheet.append(["南县", "2022-Q3", 2, 3, 8, 6, 6])
    book.save(tmp_path / "q3.xlsx")
    hunan.ok("import", "fishing-ban", str(tmp_path / "q3.xlsx"), as_of="2022-10-10")
    day = date(2022, 10, 10)
    assert latest(hunan, "fishing_ban.illegal_fishing_cases", "益阳市", day).value == 6
    m = latest(hunan, "fishing_ban.patrol_coverage_rate", "益阳市", day)
    assert (m.numerator, m.denominator) == (15, 16)


def test_bad_rows_name_row_and_column_and_write_nothing(hunan, tmp_path, fingerprint):
    rows = [
        EXAMPLE_HEADER,
        "沅江市,2022-11,4210,5960,5960,5930,4050,4010,",
        "南县,2022-11,2530,3540,3540,3600,2400,2390,",  # insured > eligible
        "不存在县,2022-11,1,1,1,1,1,1,",
        "汉寿县,2022-11,3120,-5,4310,4290,2930,2900,",
    ]
    before = fingerprint(hunan.url)
    result = hunan(
        "import", "fishing-ban", str(write(tmp_path / "bad.csv", rows)), as_of="2022-12-05"
    )
    assert result.exit_code != 0
    assert "3 bad row(s); nothing was imported" in result.stderr
    assert "bad.csv:3:F (已参保人数): greater than 应参保人数 (3540)" in result.stderr
    assert "bad.csv:4:A (地区): unknown region '不存在县'" in result.stderr
    assert "bad.csv:5:D (退捕渔民（人）): must not be negative" in result.stderr
    assert fingerprint(hunan.url) == before
    zh = hunan("import", "fishing-ban", str(tmp_path / "bad.csv"), as_of="2022-12-05", lang="zh")
    assert "bad.csv:3:F（已参保人数）：大于“应参保人数”（3540）" in zh.stderr


def test_unknown_column_is_named(hunan, tmp_path):
    result = hunan(
        "import",
        "fishing-ban",
        str(write(tmp_path / "c.csv", ["地区,时间,渔船", "南县,2022,1"])),
        as_of="2023-01-05",
    )
    assert result.exit_code != 0 and "c.csv:1:C: unknown column '渔船'" in result.stderr


LEDGER = [
    "户编号,地区,认定日期,就业日期,备注",
    "0001,沅江市,2022-06-01,,",
    "0002,南县,2022-08-15,2022-10-20,公益性岗位",
    "0003,君山区,2022/10/01,,",
]


def test_household_ledger_counts_and_the_90_day_rule_in_the_sweep(hunan, tmp_path):
    ledger = write(tmp_path / "ledger.csv", LEDGER)
    out = hunan.ok(
        "import", "fishing-ban-households", str(ledger), "--format", "json", as_of="2022-11-15"
    ).json()
    assert out["created"] == 3 and out["monthly_counts"] > 0
    day = date(2022, 11, 15)
    # Open at the end of October: 沅江市 0001 and 君山区 0003 (南县 0002 found work on 20 Oct).
    assert latest(hunan, "fishing_ban.zero_employment_fisher_households", "湖南省", day).value == 2
    assert latest(hunan, "fishing_ban.zero_employment_fisher_households", "益阳市", day).value == 1
    assert latest(hunan, "fishing_ban.zero_employment_fisher_households", "南县", day).value == 0
    # September's count as recorded by the import (on 15 November): 0001 and 0002.
    with session_at(hunan, day) as s:
        rid = s.exec(select(Region.id).where(Region.name == "湖南省")).one()
        found = series(
            session=s,
            indicator="fishing_ban.zero_employment_fisher_households",
            region_id=rid,
            until=day,
        )
        m = [r for r in found if r.period_end <= date(2022, 9, 30)][-1]
    assert m.period_end == date(2022, 9, 30) and m.value == 2

    rows = sweep_and_list(hunan, "2022-11-15")
    assert len(rows) == 1  # 0001: 167 days; 0003: 45 days
    (row,) = rows
    assert row["level"] == "supervise" and row["addressed_to"] == "沅江市人民政府"
    assert "0001" in row["reason"] and "167 days" in row["reason"]
    # A member of 0001 found work: the escalation resolves at the next sweep.
    write(ledger, [*LEDGER[:1], "0001,沅江市,2022-06-01,2022-11-18,", *LEDGER[2:]])
    hunan.ok("import", "fishing-ban-households", str(ledger), as_of="2022-11-20")
    rows = sweep_and_list(hunan, "2022-11-20")
    assert len(rows) == 1 and rows[0]["resolved"]


def test_illegal_fishing_rising_two_quarters_summons(hunan, tmp_path):
    lines = ["地区,时间,非法捕捞案件,涉案人员"]
    for month, cases in (
        ("2022-01", 1),
        ("2022-02", 1),
        ("2022-03", 1),  # Q1: 3
        ("2022-04", 2),
        ("2022-05", 2),
        ("2022-06", 1),  # Q2: 5
        ("2022-07", 3),
        ("2022-08", 2),
        ("2022-09", 3),
    ):  # Q3: 8
        lines.append(f"沅江市,{month},{cases},{cases * 2}")
    lines += ["南县,2022-Q1,4,4", "南县,2022-Q2,2,2", "南县,2022-Q3,3,3"]  # fell, then rose: no
    hunan.ok("import", "fishing-ban", str(write(tmp_path / "cases.csv", lines)), as_of="2022-10-15")
    from duban.plugins.fishing_ban.rules import quarterly_cases

    with session_at(hunan, date(2022, 10, 15)) as s:
        ids = dict(
            s.exec(select(Region.name, Region.id).where(Region.name.in_(("沅江市", "南县")))).all()
        )
        by_county = quarterly_cases(s, date(2022, 9, 30), date(2022, 10, 15))
    # Monthly figures are summed into quarters.
    assert dict(by_county[ids["沅江市"]]) == {(2022, 1): 3, (2022, 2): 5, (2022, 3): 8}
    assert dict(by_county[ids["南县"]]) == {(2022, 1): 4, (2022, 2): 2, (2022, 3): 3}
    hunan.ok("sweep", as_of="2022-10-15")
    rows = [
        r
        for r in hunan.ok("escalations", "--format", "json", as_of="2022-10-15").json()
        if r["condition"].startswith("fishing_ban:cases_rising:")
    ]
    assert len(rows) == 1
    row = rows[0]
    # A summons of the county government, convened by the body above it.
    assert row["level"] == "summon" and row["addressed_to"] == "沅江市人民政府"
    assert row["convened_by"] == "益阳市人民政府"
    assert "2022Q1 3 → 2022Q2 5 → 2022Q3 8" in row["reason"]


def test_pension_below_full_at_year_end_supervises(hunan, tmp_path):
    hunan.ok(
        "import",
        "fishing-ban",
        str(example_file(tmp_path, "2022-12", "dec.csv")),
        as_of="2023-01-05",
    )
    rows = sweep_and_list(hunan, "2023-01-10")
    pension = {r["addressed_to"] for r in rows if r["condition"].startswith("fishing_ban:pension:")}
    # Every example county but 南县 (3540 of 3540) is below 100 %.
    assert pension == {f"{c}人民政府" for c, *_ in EXAMPLE_ROWS if c != "南县"}
    assert all(r["level"] == "supervise" for r in rows)


def test_threshold_is_configurable(hunan, tmp_path, monkeypatch):
    config = write(
        tmp_path / "duban.toml",
        ['[rules."fishing_ban.pension_below_full_at_year_end"]', "threshold = 99.0"],
    )
    monkeypatch.setenv("DUBAN_CONFIG", str(config))
    from duban.core.settings import reset_settings

    reset_settings()
    hunan.ok(
        "import",
        "fishing-ban",
        str(example_file(tmp_path, "2022-12", "dec.csv")),
        as_of="2023-01-05",
    )
    rows = sweep_and_list(hunan, "2023-01-10")
    # Only 君山区 (98.91 %) is below 99 %.
    assert {r["addressed_to"] for r in rows} == {"君山区人民政府"}
    reset_settings()


def test_plan_gets_the_default_pension_target_once(hunan):
    with session_at(hunan, date(2023, 1, 1)) as s:
        rows = s.exec(
            select(Obligation.code, Target.indicator, Target.comparator, Target.value)
            .join(Obligation, Obligation.id == Target.obligation_id)
            .where(Target.indicator.startswith("fishing_ban."))
        ).all()
    assert ("（二十）", "fishing_ban.pension_insurance_rate", "gte", 100.0) in rows
    assert sum(1 for r in rows if r[1] == "fishing_ban.zero_employment_fisher_households") == 1


def test_dashboard_panel(hunan, tmp_path):
    hunan.ok("import", "fishing-ban", str(example_file(tmp_path)), as_of="2022-12-05")
    hunan.ok(
        "import",
        "fishing-ban-households",
        str(write(tmp_path / "l.csv", LEDGER)),
        as_of="2022-12-05",
    )
    with session_at(hunan, date(2022, 12, 5)) as s:
        answers = dict(
            get_host().call("duban_dashboard_panels", session=s, as_of=date(2022, 12, 5))
        )
    (panel,) = answers["fishing_ban"]
    rows = {r.label: (r.value, r.tone) for r in panel.rows}
    assert rows["Withdrawn boats / fishers"] == ("20376 / 28588", "normal")
    assert rows["Pension insurance coverage"] == ("99.4%（28429/28588）", "warn")
    assert rows["Zero-employment households (open > 90 days)"] == ("2（1）", "bad")


def test_households_are_sites_without_names(hunan, tmp_path):
    hunan.ok(
        "import",
        "fishing-ban-households",
        str(write(tmp_path / "l.csv", LEDGER)),
        as_of="2022-12-05",
    )
    with session_at(hunan, date(2022, 12, 5)) as s:
        sites = s.exec(select(Site).where(Site.kind == "fisher_household")).all()
    assert sorted(site.key for site in sites) == [
        "fisher_household:430611:0003",
        "fisher_household:430921:0002",
        "fisher_household:430981:0001",
    ]


def test_plugin_listing(duban):
    plugins = {p["name"]: p for p in duban.ok("plugins", "--format", "json").json()}
    fb = plugins["fishing_ban"]
    assert fb["status"] == "ok" and fb["error"] is None
    assert {
        "fishing_ban.retired_fishers",
        "fishing_ban.pension_insurance_rate",
        "fishing_ban.employment_rate",
        "fishing_ban.zero_employment_fisher_households",
        "fishing_ban.illegal_fishing_cases",
        "fishing_ban.covert_checks",
        "fishing_ban.patrol_coverage_rate",
        "fishing_ban.aquatic_biotic_integrity_index",
        "fishing_ban.aquatic_resource_abundance",
    } <= set(fb["indicators"])
    assert set(fb["rules"]) == {
        "fishing_ban.zero_employment_household_open",
        "fishing_ban.illegal_fishing_rising",
        "fishing_ban.pension_below_full_at_year_end",
    }
    assert set(fb["importers"]) == {"fishing-ban", "fishing-ban-households"}
    indicators = get_host().indicators()
    assert indicators["fishing_ban.pension_insurance_rate"].aggregation == "rate"
    assert indicators["fishing_ban.zero_employment_fisher_households"].aggregation == "sum"


def test_every_fishing_ban_indicator_the_plan_names_is_registered():
    import yaml

    from duban.core.services.plans import builtin_plan_text

    plan = yaml.safe_load(builtin_plan_text())
    named = {
        tg["indicator"]
        for task in plan["tasks"]
        for tg in task.get("targets", [])
        if tg["indicator"].startswith("fishing_ban.")
    }
    assert named and named <= set(get_host().indicators())


def test_a_plugin_import_reads_the_sheet_named_by_sheet_option(hunan, tmp_path) -> None:
    """``duban import KIND --sheet NAME`` reaches the plugin's importer through the shared
    reader: both sheets fit, the named one is read."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "10月"
    book.active.append(["地区", "时间", "退捕渔船（艘）"])
    book.active.append(["沅江市", "2022-10", 4200])
    november = book.create_sheet("11月")
    november.append(["2022年11月退捕渔民统计表"])
    november.append(["地区", "时间", "退捕渔船（艘）"])
    november.append(["沅江市", 44895, 4210])  # 2022-11-30 as a serial number
    path = tmp_path / "boats.xlsx"
    book.save(path)
    summary = hunan.ok(
        "import", "fishing-ban", str(path), "--sheet", "11月", "--format", "json",
        as_of="2022-12-05",
    ).json()  # fmt: skip
    assert (summary["sheet"], summary["readings"]) == ("11月", 1)
    reading = latest(hunan, "fishing_ban.retired_boats", "沅江市", date(2022, 12, 5))
    assert (reading.value, reading.period_end) == (4210, date(2022, 11, 30))
    wrong = hunan("import", "fishing-ban", str(path), "--sheet", "12月")
    assert wrong.exit_code == 2 and "its sheets: 10月、11月" in wrong.stderr
