"""core/spreadsheet_reader.py: reading CSV and Excel import files, checking cells, reporting every bad row."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from duban.core import i18n
from duban.core.api import BadCell, Column, Row, Table, UserError

COLUMNS = (
    Column("region", ("地区", "region"), required=True),
    Column("period", ("时间", "period"), required=True),
    Column("eligible", ("应参保人数", "eligible")),
    Column("insured", ("已参保人数", "insured")),
    Column("opened", ("认定日期", "opened_on")),
)
TODAY = date(2025, 1, 10)


def csv_file(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def xlsx_file(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def parse(row: Row) -> tuple[str, tuple[date, date], tuple[float, float] | None, date | None]:
    return (
        row.required("region"),
        row.period("period", TODAY),
        row.ratio("insured", "eligible"),
        row.day("opened", TODAY),
    )


def parsed(table: Table) -> list[tuple]:
    out = [value for _, value in table.parse(parse)]
    table.check()
    return out


@pytest.fixture(autouse=True)
def english():
    i18n.set_language("en")
    yield
    i18n.set_language(None)


def test_csv_with_chinese_headers_units_and_blank_rows(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path / "a.csv",
        "地区,时间,应参保人数（人）, 已参保人数 ,认定日期\n"
        '南县,2024-06,"3,540",3540,2024年6月1日\n'
        ",,,,\n"
        "沅江市,2024,10,9,\n",
    )
    table = Table(path, COLUMNS)
    assert parsed(table) == [
        ("南县", (date(2024, 6, 1), date(2024, 6, 30)), (3540.0, 3540.0), date(2024, 6, 1)),
        ("沅江市", (date(2024, 1, 1), date(2024, 12, 31)), (9.0, 10.0), None),
    ]
    assert table.rows == 2  # the blank row is skipped
    summary = table.summary(readings=4)
    assert summary["file"] == str(path) and len(summary["sha256"]) == 64 and summary["rows"] == 2


def test_gb18030_csv_as_excel_writes_it_on_chinese_windows(tmp_path: Path) -> None:
    path = csv_file(tmp_path / "gbk.csv", "地区,时间\n南县,2024-Q2\n", encoding="gb18030")
    assert [value[:2] for value in parsed(Table(path, COLUMNS))] == [
        ("南县", (date(2024, 4, 1), date(2024, 6, 30)))
    ]


def test_xlsx_with_english_headers_dates_and_numbers(tmp_path: Path) -> None:
    path = xlsx_file(
        tmp_path / "a.xlsx",
        [
            ["Region", "PERIOD", "eligible", "insured", "opened_on"],
            ["南县", "2024-06", 3540.0, 3540, datetime(2024, 6, 1)],
            [None, None, None, None, None],
            ["沅江市", 2024, 10, 9, date(2024, 5, 2)],
        ],
    )
    assert parsed(Table(path, COLUMNS)) == [
        ("南县", (date(2024, 6, 1), date(2024, 6, 30)), (3540.0, 3540.0), date(2024, 6, 1)),
        ("沅江市", (date(2024, 1, 1), date(2024, 12, 31)), (9.0, 10.0), date(2024, 5, 2)),
    ]


def test_missing_unknown_and_doubled_columns_are_errors_on_line_1(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"m\.csv:1: missing column\(s\): 时间"):
        Table(csv_file(tmp_path / "m.csv", "地区,应参保人数\n南县,1\n"), COLUMNS)
    with pytest.raises(UserError, match=r"u\.csv:1:C: unknown column '颜色'; expected 地区、时间"):
        Table(csv_file(tmp_path / "u.csv", "地区,时间,颜色\n南县,2024,蓝\n"), COLUMNS)
    with pytest.raises(UserError, match=r"d\.csv:1:C: column 'region' given twice"):
        Table(csv_file(tmp_path / "d.csv", "地区,时间,region\n南县,2024,南县\n"), COLUMNS)
    # An importer that reads only some columns of a wider sheet ignores the others.
    table = Table(
        csv_file(tmp_path / "i.csv", "地区,时间,颜色\n南县,2024,蓝\n"), COLUMNS, ignore_unknown=True
    )
    assert [value[0] for value in parsed(table)] == ["南县"]


def test_bad_cells_in_several_rows_are_reported_together(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path / "bad.csv",
        "地区,时间,应参保人数,已参保人数,认定日期\n"
        "南县,2024-06,100,90,\n"
        ",2024-06,100,90,\n"
        "汉寿县,2024-13,100,90,\n"
        "安乡县,2024-06,100,120,\n"
        "华容县,2024-06,abc,,\n"
        "湘阴县,2026-01,100,90,\n"
        "君山区,2024-06,100,90,2025-02-01\n"
        "南县,2024-06,100,90,\n",
    )
    table = Table(path, COLUMNS)
    good = []
    for row, value in table.parse(parse):
        other = table.earlier(row, value[:2])
        if other:
            table.reject(row, "region", f"the same region and period as row {other}")
        else:
            good.append(value)
    assert len(good) == 1
    with pytest.raises(UserError) as caught:
        table.check()
    lines = str(caught.value).split("\n  ")
    assert lines == [
        f"{path}: 7 bad row(s); nothing was imported:",
        f"{path}:3:A (地区): empty",
        f"{path}:4:B (时间): not a period (2024, 2024-Q2, 2024-06 or 2024-06-15): '2024-13'",
        f"{path}:5:D (已参保人数): greater than 应参保人数 (100)",
        f"{path}:6:C (应参保人数): not a number: 'abc'",
        f"{path}:7:B (时间): 2026-01 has not begun yet (today is 2025-01-10)",
        f"{path}:8:E (认定日期): 2025-02-01 is after today (2025-01-10)",
        f"{path}:9:A (地区): the same region and period as row 2",
    ]


def test_problems_speak_chinese(tmp_path: Path) -> None:
    i18n.set_language("zh")
    path = csv_file(tmp_path / "bad.csv", "地区,时间,应参保人数,已参保人数\n南县,2024,10,\n")
    with pytest.raises(UserError) as caught:
        parsed(Table(path, COLUMNS))
    assert f"{path}：1 行有误，未导入任何数据：" in str(caught.value)
    assert f"{path}:2:D（已参保人数）：已填写“应参保人数”，本列也必须填写" in str(caught.value)


def test_many_problems_are_counted_beyond_those_listed(tmp_path: Path) -> None:
    rows = "".join(f"县{n},2024,-1,\n" for n in range(40))
    table = Table(csv_file(tmp_path / "many.csv", "地区,时间,应参保人数\n" + rows), COLUMNS)
    with pytest.raises(UserError) as caught:
        parsed(table)
    text = str(caught.value)
    assert "40 bad row(s)" in text and text.count("must not be negative") == 30
    assert text.endswith("… and 10 more problem(s)")


@pytest.mark.parametrize("name", ["empty.csv", "empty.xlsx"])
def test_an_empty_file_is_named(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    if name.endswith(".csv"):
        csv_file(path, "\n\n")
    else:
        xlsx_file(path, [])
    with pytest.raises(UserError, match=re.escape(f"{name}: the file is empty")):
        Table(path, COLUMNS)


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("photo.csv", PNG, "binary data, not a CSV text file"),
        ("noise.csv", bytes(range(128, 256)) * 4, "neither UTF-8 nor GB18030 text"),
        ("photo.xlsx", PNG, "not a readable .xlsx workbook"),
        ("photo.png", PNG, "expected a .csv or .xlsx file"),
    ],
)
def test_a_binary_file_is_refused_with_its_name(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UserError, match=re.escape(f"{name}: {message}")):
        Table(path, COLUMNS)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"nowhere\.csv: cannot read"):
        Table(tmp_path / "nowhere.csv", COLUMNS)


def test_whole_numbers_and_a_zero_whole(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path / "n.csv", "地区,时间,应参保人数,已参保人数\n南县,2024,0,0\n汉寿县,2024,3.5,1\n"
    )
    table = Table(path, COLUMNS)
    rows = list(table)
    assert rows[0].ratio("insured", "eligible") is None  # nothing to cover: no rate
    with pytest.raises(BadCell) as caught:
        rows[1].ratio("insured", "eligible")
    assert (caught.value.column, caught.value.reason) == (
        "应参保人数",
        "must be a whole number: '3.5'",
    )
    assert rows[1].ratio("insured", "eligible", counts=False) == (1.0, 3.5)


def test_header_below_titles_units_and_full_width_forms(tmp_path: Path) -> None:
    """A title row and a 填报单位 line above the header; units, spaces and full-width forms
    in it; a BOM; a 合计 row at the end."""
    path = csv_file(
        tmp_path / "t.csv",
        "\ufeff2024年参保情况统计表,,,,\n"
        "填报单位：益阳市农业农村局,,,,\n"
        "地 区,时间,应参保人数（人）,已参保人数/人,ＯＰＥＮＥＤ_ＯＮ\n"
        "南县,2024,10,9,45382\n"
        "合计,,10,9,\n",
    )
    table = Table(path, COLUMNS)
    assert table.sheet.header_row == 3
    assert parsed(table) == [
        ("南县", (date(2024, 1, 1), date(2024, 12, 31)), (9.0, 10.0), date(2024, 3, 31))
    ]


def test_norm_header_ignores_units_brackets_and_width() -> None:
    from duban.core.spreadsheet_reader import norm_header

    same = [
        "数值（%）",
        "数值(%)",
        "数值/%",
        " 数 值 ",
        "数值［%］".replace("［", "[").replace("］", "]"),
    ]
    assert {norm_header(h) for h in same} == {"数值"}
    assert norm_header("整改时限（完成时间）") == "整改时限"
    assert norm_header("ＲＥＧＩＯＮ") == "region"


def test_two_level_header_and_the_first_matching_sheet(tmp_path: Path) -> None:
    book = Workbook()
    book.active.title = "说明"
    book.active.append(["本表由各县填报"])
    sheet = book.create_sheet("数据")
    sheet.append(["地区", "时间", "参保情况", None])
    sheet.append([None, None, "应参保人数", "已参保人数"])
    sheet.append(["南县", datetime(2024, 6, 1), 10, 9])
    path = tmp_path / "two.xlsx"
    book.save(path)
    table = Table(path, COLUMNS)
    assert (table.sheet.name, table.sheet.header_row) == ("数据", 2)
    assert table.header[2:] == ["参保情况/应参保人数", "参保情况/已参保人数"]
    assert [v[:3] for v in parsed(table)] == [
        ("南县", (date(2024, 6, 1), date(2024, 6, 1)), (9.0, 10.0))
    ]
    with pytest.raises(UserError, match=re.escape("two.xlsx:数据:4:A (地区): empty")):
        sheet.append([None, 2024, 1, 1])
        book.save(path)
        parsed(Table(path, COLUMNS))


def test_sheet_option_names_the_sheet_or_lists_them(tmp_path: Path) -> None:
    from duban.core.spreadsheet_reader import sheet_option

    book = Workbook()
    book.active.title = "一月"
    book.active.append(["地区", "时间"])
    book.active.append(["南县", "2024-01"])
    second = book.create_sheet("二月")
    second.append(["地区", "时间"])
    second.append(["沅江市", "2024-02"])
    path = tmp_path / "m.xlsx"
    book.save(path)
    assert [v[0] for v in parsed(Table(path, COLUMNS))] == ["南县"]
    with sheet_option("二月"):
        assert [v[0] for v in parsed(Table(path, COLUMNS))] == ["沅江市"]
    with pytest.raises(UserError, match="has no sheet '三月'; its sheets: 一月、二月"):
        Table(path, COLUMNS, sheet="三月")
    with pytest.raises(UserError, match="is a CSV file, which has no sheets"):
        Table(csv_file(tmp_path / "a.csv", "地区,时间\n"), COLUMNS, sheet="一月")


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2024-06-30", date(2024, 6, 30)),
        ("2024/6/30", date(2024, 6, 30)),
        ("2024.6.30", date(2024, 6, 30)),
        ("20240630", date(2024, 6, 30)),
        ("2024年6月30日", date(2024, 6, 30)),
        ("二〇二四年六月三十日", date(2024, 6, 30)),
        ("45473", date(2024, 6, 30)),
        (45473, date(2024, 6, 30)),
        (45473.5, date(2024, 6, 30)),
        (datetime(2024, 6, 30, 8, 30), date(2024, 6, 30)),
    ],
)
def test_one_date_parser_reads_what_offices_write(text: object, day: date) -> None:
    from duban.core.dates import parse_day

    assert parse_day(text) == day


@pytest.mark.parametrize(
    ("text", "due", "how"),
    [
        ("2024年底前", date(2024, 12, 31), "year_end"),
        ("到2025年年底", date(2025, 12, 31), "year_end"),
        ("2024年6月底前", date(2024, 6, 30), "month_end"),
        ("2024年上半年", date(2024, 6, 30), "half"),
        ("2024年6月30日前", date(2024, 6, 30), "date"),
        (45382, date(2024, 3, 31), "date"),
    ],
)
def test_deadlines(text: object, due: date, how: str) -> None:
    from duban.core.dates import parse_deadline

    assert parse_deadline(text) == (due, how)


@pytest.mark.parametrize("text", ["尽快", "2024-13-01", "12345", "2024年13月", ""])
def test_what_is_not_a_date_is_refused(text: str) -> None:
    from duban.core.dates import parse_deadline

    with pytest.raises(ValueError):
        parse_deadline(text)
