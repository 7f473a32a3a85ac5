"""The waste plugin end to end: the importer, rates by level, the rules in the sweep, the panel."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from duban.core.clock import FixedClock, local_midnight
from duban.core.db import get_engine, open_session
from duban.core.models import Measurement, Obligation, Region, Target
from duban.core.plugins import get_host
from duban.core.services.measurements import series

HEADER = (
    "地区,时间,生活垃圾清运量（吨）,无害化处理量（吨）,回收利用量（吨）,街道社区总数,已开展分类街道社区数,"
    "行政村总数,收转运覆盖行政村数,生活污水治理行政村数,渗滤液产生量（吨）,渗滤液处理量（吨）,备注"
)
# County towns' quarterly figures (tonnes, streets and communities, villages), 2024.
Q1 = [
    "浏阳市,2024-Q1,38500,38500,13860,,,323,323,142,5200,5200,",
    "宁乡市,2024-Q1,31200,31050,10920,,,278,270,101,4100,4020,",
    "长沙县,2024-Q1,42600,42600,16190,,,,,,6300,6300,",
    "芙蓉区,2024-Q1,,,,92,92,,,,,,",
    "天心区,2024-Q1,,,,81,78,,,,,,",
    "慈利县,2024-Q1,14800,14060,3850,,,427,402,120,2100,1890,",
    "桑植县,2024-Q1,11300,10960,2710,,,241,220,66,1500,1500,",
]
Q2 = [
    "浏阳市,2024-Q2,39800,39800,14300,,,,,,,,",
    "宁乡市,2024-Q2,32100,32100,11500,,,,,,,,",
    "长沙县,2024-Q2,43900,43900,16800,,,,,,,,",
    "慈利县,2024-Q2,15200,14600,3990,,,,,,,,填埋场扩容未完成",
    "桑植县,2024-Q2,11800,11700,2900,,,,,,,,",
]


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def session_at(duban, day: date):
    return open_session(get_engine(duban.url), actor="coord", clock=FixedClock(local_midnight(day)))


def at(duban, indicator: str, region: str, day: date, period_end: date) -> Measurement:
    with session_at(duban, day) as s:
        rid = s.exec(select(Region.id).where(Region.name == region)).one()
        found = [
            m
            for m in series(session=s, indicator=indicator, region_id=rid, until=day)
            if m.period_end == period_end
        ]
    assert len(found) == 1, found
    return found[0]


Q1_END = date(2024, 3, 31)


def test_import_computes_rates_by_county_city_and_province(hunan, tmp_path):
    out = hunan.ok(
        "import",
        "waste",
        str(write(tmp_path / "q1.csv", [HEADER, *Q1])),
        "--format",
        "json",
        as_of="2024-04-20",
    ).json()
    assert out["rows"] == 7 and out["updated"] == 0
    day = date(2024, 4, 20)
    # County: its own tonnages.
    m = at(hunan, "waste.county_town_harmless_treatment_rate", "慈利县", day, Q1_END)
    assert (m.numerator, m.denominator) == (14060, 14800) and m.value == pytest.approx(95.0)
    # City: 长沙市 = 浏阳市 + 宁乡市 + 长沙县 (summed tonnes, then divided).
    m = at(hunan, "waste.county_town_harmless_treatment_rate", "长沙市", day, Q1_END)
    assert (m.numerator, m.denominator) == (38500 + 31050 + 42600, 38500 + 31200 + 42600)
    assert m.value == pytest.approx(100 * 112150 / 112300)
    # Province: 长沙市's and 张家界市's counties together.
    m = at(hunan, "waste.county_town_harmless_treatment_rate", "湖南省", day, Q1_END)
    assert (m.numerator, m.denominator) == (137170, 138400)
    assert m.value == pytest.approx(99.1113, abs=1e-4)
    assert at(hunan, "waste.household_waste_collected", "湖南省", day, Q1_END).value == 138400
    m = at(hunan, "waste.recovery_rate", "张家界市", day, Q1_END)
    assert (m.numerator, m.denominator) == (3850 + 2710, 14800 + 11300)
    m = at(hunan, "waste.sorting_coverage_rate", "长沙市", day, Q1_END)
    assert (m.numerator, m.denominator) == (170, 173) and m.value == pytest.approx(
        98.2659, abs=1e-4
    )
    m = at(hunan, "waste.rural_collection_coverage_rate", "湖南省", day, Q1_END)
    assert (m.numerator, m.denominator) == (323 + 270 + 402 + 220, 323 + 278 + 427 + 241)
    # The rural sewage figures go to the water plugin's indicator.
    m = at(hunan, "water.rural_sewage_treatment_rate", "湖南省", day, Q1_END)
    assert (m.numerator, m.denominator) == (142 + 101 + 120 + 66, 1269)
    m = at(hunan, "waste.leachate_treatment_rate", "湖南省", day, Q1_END)
    assert (m.numerator, m.denominator) == (
        5200 + 4020 + 6300 + 1890 + 1500,
        5200 + 4100 + 6300 + 2100 + 1500,
    )


def test_xlsx_with_a_sorting_system_column(hunan, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["地区", "时间", "建成分类处理系统"])
    for row in (
        ("长沙市", 2025, "是"),
        ("浏阳市", 2025, "是"),
        ("张家界市", 2025, "否"),
        ("慈利县", 2025, "否"),
    ):
        book.active.append(list(row))
    book.save(tmp_path / "systems.xlsx")
    hunan.ok("import", "waste", str(tmp_path / "systems.xlsx"), as_of="2025-06-01")
    day, end = date(2026, 1, 5), date(2025, 12, 31)
    assert at(hunan, "waste.cities_with_sorting_system", "湖南省", day, end).value == 1
    assert at(hunan, "waste.county_level_cities_with_sorting_system", "长沙市", day, end).value == 1
    assert (
        at(hunan, "waste.county_level_cities_with_sorting_system", "张家界市", day, end).value == 0
    )


def test_bad_rows_name_row_and_column_and_write_nothing(hunan, tmp_path, fingerprint):
    rows = [
        HEADER,
        Q1[0],
        "宁乡市,2024-Q1,31200,31900,10920,,,,,,,,",  # treated > collected
        "芙蓉区,2024-Q1,,,,92,,,,,,,",  # coverage without its part
        "慈利县,2024-13,100,90,10,,,,,,,,",
    ]  # no 13th month
    before = fingerprint(hunan.url)
    result = hunan("import", "waste", str(write(tmp_path / "bad.csv", rows)), as_of="2024-04-20")
    assert result.exit_code != 0 and "3 bad row(s); nothing was imported" in result.stderr
    assert (
        "bad.csv:3:D (无害化处理量（吨）): greater than 生活垃圾清运量（吨） (31200)"
        in result.stderr
    )
    assert (
        "bad.csv:4:G (已开展分类街道社区数): 街道社区总数 is given, so this column is needed too"
        in result.stderr
    )
    assert "bad.csv:5:B (时间):" in result.stderr
    assert fingerprint(hunan.url) == before
    systems = write(
        tmp_path / "s.csv", ["地区,时间,建成分类处理系统", "芙蓉区,2025,是", "长沙市,2025,可能"]
    )
    result = hunan("import", "waste", str(systems), as_of="2025-06-01")
    assert "s.csv:2:C (建成分类处理系统): 芙蓉区 is a district or zone" in result.stderr
    assert "s.csv:3:C (建成分类处理系统): answer 是 or 否, not '可能'" in result.stderr
    assert fingerprint(hunan.url) == before


def waste_escalations(duban, day: str) -> list[dict]:
    duban.ok("sweep", as_of=day)
    return [
        r
        for r in duban.ok("escalations", "--format", "json", as_of=day).json()
        if r["condition"].startswith("waste:")
    ]


def test_harmless_rate_below_target_twice_supervises_in_the_sweep(hunan, tmp_path):
    hunan.ok("import", "waste", str(write(tmp_path / "q1.csv", [HEADER, *Q1])), as_of="2024-04-20")
    # One report below 97 % is not enough.
    assert waste_escalations(hunan, "2024-04-20") == []
    hunan.ok("import", "waste", str(write(tmp_path / "q2.csv", [HEADER, *Q2])), as_of="2024-07-15")
    rows = waste_escalations(hunan, "2024-07-15")
    # 慈利县: 95.00 % then 96.05 %; 桑植县 recovered to 99.15 % in Q2.
    assert [(r["addressed_to"], r["level"]) for r in rows] == [("慈利县人民政府", "supervise")]
    assert "2024-03-31 95.00%" in rows[0]["reason"] and "2024-06-30 96.05%" in rows[0]["reason"]


def test_a_sweep_as_of_an_earlier_day_sees_the_figures_known_then(hunan, tmp_path):
    """Q2's figures came in on 15 July: a dry run as of 10 July (after Q2 ended, before they
    were recorded) sees Q1's alone, one report below 97 %, and finds nothing; as of 16 July
    it finds 慈利县 (the rule reads through ``api.readings_as_of``)."""
    hunan.ok("import", "waste", str(write(tmp_path / "q1.csv", [HEADER, *Q1])), as_of="2024-04-20")
    hunan.ok("import", "waste", str(write(tmp_path / "q2.csv", [HEADER, *Q2])), as_of="2024-07-15")

    def found(day: str) -> list[str]:
        result = hunan.ok("sweep", "--dry-run", "--format", "json", as_of=day).json()
        return [
            c["addressed_to"]
            for c in result["changes"]
            if c["rule"] == "waste.harmless_below_target"
        ]

    assert found("2024-07-10") == []
    assert found("2024-07-16") == ["慈利县人民政府"]


def test_no_sorting_system_at_the_deadline_lists_the_city(hunan, tmp_path):
    systems = write(
        tmp_path / "s.csv",
        [
            "地区,时间,建成分类处理系统",
            "长沙市,2025,是",
            "浏阳市,2025,是",
            "张家界市,2025,否",
            "慈利县,2025,否",
        ],
    )
    hunan.ok("import", "waste", str(systems), as_of="2025-06-01")
    assert waste_escalations(hunan, "2025-12-30") == []  # before the deadline
    rows = waste_escalations(hunan, "2026-01-05")
    found = {(r["addressed_to"], r["condition"].split(":")[2]) for r in rows}
    assert ("张家界市人民政府", "city") in found and ("张家界市人民政府", "county_level") in found
    assert ("株洲市人民政府", "city") in found  # never reported: no system
    assert not any(name == "长沙市人民政府" for name, _ in found)
    # 湘西州 is a 市州 but not a prefecture-level city: only its county-level cities are judged.
    assert ("湘西土家族苗族自治州人民政府", "city") not in found
    assert all(r["level"] == "list" for r in rows)


def test_plan_gets_default_targets_without_duplicates(hunan):
    with session_at(hunan, date(2024, 1, 1)) as s:
        rows = s.exec(
            select(Obligation.code, Target.indicator, Target.value, Region.name)
            .join(Obligation, Obligation.id == Target.obligation_id)
            .join(Region, Region.id == Target.region_id)
            .where(Target.indicator.startswith("waste."))
        ).all()
    assert ("（六）", "waste.cities_with_sorting_system", 13.0, "湖南省") in rows
    assert ("（六）", "waste.county_level_cities_with_sorting_system", 1.0, "张家界市") in rows
    assert ("（八）", "waste.rural_collection_coverage_rate", 90.0, "湖南省") in rows
    # The plan states these itself: not added again.
    assert sum(1 for r in rows if r[1] == "waste.county_town_harmless_treatment_rate") == 1
    assert sum(1 for r in rows if r[1] == "waste.sorting_coverage_rate") == 1
    county_level = {r[3] for r in rows if r[1] == "waste.county_level_cities_with_sorting_system"}
    assert len(county_level) == 14


def test_dashboard_panel(hunan, tmp_path):
    hunan.ok("import", "waste", str(write(tmp_path / "q1.csv", [HEADER, *Q1])), as_of="2024-04-20")
    with session_at(hunan, date(2024, 4, 20)) as s:
        answers = dict(
            get_host().call("duban_dashboard_panels", session=s, as_of=date(2024, 4, 20))
        )
    (panel,) = answers["waste"]
    rows = {r.label: (r.value, r.tone) for r in panel.rows}
    assert rows["County-town harmless treatment"] == ("99.1%（2024-03-31）", "good")
    assert rows["Rural sewage treatment"][1] == "warn"  # 33.8 % < 35 %


def test_plugin_listing(duban):
    plugins = {p["name"]: p for p in duban.ok("plugins", "--format", "json").json()}
    waste = plugins["waste"]
    assert waste["status"] == "ok" and waste["importers"] == ["waste"]
    assert {
        "waste.county_town_harmless_treatment_rate",
        "waste.recovery_rate",
        "waste.sorting_coverage_rate",
        "waste.cities_with_sorting_system",
        "waste.county_level_cities_with_sorting_system",
        "waste.rural_collection_coverage_rate",
        "waste.leachate_treatment_rate",
    } <= set(waste["indicators"])
    assert set(waste["rules"]) == {
        "waste.harmless_below_target",
        "waste.no_sorting_system_at_deadline",
    }
    assert (
        get_host().indicators()["waste.county_town_harmless_treatment_rate"].aggregation == "rate"
    )
