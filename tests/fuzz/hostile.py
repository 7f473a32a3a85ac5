"""Hostile files: strategies for what people actually receive, and the one check every
importer must pass on them."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from duban.core.testing import Runner

# Text Hypothesis may put in a file: any character a file can encode (no lone surrogates).
CHARS = st.characters(exclude_categories=("Cs",))
CONTROLS = st.sampled_from(
    ["\x00", "\x1b]0;x\x07", "\x1b[2J", "\x9b", "\r", "\x7f", "\x0b", "\u202e", "\ufeff"]
)
# Past the csv module's field limit (131072) as well as below it.
HUGE = st.sampled_from([5_000, 140_000]).map(lambda n: "长" * n)
NUMBERS = st.sampled_from(
    ["97.3", "-5", "150", "NaN", "inf", "-inf", "1e309", "0", "12%", "１２", "3,000", "-0", ""]
)
DATES = st.sampled_from(
    [
        "2024",
        "2024-03",
        "2024年第一季度",
        "2024Q1",
        "2099-01-01",
        "2024-02-30",
        "0000-00-00",
        "2024-06-01",
        "2024年12月31日",
        "长期坚持",
        "2024年底前",
    ]
)
PLACES = st.sampled_from(
    [
        "湖南省",
        "长沙市",
        "430100",
        "长沙",
        "火星",
        "湖南省水利厅",
        "省水利厅",
        "岳阳市人民政府",
        "GZ001",
        "yangtze-hunan-mainstem",
    ]
)
INDICATORS = st.sampled_from(
    [
        "water.national_section_good_quality_rate",
        "water.total_phosphorus",
        "waste.sorting_coverage_rate",
        "general.forest_coverage_rate",
        "water.nonsense",
        "",
    ]
)
TEXT = st.text(CHARS, max_size=30)
CELL = st.one_of(
    NUMBERS,
    DATES,
    PLACES,
    INDICATORS,
    TEXT,
    CONTROLS,
    HUGE,
    st.tuples(TEXT, CONTROLS, TEXT).map("".join),
)
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "gb18030"])


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` truncated, with bytes flipped, inserted or re-encoded."""
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["truncate", "flip", "insert", "utf16", "bom", "nul"]))
        # Positions are drawn independently of the length, which (zip time stamps) may vary.
        at = draw(st.integers(0, 1 << 20)) % (len(data) + 1)
        if op == "truncate":
            data = data[:at]
        elif op == "flip" and data:
            at = min(at, len(data) - 1)
            data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
        elif op == "insert":
            data = data[:at] + draw(st.binary(max_size=16)) + data[at:]
        elif op == "utf16":
            data = data.decode("utf-8", "replace").encode("utf-16")
        elif op == "bom":
            data = b"\xef\xbb\xbf" + data
        elif op == "nul":
            data = data[:at] + b"\x00" + data[at:]
    return data


def maybe_mutated(valid: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    """Random bytes, a valid-looking file, or one of those damaged."""
    return st.one_of(
        st.binary(max_size=2048),
        valid,
        valid.flatmap(mutated),
    )


@st.composite
def rows(draw: st.DrawFn, headers: list[str]) -> list[list[str]]:
    """A header (the importer's own, shuffled, cut, or with a stranger) and rows of cells."""
    header = draw(st.permutations(headers))
    header = header[: draw(st.integers(1, len(header)))]
    if draw(st.booleans()):
        header = [*header, draw(st.sampled_from(["未知列", "", "备注", header[0]]))]
    body = draw(
        st.lists(
            st.lists(CELL, min_size=max(len(header) - 1, 0), max_size=len(header) + 1),
            max_size=4,
        )
    )
    return [list(header), *body]


@st.composite
def csv_bytes(draw: st.DrawFn, headers: list[str]) -> bytes:
    table = draw(rows(headers))
    out = io.StringIO()
    csv.writer(out).writerows(table)
    return out.getvalue().encode(draw(ENCODINGS))


_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@st.composite
def xlsx_bytes(draw: st.DrawFn, headers: list[str]) -> bytes:
    """A workbook with the table as strings, numbers and dates (what Excel makes of them)."""
    from datetime import datetime

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in draw(rows(headers)):
        values: list[Any] = []
        for cell in row:
            kind = draw(st.sampled_from(["text", "number", "date", "empty"]))
            if kind == "number":
                values.append(draw(st.floats(allow_nan=False, allow_infinity=False)))
            elif kind == "date":
                values.append(draw(st.datetimes(datetime(1900, 3, 1), datetime(2200, 1, 1))))
            elif kind == "empty":
                values.append(None)
            else:
                values.append(_ILLEGAL_XML.sub("", cell)[:32_000])
        sheet.append(values)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def check_import(runner: Runner, path: Path, *args: str, fingerprint: Any) -> None:
    """The contract for any file: success, or exit 2 (5 for a clean conflict) with one line
    per problem naming the file, no traceback, and the database as it was."""
    before = fingerprint(runner.url)
    # In-process: an exception other than a UserError escapes here and fails the test.
    result = runner(*args, str(path))
    assert "Traceback" not in result.stderr
    assert result.exit_code in (0, 2, 5), f"exit {result.exit_code}: {result.stderr}"
    if result.exit_code:
        assert fingerprint(runner.url) == before
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert lines and all(path.name in line for line in lines), result.stderr


def jsonl_line(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
