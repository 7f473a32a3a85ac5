"""The rectification ledger: import, stages, rules, the monthly report, bad input."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

HEADER = ["序号", "问题描述", "责任单位", "整改时限", "整改措施", "整改进展"]
ROWS = [
    [
        1,
        "衡阳市蒸水入湘江口断面水质不稳定，部分支流氨氮超标。",
        "衡阳市人民政府",
        date(2024, 3, 31),
        "开展支流综合整治",
        "已完成截污工程",
    ],
    [
        2,
        "岳阳市部分化工企业雨污分流不到位，初期雨水直排。",
        "岳阳市人民政府、湖南省生态环境厅",
        "2024年底前",
        "实施雨污分流改造",
        "",
    ],
    [
        3,
        "益阳市大通湖总磷浓度居高不下。",
        "益阳市人民政府；湖南省农业农村厅",
        "长期坚持",
        "控制养殖尾水",
        "持续推进",
    ],
    [4, "某县城生活垃圾填埋场渗滤液收集不到位。", "衡阳县人民政府", "立行立改", "立即整改", ""],
    [5, "长沙市部分污水处理厂超负荷运行。", "长沙市人民政府", "2024年6月底前", "扩建提标", ""],
]


def write_ledger(path: Path, rows: list[list]) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


@pytest.fixture
def ledger(hunan, tmp_path: Path):
    path = write_ledger(tmp_path / "中央督察第三轮.xlsx", ROWS)
    summary = hunan.ok(
        "ledger",
        "import",
        str(path),
        "--source",
        "中央生态环境保护督察",
        "--format",
        "json",
        as_of="2024-01-15",
    ).json()
    return hunan, path, summary


def items(runner, **kw) -> dict[str, dict]:
    return {r["number"]: r for r in runner.ok("ledger", "list", "--format", "json", **kw).json()}


def test_import_reads_the_inspection_layout(ledger) -> None:
    runner, _, summary = ledger
    assert (summary["rows"], summary["added"], summary["owners_created"]) == (5, 5, [])
    rows = items(runner, as_of="2024-01-15")
    assert rows["1"]["deadline"] == "2024-03-31" and rows["1"]["stage"] == "rectifying"
    assert rows["2"]["responsible"] == ["岳阳市人民政府", "湖南省生态环境厅"]
    assert rows["2"]["deadline"] == "2024-12-31" and rows["2"]["stage"] == "assigned"
    assert rows["3"]["responsible"] == ["益阳市人民政府", "湖南省农业农村厅"]
    assert rows["3"]["deadline"] == "长期坚持"
    assert rows["4"]["deadline"] == "2024-01-15"  # 立行立改: due the day it is handed down
    assert rows["5"]["deadline"] == "2024-06-30"
    shown = runner.ok("show", str(rows["1"]["id"]), "--format", "json").json()
    assert shown["domain"] == "supervision" and shown["region"] == "衡阳市"


def test_reimport_changes_nothing_and_updates_progress(ledger) -> None:
    runner, path, _ = ledger
    again = runner.ok(
        "ledger",
        "import",
        str(path),
        "--source",
        "中央生态环境保护督察",
        "--format",
        "json",
        as_of="2024-01-15",
    ).json()
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, 5)
    assert len(items(runner)) == 5
    changed = [r[:] for r in ROWS]
    changed[1][5] = "已完成一半企业改造"
    write_ledger(path, changed)
    third = runner.ok(
        "ledger",
        "import",
        str(path),
        "--source",
        "中央生态环境保护督察",
        "--format",
        "json",
        as_of="2024-02-15",
    ).json()
    assert (third["added"], third["updated"]) == (0, 1)
    assert items(runner)["2"]["stage"] == "rectifying"


def test_full_stage_cycle_with_rejection_and_acceptance(ledger, tmp_path: Path) -> None:
    runner, _, _ = ledger
    runner.ok("user", "add", "li", "--role", "coordinator")
    ident = str(items(runner)["1"]["id"])
    evidence = tmp_path / "整改报告.pdf"
    evidence.write_bytes(b"%PDF-1.4 report")
    runner.ok("submit", ident, "--evidence", str(evidence), as_of="2024-03-20")
    assert items(runner)["1"]["stage"] == "applied"
    refused = runner("ledger", "accept", ident)
    assert refused.exit_code == 3 and "may not accept" in refused.stderr
    runner.ok("reject", ident, "--reason", "监测数据不足", actor="li", as_of="2024-03-22")
    assert items(runner)["1"]["stage"] == "rectifying" and items(runner)["1"]["rejected"] == 1
    runner.ok("submit", ident, "--evidence", str(evidence), as_of="2024-03-25")
    runner.ok("ledger", "accept", ident, "--note", "现场核查通过", actor="li", as_of="2024-03-28")
    assert items(runner)["1"]["stage"] == "accepted"
    runner.ok("verify", ident, actor="li", as_of="2024-03-29")
    assert items(runner)["1"]["stage"] == "closed"


def test_each_stage_filter_lists_exactly_the_items_at_that_stage(ledger, tmp_path: Path) -> None:
    """The doors of the ledger (TUI screen and dashboard panel) open these filter lines: each
    must list what ``duban ledger list --stage`` lists, so 申请销号 and 验收 differ."""
    from duban.core.cli.context import Env
    from duban.plugins.supervision.ledger import STAGES, stage_filter
    from duban.tui import data
    from duban.tui.filters import parse

    runner, _, _ = ledger
    runner.ok("user", "add", "li", "--role", "coordinator")
    ids = {number: str(row["id"]) for number, row in items(runner).items()}
    evidence = tmp_path / "整改报告.pdf"
    evidence.write_bytes(b"%PDF-1.4 report")
    for number in ("1", "4", "5"):
        runner.ok("submit", ids[number], "--evidence", str(evidence), as_of="2024-03-20")
    runner.ok("ledger", "accept", ids["1"], actor="li", as_of="2024-03-28")
    runner.ok("verify", ids["4"], actor="li", as_of="2024-03-28")
    as_of = date(2024, 4, 1)
    env = Env.create(db_url=runner.url, actor="coord", as_of=as_of.isoformat())
    with env.session(write=False) as session:
        for key in STAGES:
            expected = sorted(
                r["id"]
                for r in runner.ok("ledger", "list", "--stage", key, "--format", "json").json()
            )
            shown = data.window(
                session=session, query=parse(stage_filter(key)), as_of=as_of, offset=0, limit=100
            )
            assert sorted(r["id"] for r in shown) == expected, key
    env.close()
    stages = {row["stage"] for row in items(runner).values()}
    assert {"applied", "accepted"} <= stages


def test_reopened_item_is_summoned_and_referred(ledger, tmp_path: Path) -> None:
    runner, _, _ = ledger
    runner.ok("user", "add", "li", "--role", "coordinator")
    ident = str(items(runner)["5"]["id"])
    evidence = tmp_path / "验收.pdf"
    evidence.write_bytes(b"%PDF-1.4 ok")
    runner.ok("submit", ident, "--evidence", str(evidence), as_of="2024-06-01")
    runner.ok("verify", ident, actor="li", as_of="2024-06-05")
    runner.ok("ledger", "reopen", ident, "--reason", "复查发现虚假整改", as_of="2024-08-01")
    assert items(runner)["5"]["reopened"] == 1
    runner.ok("sweep", as_of="2024-08-02")
    found = [
        e
        for e in runner.ok("escalations", "--open", "--format", "json").json()
        if e["rule"] == "supervision.reopened"
    ]
    assert sorted(e["level"] for e in found) == ["refer", "summon"]
    assert {e["addressed_to"] for e in found if e["level"] == "refer"} == {"长沙市人民政府"}


def test_overdue_ladder_and_special_inspection(ledger, tmp_path: Path, monkeypatch) -> None:
    runner, _, _ = ledger
    config = tmp_path / "duban.toml"
    config.write_text(
        '[rules."supervision.special_inspection"]\nmax_overdue = 1\n', encoding="utf-8"
    )
    monkeypatch.setenv("DUBAN_CONFIG", str(config))
    runner.ok("sweep", as_of="2024-04-10")  # item 1 (衡阳市) is 10 days late, item 4 (衡阳县) 86
    esc = runner.ok("escalations", "--open", "--format", "json").json()
    ours = {(e["rule"], e["level"]) for e in esc if e["rule"].startswith("supervision.")}
    assert ("supervision.overdue", "list") in ours  # item 4: more than 60 days late
    special = [e for e in esc if e["rule"] == "supervision.special_inspection"]
    assert [(e["level"], e["addressed_to"]) for e in special] == [("list", "衡阳市人民政府")]
    # Ledger deadlines follow the ledger's ladder (list after 60 days), not core's (30 days).
    runner.ok("sweep", as_of="2024-05-05")  # item 1: 35 days late
    first = items(runner)["1"]["id"]
    levels = {
        e["level"]
        for e in runner.ok("escalations", "--open", "--format", "json").json()
        if e["subject"].startswith(f"#{first} ") or f"#{first} " in e["subject"]
    }
    assert levels == {"supervise"}


def test_monthly_report(ledger, tmp_path: Path) -> None:
    runner, _, _ = ledger
    md = runner.ok(
        "ledger", "report", "--month", "2024-07", "--format", "md", as_of="2024-08-01"
    ).stdout
    assert "2024-07" in md and "| 衡阳县人民政府 | 1 | 0 | 0.0 | 1 |" in md
    out = tmp_path / "report.xlsx"
    runner.ok(
        "ledger", "report", "--month", "2024-07", "--format", "xlsx", "-o", str(out), lang="zh"
    )
    sheet = load_workbook(out).active
    assert [c.value for c in sheet[1]][:3] == ["责任单位", "问题数", "已销号"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:G8"
    body = list(sheet.iter_rows(min_row=2, values_only=True))
    owners = [row[0] for row in body[:-1]]
    assert "长沙市人民政府" in owners and len(owners) == 7
    # Two items are co-led: on two rows each, but the total counts every item once.
    assert sum(row[1] for row in body[:-1]) == 7
    assert body[-1][:3] == ("合计", 5, 0) and body[-1][4] == 3
    rate = sheet.cell(2, 4)
    assert isinstance(rate.value, int | float) and rate.number_format == "0.0%"
    assert "| **Total** | 5 | 0 | 0.0 | 3 |" in md
    data = runner.ok("ledger", "report", "--month", "2024-07", "--format", "json").json()
    assert data["totals"]["total"] == 5 == len(items(runner))
    csv_text = runner.ok("ledger", "report", "--month", "2024-07", "--format", "csv").stdout
    lines = csv_text.splitlines()
    assert lines[0] == "owner,total,closed,closed_rate,overdue,rejected,reopened"
    assert len(lines) == 8  # a row per body; totals are for people, not for CSV


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            [6, "缺少责任单位的问题。", "", "2024年底前", "", ""],
            "bad.xlsx:Sheet:7:C (责任单位): no responsible body",
        ),
        (
            [6, "时限无法识别的问题。", "长沙市人民政府", "尽快", "", ""],
            "bad.xlsx:Sheet:7:D (整改时限): cannot read '尽快'",
        ),
        (
            [5, "序号重复的问题。", "长沙市人民政府", "2024年底前", "", ""],
            "bad.xlsx:Sheet:7:A (序号): 5 repeats row 6",
        ),
    ],
)
def test_bad_rows_reject_the_file(hunan, fingerprint, tmp_path: Path, row, message) -> None:
    path = write_ledger(tmp_path / "bad.xlsx", [*ROWS, row])
    before = fingerprint(hunan.url)
    result = hunan("ledger", "import", str(path))
    assert result.exit_code == 2 and message in result.stderr
    assert fingerprint(hunan.url) == before


def test_ledger_items_list_after_the_plans_tasks_on_every_backend(ledger) -> None:
    """Items of no plan sort after the plan's tasks (SQLite and PostgreSQL order NULL apart)."""
    runner, _, _ = ledger
    codes = [r["code"] for r in runner.ok("list", "--format", "json", as_of="2024-01-15").json()]
    first_item = next(i for i, code in enumerate(codes) if "#" in code)
    assert codes[0] == "（三）" and all("#" in code for code in codes[first_item:])


def _office_workbook(path: Path) -> Path:
    """The ledger as an office keeps it: instructions first, then a sheet with a merged title,
    a two-level header (整改情况 over 整改措施 / 整改进展), dates as serial numbers and a
    合计 row at the end."""
    book = Workbook()
    notes = book.active
    notes.title = "填报说明"
    notes.append(["填报说明"])
    notes.append(["1. 序号按问题顺序填写；2. 整改时限填写具体日期或“立行立改”“长期坚持”。"])
    sheet = book.create_sheet("整改台账")
    sheet.append(["XX市中央生态环境保护督察反馈问题整改台账"])
    sheet.merge_cells("A1:F1")
    sheet.append(["序号", "问题描述", "责任单位", "整改时限（完成时间）", "整改情况", None])
    sheet.append([None, None, None, None, "整改措施", "整改进展"])
    for cell in ("A2:A3", "B2:B3", "C2:C3", "D2:D3", "E2:F2"):
        sheet.merge_cells(cell)
    serial = {date(2024, 3, 31): 45382}  # what a date cell becomes when its format is lost
    for row in ROWS:
        sheet.append([row[0], row[1], row[2], serial.get(row[3], row[3]), row[4], row[5]])
    sheet.append(["合计", "5 个问题", None, None, None, None])
    book.save(path)
    return path


def _csv_twin(path: Path) -> Path:
    lines = [",".join(HEADER)]
    for row in ROWS:
        cells = [str(c.isoformat() if isinstance(c, date) else c) for c in row]
        lines.append(",".join(f'"{c}"' for c in cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_an_office_workbook_imports_as_its_plain_csv_twin(hunan, tmp_path: Path) -> None:
    """Merged title, two-level header, serial-number dates, the ledger on the second sheet."""
    book = _office_workbook(tmp_path / "台账.xlsx")
    twin = _csv_twin(tmp_path / "台账.csv")
    for path in (twin, book):
        summary = hunan.ok(
            "ledger",
            "import",
            str(path),
            "--batch",
            path.suffix,
            "--format",
            "json",
            as_of="2024-01-15",
        ).json()
        assert (summary["rows"], summary["added"]) == (5, 5)
    listed = hunan.ok("ledger", "list", "--format", "json", as_of="2024-01-15").json()
    results = [
        [
            {k: v for k, v in r.items() if k not in ("id", "batch")}
            for r in listed
            if r["batch"] == b
        ]
        for b in (".csv", ".xlsx")
    ]
    assert len(results[0]) == 5 and results[0] == results[1]
    by_number = {r["number"]: r for r in results[1]}
    assert by_number["1"]["deadline"] == "2024-03-31"  # serial 45382
    assert by_number["1"]["stage"] == "rectifying"  # 整改进展 under 整改情况 was read


def test_the_sheet_can_be_named_and_a_wrong_name_lists_the_sheets(hunan, tmp_path: Path) -> None:
    book = _office_workbook(tmp_path / "台账.xlsx")
    result = hunan("ledger", "import", str(book), "--sheet", "台账")
    assert result.exit_code == 2
    assert "has no sheet '台账'; its sheets: 填报说明、整改台账" in result.stderr
    result = hunan("ledger", "import", str(book), "--sheet", "填报说明")
    assert (
        result.exit_code == 2
        and "台账.xlsx:填报说明: no header row with 序号、问题描述、责任单位、整改时限"
        in result.stderr
    )
    hunan.ok("ledger", "import", str(book), "--sheet", "整改台账", as_of="2024-01-15")


def test_monthly_report_as_an_official_document(ledger, tmp_path: Path) -> None:
    from docx import Document

    runner, _, _ = ledger
    out = tmp_path / "月调度.docx"
    runner.ok(
        "ledger", "report", "--month", "2024-07", "--format", "docx", "-o", str(out),
        "--issuer", "衡阳市督察整改办", "--number", "衡督改〔2024〕7号",
        as_of="2024-08-01", lang="zh",
    )  # fmt: skip
    doc = Document(str(out))
    texts = [p.text for p in doc.paragraphs if p.text]
    assert texts[:3] == ["衡阳市督察整改办文件", "衡督改〔2024〕7号", "整改台账月调度（2024-07）"]
    assert any("共有问题5个" in t for t in texts)  # each item once
    table = doc.tables[0]
    assert table.rows[0].cells[0].text == "责任单位"
    assert table.rows[-1].cells[0].text == "合计" and table.rows[-1].cells[1].text == "5"
    assert texts[-1] == "2024年8月1日"
    assert runner("ledger", "report", "--month", "2024-07", "--format", "docx").exit_code == 2


def test_columns_the_ledger_does_not_read_are_listed_not_dropped(hunan, tmp_path: Path) -> None:
    """A ledger may carry columns of its own (备注): they are imported past, and named."""
    book = Workbook()
    sheet = book.active
    sheet.append([*HEADER, "备注"])
    for row in ROWS:
        sheet.append([*row, "见附件"])
    book.save(path := tmp_path / "with-notes.xlsx")
    summary = hunan.ok("ledger", "import", str(path), "--format", "json").json()
    assert summary["ignored_columns"] == ["备注"]
    assert summary["added"] == len(ROWS)


def test_states_the_ledger_sets_are_seen_as_they_stood(ledger, tmp_path: Path) -> None:
    """Progress imported later and a reopening go through the one state-setting service:
    as of an earlier date the item is in the state it had then, in ``list``, ``show`` and
    ``ledger list``."""
    runner, path, _ = ledger
    ident = str(items(runner)["2"]["id"])
    changed = [r[:] for r in ROWS]
    changed[1][5] = "已完成一半企业改造"
    write_ledger(path, changed)
    runner.ok("ledger", "import", str(path), as_of="2024-02-15")

    def seen(day: str) -> tuple[str, str, str]:
        listed = {
            str(r["id"]): r["state"]
            for r in runner.ok("list", "--format", "json", as_of=day).json()
        }
        shown = runner.ok("show", ident, "--format", "json", as_of=day).json()["state"]
        return listed[ident], shown, items(runner, as_of=day)["2"]["stage"]

    assert seen("2024-02-01") == ("open", "open", "assigned")
    assert seen("2024-02-15") == ("in_progress", "in_progress", "rectifying")
    # Closed, then reopened by a re-inspection: closed until the reopening was recorded.
    runner.ok("user", "add", "li", "--role", "coordinator")
    evidence = tmp_path / "验收.pdf"
    evidence.write_bytes(b"%PDF-1.4 ok")
    runner.ok("submit", ident, "--evidence", str(evidence), as_of="2024-06-01")
    runner.ok("ledger", "accept", ident, "--note", "现场核查通过", actor="li", as_of="2024-06-03")
    assert seen("2024-06-02")[2] == "applied"
    assert seen("2024-06-03")[2] == "accepted"
    runner.ok("verify", ident, actor="li", as_of="2024-06-05")
    runner.ok("ledger", "reopen", ident, "--reason", "复查发现虚假整改", as_of="2024-08-01")
    assert seen("2024-07-01") == ("closed", "closed", "closed")
    assert seen("2024-08-01") == ("in_progress", "in_progress", "rectifying")
