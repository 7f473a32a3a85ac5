"""Water scenarios: classifying 1M parameter readings, and importing a province's year of
monitoring results through ``duban import water-readings``.

Readings are synthetic but shaped like Hunan's: 147 national sections, 24 parameters each
(the 21 assessed Table 1 items, total nitrogen, fecal coliform, manganese), ~280 periods.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness import Scenario

SECTIONS = 147
PERIODS = 280
PARAMS = (
    "pH",
    "DO",
    "CODMn",
    "COD",
    "BOD5",
    "NH3-N",
    "TP",
    "TN",
    "Cu",
    "Zn",
    "F",
    "Se",
    "As",
    "Hg",
    "Cd",
    "Cr6",
    "Pb",
    "CN",
    "phenol",
    "petroleum",
    "LAS",
    "sulfide",
    "fecal_coliform",
    "Mn",
)
# Typical values around the class II-IV limits, so every class occurs.
SCALE = {
    "pH": 7.5,
    "DO": 6.0,
    "CODMn": 4.0,
    "COD": 18.0,
    "BOD5": 3.5,
    "NH3-N": 0.8,
    "TP": 0.15,
    "TN": 1.2,
    "Cu": 0.02,
    "Zn": 0.06,
    "F": 0.6,
    "Se": 0.004,
    "As": 0.01,
    "Hg": 0.00006,
    "Cd": 0.002,
    "Cr6": 0.01,
    "Pb": 0.005,
    "CN": 0.01,
    "phenol": 0.002,
    "petroleum": 0.03,
    "LAS": 0.08,
    "sulfide": 0.05,
    "fecal_coliform": 3000.0,
    "Mn": 0.08,
}
CITIES = (
    "长沙市",
    "株洲市",
    "湘潭市",
    "衡阳市",
    "邵阳市",
    "岳阳市",
    "常德市",
    "张家界市",
    "益阳市",
    "郴州市",
    "永州市",
    "怀化市",
    "娄底市",
    "湘西土家族苗族自治州",
)
DUBAN = shutil.which("duban") or str(Path(sys.executable).with_name("duban"))


def _samples(rng: random.Random, n: int) -> list[dict[str, float]]:
    rows = []
    for _ in range(n):
        row = {p: round(SCALE[p] * rng.uniform(0.3, 2.2), 6) for p in PARAMS}
        row["pH"] = round(rng.uniform(6.2, 8.8), 2)
        rows.append(row)
    return rows


def classify_million(workdir: Path) -> dict[str, float]:
    """Classify 147 x 280 samples of 24 parameters (987,840 readings); half the sections are lakes."""
    from duban.plugins.water.gb3838 import classify_many

    rng = random.Random(3838)
    rivers = _samples(rng, SECTIONS // 2 * PERIODS)
    lakes = _samples(rng, (SECTIONS - SECTIONS // 2) * PERIODS)
    started = time.perf_counter()
    results = classify_many(rivers) + classify_many(lakes, lake=True)
    wall = time.perf_counter() - started
    assert len(results) * len(PARAMS) == SECTIONS * PERIODS * len(PARAMS)
    import resource

    return {"wall": wall, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _duban(workdir: Path, *args: str) -> None:
    subprocess.run(
        [DUBAN, "--db", str(workdir / "bench.db"), "--as", "bench", "--as-of", "2025-01-15", *args],
        check=True,
        capture_output=True,
    )


def prepare_year(workdir: Path) -> None:
    """The built-in plan, 147 sections across the 14 cities, a year of monthly readings."""
    _duban(workdir, "init", "--sandbox")
    lines = ["key,name,region,water_body,control,target_class"]
    for i in range(SECTIONS):
        lines.append(
            f"bench-{i:03d},基准断面{i:03d},{CITIES[i % len(CITIES)]},"
            f"{'lake' if i % 7 == 0 else 'river'},national,{'II' if i % 3 else 'III'}"
        )
    (workdir / "sections.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _duban(workdir, "water", "sections", "import", str(workdir / "sections.csv"))
    rng = random.Random(2024)
    rows = ["断面,监测时间," + ",".join(PARAMS)]
    for month in range(1, 13):
        for i, sample in enumerate(_samples(rng, SECTIONS)):
            rows.append(
                f"bench-{i:03d},2024-{month:02d}," + ",".join(str(sample[p]) for p in PARAMS)
            )
    (workdir / "readings.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


def import_year(workdir: Path) -> None:
    _duban(workdir, "import", "water-readings", str(workdir / "readings.csv"))


SCENARIOS = [
    Scenario(
        "water: classify parameter readings",
        f"{SECTIONS * PERIODS * len(PARAMS):,} readings "
        f"({SECTIONS} sections x {len(PARAMS)} parameters x {PERIODS} periods)",
        classify_million,
        target="<= 10 s",
    ),
    Scenario(
        "water: import a year of readings",
        f"{SECTIONS * 12 * len(PARAMS):,} readings "
        f"({SECTIONS} sections x 12 months), classes and rates derived",
        import_year,
        setup=prepare_year,
    ),
]
