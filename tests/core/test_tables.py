"""core/tables.py: reading CSV and Excel import files, checking cells, reporting every bad row."""

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
    with pytest.raises(UserError, match=r"u\.csv:1: unknown column '颜色'; expected 地区、时间"):
        Table(csv_file(tmp_path / "u.csv", "地区,时间,颜色\n南县,2024,蓝\n"), COLUMNS)
    with pytest.raises(UserError, match=r"d\.csv:1: column 'region' given twice"):
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
        f"{path}: row 3, column 地区: empty",
        f"{path}: row 4, column 时间: not a period (2024, 2024-Q2, 2024-06 or 2024-06-15): '2024-13'",
        f"{path}: row 5, column 已参保人数: greater than 应参保人数 (100)",
        f"{path}: row 6, column 应参保人数: not a number: 'abc'",
        f"{path}: row 7, column 时间: 2026-01 has not begun yet (today is 2025-01-10)",
        f"{path}: row 8, column 认定日期: 2025-02-01 is after today (2025-01-10)",
        f"{path}: row 9, column 地区: the same region and period as row 2",
    ]


def test_problems_speak_chinese(tmp_path: Path) -> None:
    i18n.set_language("zh")
    path = csv_file(tmp_path / "bad.csv", "地区,时间,应参保人数,已参保人数\n南县,2024,10,\n")
    with pytest.raises(UserError) as caught:
        parsed(Table(path, COLUMNS))
    assert f"{path}：1 行有误，未导入任何数据：" in str(caught.value)
    assert f"{path}：第 2 行，“已参保人数”列：已填写“应参保人数”，本列也必须填写" in str(
        caught.value
    )


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
