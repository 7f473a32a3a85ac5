"""Progress reports (进展报送): reporting, the spreadsheet round trip, the lights, the
missing-report rule and who may report."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

OWNER = "测试局"


@pytest.fixture
def office(duban):
    """测试局's obligation, created 2024-01-01 and due 2024-12-31 (as the acceptance has it)."""
    day = "2024-01-01"
    duban.ok("owner", "add", OWNER, as_of=day)
    duban.ok("owner", "add", "协作局", as_of=day)
    duban.ok("owner", "add", "他局", as_of=day)
    duban.ok(
        "add", "测试任务", "--lead", OWNER, "--participant", "协作局", "--due", "2024-12-31",
        "--code", "T1", as_of=day,
    )  # fmt: skip
    duban.ok("add", "他局任务", "--lead", "他局", "--due", "2024-12-31", "--code", "T2", as_of=day)
    duban.ok("user", "add", "ce", "--role", "member", "--owner", OWNER)
    duban.ok("user", "add", "ta", "--role", "member", "--owner", "他局")
    duban.ok("user", "add", "kan", "--role", "viewer")
    return duban


def fill(path: Path, rows: dict[int, dict[str, object]]) -> None:
    """Fill a returned form as an owner would: {data row (1-based): {header: value}}."""
    book = load_workbook(path)
    sheet = book.worksheets[0]
    headers = {cell.value: cell.column for cell in sheet[1]}
    for n, values in rows.items():
        for header, value in values.items():
            sheet.cell(n + 1, headers[header], value)
    book.save(path)


def template(duban, folder: Path, period: str = "2024-02") -> Path:
    """测试局's form for ``period``, as the office sends it out on 2024-03-01."""
    form = folder / f"{OWNER}-{period}.xlsx"
    duban.ok(
        "report", "template", "--owner", OWNER, "--period", period, "-o", str(form),
        as_of="2024-03-01",
    )  # fmt: skip
    return form


def light(duban, as_of: str, code: str = "T1") -> str | None:
    rows = duban.ok("list", "--format", "json", as_of=as_of).json()
    return next(r for r in rows if r["code"] == code)["light"]


def test_template_import_lights_and_the_missing_report_rule(office, tmp_path: Path) -> None:
    form = template(office, tmp_path)  # exported on 2024-03-01
    sheet = load_workbook(form).worksheets[0]
    assert [c.value for c in sheet[1]] == [
        "序号", "任务编号", "任务名称", "责任单位", "完成时限",
        "进展情况", "存在问题", "下步计划", "完成比例(%)",
    ]  # fmt: skip
    assert [c.value for c in sheet[2]][:5] == [1, "T1", "测试任务", OWNER, "2024-12-31"]
    assert sheet.max_row == 2  # only 测试局's obligation
    assert sheet.protection.sheet
    assert sheet["C2"].protection.locked and not sheet["F2"].protection.locked
    fill(form, {1: {"进展情况": "完成现场调研，制定方案", "完成比例(%)": 30}})

    office.ok("report", "import", str(form), actor="ce", as_of="2024-03-01")
    [made] = office.ok("report", "list", "--format", "json", as_of="2024-03-02").json()
    assert made["code"] == "T1" and made["owner"] == OWNER and made["role"] == "lead"
    assert made["period"] == "2024-02" and made["percent"] == 30
    assert made["progress"] == "完成现场调研，制定方案"

    assert light(office, "2024-03-02") == "green"
    [row] = office.ok("list", "--light", "green", "--format", "json", as_of="2024-03-02").json()
    assert row["last_report"]["period"] == "2024-02" and row["last_report"]["percent"] == 30
    assert light(office, "2024-11-15") == "red"
    assert office.ok("list", "--light", "red", "--count", as_of="2024-11-15").stdout.strip() == "2"
    # Reports recorded later do not exist as of an earlier day.
    assert office.ok("report", "list", "--format", "json", as_of="2024-02-28").json() == []

    swept = office.ok("sweep", "--format", "json", as_of="2024-04-06").json()
    opened = [c for c in swept["changes"] if c["rule"] == "core.report_missing"]
    by_code = {c["obligation_id"]: c for c in opened}
    mine = by_code[1]
    assert mine["action"] == "open" and mine["level"] == "remind"
    assert "2024-03" in mine["reason"] and "2024-04-05" in mine["reason"]
    assert mine["addressed_to"] == OWNER
    # 他局 never reported: three periods by then, so it is already at 督办.
    assert by_code[2]["level"] == "supervise"


def test_lights_follow_time_proportional_progress(office) -> None:
    add = ("report", "add", "T1", "--progress", "进展")
    office.ok(*add, "--period", "2024-05", "--percent", "40", as_of="2024-06-03")
    # Expected on 2024-06-04: 155 of 366 days, 42%: 2 points behind is yellow.
    assert light(office, "2024-06-04") == "yellow"
    # 2024-07-06: June's report (due 07-05) is late; 40 against 51% expected: yellow.
    assert light(office, "2024-07-06") == "yellow"
    # 2024-08-06: June and July unreported: red.
    assert light(office, "2024-08-06") == "red"
    office.ok(*add, "--period", "2024-07", "--percent", "70", as_of="2024-08-06")
    assert light(office, "2024-08-07") == "green"
    # Done and closed: no light.
    assert (
        office.ok("list", "--light", "green", "--count", as_of="2024-08-07").stdout.strip() == "1"
    )


def test_a_resubmission_supersedes_and_both_stay(office) -> None:
    first = office.ok(
        "report", "add", "T1", "--period", "2024-02", "--progress", "初稿", "--percent", "20",
        actor="ce", as_of="2024-03-02",
    ).stdout.strip()  # fmt: skip
    second = office.ok(
        "report", "add", "T1", "--period", "2024-02", "--progress", "修订", "--percent", "25",
        actor="ce", as_of="2024-03-03",
    ).stdout.strip()  # fmt: skip
    current = office.ok("report", "list", "--format", "json", as_of="2024-03-04").json()
    assert [r["id"] for r in current] == [int(second)]
    history = office.ok(
        "report", "list", "--history", "--format", "json", as_of="2024-03-04"
    ).json()
    assert {r["id"]: r["superseded_by"] for r in history} == {
        int(first): int(second),
        int(second): None,
    }
    # As of the day between, the first one is the current one.
    [then] = office.ok("report", "list", "--format", "json", as_of="2024-03-02T12:00").json()
    assert then["id"] == int(first)
    # A participant reports to the lead: its report is not the obligation's own.
    office.ok(
        "report", "add", "T1", "--period", "2024-02", "--progress", "协作进展", "--owner", "协作局",
        as_of="2024-03-04",
    )  # fmt: skip
    summary = office.ok(
        "report", "summary", "--period", "2024-02", "--format", "json", as_of="2024-03-06"
    ).json()
    task = next(t for t in summary["tasks"] if t["code"] == "T1")
    assert task["progress"] == "修订" and task["percent"] == 25
    assert task["others"][0]["owner"] == "协作局"
    assert {o["owner"]: (o["due"], o["received"], o["missing"]) for o in summary["owners"]} == {
        OWNER: (1, 1, 0),
        "他局": (1, 0, 1),
    }
    audit = office.ok("audit", "log", "--entity", "report", "--format", "json").json()
    assert len(audit) == 3


def test_who_may_report(office, tmp_path: Path, fingerprint, db_url: str) -> None:
    before = fingerprint(db_url)
    other = office(
        "report",
        "add",
        "T1",
        "--period",
        "2024-02",
        "--progress",
        "x",
        actor="ta",
        as_of="2024-03-02",
    )
    assert other.exit_code == 3, other.stderr
    viewer = office(
        "report",
        "add",
        "T1",
        "--period",
        "2024-02",
        "--progress",
        "x",
        actor="kan",
        as_of="2024-03-02",
    )
    assert viewer.exit_code == 3
    # A member names its own owner or none; not another.
    posing = office(
        "report", "add", "T2", "--period", "2024-02", "--progress", "x", "--owner", OWNER,
        actor="ce", as_of="2024-03-02",
    )  # fmt: skip
    assert posing.exit_code == 3
    # 测试局's form, returned by 他局's member: refused whole.
    form = template(office, tmp_path)
    fill(form, {1: {"进展情况": "进展"}})
    assert office("report", "import", str(form), actor="ta", as_of="2024-03-01").exit_code == 3
    assert fingerprint(db_url) == before


def test_a_returned_form_with_an_unknown_task_is_refused_whole(
    office, tmp_path: Path, fingerprint, db_url: str
) -> None:
    form = template(office, tmp_path)
    book = load_workbook(form)
    sheet = book.worksheets[0]
    sheet.protection.sheet = False
    sheet.append([2, "T9", "不存在", OWNER, "", "进展", "", "", 10])
    sheet.append([3, "T2", "他局任务", "他局", "", "进展", "", "", 10])
    book.save(form)
    fill(form, {1: {"进展情况": "进展", "完成比例(%)": 130}})
    before = fingerprint(db_url)
    result = office("report", "import", str(form), as_of="2024-03-01")
    assert result.exit_code == 2
    # FILE:SHEET:ROW:COLUMN (header): why
    assert f"{form}:2024-02:3:B (任务编号): unknown task number 'T9'" in result.stderr
    assert f"{form}:2024-02:2:I (完成比例(%)): must be from 0 to 100" in result.stderr
    assert f"{form}:2024-02:4:B (任务编号): unknown task number 'T2'" in result.stderr
    assert fingerprint(db_url) == before


def test_bad_report_input(office) -> None:
    def add(*args: str) -> str:
        result = office("report", "add", "T1", *args, as_of="2024-03-02")
        assert result.exit_code == 2, result.stdout
        return result.stderr

    assert "not a period" in add("--period", "2024-13", "--progress", "x")
    assert "has not begun" in add("--period", "2024-04", "--progress", "x")
    assert "reports monthly" in add("--period", "2024-Q1", "--progress", "x")
    assert "0 to 100" in add("--period", "2024-02", "--progress", "x", "--percent", "101")
    assert "control character" in add("--period", "2024-02", "--progress", "a\x1b[2Jb")
    assert "must not be empty" in add("--period", "2024-02", "--progress", "  ")


def test_a_quarterly_obligation_reports_by_quarter(office) -> None:
    office.ok("report", "frequency", "T1", "quarterly")
    office.ok(
        "report", "add", "T1", "--period", "2024-Q1", "--progress", "一季度", as_of="2024-04-02"
    )
    missing = office.ok(
        "report", "list", "--missing", "--format", "json", as_of="2024-07-06"
    ).json()
    assert {(m["code"], m["period"], m["late"]) for m in missing} == {
        ("T1", "2024-Q2", True),
        ("T2", "2024-06", True),
    }


def test_a_milestone_claimed_done_in_a_report(office, tmp_path: Path) -> None:
    evidence = tmp_path / "验收报告.pdf"
    evidence.write_bytes(b"%PDF-1.4")
    [ms] = office.ok("show", "T1", "--format", "json").json()["milestones"]
    office.ok(
        "report", "add", "T1", "--period", "2024-02", "--progress", "已完成", "--percent", "100",
        "--milestone", str(ms["id"]), "--on", "2024-02-20", "--evidence", str(evidence),
        actor="ce", as_of="2024-03-01",
    )  # fmt: skip
    shown = office.ok("show", "T1", "--format", "json", as_of="2024-03-02").json()
    assert shown["milestones"][0]["done"] == "2024-02-20"
    assert shown["light"] == "green"
    [made] = office.ok("report", "list", "--format", "json", as_of="2024-03-02").json()
    assert made["milestones_done"][0]["on"] == "2024-02-20"


def test_urge_an_owner_once_a_day(office) -> None:
    office.ok("owner", "set", "他局", "--email", "ta@example.org")
    done = office.ok("report", "urge", "--owner", "他局", as_of="2024-03-06")
    assert "1 report(s)" in done.stdout
    again = office("report", "urge", "--owner", "他局", as_of="2024-03-06")
    assert again.exit_code == 2 and "already reminded today" in again.stderr
    assert (
        office("report", "urge", "--owner", "他局", actor="ce", as_of="2024-03-07").exit_code == 3
    )
    sent = office.ok("notifications", "--format", "json").json()
    assert {n["channel"] for n in sent} == {"inbox", "email"}


def test_the_summary_as_markdown_workbook_and_document(office, tmp_path: Path) -> None:
    office.ok(
        "report", "add", "T1", "--period", "2024-02", "--progress", "完成调研", "--percent", "30",
        as_of="2024-03-01",
    )  # fmt: skip
    md = office.ok("report", "summary", "--period", "2024-02", as_of="2024-03-06").stdout
    assert "| T1 | 测试任务 | 测试局 | green | 30 | 完成调研 |" in md
    assert "| 他局 | 1 | 0 | 1 | 1 |" in md  # due, received, late, missing
    book = tmp_path / "summary.xlsx"
    office.ok(
        "report",
        "summary",
        "--period",
        "2024-02",
        "--format",
        "xlsx",
        "-o",
        str(book),
        as_of="2024-03-06",
    )
    sheets = load_workbook(book)
    assert sheets.sheetnames == ["Tasks", "Owners"]
    assert [c.value for c in sheets["Owners"][2]] == ["他局", 1, 0, 1, 1]
    doc = tmp_path / "summary.docx"
    office.ok(
        "report",
        "summary",
        "--period",
        "2024-02",
        "--format",
        "docx",
        "-o",
        str(doc),
        as_of="2024-03-06",
    )
    from docx import Document

    text = "\n".join(p.text for p in Document(str(doc)).paragraphs)
    assert "1 of 2 progress reports were received" in text
    assert office("report", "summary", "--period", "2024-02", "--format", "docx").exit_code == 2


def test_lights_as_of_a_day_see_the_record_as_it_stood(office) -> None:
    """Closed later, T1 still had its light then; an obligation added later had none. The
    lean count, the listing and the dashboard's figures agree."""
    from duban.core.migrations import HEAD
    from duban.core.queries import lean_connect
    from duban.tui.overview import light_counts

    office.ok(
        "submit", "T1", "--evidence", "https://example.org/r.pdf", actor="ce", as_of="2024-09-01"
    )
    office.ok("verify", "T1", as_of="2024-09-02")
    office.ok(
        "add",
        "后加任务",
        "--lead",
        "他局",
        "--due",
        "2024-12-31",
        "--code",
        "T3",
        as_of="2024-09-03",
    )
    day = "2024-08-06"  # T1 and T2 unreported for two periods: both red then
    assert light(office, day) == "red"
    assert office.ok("list", "--light", "red", "--count", as_of=day).stdout.strip() == "2"
    reds = office.ok("list", "--light", "red", "--format", "json", as_of=day).json()
    assert sorted(r["code"] for r in reds) == ["T1", "T2"]
    lean = lean_connect(office.url, HEAD)
    assert lean is not None
    with lean:
        assert light_counts(lean, date(2024, 8, 6)) == {"red": 2}
