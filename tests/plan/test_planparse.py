"""The plan document parser (duban.core.planparse): the seed plan against the built-in data,
plans written for these tests in the same official style, and the reading of files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from duban.core.errors import UserError
from duban.core.planparse import match_goal, parse_file, parse_plan, read_document, split_scopes

DATA = Path(__file__).parent / "data"
SEED = DATA / "hunan-yangtze-2023.txt"
BUILTIN = (
    Path(__file__).resolve().parents[2] / "core" / "data" / "plans" / "hunan-yangtze-2023.yaml"
)


def _every(task: dict) -> list[dict]:
    """The task and its parts, recursively."""
    return [task, *(x for part in task.get("parts") or [] for x in _every(part))]


def _targets(task: dict) -> list[tuple]:
    return sorted(
        (
            g["comparator"],
            None if g["value"] is None else float(g["value"]),
            g["unit"],
            str(g["due"]),
        )
        for x in _every(task)
        for g in x.get("targets") or []
    )


def _milestone_dues(task: dict) -> set[str]:
    # a milestone worded exactly like one of the task's targets is that target stated twice
    restated = {g.get("text") for x in _every(task) for g in x.get("targets") or []}
    return {
        str(m["due"])
        for x in _every(task)
        for m in x.get("milestones") or []
        if m.get("text") not in restated
    }


@pytest.fixture(scope="module")
def seed() -> dict:
    return parse_file(SEED).data


@pytest.fixture(scope="module")
def builtin() -> dict:
    return yaml.safe_load(BUILTIN.read_text("utf-8"))


# ---------------------------------------------------------------- the seed plan


def test_seed_plan_header(seed: dict, builtin: dict) -> None:
    plan = seed["plan"]
    assert plan["title"] == builtin["plan"]["title"] == "湖南省深入打好长江保护修复攻坚战实施方案"
    assert plan["issued_on"] == date(2023, 3, 6)
    assert plan["valid_until"] == date(2025, 12, 31)
    assert plan["issuers"] == builtin["plan"]["issuers"]
    assert len(plan["issuers"]) == 17
    assert plan["implementers"] == builtin["plan"]["implementers"]


def test_seed_sections_and_framing(seed: dict, builtin: dict) -> None:
    # the source numbers two chapters 六; the parser renumbers them as the data does
    assert [(s["number"], s["title"]) for s in seed["sections"]] == [
        (s["number"], s["title"]) for s in builtin["sections"]
    ]
    assert (
        [f["code"] for f in seed["framing"]]
        == [f["code"] for f in builtin["framing"]]
        == ["（一）", "（二）"]
    )


def test_seed_tasks_equal_builtin_data(seed: dict, builtin: dict) -> None:
    """Codes, titles, leads, participants, milestone dates and targets, task by task."""
    assert [t["code"] for t in seed["tasks"]] == [t["code"] for t in builtin["tasks"]]
    assert len(seed["tasks"]) == 38  # （三） and the 37 tasks （四）…（四十）
    for ours, theirs in zip(seed["tasks"], builtin["tasks"], strict=True):
        code = theirs["code"]
        assert ours["title"] == theirs["title"], code
        assert ours["section"] == theirs["section"], code
        assert ours["lead"] == theirs["lead"], code
        assert ours["participants"] == theirs["participants"], code
        assert _milestone_dues(ours) == _milestone_dues(theirs), code
        assert _targets(ours) == _targets(theirs), code
        assert sorted(g["indicator"] for x in _every(ours) for g in x["targets"]) == sorted(
            g["indicator"] for x in _every(theirs) for g in x.get("targets") or []
        ), code
        # the places a task names; （十四） names 株洲清水塘 and 锡矿山, which the data maps to
        # their districts by knowledge the text does not state
        # paragraphs naming different bodies: one part per group, as the seed lists it
        assert [(p["code"], p["lead"], p["participants"]) for p in ours["parts"]] == [
            (p["code"], p["lead"], p["participants"]) for p in theirs.get("parts") or []
        ], code
        for mine, data in zip(ours["parts"], theirs.get("parts") or [], strict=True):
            assert _targets(mine) == _targets(data), mine["code"]
            assert _milestone_dues(mine) == _milestone_dues(data), mine["code"]
        assert ours["regions"] == (theirs.get("regions") or []) == [], (
            code
        )  # no task is about one place
        assert set(ours.get("places") or []) <= set(theirs.get("places") or []), code
        if code != "（十四）":
            assert sorted(ours.get("places") or []) == sorted(theirs.get("places") or []), code


def test_seed_examples_from_the_issue(seed: dict) -> None:
    tasks = {t["code"]: t for t in seed["tasks"]}
    four = tasks["（四）"]
    assert four["lead"] == ["湖南省生态环境厅", "湖南省水利厅"]
    assert "湖南省卫生健康委员会" in four["participants"]
    assert {str(m["due"]) for m in four["milestones"]} == {"2024-12-31"}
    assert ("gte", 95.8, "%", "2025-12-31") in _targets(four)
    manganese = [g for g in tasks["（十三）"]["targets"] if g["indicator"] == "water.manganese"]
    assert [(g["value"], g["unit"], g["due"]) for g in manganese] == [
        (0.3, "mg/L", date(2023, 12, 31))
    ] * 2
    heavy = tasks["（十四）"]["targets"][0]
    assert (heavy["comparator"], heavy["value"], heavy["baseline_year"]) == (
        "decrease_pct",
        7,
        2020,
    )
    overall = _targets(tasks["（三）"])
    assert ("gte", 66.6, "%", "2025-12-31") in overall  # 力争2/3以上 … III类
    assert (
        overall.count(("lte", 2.0, "class", "2025-12-31")) == 5
    )  # 长江干流湖南段 and the four rivers


def test_seed_reports_what_it_does_not_read() -> None:
    unparsed = parse_file(SEED).unparsed
    whys = {(u["task"], u["why"]) for u in unparsed}
    assert not any("alternative" in why for _, why in whys)  # 或比2020年提高5个百分点 is read
    assert ("（二十六）", "no baseline year stated for a relative change") in whys
    assert any("renumbered" in u["why"] for u in unparsed)


# ---------------------------------------------------------------- plans written for these tests


def test_city_plan_with_arabic_numbering() -> None:
    result = parse_file(DATA / "changsha-water-2024.txt")
    data = result.data
    plan = data["plan"]
    assert plan["title"] == "长沙市水环境质量提升三年行动方案（2024—2026年）"
    assert (plan["issued_on"], plan["valid_until"]) == (date(2024, 2, 20), date(2026, 12, 31))
    assert plan["issuers"] == ["长沙市人民政府办公厅"]
    assert plan["source"] == "长政办发〔2024〕12号"
    assert plan["implementers"] == "counties"  # 各区县（市）人民政府负责落实
    assert [s["title"] for s in data["sections"]] == ["重点任务", "保障措施"]
    tasks = {t["code"]: t for t in data["tasks"]}
    assert list(tasks) == ["一、", "1.", "2.", "3.", "4.", "5.", "（一）", "（二）"]
    assert [t["seq"] for t in data["tasks"]] == list(range(1, 9))

    goals = tasks["一、"]
    assert goals["lead"] == [] and goals["title"] == "工作目标"
    assert _targets(goals) == [
        ("gte", 45.0, "%", "2026-12-31"),
        ("gte", 75.0, "%", "2026-12-31"),
        ("gte", 100.0, "%", "2026-12-31"),
    ]

    one = tasks["1."]
    assert one["title"] == "加强水源地规范化建设"
    assert one["lead"] == ["市生态环境局", "市水利局"] and one["participants"] == [
        "市自然资源和规划局"
    ]
    assert [str(m["due"]) for m in one["milestones"]] == [
        "2024-06-30",
        "2025-03-31",
    ]  # 6月底前, 3月31日前
    assert _targets(one) == [("gte", 100.0, "%", "2026-12-31")]  # 到2026年 … 保持100%

    monitoring = tasks["2."]["milestones"]
    assert [(str(m["due"]), m["recurrence"]) for m in monitoring] == [
        ("2024-03-31", "quarterly"),
        ("2024-12-31", "yearly"),
    ]

    pipes = tasks["3."]  # its (1) and (2) name their own bodies: two parts
    assert pipes["lead"] == ["市住房城乡建设局"] and pipes["participants"] == ["市城管执法局"]
    one_, two_ = pipes["parts"]
    assert (one_["code"], one_["lead"], one_["participants"]) == (
        "3.（1）",
        ["市住房城乡建设局"],
        ["市城管执法局"],
    )
    assert (two_["code"], two_["lead"], two_["participants"]) == (
        "3.（2）",
        ["市住房城乡建设局"],
        [],
    )
    assert [m["text"] for m in one_["milestones"]] == ["完成城区雨污分流改造120公里"]
    assert ("gte", 100.0, "mg/L", "2025-12-31") in _targets(two_)
    assert pipes["milestones"] == pipes["targets"] == []

    water = tasks["4."]
    assert water["participants"] == ["市生态环境局", "市水利局"]  # 和 between two bodies
    assert _targets(water) == [("eliminate", 0.0, "个", "2026-12-31")]  # undated: valid_until
    assert [str(m["due"]) for m in water["milestones"]] == ["2026-06-30"]

    phosphorus = tasks["5."]["targets"]
    assert phosphorus[0]["comparator"] == "decrease_pct" and phosphorus[0]["baseline_year"] == 2023
    sections = [g for g in phosphorus if g["comparator"] == "lte"]
    assert [g["name"] for g in sections] == [
        "湘江长沙段国控断面总磷浓度",
        "浏阳河国控断面总磷浓度",
        "捞刀河国控断面总磷浓度",
    ]
    assert all(
        g["indicator"] == "water.total_phosphorus" and "site" in g["scope"] for g in sections
    )
    assert len({g["scope"]["site"] for g in sections}) == 3

    assert [str(m["due"]) for m in tasks["（一）"]["milestones"]] == [
        "2024-02-29"
    ]  # 每月: month end
    assert tasks["（二）"]["lead"] == ["市政府督查室", "市生态环境局"]
    assert result.unparsed == []


def test_markdown_plan() -> None:
    result = parse_file(DATA / "yuelu-rivers-2024.md")
    data = result.data
    assert data["plan"]["title"] == "岳麓区河湖长制工作要点"
    assert data["plan"]["valid_until"] == date(2025, 12, 31)
    assert [f["code"] for f in data["framing"]] == ["一、"]
    tasks = {t["code"]: t for t in data["tasks"]}
    assert list(tasks) == ["1.", "2.", "3."]
    assert tasks["1."]["title"] == "完成河湖“清四乱”排查整治"  # bold markers removed
    assert [str(m["due"]) for m in tasks["1."]["milestones"]] == ["2024-09-30", "2025-12-31"]
    assert tasks["2."]["lead"] == ["区城管执法局"]
    assert tasks["2."]["milestones"][0]["recurrence"] == "monthly"
    assert _targets(tasks["3."]) == [
        ("gte", 60.0, "%", "2025-12-31"),
        ("lte", 4.0, "class", "2025-12-31"),
    ]
    # no signature block: reported, not invented
    assert [u["why"] for u in result.unparsed] == [
        "no issuing bodies found (names above the issue date)"
    ]


def _write_docx(path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("株洲市尾矿库污染治理工作方案", level=1)
    document.add_paragraph("为加强尾矿库污染治理，制定本方案。")
    document.add_paragraph("一、重点任务")
    document.add_paragraph(
        "（一）开展尾矿库排查。2024年5月底前完成全市尾矿库环境风险排查，建立问题清单。"
        "（市生态环境局牵头，市应急管理局、市自然资源和规划局参与）"
    )
    document.add_paragraph("二、保障措施")
    # Word's own list numbering: the numbers are not in the paragraph text
    document.add_paragraph(
        "实施闭库治理。到2025年年底，全市尾矿库数量控制在20座以内。（市应急管理局负责）",
        style="List Number",
    )
    document.add_paragraph(
        "加强监测预警。每半年开展一次尾矿库下游水质监测。（市生态环境局负责）", style="List Number"
    )
    document.add_paragraph("株洲市人民政府")
    document.add_paragraph("2024年1月15日")
    document.add_paragraph("本方案自印发之日起施行，有效期至2025年12月31日。")
    document.save(str(path))


def test_docx_plan(tmp_path: Path) -> None:
    path = tmp_path / "zhuzhou-tailings.docx"
    _write_docx(path)
    text = read_document(path)
    assert "1.实施闭库治理" in text and "2.加强监测预警" in text
    data = parse_file(path).data
    assert data["plan"]["title"] == "株洲市尾矿库污染治理工作方案"
    assert data["plan"]["issued_on"] == date(2024, 1, 15)
    assert data["plan"]["issuers"] == ["株洲市人民政府"]
    tasks = {t["code"]: t for t in data["tasks"]}
    assert list(tasks) == ["（一）", "1.", "2."]
    assert [s["title"] for s in data["sections"]] == ["重点任务", "保障措施"]
    assert tasks["（一）"]["participants"] == ["市应急管理局", "市自然资源和规划局"]
    # the date stands in the first clause: it does not carry to 建立问题清单
    assert [str(m["due"]) for m in tasks["（一）"]["milestones"]] == ["2024-05-31"]
    assert tasks["1."]["targets"][0]["indicator"] == "general.tailings_pond_count"
    assert _targets(tasks["1."]) == [("lte", 20.0, "座", "2025-12-31")]
    assert tasks["2."]["milestones"][0]["recurrence"] == "semiannual"
    assert str(tasks["2."]["milestones"][0]["due"]) == "2024-06-30"


# ---------------------------------------------------------------- rules in isolation


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("国考断面水质优良率达到97.3%", ("gte", 97.3, "%")),
        ("农村生活污水治理率不低于35%", ("gte", 35.0, "%")),
        ("全省用水总量控制在334.5亿立方米以内", ("lte", 334.5, "亿立方米")),
        ("全省尾矿库数量下降到300座以内", ("lte", 300.0, "座")),
        ("万元GDP用水量下降17%", ("decrease_pct", 17.0, "%")),
        ("重点重金属污染物排放量比2020年下降7%", ("decrease_pct", 7.0, "%")),
        ("再生水利用率比2022年提高5%", ("increase_pct", 5.0, "%")),
        ("化肥农药利用率提高到43%以上", ("gte", 43.0, "%")),
        ("力争三分之二以上国考断面水质达到III类", ("gte", 66.6, "%")),
        ("断面水质全部达到或优于II类", ("lte", 2.0, "class")),
        ("华容东湖等断面稳定消劣", ("lte", 5.0, "class")),
        ("县级城市建成区黑臭水体基本消除", ("eliminate", 0.0, None)),
        ("洞庭湖湖体总磷持续下降", ("trend_down", None, None)),
        ("水生态质量明显提升", ("trend_up", None, None)),
    ],
)
def test_goal_patterns(clause: str, expected: tuple) -> None:
    goal, why = match_goal(clause)
    assert why is None and goal is not None
    assert (goal.comparator, goal.value, goal.unit) == expected


@pytest.mark.parametrize(
    "clause",
    [
        "推广400总吨以下小型船舶生活污水船上存储",
        "大力推进进水BOD5浓度低于100毫克/升的城镇生活污水处理厂服务片区整治",
        "停用时间超过3年的尾矿库完成闭库",
    ],
)
def test_qualifiers_are_not_goals(clause: str) -> None:
    assert match_goal(clause) == (None, None)


def test_percentage_points_are_reported() -> None:
    goal, why = match_goal("污水集中收集率比2020年提高5个百分点以上")
    assert goal is None and why == "a change in percentage points cannot be a target"


def test_scope_splitting() -> None:
    assert [p for _, p in split_scopes("花垣河、兄弟河国控断面地表水锰浓度", {})] == [
        "花垣河国控断面地表水锰浓度",
        "兄弟河国控断面地表水锰浓度",
    ]
    assert len(split_scopes("长江干流湖南段和湘、资、沅、澧四水干流断面水质", {})) == 5
    assert split_scopes("长沙市全市域所有街道、社区垃圾分类", {}) == [
        (None, "长沙市全市域所有街道、社区垃圾分类")
    ]


def test_deadline_wording() -> None:
    text = (
        "关于印发《测试方案》的通知\n测试局\n2024年1月10日\n"
        "（一）甲。到2024年年底完成A。（测试局牵头）\n"
        "（二）乙。2025年底前完成B；到2025年8月底完成C；2026年3月15日前完成D。（测试局负责）\n"
        "（三）丙。2025年前完成E。（测试局负责）\n"
    )
    result = parse_plan(text, source="t.txt")
    tasks = result.data["tasks"]
    assert [str(m["due"]) for m in tasks[0]["milestones"]] == ["2024-12-31"]
    assert [str(m["due"]) for m in tasks[1]["milestones"]] == [
        "2025-12-31",
        "2025-08-31",
        "2026-03-15",
    ]
    assert tasks[2]["milestones"] == []
    assert {
        "task": "（三）",
        "text": "2025年前完成E",
        "why": "ambiguous deadline '2025年前'",
        "line": 6,
    } in result.unparsed


def test_unknown_responsibility_wording_is_reported() -> None:
    text = "某某方案\n（一）甲。完成A。（测试局牵头，视情况调整）\n"
    result = parse_plan(text, source="t.txt")
    assert result.data["tasks"][0]["lead"] == ["测试局"]
    assert {
        "task": "（一）",
        "text": "视情况调整",
        "why": "a part of the responsibility clause that is not understood",
        "line": 2,
    } in result.unparsed


# ---------------------------------------------------------------- bad files


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"", "the file is empty"),
        ("blank.md", b"  \n\n", "the file is empty"),
        ("binary.txt", bytes(range(256)) * 4, "not a text file (binary content)"),
        (
            "prose.txt",
            "关于加强河湖管理的说明\n各单位要高度重视河湖管理工作。\n".encode(),
            "no numbered tasks found",
        ),
        ("plan.pdf", b"%PDF-1.4", "unsupported file type '.pdf'"),
        ("broken.docx", b"not a zip file", "not a Word (.docx) document"),
    ],
)
def test_bad_files(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(
        UserError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")
    ):
        parse_file(path)


def test_gbk_text_is_read(tmp_path: Path) -> None:
    path = tmp_path / "gbk.txt"
    path.write_bytes("某某方案\n（一）甲。到2024年年底完成A。（测试局牵头）\n".encode("gbk"))
    assert parse_file(path).data["tasks"][0]["lead"] == ["测试局"]
