"""Every listing as a spreadsheet and as CSV: typed cells, a frozen and filtered header,
charts of off-track targets, and CSV that reads back to what JSON says."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from duban.core.spreadsheet import cell_width, plain

AS_OF = "2024-06-01"
RECORDED = "2024-01-02"  # the fixture's obligation, before the date the tests read as of


@pytest.fixture
def world(hunan):
    """The Hunan plan, a sweep's escalations and an off-track forest target with readings."""
    ob = hunan.ok(
        "add", "森林覆盖率提升", "--lead", "湖南省林业局", "--due", "2025-12-31", as_of=RECORDED
    ).stdout
    hunan.ok(
        "target", "add", ob.strip(), "--indicator", "general.forest_coverage_rate",
        "--gte", "60", "--due", "2025-12-31", "--region", "430000",
        "--baseline", "55", "--baseline-date", "2020-12-31", as_of=RECORDED,
    )  # fmt: skip
    for year, value in (("2021", "55.2"), ("2022", "55.3"), ("2023", "55.35")):
        hunan.ok(
            "record", "general.forest_coverage_rate", value, "--region", "430000", "--at", year,
            as_of=AS_OF,
        )  # fmt: skip
    hunan.ok("sweep", as_of=AS_OF)
    return hunan


LISTINGS = [
    ["list"],
    ["status"],
    ["scorecard"],
    ["escalations"],
    ["ledger", "list"],
]


@pytest.mark.parametrize("command", LISTINGS, ids=lambda c: " ".join(c))
def test_xlsx_has_typed_cells_a_frozen_filtered_header_and_fitting_widths(
    world, tmp_path: Path, command: list[str]
) -> None:
    out = tmp_path / "out.xlsx"
    world.ok(*command, "--format", "xlsx", "-o", str(out), as_of=AS_OF, lang="zh")
    rows = world.ok(*command, "--format", "json", as_of=AS_OF).json()
    sheet = load_workbook(out).worksheets[0]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref.startswith("A1:")
    assert all(cell.font.b for cell in sheet[1])
    body = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(body) == len(rows)
    if rows:
        values = [v for row in body for v in row if v is not None]
        assert any(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    for letter, dim in sheet.column_dimensions.items():
        assert 6 <= dim.width <= 62, letter


def test_dates_are_dates_and_booleans_are_booleans(world, tmp_path: Path) -> None:
    out = tmp_path / "list.xlsx"
    world.ok("list", "--format", "xlsx", "-o", str(out), as_of=AS_OF)
    sheet = load_workbook(out).active
    header = [c.value for c in sheet[1]]
    due, overdue = header.index("Next due"), header.index("Overdue")
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert all(isinstance(r[due], datetime) for r in rows if r[due] is not None)
    assert {type(r[overdue]) for r in rows} == {bool}
    assert sheet.cell(2, due + 1).number_format == "yyyy-mm-dd"
    # A Chinese title is wider than its character count.
    title = header.index("Title") + 1
    letter = sheet.cell(1, title).column_letter
    assert sheet.column_dimensions[letter].width > 20


def test_the_status_sheet_charts_each_off_track_target(world, tmp_path: Path) -> None:
    out = tmp_path / "status.xlsx"
    world.ok("status", "--format", "xlsx", "-o", str(out), as_of=AS_OF)
    statuses = world.ok("status", "--format", "json", as_of=AS_OF).json()
    off = [r for r in statuses if r["status"] in ("off_track", "missed")]
    assert off, "the fixture's forest target is off track"
    with zipfile.ZipFile(out) as package:
        charts = [n for n in package.namelist() if n.startswith("xl/charts/chart")]
        first = package.read(charts[0]).decode()
    assert len(charts) == len(off)
    assert "<scatterChart>" in first and "<lineChart>" not in first
    book = load_workbook(out)
    data = book["Chart data"]
    cells = [c for row in data.iter_rows(values_only=True) for c in row if c is not None]
    assert 55.35 in cells and 60 in cells  # the last reading and the target


def test_the_progress_summary_workbook_charts_the_same_targets(world, tmp_path: Path) -> None:
    out = tmp_path / "summary.xlsx"
    world.ok(
        "report", "summary", "--period", "2024-05", "--format", "xlsx", "-o", str(out), as_of=AS_OF
    )
    statuses = world.ok("status", "--format", "json", as_of=AS_OF).json()
    off = [r for r in statuses if r["status"] in ("off_track", "missed")]
    with zipfile.ZipFile(out) as package:
        charts = [n for n in package.namelist() if n.startswith("xl/charts/chart")]
    assert off and len(charts) == len(off)
    assert {"Tasks", "Owners"} <= set(load_workbook(out).sheetnames)


@pytest.mark.parametrize(
    "command",
    [["list"], ["status"], ["scorecard"], ["escalations"], ["ledger", "list"]],
    ids=lambda c: " ".join(c),
)
def test_csv_reads_back_as_json_says(world, tmp_path: Path, command: list[str]) -> None:
    text = world.ok(*command, "--format", "csv", as_of=AS_OF).stdout
    rows = world.ok(*command, "--format", "json", as_of=AS_OF).json()
    read = list(csv.DictReader(io.StringIO(text)))
    assert len(read) == len(rows)
    for got, want in zip(read, rows, strict=True):
        for key, value in got.items():
            if key in want and not isinstance(want[key], dict):
                assert value == plain(want[key], for_csv=True), key
    # To a file: with a BOM, so that Excel reads the Chinese; the same rows otherwise.
    out = tmp_path / "out.csv"
    world.ok(*command, "--format", "csv", "-o", str(out), as_of=AS_OF)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode("utf-8-sig").replace("\r\n", "\n") == text.replace("\r\n", "\n")


def test_xlsx_needs_a_file_and_a_writable_one(world, tmp_path: Path) -> None:
    result = world("list", "--format", "xlsx")
    assert result.exit_code == 2 and "-o" in result.stderr
    result = world("list", "--format", "xlsx", "-o", str(tmp_path / "no" / "dir" / "x.xlsx"))
    assert result.exit_code == 2 and "cannot write" in result.stderr


@pytest.mark.parametrize(
    ("text", "cells"),
    [
        ("", 0),
        ("plain ASCII", 11),
        ("tab\tand escape\x1b", 15),
        ("湖南省水利厅", 12),
        ("（四）全省", 10),
        ("B000123 黑臭水体", 16),
        ("ＡＢ１", 6),  # full-width forms
        ("é and ü", 7),  # narrow, not ASCII
        ("①②", 2),  # ambiguous width: one cell each, as before
    ],
)
def test_cells_a_text_takes(text: str, cells: int) -> None:
    assert cell_width(text) == cells
    assert cell_width(text) == cells  # measured again: the same, from the cache
