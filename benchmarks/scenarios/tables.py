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
    book.save(workdir / "ledger.xlsx")


def read_ledger(workdir: Path) -> dict[str, float]:
    """Wall time, and the CPU time too: on a shared machine the wall time is mostly waiting."""
    import resource
    import time

    from duban.plugins.supervision.ledger import parse_ledger

    started, cpu = time.perf_counter(), time.process_time()
    items = parse_ledger(workdir / "ledger.xlsx", today=date(2025, 1, 15))
    assert len(items) == ROWS, len(items)
    return {
        "wall": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


SCENARIOS = [
    Scenario(
        "read a ledger workbook (xlsx, read-only)",
        f"{ROWS:,} rows, 7 columns",
        read_ledger,
        setup=write_ledger,
        target="<= 20 s, <= 400 MB",
    )
]
