"""Validate the built-in data files: core/data/regions.csv and the Hunan plan.

Plain file reading (yaml + csv); no duban imports, so these tests check the data
independently of the loader. Format reference: docs/plan-format.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
REGIONS_CSV = ROOT / "core" / "data" / "regions.csv"
PLAN_YAML = ROOT / "core" / "data" / "plans" / "hunan-yangtze-2023.yaml"
REFERENCE_CSV = Path(__file__).resolve().parents[2] / "shared/reference/hunan_divisions.csv"

MIN_DATE = dt.date(2023, 1, 1)
MAX_DATE = dt.date(2035, 12, 31)

COMPARATORS = {
    "gte",
    "lte",
    "eq",
    "decrease_pct",
    "increase_pct",
    "trend_down",
    "trend_up",
    "eliminate",
}
DOMAINS = {"water", "fishing_ban", "waste", "shipping", "supervision", "general"}
OWNER_KINDS = {"department", "government", "judicial", "enterprise", "other"}
IMPLEMENTERS = {"cities", "counties", "none"}
LEVELS = {"province", "city", "county", "zone"}
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
INDICATOR_KEY = re.compile(
    r"^(water|fishing_ban|waste|shipping|supervision|general)\.[a-z][a-z0-9]*(_[a-z0-9]+)*$"
)

TOP_KEYS = {"format", "plan", "owners", "sites", "sections", "framing", "tasks"}
PLAN_KEYS_REQUIRED = {"key", "title", "title_en", "issued_on", "valid_until", "issuers"}
PLAN_KEYS_OPTIONAL = {"source", "implementers"}
OWNER_KEYS_REQUIRED = {"name", "name_en", "kind", "region"}
OWNER_KEYS_OPTIONAL = {"parent", "aliases"}
SITE_KEYS_REQUIRED = {"key", "name", "kind", "region"}
SITE_KEYS_OPTIONAL = {"attrs"}
TASK_KEYS_REQUIRED = {
    "code",
    "seq",
    "section",
    "title",
    "title_en",
    "domain",
    "summary",
    "summary_en",
    "lead",
}
TASK_KEYS_OPTIONAL = {"participants", "regions", "places", "milestones", "targets", "parts"}
MILESTONE_KEYS = {"due", "text", "text_en"}
TARGET_KEYS_REQUIRED = {
    "indicator",
    "name",
    "name_en",
    "comparator",
    "value",
    "unit",
    "due",
    "scope",
    "text",
}
TARGET_KEYS_OPTIONAL = {"baseline_year", "alternative", "source"}

DIGITS = "零一二三四五六七八九"


def chinese_numeral(n: int) -> str:
    """1..99 as the plan writes it: 三, 十, 十三, 二十, 二十一, 四十."""
    tens, ones = divmod(n, 10)
    if tens == 0:
        return DIGITS[ones]
    head = "" if tens == 1 else DIGITS[tens]
    return head + "十" + (DIGITS[ones] if ones else "")


def code(n: int) -> str:
    return f"（{chinese_numeral(n)}）"


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def plan() -> dict:
    raw = PLAN_YAML.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "plan YAML must not start with a BOM"
    return yaml.safe_load(raw.decode("utf-8"))


@pytest.fixture(scope="module")
def regions() -> list[dict]:
    raw = REGIONS_CSV.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "regions.csv must not start with a BOM"
    text = raw.decode("utf-8")
    reader = csv.DictReader(text.splitlines())
    assert reader.fieldnames == ["code", "name", "name_en", "parent_code", "level"]
    return list(reader)


@pytest.fixture(scope="module")
def region_codes(regions) -> set[str]:
    return {r["code"] for r in regions}


@pytest.fixture(scope="module")
def owner_index(plan) -> dict[str, str]:
    """Every name or alias -> canonical owner name."""
    index: dict[str, str] = {}
    for o in plan["owners"]:
        for n in [o["name"], *o.get("aliases", [])]:
            assert n not in index, f"owner name/alias defined twice: {n}"
            index[n] = o["name"]
    return index


@pytest.fixture(scope="module")
def tasks_by_code(plan) -> dict[str, dict]:
    return {t["code"]: t for t in plan["tasks"]}


def all_dates(node, path="$"):
    """Yield (path, value) for every date anywhere in the document."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from all_dates(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from all_dates(v, f"{path}[{i}]")
    elif isinstance(node, (dt.date, dt.datetime)):
        yield path, node


def nonempty_str(x) -> bool:
    return isinstance(x, str) and x.strip() != ""


# ---------------------------------------------------------------- regions.csv


def test_regions_csv_structure(regions):
    assert len(regions) == 151
    codes = [r["code"] for r in regions]
    assert len(set(codes)) == len(codes), "duplicate region codes"
    by_code = {r["code"]: r for r in regions}
    levels = {lvl: sum(1 for r in regions if r["level"] == lvl) for lvl in LEVELS}
    assert levels == {"province": 1, "city": 14, "county": 122, "zone": 14}
    for r in regions:
        assert re.fullmatch(r"\d{6}", r["code"]), r
        assert nonempty_str(r["name"]) and nonempty_str(r["name_en"]), r
        assert r["name_en"].isascii(), r
        assert r["name_en"] == r["name_en"].strip()
        if r["level"] == "province":
            assert r["parent_code"] == ""
        else:
            parent = by_code[r["parent_code"]]
            expected = "province" if r["level"] == "city" else "city"
            assert parent["level"] == expected, r
    assert len({r["name_en"] for r in regions}) == len(regions), "English names must be unique"


def test_regions_english_names(regions):
    by_code = {r["code"]: r["name_en"] for r in regions}
    assert by_code["430100"] == "Changsha"
    assert by_code["430102"] == "Furong District"
    assert by_code["430181"] == "Liuyang (county-level city)"
    assert by_code["433100"] == "Xiangxi Tujia and Miao Autonomous Prefecture"
    assert by_code["430671"] == "Quyuan Administrative Zone"
    for r in regions:
        name, en = r["name"], r["name_en"]
        if r["level"] == "county":
            if name.endswith("自治县"):
                assert en.endswith("Autonomous County"), r
            elif name.endswith("县"):
                assert en.endswith(" County"), r
            elif name.endswith("区"):
                assert en.endswith(" District"), r
            elif name.endswith("市"):
                assert en.endswith(" (county-level city)"), r


def test_regions_match_reference(regions):
    if not REFERENCE_CSV.exists():
        pytest.skip(f"reference file absent: {REFERENCE_CSV}")
    with REFERENCE_CSV.open(encoding="utf-8-sig", newline="") as f:
        ref = [(r["code"], r["name"], r["parent_code"], r["level"]) for r in csv.DictReader(f)]
    ours = [(r["code"], r["name"], r["parent_code"], r["level"]) for r in regions]
    assert sorted(ours) == sorted(ref)


# ---------------------------------------------------------------- plan structure


def test_top_level(plan):
    assert set(plan) == TOP_KEYS
    assert plan["format"] == "duban-plan/1"
    for k in ("owners", "sites", "sections", "framing", "tasks"):
        assert isinstance(plan[k], list), k


def test_plan_header(plan, owner_index):
    p = plan["plan"]
    assert PLAN_KEYS_REQUIRED <= set(p) <= PLAN_KEYS_REQUIRED | PLAN_KEYS_OPTIONAL
    assert SLUG.match(p["key"]) and p["key"] == "hunan-yangtze-2023"
    assert p["title"] == "湖南省深入打好长江保护修复攻坚战实施方案"
    assert nonempty_str(p["title_en"])
    assert p["issued_on"] == dt.date(2023, 3, 6)
    assert p["valid_until"] == dt.date(2025, 12, 31)
    assert p.get("implementers", "none") in IMPLEMENTERS
    assert p["implementers"] == "cities"
    if "source" in p:
        assert nonempty_str(p["source"])
    issuers = p["issuers"]
    assert isinstance(issuers, list) and len(issuers) == 17 and len(set(issuers)) == 17
    for n in issuers:
        assert n in owner_index, f"issuer not in owners: {n}"
    assert issuers[0] == "湖南省生态环境厅"
    assert issuers[1] == "湖南省发展和改革委员会"
    assert issuers[-1] == "国家矿山安全监察局湖南局"


def test_owners(plan, region_codes, regions, owner_index):
    derived_govs = {r["name"] + "人民政府" for r in regions}
    names = [o["name"] for o in plan["owners"]]
    assert len(set(names)) == len(names)
    for o in plan["owners"]:
        assert OWNER_KEYS_REQUIRED <= set(o) <= OWNER_KEYS_REQUIRED | OWNER_KEYS_OPTIONAL, o
        assert nonempty_str(o["name"]) and nonempty_str(o["name_en"]), o
        assert o["kind"] in OWNER_KINDS, o
        assert isinstance(o["region"], str) and o["region"] in region_codes, o
        aliases = o.get("aliases", [])
        assert isinstance(aliases, list) and all(nonempty_str(a) for a in aliases), o
        if "parent" in o:
            assert o["parent"] in owner_index or o["parent"] in derived_govs, o
            assert owner_index.get(o["parent"]) != o["name"], "owner is its own parent"
        # people's governments are derived from regions, not listed
        assert o["name"] not in derived_govs or aliases, o


def test_owner_aliases_used_by_plan(owner_index):
    for alias, canonical in {
        "省生态环境厅": "湖南省生态环境厅",
        "省发展改革委": "湖南省发展和改革委员会",
        "省卫生健康委": "湖南省卫生健康委员会",
        "国家矿山安监局湖南局": "国家矿山安全监察局湖南局",
        "省住房城乡建设厅": "湖南省住房和城乡建设厅",
        "省人力资源社会保障厅": "湖南省人力资源和社会保障厅",
        "省科技厅": "湖南省科学技术厅",
        "省市场监管局": "湖南省市场监督管理局",
        "省国资委": "湖南省人民政府国有资产监督管理委员会",
    }.items():
        assert owner_index.get(alias) == canonical, alias
    assert owner_index.get("国网湖南省电力有限公司") == "国网湖南省电力有限公司"


def test_sites(plan, region_codes):
    keys = [s["key"] for s in plan["sites"]]
    assert len(set(keys)) == len(keys)
    for s in plan["sites"]:
        assert SITE_KEYS_REQUIRED <= set(s) <= SITE_KEYS_REQUIRED | SITE_KEYS_OPTIONAL, s
        assert SLUG.match(s["key"]), s
        assert nonempty_str(s["name"]) and nonempty_str(s["kind"]), s
        assert isinstance(s["region"], str) and s["region"] in region_codes, s
        assert isinstance(s.get("attrs", {}), dict), s


def test_sections(plan):
    numbers = [s["number"] for s in plan["sections"]]
    assert numbers == ["一", "二", "三", "四", "五", "六"]
    for s in plan["sections"]:
        assert set(s) == {"number", "title", "title_en"}
        assert nonempty_str(s["title"]) and nonempty_str(s["title_en"])
    titles = [s["title"] for s in plan["sections"]]
    assert titles[4] == "加快形成绿色发展管控格局"
    assert titles[5] == "强化实施保障"


def test_framing(plan):
    assert [f["code"] for f in plan["framing"]] == ["（一）", "（二）"]
    for f in plan["framing"]:
        assert set(f) == {"code", "title", "title_en", "summary", "summary_en"}
        assert all(nonempty_str(v) for v in f.values())


# ---------------------------------------------------------------- tasks


def test_task_codes_in_order(plan):
    codes = [t["code"] for t in plan["tasks"]]
    assert codes == [code(n) for n in range(3, 41)]
    assert codes[0] == "（三）" and codes[-1] == "（四十）" and "（二十一）" in codes
    numbered = [c for c in codes if c != "（三）"]
    assert len(numbered) == 37
    assert [t["seq"] for t in plan["tasks"]] == list(range(3, 41))


def test_task_fields(plan):
    section_numbers = [s["number"] for s in plan["sections"]]
    last_section = 0
    for t in plan["tasks"]:
        assert TASK_KEYS_REQUIRED <= set(t) <= TASK_KEYS_REQUIRED | TASK_KEYS_OPTIONAL, t["code"]
        assert isinstance(t["seq"], int) and not isinstance(t["seq"], bool)
        assert t["section"] in section_numbers, t["code"]
        idx = section_numbers.index(t["section"])
        assert idx >= last_section, f"{t['code']}: sections out of order"
        last_section = idx
        assert nonempty_str(t["title"]) and not t["title"].endswith("。"), t["code"]
        assert nonempty_str(t["title_en"]), t["code"]
        assert t["domain"] in DOMAINS, t["code"]
        assert nonempty_str(t["summary"]) and nonempty_str(t["summary_en"]), t["code"]
        for k in ("lead", "participants", "regions", "milestones", "targets"):
            assert isinstance(t.get(k, []), list), (t["code"], k)
        if t["code"] != "（三）":
            assert len(t["lead"]) >= 1, f"{t['code']} has no lead"
        assert len(set(t["lead"])) == len(t["lead"])
        assert len(set(t.get("participants", []))) == len(t.get("participants", []))
        assert not set(t["lead"]) & set(t.get("participants", [])), t["code"]


def test_task_sections(tasks_by_code):
    expected = {
        3: "一",
        4: "二",
        17: "二",
        18: "三",
        25: "三",
        26: "四",
        29: "四",
        30: "五",
        34: "五",
        35: "六",
        40: "六",
    }
    for n, sec in expected.items():
        assert tasks_by_code[code(n)]["section"] == sec, code(n)


def test_owner_names_resolve(plan, owner_index):
    for n in plan["plan"]["issuers"]:
        assert n in owner_index, n
    for t in plan["tasks"]:
        for n in t["lead"] + t.get("participants", []):
            assert n in owner_index, f"{t['code']}: {n} not defined in owners"


def test_region_codes_exist(plan, region_codes):
    referenced = []
    referenced += [("owner", o["region"]) for o in plan["owners"]]
    referenced += [("site", s["region"]) for s in plan["sites"]]
    for t in plan["tasks"]:
        referenced += [(t["code"], r) for r in (*t.get("regions", []), *t.get("places", []))]
        referenced += [
            (t["code"], tg["scope"]["region"])
            for tg in t.get("targets", [])
            if "region" in tg["scope"]
        ]
    for where, c in referenced:
        assert isinstance(c, str), f"{where}: region code must be a string, got {c!r}"
        assert c in region_codes, f"{where}: unknown region {c}"


def test_dates_valid_and_in_range(plan):
    found = list(all_dates(plan))
    assert len(found) > 10
    for path, d in found:
        assert type(d) is dt.date, f"{path}: expected a date, got {d!r}"
        assert MIN_DATE <= d <= MAX_DATE, f"{path}: {d} out of range"
    p = plan["plan"]
    assert p["issued_on"] <= p["valid_until"]


def test_milestones(plan):
    for t in plan["tasks"]:
        for m in t.get("milestones", []):
            assert set(m) == MILESTONE_KEYS, (t["code"], m)
            assert type(m["due"]) is dt.date, (t["code"], m)
            assert nonempty_str(m["text"]) and nonempty_str(m["text_en"]), (t["code"], m)


def test_targets(plan):
    site_keys = {s["key"] for s in plan["sites"]}
    used_sites = set()
    for t in plan["tasks"]:
        for tg in _targets(t):
            where = f"{t['code']} {tg.get('indicator')}"
            assert TARGET_KEYS_REQUIRED <= set(tg) <= TARGET_KEYS_REQUIRED | TARGET_KEYS_OPTIONAL, (
                where
            )
            assert INDICATOR_KEY.match(tg["indicator"]), where
            assert (
                nonempty_str(tg["name"])
                and nonempty_str(tg["name_en"])
                and nonempty_str(tg["text"])
            ), where
            assert nonempty_str(tg["unit"]), where
            assert type(tg["due"]) is dt.date, where
            comp = tg["comparator"]
            assert comp in COMPARATORS, where
            value = tg["value"]
            if comp in ("trend_down", "trend_up"):
                assert value is None, where
            elif comp == "eliminate":
                assert value == 0, where
            else:
                assert isinstance(value, (int, float)) and not isinstance(value, bool), where
            if comp in ("decrease_pct", "increase_pct"):
                assert isinstance(tg.get("baseline_year"), int), where
                assert 2000 <= tg["baseline_year"] < tg["due"].year, where
                assert tg["unit"] == "%", where
            else:
                assert "baseline_year" not in tg, where
            scope = tg["scope"]
            assert (
                isinstance(scope, dict) and len(scope) == 1 and set(scope) <= {"region", "site"}
            ), where
            if "site" in scope:
                assert scope["site"] in site_keys, where
                used_sites.add(scope["site"])
    assert used_sites == site_keys, f"sites not used by any target: {site_keys - used_sites}"


def test_targets_unique_per_scope(plan):
    seen = set()
    for t in plan["tasks"]:
        for tg in t.get("targets", []):
            key = (tg["indicator"], tuple(sorted(tg["scope"].items())), tg["due"], tg["comparator"])
            assert key not in seen, f"duplicate target {key}"
            seen.add(key)


# ---------------------------------------------------------------- specific facts


def _targets(task, indicator=None):
    """The targets of a task and its parts."""
    return [
        tg
        for x in (task, *task.get("parts", []))
        for tg in x.get("targets", [])
        if indicator is None or tg["indicator"] == indicator
    ]


def test_task_3_overall_goals(tasks_by_code):
    t = tasks_by_code["（三）"]
    assert t["title"] == "主要目标"
    assert t["lead"] == []
    for tg in t["targets"]:
        assert tg["due"] == dt.date(2025, 12, 31)
    for m in t["milestones"]:
        assert m["due"] == dt.date(2025, 12, 31)
    values = {(tg["indicator"], tg["comparator"], tg["value"]) for tg in t["targets"]}
    assert ("water.national_section_good_quality_rate", "gte", 97.3) in values
    assert ("water.total_phosphorus", "trend_down", None) in values
    classes = [tg for tg in t["targets"] if tg["indicator"] == "water.section_class"]
    assert len(classes) == 5 and all(
        tg["comparator"] == "lte" and tg["value"] == 2 for tg in classes
    )


def test_task_4_facts(tasks_by_code):
    t = tasks_by_code["（四）"]
    assert t["title"] == "巩固提升饮用水安全保障水平"
    assert t["lead"] == ["湖南省生态环境厅", "湖南省水利厅"]
    assert "湖南省卫生健康委员会" in t["participants"]
    assert {"湖南省发展和改革委员会", "湖南省自然资源厅"} <= set(t["participants"])
    dues = {m["due"] for m in t["milestones"]}
    assert dt.date(2024, 12, 31) in dues and dt.date(2025, 12, 31) in dues
    hits = [tg for tg in t["targets"] if tg["value"] == 95.8]
    assert len(hits) == 1
    tg = hits[0]
    assert tg["name"] == "县级城市集中式饮用水水源达标率"
    assert tg["comparator"] == "gte" and tg["unit"] == "%"
    assert tg["due"] == dt.date(2025, 12, 31)


def test_task_13_manganese(plan, tasks_by_code):
    t = tasks_by_code["（十三）"]
    # 花垣县 is where the task works, not what the province-wide task is about
    assert "433124" in t["places"] and not t.get("regions")
    sites = {s["key"]: s for s in plan["sites"]}
    rivers = set()
    for tg in _targets(t, "water.manganese"):
        assert tg["comparator"] == "lte" and tg["value"] == 0.3 and tg["unit"] == "mg/L"
        assert tg["due"] == dt.date(2023, 12, 31)
        site = sites[tg["scope"]["site"]]
        assert site["kind"] == "water_section" and site["region"] == "433124"
        rivers.add(site["attrs"]["river"])
    assert rivers == {"花垣河", "兄弟河"}
    assert "国家矿山安全监察局湖南局" in t["participants"]


def test_other_key_numbers(tasks_by_code):
    def one(task_code, indicator):
        hits = _targets(tasks_by_code[task_code], indicator)
        assert len(hits) == 1, (task_code, indicator)
        return hits[0]

    assert (
        one("（十五）", "general.tailings_pond_count")["value"],
        one("（十五）", "general.tailings_pond_count")["comparator"],
    ) == (300, "lte")
    assert one("（二十六）", "water.total_water_use")["value"] == 334.5
    gdp = one("（二十六）", "water.water_use_per_10k_gdp")
    assert (gdp["comparator"], gdp["value"]) == ("decrease_pct", 17)
    ind = one("（二十六）", "water.water_use_per_10k_industrial_value_added")
    assert (ind["comparator"], ind["value"]) == ("decrease_pct", 12)
    hm = one("（十四）", "general.key_heavy_metal_discharge")
    assert (hm["comparator"], hm["value"], hm["baseline_year"]) == ("decrease_pct", 7, 2020)
    assert one("（二十一）", "general.forest_coverage_rate")["value"] == 59
    assert one("（二十一）", "general.wetland_protection_rate")["value"] == 72
    assert one("（八）", "general.livestock_manure_utilization_rate")["value"] == 80
    assert one("（八）", "general.agricultural_film_recovery_rate")["value"] == 85
    assert one("（八）", "water.rural_sewage_treatment_rate")["value"] == 35
    assert one("（六）", "water.urban_sewage_collection_rate")["value"] == 70
    assert one("（六）", "water.county_black_odorous_water_bodies")["comparator"] == "eliminate"
    assert one("（十九）", "fishing_ban.aquatic_biotic_integrity_index")["comparator"] == "trend_up"
    milestones_15 = {m["text"] for m in tasks_by_code["（十五）"]["milestones"]}
    assert any("基本可控" in m for m in milestones_15)


def test_parts(plan, owner_index):
    """Parts: a code under their task's, a title in both languages, their own bodies."""
    parts = [(t, p) for t in plan["tasks"] for p in t.get("parts", [])]
    assert len(parts) == 25
    for task, part in parts:
        assert part["code"].startswith(task["code"] + "-"), part["code"]
        assert nonempty_str(part["title"]) and nonempty_str(part["title_en"]), part["code"]
        assert part["lead"] and set(part["lead"]) <= set(task["lead"]), part["code"]
        for name in (*part["lead"], *part["participants"]):
            assert name in owner_index, (part["code"], name)
