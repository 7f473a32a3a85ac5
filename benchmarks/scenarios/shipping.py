"""Shipping scenario: importing a year of ship pollutant receipts (100,000 rows) through
``duban import shipping-receipts``, which stores every receipt and computes the closure
indicators (issued, closed, closure rate, open beyond 30 days) per port and month.

The ledger is synthetic but shaped like a province's: 12 ports in 10 cities, four pollutant
kinds, most receipts closed within days, about 4 % still open or awaiting disposal.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import Scenario

RECEIPTS = 100_000
PORTS = (
    ("城陵矶港", "岳阳楼区"),
    ("长沙港", "开福区"),
    ("湘潭港", "岳塘区"),
    ("株洲港", "石峰区"),
    ("衡阳港", "石鼓区"),
    ("常德港", "鼎城区"),
    ("益阳港", "资阳区"),
    ("沅江港", "沅江市"),
    ("津市港", "津市市"),
    ("汨罗港", "汨罗市"),
    ("永州港", "冷水滩区"),
    ("怀化港", "鹤城区"),
)
KINDS = (("生活污水", "m³"), ("含油污水", "m³"), ("生活垃圾", "t"), ("化学品洗舱水", "m³"))
DUBAN = shutil.which("duban") or str(Path(sys.executable).with_name("duban"))


def _duban(workdir: Path, *args: str) -> None:
    subprocess.run(
        [DUBAN, "--db", str(workdir / "bench.db"), "--as", "bench", "--as-of", "2025-01-15", *args],
        check=True,
        capture_output=True,
    )


def prepare(workdir: Path) -> None:
    """The built-in plan, the ports (with their authorities), a year of receipts in a CSV file."""
    _duban(workdir, "init", "--sandbox")
    lines = ["港口,所在地区,时间,岸电泊位数"]
    lines += [f"{name},{county},2024,{4 + i}" for i, (name, county) in enumerate(PORTS)]
    (workdir / "ports.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _duban(workdir, "import", "shipping", str(workdir / "ports.csv"))
    rng = random.Random(2024)
    start = datetime(2024, 1, 1)
    rows = ["联单编号,船舶名称,港口,污染物类型,数量,单位,接收时间,转运时间,处置时间"]
    for n in range(RECEIPTS):
        port = PORTS[n % len(PORTS)][0]
        kind, unit = KINDS[rng.randrange(len(KINDS))]
        received = start + timedelta(minutes=rng.randrange(366 * 24 * 60 - 60 * 24 * 20))
        transferred = received + timedelta(hours=rng.randint(2, 72))
        disposed = transferred + timedelta(hours=rng.randint(4, 240))
        fate = rng.random()
        t = transferred.strftime("%Y-%m-%d %H:%M") if fate > 0.015 else ""
        d = disposed.strftime("%Y-%m-%d %H:%M") if fate > 0.04 else ""
        rows.append(
            f"HN{n:09d},湘货{rng.randint(1, 9999):04d},{port},{kind},{rng.uniform(0.1, 20):.2f},{unit},"
            f"{received:%Y-%m-%d %H:%M},{t},{d}"
        )
    (workdir / "receipts.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


def import_receipts(workdir: Path) -> None:
    _duban(workdir, "import", "shipping-receipts", str(workdir / "receipts.csv"))


SCENARIOS = [
    Scenario(
        "shipping: import receipts and compute closure",
        f"{RECEIPTS:,} receipts (12 ports x 2024), closure indicators per port and month",
        import_receipts,
        setup=prepare,
        target="<= 10 s",
    ),
]
