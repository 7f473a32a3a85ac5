"""The water plugin end to end: the CLI, the importers, the indicators, the rules, the sweep."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from duban.core.clock import FixedClock, local_midnight
from duban.core.contributions import SweepContext
from duban.core.db import get_engine, open_session
from duban.core.models import Measurement, Owner, Site, Target
from duban.core.plugins import get_host

# Ammonia nitrogen alone sets these classes on a river (GB 3838 Table 1).
NH3N_CLASS = {"II": 0.4, "III": 0.9, "IV": 1.4, "V": 1.9, "劣V": 2.5}


def classify(duban, *args: str) -> dict:
    return duban.ok("water", "classify", *args, "--format", "json").json()


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def readings_file(
    tmp_path: Path, rows: list[tuple[str, str, dict[str, float]]], name: str = "r.csv"
) -> Path:
    params = sorted({p for _, _, values in rows for p in values})
    lines = [",".join(["断面", "监测时间", *params])]
    for section, period, values in rows:
        lines.append(",".join([section, period, *(str(values.get(p, "")) for p in params)]))
    return write(tmp_path / name, "\n".join(lines) + "\n")


def import_monthly(duban, tmp_path: Path, rows: list[tuple[str, str, dict[str, float]]]) -> None:
    """Each month's readings imported as an office receives them: on the 5th of the next
    month (a read as of an earlier day does not see them)."""
    for month in sorted({period for _, period, _ in rows}):
        year, number = map(int, month.split("-"))
        day = date(year + number // 12, number % 12 + 1, 5)
        path = readings_file(tmp_path, [r for r in rows if r[1] == month], f"{month}.csv")
        duban.ok("import", "water-readings", str(path), as_of=day.isoformat())


def session_at(duban, day: date):
    return open_session(get_engine(duban.url), actor="coord", clock=FixedClock(local_midnight(day)))


def count(duban, model, *where) -> int:
    with session_at(duban, date(2025, 1, 1)) as s:
        return len(s.exec(select(model).where(*where)).all())


# Classification through the CLI ----------------------------------------------------------


def test_classify_prints_class_limiting_and_per_parameter(duban):
    out = classify(duban, "pH=7.2", "DO=6.5", "NH3-N=0.8", "总磷=0.12")
    assert out == {
        "class": "III",
        "limiting": ["NH3-N", "TP"],
        "per_parameter": {"pH": "I", "DO": "II", "NH3-N": "III", "TP": "III"},
    }


def test_classify_river_and_lake_phosphorus(duban):
    assert classify(duban, "TP=0.1")["class"] == "II"
    assert classify(duban, "TP=0.1", "--lake")["class"] == "IV"
    # Total nitrogen is assessed for lakes only.
    assert classify(duban, "TP=0.01", "TN=1.8")["class"] == "I"
    lake = classify(duban, "TP=0.01", "TN=1.8", "--lake")
    assert lake["class"] == "V" and lake["limiting"] == ["TN"]


def test_classify_worse_than_v_and_ph_out_of_range(duban):
    out = classify(duban, "氨氮=2.5", "COD=45", "DO=6")
    assert out["class"] == "劣V" and out["limiting"] == ["COD", "NH3-N"]
    assert classify(duban, "pH=9.5", "NH3-N=0.1")["per_parameter"]["pH"] == "劣V"
    assert classify(duban, "pH=6", "NH3-N=0.1")["class"] == "I"  # a limit belongs to its class


def test_classify_table2_items_do_not_set_the_class(duban):
    out = classify(duban, "NH3-N=0.1", "Mn=0.3")
    assert out["class"] == "I" and out["per_parameter"]["Mn"] == "超标"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("foo=1",), "'foo': unknown GB 3838 parameter"),
        (("TP=-0.1",), "'TP=-0.1': a concentration cannot be negative"),
        (("TP=abc",), "'abc' is not a number"),
        (("TP",), "expected PARAM=VALUE"),
        (("pH=15",), "pH must be between 0 and 14"),
    ],
)
def test_classify_bad_input(duban, args, needle):
    result = duban("water", "classify", *args)
    assert result.exit_code == 2 and needle in result.stderr and "Traceback" not in result.stderr


# Sections --------------------------------------------------------------------------------


def test_builtin_sections_are_attached_with_their_targets(hunan):
    rows = {r["key"]: r for r in hunan.ok("water", "sections", "list", "--format", "json").json()}
    assert {
        "huanggai-lake",
        "datong-lake",
        "biancheng",
        "zhengshui-xiangjiang-mouth",
        "liumenzha",
        "majiaping-power-station",
        "longyingang-meiqiao",
        "huarong-donghu",
    } <= set(rows)
    assert rows["zhengshui-xiangjiang-mouth"]["region"] == "衡阳市"
    assert (
        rows["datong-lake"]["water_body"] == "lake" and rows["datong-lake"]["control"] == "national"
    )
    assert rows["huarong-donghu"]["target_class"] == "V"
    # The plan's own sites were matched, not duplicated.
    assert count(hunan, Site, Site.name.like("%华容东湖%")) == 1
    # The five national sections now carry class targets under task （五）.
    with session_at(hunan, date(2025, 1, 1)) as s:
        site = s.exec(select(Site).where(Site.key == "huanggai-lake")).one()
        target = s.exec(select(Target).where(Target.site_id == site.id)).one()
        assert (target.indicator, target.comparator, target.value) == (
            "water.section_class",
            "lte",
            3.0,
        )


SECTIONS_CSV = """断面编码,断面名称,所在地区,河流湖库,水体类型,考核级别,水质目标,所属水域,饮用水水源地
HN-0101,湘江长沙段,长沙市,湘江,河流,国考,II类,xiang-mainstem,
HN-0102,浏阳河口,长沙市,浏阳河,河流,国考,Ⅲ,,
HN-0103,株树桥水库,浏阳市,株树桥水库,水库,省考,II,,县级
HN-0301,湘潭湘江,湘潭市,湘江,河流,国考,3,xiang-mainstem,地级
黄盖湖,黄盖湖,临湘市,黄盖湖,湖库,国考,III类,,
"""


def test_sections_import_creates_updates_and_is_idempotent(hunan, tmp_path):
    path = write(tmp_path / "sections.csv", SECTIONS_CSV)
    before = count(hunan, Site)
    out = hunan.ok("water", "sections", "import", str(path), "--format", "json").json()
    assert (out["rows"], out["created"], out["updated"]) == (5, 4, 1)
    assert count(hunan, Site) == before + 4  # 黄盖湖 was matched by name
    rows = {r["key"]: r for r in hunan.ok("water", "sections", "list", "--format", "json").json()}
    assert rows["hn-0103"] == {
        **rows["hn-0103"],
        "water_body": "lake",
        "control": "provincial",
        "target_class": "II",
        "region": "浏阳市",
        "drinking_source": "county",
    }
    assert rows["hn-0301"]["target_class"] == "III" and rows["hn-0301"]["group"] == "xiang-mainstem"
    assert rows["huanggai-lake"]["code"] == "黄盖湖"
    again = hunan.ok("import", "water-sections", str(path), "--format", "json").json()
    assert again["unchanged"] == 5 and count(hunan, Site) == before + 4


@pytest.mark.parametrize(
    ("row", "needle"),
    [
        ("HN-9,某断面,火星市,湘江,河流,国考,II,,", ":3, column region: unknown region '火星市'"),
        (
            "HN-9,某断面,长沙市,湘江,河流,国考,VI,,",
            ":3, column target_class: 'VI' is not a water class",
        ),
        ("HN-9,某断面,长沙市,湘江,海洋,国考,II,,", ":3, column water_body: '海洋' is not one of"),
        ("HN-9,,长沙市,湘江,河流,国考,II,,", ":3, column name: a section needs a name"),
    ],
)
def test_sections_import_bad_row_names_row_and_column_and_writes_nothing(
    hunan, tmp_path, row, needle
):
    lines = SECTIONS_CSV.splitlines()
    path = write(tmp_path / "bad.csv", "\n".join([lines[0], lines[1], row, lines[3]]) + "\n")
    before = count(hunan, Site)
    result = hunan("water", "sections", "import", str(path))
    assert result.exit_code == 2 and needle in result.stderr, result.stderr
    assert count(hunan, Site) == before


def test_sections_import_unknown_column(hunan, tmp_path):
    path = write(tmp_path / "bad.csv", "断面名称,颜色\n某断面,蓝\n")
    result = hunan("water", "sections", "import", str(path))
    assert result.exit_code == 2 and "bad.csv:1:B: unknown column '颜色'" in result.stderr


# Readings --------------------------------------------------------------------------------


def test_readings_bad_values_name_row_and_column_and_write_nothing(hunan, tmp_path):
    path = write(
        tmp_path / "r.csv",
        "断面,监测时间,氨氮,总磷\n"
        "边城,2024-06,0.4,0.05\n"
        "边城,2024-07,-0.2,0.05\n"
        "火星断面,2024-08,0.4,0.05\n"
        "边城,2024-13,0.4,0.05\n",
    )
    result = hunan("import", "water-readings", str(path), as_of="2025-01-10")
    assert result.exit_code == 2
    assert "3 bad row(s); nothing was imported" in result.stderr
    assert "r.csv:3:C (氨氮): '-0.2' is not a concentration" in result.stderr
    assert "r.csv:4:A (断面): unknown section '火星断面'" in result.stderr
    assert "r.csv:5:B (监测时间)" in result.stderr
    assert count(hunan, Measurement, Measurement.indicator.like("water.%")) == 0


def test_readings_unknown_parameter_column(hunan, tmp_path):
    path = write(tmp_path / "r.csv", "断面,监测时间,氨氮,叶绿素z\n边城,2024-06,0.4,3\n")
    result = hunan("import", "water-readings", str(path), as_of="2025-01-10")
    assert result.exit_code == 2
    assert "r.csv:1:D, column '叶绿素z': unknown parameter" in result.stderr
    assert count(hunan, Measurement, Measurement.indicator.like("water.%")) == 0


def test_readings_store_parameters_and_the_computed_class(hunan, tmp_path):
    path = readings_file(tmp_path, [("边城", "2024-06", {"NH3-N": 1.4, "TP": "0.02L", "水温": 21})])
    out = hunan.ok(
        "import", "water-readings", str(path), "--format", "json", as_of="2025-01-10"
    ).json()
    assert (out["readings"], out["inserted"]) == (2, 2)
    with session_at(hunan, date(2025, 1, 10)) as s:
        values = {
            m.indicator: (m.value, m.note)
            for m in s.exec(select(Measurement).where(Measurement.subject == "site:biancheng"))
        }
    assert values["water.param.nh3_n"][0] == 1.4
    assert values["water.param.tp"][0] == 0.01  # below the detection limit: half of it
    assert values["water.section_class"] == (4.0, "NH3-N")
    again = hunan.ok(
        "import", "water-readings", str(path), "--format", "json", as_of="2025-01-10"
    ).json()
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 2)


# Indicators at section, city and province level ------------------------------------------


def test_rates_by_section_city_province_and_lake(hunan, tmp_path):
    hunan.ok("water", "sections", "import", str(write(tmp_path / "s.csv", SECTIONS_CSV)))
    month = "2024-06"
    rows = [  # national sections: 长沙 2 (II, 劣V), 湘潭 1 (IV), 衡阳 1 (III), 湘西 边城 (V), 岳阳 黄盖湖 (I lake)
        ("HN-0101", month, {"NH3-N": NH3N_CLASS["II"]}),
        ("HN-0102", month, {"NH3-N": NH3N_CLASS["劣V"]}),
        ("HN-0301", month, {"NH3-N": NH3N_CLASS["IV"], "Mn": 0.05}),
        ("蒸水入湘江口", month, {"NH3-N": NH3N_CLASS["III"]}),
        ("边城", month, {"NH3-N": NH3N_CLASS["V"], "Mn": 0.4}),
        ("黄盖湖", month, {"NH3-N": 0.1, "TP": 0.01, "TN": 0.2}),
        ("HN-0103", month, {"NH3-N": 0.1, "Mn": 0.2}),  # provincial: a drinking source, not counted
    ]
    hunan.ok("import", "water-readings", str(readings_file(tmp_path, rows)), as_of="2025-01-10")
    with session_at(hunan, date(2025, 1, 10)) as s:
        stored = {
            (m.indicator, m.subject): m
            for m in s.exec(select(Measurement).where(Measurement.period_start == date(2024, 6, 1)))
        }
    cls = "water.section_class"
    assert (
        stored[(cls, "site:hn-0102")].value == 6 and stored[(cls, "site:huanggai-lake")].value == 1
    )
    # By hand: province 6 national sections assessed, good = II, III, I = 3 -> 50 %; 劣V 1 -> 16.67 %.
    province = stored[("water.national_section_good_quality_rate", "region:430000")]
    assert (province.numerator, province.denominator, province.value) == (3, 6, 50.0)
    assert stored[("water.worse_than_v_share", "region:430000")].value == 16.67
    changsha = stored[("water.national_section_good_quality_rate", "region:430100")]
    assert (changsha.numerator, changsha.denominator, changsha.value) == (1, 2, 50.0)
    assert stored[("water.national_section_good_quality_rate", "region:430300")].value == 0.0
    assert stored[("water.national_section_good_quality_rate", "region:430400")].value == 100.0
    # The Xiang mainstem reach: members HN-0101 (II) and HN-0301 (IV): worst IV, 1 of 2 good.
    assert stored[(cls, "site:xiang-mainstem")].value == 4
    assert stored[("water.national_section_good_quality_rate", "site:xiang-mainstem")].value == 50.0
    # Manganese at the section, and drinking sources: 株树桥 (county) fails on Mn, 湘潭 (prefecture) is IV.
    assert stored[("water.manganese", "site:biancheng")].value == 0.4
    assert stored[("water.county_drinking_source_compliance", "region:430000")].value == 0.0
    assert stored[("water.prefecture_drinking_source_compliance", "region:430300")].value == 0.0
    table = {
        r["scope"]: r
        for r in hunan.ok(
            "water", "rates", "--period", month, "--format", "json", as_of="2025-01-10"
        ).json()
    }
    assert (
        table["region:430000"]["good_rate"] == 50.0 and table["region:433100"]["worse_than_v"] == 0
    )
    # A year: classes from each parameter's mean over the year (one month here: the same).
    assert (
        hunan.ok(
            "water", "rates", "--period", "2024", "--format", "json", as_of="2025-01-10"
        ).json()[0]["good"]
        == 3
    )


def test_manganese_targets_of_the_plan_are_evaluated(hunan, tmp_path):
    rows = [
        ("花垣河国控断面", "2023-11", {"NH3-N": 0.2, "Mn": 0.25}),
        ("兄弟河国控断面", "2023-11", {"NH3-N": 0.2, "Mn": 0.45}),
    ]
    hunan.ok("import", "water-readings", str(readings_file(tmp_path, rows)), as_of="2024-01-05")
    with session_at(hunan, date(2024, 1, 5)) as s:
        from duban.core.services.evaluation import evaluate

        found = {}
        for target in s.exec(select(Target).where(Target.indicator == "water.manganese")):
            site = s.get(Site, target.site_id)
            found[site.key] = evaluate(session=s, target=target, as_of=date(2024, 1, 5))
    assert found["huayuan-river-mn"].latest_value == 0.25
    assert found["xiongdi-river-mn"].latest_value == 0.45
    assert found["huayuan-river-mn"].status == "met", found["huayuan-river-mn"]
    assert found["xiongdi-river-mn"].status == "missed", found["xiongdi-river-mn"]


def test_section_class_targets_are_judged_by_gb3838_class(hunan, tmp_path):
    from duban.core.services.evaluation import evaluate

    rows = [
        ("马家坪电站断面", "2024-04", {"NH3-N": NH3N_CLASS["劣V"]}),
        ("马家坪电站断面", "2024-05", {"NH3-N": NH3N_CLASS["V"]}),
        ("华容东湖断面", "2024-05", {"NH3-N": NH3N_CLASS["劣V"]}),
    ]
    import_monthly(hunan, tmp_path, rows)

    def status(key: str, day: date) -> str:
        with session_at(hunan, day) as s:
            site = s.exec(select(Site).where(Site.key == key)).one()
            target = s.exec(
                select(Target).where(
                    Target.site_id == site.id, Target.indicator == "water.section_class"
                )
            ).one()
            return evaluate(session=s, target=target, as_of=day).status

    assert status("majiaping-power-station", date(2024, 5, 10)) == "off_track"  # April: 劣V
    assert status("majiaping-power-station", date(2024, 6, 10)) == "at_risk"  # V now, 劣V before
    assert status("huarong-donghu", date(2024, 6, 10)) == "off_track"
    assert status("huarong-donghu", date(2024, 6, 1)) == "no_data"  # May's not yet received
    assert status("huarong-donghu", date(2026, 1, 10)) == "stale"


# Rules -----------------------------------------------------------------------------------

# 蒸水入湘江口 (衡阳市, national, target III): Jul II, Aug-Oct IV, Nov II, Dec IV.
ZHENGSHUI = [
    ("蒸水入湘江口", f"2024-{m:02d}", {"NH3-N": NH3N_CLASS[c]})
    for m, c in ((7, "II"), (8, "IV"), (9, "IV"), (10, "IV"), (11, "II"), (12, "IV"))
]


@pytest.fixture
def zhengshui(hunan, tmp_path):
    import_monthly(hunan, tmp_path, ZHENGSHUI)
    return hunan


def run_rule(duban, key: str, day: date) -> list:
    rule = get_host().rules()[key]
    with session_at(duban, day) as s:
        return list(rule.evaluate(SweepContext(session=s, as_of=day, config=dict(rule.defaults))))


def hengyang_government(duban) -> int:
    with session_at(duban, date(2025, 1, 1)) as s:
        return s.exec(select(Owner.id).where(Owner.name == "衡阳市人民政府")).one()


SECTION_RULES = (
    "water.section_worse_than_target",
    "water.section_worse_consecutive",
    "water.section_worse_at_year_end",
)


@pytest.mark.parametrize(
    ("day", "fired", "level", "months"),
    [
        (date(2024, 9, 15), "water.section_worse_than_target", "supervise", 1),  # August: IV
        (date(2024, 11, 10), "water.section_worse_consecutive", "list", 3),  # Aug-Oct: IV
        (date(2024, 12, 10), None, None, 0),  # November: II
        (date(2025, 1, 10), "water.section_worse_at_year_end", "summon", 1),  # December: IV
    ],
)
def test_section_rules_fire_one_rung_at_a_time(zhengshui, day, fired, level, months):
    findings = {key: run_rule(zhengshui, key, day) for key in SECTION_RULES}
    for key, found in findings.items():
        if key != fired:
            assert found == [], key
    if fired is None:
        return
    (f,) = findings[fired]
    assert f.level == level and f.addressed_to_id == hengyang_government(zhengshui)
    assert f.condition.endswith(":worse_than_target") and f.subject_type == "target"
    assert f"({months} consecutive month(s))" in f.reason_en and "劣于考核目标III类" in f.reason


def test_water_reads_the_readings_known_then(hunan, tmp_path):
    """August's reading (IV) arrives on 5 September and is corrected to II on 20 September:
    the section rule, the class target, the panel and `water rates` as of each day see what
    was known that day."""
    august = [("蒸水入湘江口", "2024-08", {"NH3-N": NH3N_CLASS["IV"]})]
    import_monthly(hunan, tmp_path, august)
    corrected = [("蒸水入湘江口", "2024-08", {"NH3-N": NH3N_CLASS["II"]})]
    path = readings_file(tmp_path, corrected, "corrected.csv")
    hunan.ok("import", "water-readings", str(path), as_of="2024-09-20")
    before, known, after = date(2024, 9, 1), date(2024, 9, 15), date(2024, 9, 25)

    def rule(day: date) -> list[str]:
        return [f.level for f in run_rule(hunan, "water.section_worse_than_target", day)]

    assert (rule(before), rule(known), rule(after)) == ([], ["supervise"], [])

    def target_status(day: date) -> str:
        from duban.core.services.evaluation import evaluate

        with session_at(hunan, day) as s:
            site = s.exec(select(Site).where(Site.name == "蒸水入湘江口")).one()
            target = s.exec(
                select(Target).where(
                    Target.site_id == site.id, Target.indicator == "water.section_class"
                )
            ).one()
            return evaluate(session=s, target=target, as_of=day).status

    assert [target_status(d) for d in (before, known, after)] == ["no_data", "off_track", "met"]

    def worst(day: date) -> list[str]:
        with session_at(hunan, day) as s:
            answers = dict(get_host().call("duban_dashboard_panels", session=s, as_of=day))
        return [r.value for r in answers["water"][1].rows] if "water" in answers else []

    assert worst(before) == [] and worst(known) == ["IV / III (NH3-N)"]
    assert worst(after) == ["II / III (NH3-N)"]

    def good(day: date) -> list[int]:
        rows = hunan.ok(
            "water", "rates", "--period", "2024-08", "--format", "json", as_of=day.isoformat()
        ).json()
        return [r["good"] for r in rows if r["name"] == "衡阳市"]

    assert (good(before), good(known), good(after)) == ([], [0], [1])


def test_stale_readings_are_not_judged(zhengshui):
    assert all(run_rule(zhengshui, key, date(2025, 6, 1)) == [] for key in SECTION_RULES)


@pytest.fixture
def hengyang_target(zhengshui, tmp_path, monkeypatch):
    config = write(
        tmp_path / "duban.toml", '[water]\ncity_good_rate_targets = { "衡阳市" = 100 }\n'
    )
    monkeypatch.setenv("DUBAN_CONFIG", str(config))
    return zhengshui


def test_city_good_rate_off_track_supervises(hengyang_target):
    # Jul-Oct means: NH3-N (0.4 + 1.4 x 3) / 4 = 1.15 -> IV: 0 of 1 good, below 100 %.
    (f,) = run_rule(hengyang_target, "water.city_good_rate_off_track", date(2024, 11, 10))
    assert f.level == "supervise" and f.subject_type == "region"
    assert f.addressed_to_id == hengyang_government(hengyang_target)
    assert "0.0% so far in 2024 (0 of 1)" in f.reason_en
    # July alone (II) is on track.
    assert run_rule(hengyang_target, "water.city_good_rate_off_track", date(2024, 8, 10)) == []


def test_city_missing_year_end_good_rate_is_frozen(hengyang_target):
    (f,) = run_rule(hengyang_target, "water.city_good_rate_missed", date(2025, 1, 10))
    assert f.level == "freeze" and f.condition == f"water:good_rate:{f.region_id}:2024"
    assert "missed its 2024 target" in f.reason_en
    off = run_rule(hengyang_target, "water.city_good_rate_off_track", date(2024, 11, 10))
    assert off[0].condition == f.condition  # the same escalation climbs from supervise to freeze


def test_city_target_rows_count_too(zhengshui):
    with session_at(zhengshui, date(2025, 1, 10)) as s:
        from duban.core.models import Region
        from duban.core.services.obligations import new_uid

        hengyang = s.exec(select(Region).where(Region.code == "430400")).one()
        ob = s.exec(
            select(Target.obligation_id).where(
                Target.indicator == "water.national_section_good_quality_rate"
            )
        ).first()
        s.add(
            Target(
                obligation_id=ob,
                indicator="water.national_section_good_quality_rate",
                comparator="gte",
                value=90.0,
                due=date(2024, 12, 31),
                region_id=hengyang.id,
                uid=new_uid(),
                updated_at=local_midnight(date(2025, 1, 10)),
            )
        )
    (f,) = run_rule(zhengshui, "water.city_good_rate_missed", date(2025, 1, 10))
    assert f.condition.startswith(f"region:{f.region_id}:target:") and f.level == "freeze"


# The sweep, the dashboard, the plugin listing ---------------------------------------------


def test_sweep_opens_and_climbs_the_section_escalation(zhengshui):
    from duban.core.cli import COMMANDS

    if "sweep" not in COMMANDS:
        pytest.skip("`duban sweep` is not registered yet")
    zhengshui.ok("sweep", as_of="2024-09-15")
    zhengshui.ok("sweep", as_of="2024-11-10")
    rows = [
        r
        for r in zhengshui.ok("escalations", "--format", "json").json()
        if r["condition"].startswith("water:section:")
    ]
    assert (
        len(rows) == 1
        and rows[0]["level"] == "list"
        and rows[0]["addressed_to"] == "衡阳市人民政府"
    )
    zhengshui.ok("sweep", as_of="2024-12-10")  # November met the target: resolved
    rows = [
        r
        for r in zhengshui.ok("escalations", "--format", "json").json()
        if r["condition"].startswith("water:section:")
    ]
    assert len(rows) == 1 and rows[0]["resolved"]


def test_dashboard_panels(zhengshui):
    with session_at(zhengshui, date(2024, 11, 10)) as s:
        answers = dict(
            get_host().call("duban_dashboard_panels", session=s, as_of=date(2024, 11, 10))
        )
    by_class, worst = answers["water"]
    assert by_class.title_en == "Sections by water class (2024-10)"
    assert [(r.label, r.value, r.tone) for r in by_class.rows] == [
        ("衡阳市", "I–III 0 · IV 1 · V 0 · 劣V 0", "warn")
    ]
    assert (
        worst.rows[0].label == "蒸水入湘江口 · 衡阳市" and worst.rows[0].value == "IV / III (NH3-N)"
    )
    assert worst.rows[0].tone == "bad"


def test_plugin_is_listed_with_its_indicators_and_rules(duban):
    plugins = {p["name"]: p for p in duban.ok("plugins", "--format", "json").json()}
    water = plugins["water"]
    assert water["status"] == "ok" and water["error"] is None
    assert {
        "water.section_class",
        "water.national_section_good_quality_rate",
        "water.worse_than_v_share",
        "water.manganese",
        "water.county_drinking_source_compliance",
        "water.param.nh3_n",
        "water.param.mn",
    } <= set(water["indicators"])
    assert set(water["rules"]) == {
        *SECTION_RULES,
        "water.city_good_rate_off_track",
        "water.city_good_rate_missed",
    }
    assert set(water["importers"]) == {"water-sections", "water-readings"}
    assert water["site_kinds"] == ["water_section"]


def test_every_water_indicator_the_plan_names_is_registered():
    import yaml

    from duban.core.services.plans import builtin_plan_text

    plan = yaml.safe_load(builtin_plan_text())
    named = {
        tg["indicator"]
        for task in plan["tasks"]
        for tg in task.get("targets", [])
        if tg["indicator"].startswith("water.")
    }
    registered = {k for k, i in get_host().indicators().items() if i.plugin == "water"}
    assert named <= registered
    section_class = get_host().indicators()["water.section_class"]
    assert section_class.direction == "class" and section_class.scale[-1] == "劣V"


def test_messages_have_chinese(hunan):
    result = hunan("water", "classify", "foo=1", lang="zh")
    assert "未知的 GB 3838 参数" in result.stderr
    assert json.dumps(hunan.ok("water", "sections", "list", "--format", "json").json())


def test_registration_hooks_through_the_host():
    host = get_host()
    for hook in (
        "duban_register_site_kinds",
        "duban_register_importers",
        "duban_register_indicators",
        "duban_register_escalation_rules",
        "duban_evaluate_target",
        "duban_dashboard_panels",
        "duban_register_commands",
        "duban_plan_loaded",
    ):
        assert "water" in host.implementers(hook), hook
    kind = host.site_kinds()["water_section"]
    assert {"code", "river_or_lake", "water_body", "control", "target_class"} <= set(kind.attrs)
    assert {"water-sections", "water-readings"} <= set(host.importers())


def test_plan_loaded_again_changes_nothing(hunan):
    from duban.core.models import Plan

    with session_at(hunan, date(2025, 1, 1)) as s:
        sites, targets = len(s.exec(select(Site)).all()), len(s.exec(select(Target)).all())
        plan = s.exec(select(Plan)).one()
        get_host().call("duban_plan_loaded", session=s, plan=plan)
        assert (len(s.exec(select(Site)).all()), len(s.exec(select(Target)).all())) == (
            sites,
            targets,
        )
