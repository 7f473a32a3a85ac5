"""Plans written for these tests in each form offices use: responsibility, dates, parts,
titles, numbering and what is reported rather than dropped."""

from __future__ import annotations

from datetime import date

from duban.core.planparse import occurrences, parse_plan
from duban.core.planparse.dates import parse_deadline

HEAD = "某市河湖治理实施方案\n2024年3月1日\n一、重点任务\n"


def _tasks(text: str) -> dict[str, dict]:
    return {t["code"]: t for t in parse_plan(text, source="t.txt").data["tasks"]}


def _roles(task: dict) -> tuple[list[str], list[str]]:
    return task["lead"], task["participants"]


def test_responsibility_in_every_common_form() -> None:
    text = HEAD + (
        "（一）整治入河排污口。开展排查整治。\n责任单位：市生态环境局、水利局\n"
        "（二）治理黑臭水体。完成整治。（牵头单位：市住房和城乡建设局；责任单位：市城管局、市水务局）\n"
        "（三）加强监测。开展监测。〔市生态环境局牵头，市气象局参与〕\n"
        "（四）推进岸线整治。完成清理。【牵头单位:市水利局;配合单位:市自然资源和规划局】\n"
        "（五）加强执法。开展执法检查。（市公安局（牵头）、市生态环境局、市水利局）\n"
        "（六）强化督导。开展督导。（市政府督查室牵头督导）\n"
        "（七）完善机制。建立生态补偿机制。由市生态环境局会同市财政局负责。\n"
        "（八）统筹项目。谋划一批项目。（市发展改革委、工业和信息化局、自然资源局按职责分工负责）\n"
        "（九）推进农业面源治理。开展试点。\n牵头单位：市农业农村局\n配合单位：市生态环境局、市水利局\n"
        "（十）保障资金。加大投入。\n协办单位：市审计局\n责任单位：市财政局\n"
    )
    tasks = _tasks(text)
    assert _roles(tasks["（一）"]) == (["市生态环境局", "市水利局"], [])  # 市 carried
    assert _roles(tasks["（二）"]) == (["市住房和城乡建设局"], ["市城管局", "市水务局"])
    assert _roles(tasks["（三）"]) == (["市生态环境局"], ["市气象局"])
    assert _roles(tasks["（四）"]) == (["市水利局"], ["市自然资源和规划局"])
    assert _roles(tasks["（五）"]) == (["市公安局"], ["市生态环境局", "市水利局"])
    assert _roles(tasks["（六）"]) == (["市政府督查室"], [])
    assert _roles(tasks["（七）"]) == (["市生态环境局"], ["市财政局"])
    assert _roles(tasks["（八）"]) == (["市发展改革委", "市工业和信息化局", "市自然资源局"], [])
    assert _roles(tasks["（九）"]) == (["市农业农村局"], ["市生态环境局", "市水利局"])
    assert _roles(tasks["（十）"]) == (["市财政局"], ["市审计局"])
    # the clauses are not read as milestones or targets
    assert all("单位" not in m["text"] for t in tasks.values() for m in t["milestones"])


def test_a_standing_clause_makes_implementers() -> None:
    text = HEAD + (
        "（一）甲。完成A。（市生态环境局负责）\n以下各项均需各县市区落实，不再列出。\n"
        "（二）乙。完成B。（市水利局负责）\n"
    )
    result = parse_plan(text, source="t.txt")
    assert result.data["plan"]["implementers"] == "counties"
    assert [t["lead"] for t in result.data["tasks"]] == [["市生态环境局"], ["市水利局"]]


def test_dates_as_plans_write_them() -> None:
    text = HEAD + (
        "（一）甲。2024年6月底前完成A；9月30日前完成B。2025年6月底前完成C，12月底前完成D。"
        "（市水利局牵头）\n"
        "（二）乙。上半年完成E；下半年完成F；三季度完成G；年底前完成H；年内完成I。（市水利局负责）\n"
        "（三）丙。立行立改，整治J问题。长期坚持K。持续推进L。（市水利局负责）\n"
        "（四）丁。每季度开展一次水质检查。（市水利局负责）\n"
        "（五）戊。完成M并于2024年5月底前报送，开展N。（市水利局负责）\n"
        "本方案有效期至2025年12月31日。\n"
    )
    tasks = _tasks(text)

    def dues(code: str) -> list[tuple[str, str]]:
        return [(m["text"], str(m["due"])) for m in tasks[code]["milestones"]]

    assert dues("（一）") == [
        ("完成A", "2024-06-30"),
        ("完成B", "2024-09-30"),  # no year: the nearest stated, 2024
        ("完成C", "2025-06-30"),
        ("完成D", "2025-12-31"),  # no year: the nearest stated, 2025
    ]
    assert dues("（二）") == [
        ("完成E", "2024-06-30"),  # no year at all: the plan's
        ("完成F", "2024-12-31"),
        ("完成G", "2024-09-30"),
        ("完成H", "2024-12-31"),
        ("完成I", "2024-12-31"),
    ]
    assert dues("（三）") == [("整治J问题", "2024-03-01")]  # at once: the issue date
    assert tasks["（三）"]["ongoing"] is True  # 长期坚持, 持续推进: no deadline
    quarterly = tasks["（四）"]["milestones"]
    assert [(m["recurrence"], str(m["due"])) for m in quarterly] == [("quarterly", "2024-03-31")]
    # a date covers the clause it stands in, never a later one
    assert dues("（五）") == [("完成M并报送", "2024-05-31")]


def test_recurring_duties_run_to_the_last_year_the_plan_names() -> None:
    text = "某县巡河方案\n2024年1月5日\n（一）巡河。每月开展一次巡河，到2025年底建成长效机制。（县水利局负责）\n"
    task = parse_plan(text, source="t.txt").data["tasks"][0]
    monthly = next(m for m in task["milestones"] if m.get("recurrence"))
    assert (monthly["due"], monthly["until"]) == (date(2024, 1, 31), date(2025, 12, 31))
    assert len(occurrences(monthly["due"], "monthly", monthly["until"])) == 24


def test_parse_deadline_is_reusable() -> None:
    assert parse_deadline("2024年6月底前") == date(2024, 6, 30)
    assert parse_deadline("四季度", year=2025) == date(2025, 12, 31)
    assert parse_deadline("6月底前") is None  # no year to place it
    assert parse_deadline("每年6月底前", year=2025) is None  # a recurring duty, not a deadline


def test_parts_for_paragraphs_and_sub_items_with_their_own_bodies() -> None:
    text = HEAD + (
        "（一）推进污水治理。\n"
        "加快管网建设，2024年底前新建管网50公里。（市住房和城乡建设局牵头，市财政局参与）\n"
        "推进污泥处置，2025年底前污泥无害化处置率达到95%以上。（市城管局负责）\n"
        "（二）强化农村治理。\n"
        "①2024年底前完成农村黑臭水体排查。（市生态环境局负责）\n"
        "②到2025年底，农村生活污水治理率达到40%以上。（市农业农村局牵头，市水利局参与）\n"
        "（三）完善机制。建立考核机制。（市生态环境局负责）\n"
        "2024年底前出台考核办法。（市生态环境局负责）\n"
    )
    tasks = _tasks(text)
    one = tasks["（一）"]
    assert [(p["code"], p["lead"], p["participants"]) for p in one["parts"]] == [
        ("（一）-1", ["市住房和城乡建设局"], ["市财政局"]),
        ("（一）-2", ["市城管局"], []),
    ]
    assert [str(m["due"]) for m in one["parts"][0]["milestones"]] == ["2024-12-31"]
    assert [(g["comparator"], g["value"]) for g in one["parts"][1]["targets"]] == [("gte", 95)]
    assert one["lead"] == ["市住房和城乡建设局", "市城管局"]  # the task: every part's leads
    two = tasks["（二）"]
    assert [(p["code"], p["lead"]) for p in two["parts"]] == [
        ("（二）①", ["市生态环境局"]),
        ("（二）②", ["市农业农村局"]),
    ]
    assert two["parts"][1]["targets"][0]["indicator"] == "water.rural_sewage_treatment_rate"
    assert tasks["（三）"]["parts"] == []  # the same bodies throughout: no parts


def test_title_is_the_title_line() -> None:
    text = (
        "某市人民政府办公室\n关于印发《某市水污染防治三年行动计划》的通知\n"
        "各县市区人民政府：\n现将《某市水污染防治三年行动计划》印发给你们，请认真贯彻执行。\n"
        "某市人民政府办公室\n2024年2月1日\n"
        "某市水污染防治三年行动计划\n"
        "为落实《某省碧水保卫战实施方案》，制定本计划。市财政局每年安排资金500万元。\n"
        "（一）甲。完成A。（市水利局负责）\n"
    )
    result = parse_plan(text, source="t.txt")
    assert result.data["plan"]["title"] == "某市水污染防治三年行动计划"
    text = text.replace("某市水污染防治三年行动计划\n为", "某市水污染防治工作方案\n为")
    result = parse_plan(text, source="t.txt")
    assert result.data["plan"]["title"] == "某市水污染防治工作方案"  # not the notice's
    assert {
        "task": None,
        "text": "市财政局每年安排资金500万元。",
        "why": "not part of any task",
        "line": 8,
    } in result.unparsed


def test_figures_a_task_does_not_use_are_reported() -> None:
    text = HEAD + "（一）甲。推广400吨以下船舶改造，完成A。（市交通运输局负责）\n"
    result = parse_plan(text, source="t.txt")
    assert {
        "task": "（一）",
        "text": "推广400吨以下船舶改造",
        "why": "a figure that is not a target or a deadline",
        "line": 4,
    } in result.unparsed


def test_no_numbering_cap() -> None:
    """Items past 200 are tasks of their own, not merged into item 200 (issue #17)."""
    items = "".join(f"{n}.任务{n}。完成工作{n}。（市水利局负责）\n" for n in range(1, 251))
    result = parse_plan("某市任务清单方案\n2024年1月1日\n" + items, source="t.txt")
    tasks = result.data["tasks"]
    assert len(tasks) == 250
    assert [t["title"] for t in tasks[199:202]] == ["任务200", "任务201", "任务202"]
    assert all(t["summary"].count("完成工作") == 1 for t in tasks)
    # a line opening with a large number inside an item is still text of that item
    text = "某市方案\n2024年1月1日\n1.甲。完成A。（市水利局负责）\n300 吨以上的企业完成改造。\n"
    (task,) = parse_plan(text, source="t.txt").data["tasks"]
    assert "300 吨" in task["summary"]


# ---------------------------------------------------------------- division-of-work tables

TABLE = [
    ["某市水环境治理实施方案重点任务分工表"],
    ["序号", "重点任务", "牵头单位", "配合单位", "完成时限"],
    [
        "1",
        "完成城区雨污分流改造120公里",
        "市住房和城乡建设局",
        "市财政局、发展改革委",
        "2024年12月底前",
    ],
    ["2", "城市生活污水集中收集率达到75%以上", "市住房和城乡建设局", "市生态环境局", "2025年底前"],
    ["3", "开展水源地水质监测", "市生态环境局（牵头）、市水利局", "", "每季度"],
    ["4", "整治入河排污口问题", "市生态环境局", "市水利局", "立行立改"],
    ["5", "落实河湖长制", "市水利局", "", "长期坚持"],
    ["6", "建设一批湿地公园", "市林业局", "", "看情况"],
]


def _check_table(result, lines: bool, issued: bool = True) -> None:
    data = result.data
    assert data["plan"]["title"] == "某市水环境治理实施方案"
    tasks = {t["code"]: t for t in data["tasks"]}
    assert list(tasks) == ["1.", "2.", "3.", "4.", "5.", "6."]
    one = tasks["1."]
    assert (one["lead"], one["participants"]) == (
        ["市住房和城乡建设局"],
        ["市财政局", "市发展改革委"],  # 市 carried to 发展改革委
    )
    assert [(m["text"], str(m["due"])) for m in one["milestones"]] == [
        ("完成城区雨污分流改造120公里", "2024-12-31")
    ]
    two = tasks["2."]["targets"]
    assert [(g["indicator"], g["value"], str(g["due"])) for g in two] == [
        ("water.urban_sewage_collection_rate", 75, "2025-12-31")
    ]
    three = tasks["3."]
    assert (three["lead"], three["participants"]) == (["市生态环境局"], ["市水利局"])
    assert three["milestones"][0]["recurrence"] == "quarterly"
    if issued:
        assert str(tasks["4."]["milestones"][0]["due"]) == "2024-01-10"  # at once: issued
    assert tasks["5."]["ongoing"] is True and tasks["5."]["milestones"] == []
    (bad,) = [u for u in result.unparsed if u["task"] == "6."]
    assert (bad["text"], bad["why"]) == ("看情况", "a deadline that is not understood")
    assert bad["line"] == (8 if lines else None)


def test_division_table_as_csv(tmp_path) -> None:
    import csv

    from duban.core.planparse import parse_file

    path = tmp_path / "division.csv"
    with path.open("w", encoding="gb18030", newline="") as f:
        csv.writer(f).writerows(TABLE)
    result = parse_file(path)
    _check_table(result, lines=True, issued=False)
    assert {
        "task": "4.",
        "text": "立行立改",
        "why": "no issue date to date 立行立改",
        "line": 6,
    } in (result.unparsed)
    path = tmp_path / "untitled.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(TABLE[1:])
    result = parse_file(path)
    assert result.data["plan"]["title"] == "untitled"  # no title row: the file's name
    assert len(result.data["tasks"]) == 6


def test_division_table_as_xlsx(tmp_path) -> None:
    from openpyxl import Workbook

    from duban.core.planparse import parse_file

    book = Workbook()
    sheet = book.active
    for row in TABLE:
        sheet.append(row)
    path = tmp_path / "division.xlsx"
    book.save(path)
    result = parse_file(path)
    _check_table(result, lines=True, issued=False)


def test_division_table_in_docx(tmp_path) -> None:
    import docx

    from duban.core.planparse import parse_file

    document = docx.Document()
    document.add_paragraph("某市水环境治理实施方案")
    document.add_paragraph("某市人民政府")
    document.add_paragraph("2024年1月10日")
    document.add_paragraph("附件：重点任务分工表")
    table = document.add_table(rows=0, cols=5)
    for row in TABLE[1:]:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = value
    path = tmp_path / "plan.docx"
    document.save(str(path))
    _check_table(parse_file(path), lines=False)


def test_targets_as_written() -> None:
    text = HEAD + (
        "（一）甲。到2025年年底，城市生活污水集中收集率达到70%以上或比2020年提高5个百分点以上，"
        "农村生活污水治理率不低于40%，全市用水总量控制在30亿立方米以内，"
        "总磷排放量下降10%，重点重金属污染物排放量比2020年下降5%。（市水利局负责）\n"
    )
    result = parse_plan(text, source="t.txt")
    targets = result.data["tasks"][0]["targets"]
    by = {g["indicator"]: g for g in targets}
    sewage = by["water.urban_sewage_collection_rate"]
    assert (sewage["comparator"], sewage["value"], sewage["alternative"]) == (
        "gte",
        70,
        {"comparator": "increase_pp", "value": 5, "unit": "pp", "baseline_year": 2020},
    )
    assert (
        by["water.rural_sewage_treatment_rate"]["comparator"],
        by["water.rural_sewage_treatment_rate"]["value"],
    ) == ("gte", 40)
    assert (by["water.total_water_use"]["comparator"], by["water.total_water_use"]["unit"]) == (
        "lte",
        "亿立方米",
    )
    assert by["general.key_heavy_metal_discharge"]["baseline_year"] == 2020
    # a reduction without its base year: the user supplies it
    assert any(
        u["why"] == "no baseline year stated for a relative change" and "总磷" in u["text"]
        for u in result.unparsed
    )


def test_indicators_from_the_plugins_catalogue() -> None:
    """A phrase naming a plugin's indicator gets its key; an unknown one keeps its phrase."""
    from duban.core.services.plans import plan_reference

    text = HEAD + (
        "（一）甲。到2025年年底，退捕渔民转产就业率达到95%以上，生活垃圾回收利用率达到35%以上，"
        "河湖健康评价优良率达到80%以上。（市水利局负责）\n"
    )
    result = parse_plan(text, source="t.txt", reference=plan_reference())
    found = [(g["indicator"], g["name"]) for g in result.data["tasks"][0]["targets"]]
    assert found[:2] == [
        ("fishing_ban.employment_rate", "退捕渔民转产就业率"),
        ("waste.recovery_rate", "生活垃圾回收利用率"),
    ]
    assert found[2][1] == "河湖健康评价优良率"  # not in any catalogue: the plan's words


def test_indicator_variants_find_the_catalogue_entry() -> None:
    """Qualifiers in front, abbreviations, quotes and asides: still the catalogue's key."""
    from duban.core.services.plans import plan_reference

    text = HEAD + (
        "（一）甲。到2025年年底，全市退捕渔民转产就业率达到95%以上，城市污水集中收集率达到70%以上，"
        "“生活垃圾”回收利用率达到35%以上，农村生活污水治理率（含纳管）达到40%以上。（市水利局负责）\n"
    )
    result = parse_plan(text, source="t.txt", reference=plan_reference())
    assert [g["indicator"] for g in result.data["tasks"][0]["targets"]] == [
        "fishing_ban.employment_rate",
        "water.urban_sewage_collection_rate",
        "waste.recovery_rate",
        "water.rural_sewage_treatment_rate",
    ]


def test_an_undated_goal_without_a_validity_period_is_reported() -> None:
    """A date applies to its own clause; the next clause's goal has no due date when the plan
    states no validity period, and is listed rather than dropped."""
    text = HEAD + (
        "（一）甲。2025年底前县级城市建成区黑臭水体基本消除，力争城市生活污水集中收集率达到70%以上。"
        "（市水利局负责）\n"
    )
    result = parse_plan(text, source="t.txt")
    [target] = result.data["tasks"][0]["targets"]
    assert (target["text"], str(target["due"])) == ("县级城市建成区黑臭水体基本消除", "2025-12-31")
    assert {
        "task": "（一）",
        "text": "力争城市生活污水集中收集率达到70%以上",
        "why": "an undated goal, and no validity period (有效期至…) for it to fall due",
        "line": 4,
    } in result.unparsed
    dated = parse_plan(text + "本方案有效期至2026年12月31日。\n", source="t.txt")
    assert [str(g["due"]) for g in dated.data["tasks"][0]["targets"]] == [
        "2025-12-31",
        "2026-12-31",
    ]
