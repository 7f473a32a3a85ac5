"""Reading a 100,000-row ledger workbook as offices send it: a merged title row, a two-level
header (整改情况 over 整改措施 / 整改进展), deadlines as dates, serial numbers and Chinese text,
the ledger on the second sheet. Timed: ``parse_ledger`` (the shared table reader, read-only
and streamed, plus every cell's checks), in a fresh process. The file is written by openpyxl,
whose strings are inline (``<is>``); Excel and WPS write shared strings, which read faster."""

from __future__ import annotations

import random
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import Scenario

ROWS = 100_000
BODIES = [
    f"{city}人民政府" for city in ("长沙市", "株洲市", "湘潭市", "衡阳市", "岳阳市", "常德市")
]
DEADLINES = ["2025年底前", "2025年6月底前", "立行立改", "长期坚持", "2025/3/31"]


def write_ledger(workdir: Path) -> None:
    from openpyxl import Workbook

    rng = random.Random(5)
    book = Workbook()  # not write-only: shared strings and a dimension, as Excel and WPS write
    notes = book.active
    notes.title = "填报说明"
    notes.append(["按问题逐行填写；整改时限填写日期或“立行立改”“长期坚持”。"])
    sheet = book.create_sheet("整改台账")
    sheet.append(["XX市中央生态环境保护督察反馈问题整改台账"])
    sheet.append(["序号", "问题描述", "责任单位", "整改时限", "整改情况", None, "问题来源"])
    sheet.append([None, None, None, None, "整改措施", "整改进展", None])
    for cells in ("A2:A3", "B2:B3", "C2:C3", "D2:D3", "E2:F2", "G2:G3", "A1:G1"):
        sheet.merge_cells(cells)
    for n in range(1, ROWS + 1):
        kind = n % 3
        deadline = (
            date(2025, 1 + n % 12, 1 + n % 28)
            if kind == 0
            else 45000 + n % 900
            if kind == 1
            else DEADLINES[n % len(DEADLINES)]
        )
        sheet.append(
            [
                n,
                f"第{n}号问题：某企业废水处理设施运行不正常，存在超标排放风险，群众反映强烈。",
                "、".join(rng.sample(BODIES, 1 + n % 2)),
                deadline,
                "开展专项整治，完善在线监测，建立长效机制",
                "已完成设施改造" if n % 4 else None,
                "中央生态环境保护督察",
            ]
        )
    book.save(workdir / "inline.xlsx")
    shared_strings(workdir / "inline.xlsx", workdir / "ledger.xlsx")


def shared_strings(source: Path, target: Path) -> None:
    """Rewrite openpyxl's inline strings as a shared-string table, as Excel and WPS save."""
    import re
    import zipfile

    strings: dict[str, int] = {}

    def shared(match: re.Match[str]) -> str:
        text = match[2]
        index = strings.setdefault(text, len(strings))
        return f'<c r="{match[1]}" t="s"><v>{index}</v></c>'

    inline = re.compile(r'<c r="([A-Z]+\d+)" t="inlineStr"><is><t>(.*?)</t></is></c>')
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            data = old.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = inline.sub(shared, data.decode()).encode()
            elif item.filename == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
                )
            elif item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdSST" Type="http://schemas.openxmlformats.org/'
                    b'officeDocument/2006/relationships/sharedStrings" '
                    b'Target="sharedStrings.xml"/></Relationships>',
                )
            new.writestr(item, data)
        # The strings were escaped in the sheet already; keep them as they were.
        items = "".join(f"<si><t>{text}</t></si>" for text in strings)
        new.writestr(
            "xl/sharedStrings.xml",
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'count="{len(strings)}" uniqueCount="{len(strings)}">{items}</sst>',
        )


def read_ledger(workdir: Path, name: str = "ledger.xlsx") -> dict[str, float]:
    """Wall time, and the CPU time too: on a shared machine the wall time is mostly waiting."""
    import resource
    import time

    from duban.plugins.supervision.ledger import parse_ledger

    started, cpu = time.perf_counter(), time.process_time()
    items = parse_ledger(workdir / name, today=date(2025, 1, 15)).items
    assert len(items) == ROWS, len(items)
    return {
        "wall": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


SCENARIOS = [
    Scenario(
        "read a ledger workbook (xlsx as Excel saves it)",
        f"{ROWS:,} rows, 7 columns",
        read_ledger,
        setup=write_ledger,
        target="<= 20 s, <= 400 MB",
    ),
    Scenario(
        "read a ledger workbook (xlsx as openpyxl saves it)",
        f"{ROWS:,} rows, 7 columns",
        lambda workdir: read_ledger(workdir, "inline.xlsx"),
        setup=write_ledger,
    ),
]
