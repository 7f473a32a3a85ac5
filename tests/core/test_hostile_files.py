"""The files of issue #17, each refused with exit 2, one line per problem naming the file,
no traceback, and the export byte-identical before and after."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .lines import TARGET

RATE = "water.county_drinking_source_compliance"
LINE = {"title": "新任务", "lead": ["湖南省水利厅"], "targets": [TARGET]}


def _jsonl(line: dict) -> bytes:
    return (json.dumps(line, ensure_ascii=False) + "\n").encode()


FILES: dict[str, tuple[str, str, bytes, str]] = {
    "unknown indicator": (
        "obligations",
        ".jsonl",
        _jsonl({**LINE, "targets": [{**TARGET, "indicator": "water.nonsense"}]}),
        ":1: targets[0]: --indicator: unknown indicator 'water.nonsense'",
    ),
    "comparator ~~": (
        "obligations",
        ".jsonl",
        _jsonl({**LINE, "targets": [{**TARGET, "comparator": "~~"}]}),
        ":1: targets[0]: unknown comparator '~~'",
    ),
    "NaN value": (
        "obligations",
        ".jsonl",
        _jsonl({**LINE, "targets": [{**TARGET, "value": float("nan")}]}),
        ":1: targets[0]: --gte: a target needs a finite number",
    ),
    "missing scope": (
        "obligations",
        ".jsonl",
        _jsonl({**LINE, "targets": [{k: v for k, v in TARGET.items() if k != "scope"}]}),
        ":1: targets[0]: give --region or --site",
    ),
    "scope as a string": (
        "obligations",
        ".jsonl",
        _jsonl({**LINE, "targets": [{**TARGET, "scope": "湖南省"}]}),
        ":1: targets[0]: `scope` must be an object",
    ),
    "escape in a title": (
        "obligations",
        ".jsonl",
        _jsonl({**LINE, "title": "新\x1b]0;x\x07任务"}),
        ":1: title: control character U+001B at position 2",
    ),
    "binary measurements": (
        "measurements",
        ".csv",
        bytes(range(256)) * 4,
        ": binary data, not a CSV text file",
    ),
    "rate of -5 %": (
        "measurements",
        ".csv",
        f"指标,地区,时间,数值\n{RATE},长沙市,2024,-5\n".encode(),
        ":2:D (数值): -5 is outside 0..100",
    ),
    "rate of 150 %": (
        "measurements",
        ".csv",
        f"指标,地区,时间,数值\n{RATE},长沙市,2024,150\n".encode(),
        ":2:D (数值): 150 is outside 0..100",
    ),
    "ledger with an unknown region": (
        "ledger",
        ".csv",
        "序号,问题描述,责任单位,整改时限,地区\n1,问题,岳阳市人民政府,2024年底前,火星\n".encode(),
        ":2:E (地区): unknown region '火星'",
    ),
    "ledger cell with an escape": (
        "ledger",
        ".csv",
        "序号,问题描述,责任单位,整改时限\n1,问题\x1b[2J,岳阳市人民政府,2024年底前\n".encode(),
        ":2:B (问题描述): control character U+001B at position 3",
    ),
}


@pytest.mark.parametrize("case", FILES)
def test_bad_file(hunan, tmp_path: Path, case: str) -> None:
    kind, suffix, content, message = FILES[case]
    path = tmp_path / f"bad{suffix}"
    path.write_bytes(content)
    before, after = tmp_path / "before.jsonl", tmp_path / "after.jsonl"
    hunan.ok("export", "-o", str(before), as_of="2024-06-01")
    result = hunan("import", kind, str(path), as_of="2024-06-01")
    assert result.exit_code == 2, result.stderr
    assert f"{path}{message}" in result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert all(str(path) in line for line in lines), result.stderr
    hunan.ok("export", "-o", str(after), as_of="2024-06-01")
    assert after.read_bytes() == before.read_bytes()


def test_a_jsonl_with_a_bom_is_read_like_a_csv_with_one(hunan, tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + _jsonl(LINE))
    assert (
        hunan.ok("import", "obligations", str(path), "--format", "json").json()["obligations"] == 1
    )
