"""Province-scale synthetic data for the benchmarks.

Hunan's 14 cities and 136 county-level units (122 counties plus 14 management zones), N
obligations with leads, participants and milestones over 2023-2027 in the format
``duban import obligations`` reads, and M daily measurements as CSV in the format
``duban import measurements`` reads.

    python benchmarks/generate.py obligations 100000 -o out/obligations.jsonl
    python benchmarks/generate.py measurements 1000000 -o out/measurements.csv
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

DEPARTMENTS = [
    "湖南省生态环境厅",
    "湖南省发展和改革委员会",
    "湖南省工业和信息化厅",
    "湖南省自然资源厅",
    "湖南省住房和城乡建设厅",
    "湖南省交通运输厅",
    "湖南省水利厅",
    "湖南省农业农村厅",
    "湖南省林业局",
    "湖南省卫生健康委员会",
    "湖南省应急管理厅",
    "湖南省财政厅",
]
DOMAINS = ["water", "fishing_ban", "waste", "shipping", "supervision", "general"]
TOPICS = [
    "饮用水水源整治",
    "黑臭水体治理",
    "入河排污口整治",
    "污水管网改造",
    "垃圾分类",
    "船舶污染物接收",
    "岸电设施建设",
    "退捕渔民安置",
    "尾矿库治理",
    "督察问题整改",
]


def regions() -> list[dict[str, str]]:
    text = (resources.files("duban.core") / "data" / "regions.csv").read_text("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


# The 31 provincial-level divisions of the mainland: GB/T 2260 code prefix and name.
PROVINCES = [
    ("11", "北京市"), ("12", "天津市"), ("13", "河北省"), ("14", "山西省"), ("15", "内蒙古自治区"),
    ("21", "辽宁省"), ("22", "吉林省"), ("23", "黑龙江省"), ("31", "上海市"), ("32", "江苏省"),
    ("33", "浙江省"), ("34", "安徽省"), ("35", "福建省"), ("36", "江西省"), ("37", "山东省"),
    ("41", "河南省"), ("42", "湖北省"), ("43", "湖南省"), ("44", "广东省"), ("45", "广西壮族自治区"),
    ("46", "海南省"), ("50", "重庆市"), ("51", "四川省"), ("52", "贵州省"), ("53", "云南省"),
    ("54", "西藏自治区"), ("61", "陕西省"), ("62", "甘肃省"), ("63", "青海省"),
    ("64", "宁夏回族自治区"), ("65", "新疆维吾尔自治区"),
]  # fmt: skip


def national_regions(cities: int = 9, counties: int = 10) -> list[dict[str, str]]:
    """31 provinces, ``cities`` cities each and ``counties`` counties per city (2,790 counties
    by default, about the country's count), parents first, in ``regions()``'s shape plus
    ``path`` (codes from the root down, as core's region model stores them)."""
    rows = []
    for prefix, name in PROVINCES:
        short = name[:2]
        province = f"{prefix}0000"
        rows.append({"code": province, "name": name, "name_en": "", "parent_code": "",
                     "level": "province", "path": province})  # fmt: skip
        for c in range(1, cities + 1):
            city = f"{prefix}{c:02d}00"
            rows.append({"code": city, "name": f"{short}{c}市", "name_en": "",
                         "parent_code": province, "level": "city",
                         "path": f"{province}/{city}"})  # fmt: skip
            for k in range(1, counties + 1):
                code = f"{prefix}{c:02d}{k:02d}"
                rows.append({"code": code, "name": f"{short}{c}市{k}县", "name_en": "",
                             "parent_code": city, "level": "county",
                             "path": f"{province}/{city}/{code}"})  # fmt: skip
    return rows


def government(region: dict[str, str]) -> str:
    return (
        f"{region['name']}管理委员会" if region["level"] == "zone" else f"{region['name']}人民政府"
    )


def obligations(n: int, seed: int = 2023):
    """Yield ``n`` obligations in the JSONL import shape; deterministic for a seed."""
    rng = random.Random(seed)
    local = [r for r in regions() if r["level"] in ("city", "county", "zone")]
    start = date(2023, 1, 1)
    for i in range(n):
        region = rng.choice(local)
        leads = (
            [government(region)]
            if rng.random() < 0.6
            else rng.sample(DEPARTMENTS, rng.randint(1, 2))
        )
        participants = [d for d in rng.sample(DEPARTMENTS, rng.randint(0, 3)) if d not in leads]
        dues = sorted(
            {start + timedelta(days=rng.randint(0, 5 * 365 - 1)) for _ in range(rng.randint(1, 3))}
        )
        done_cut = date(2024, 6, 1)
        yield {
            "code": f"B{i + 1:06d}",
            "title": f"{region['name']}{rng.choice(TOPICS)}（第{i % 97 + 1}批）",
            "domain": rng.choice(DOMAINS),
            "state": rng.choice(["open", "in_progress", "in_progress", "submitted", "closed"]),
            "region": region["name"],
            "region_code": region["code"],
            "assignments": [{"owner": o, "role": "lead"} for o in leads]
            + [{"owner": o, "role": "participant"} for o in participants],
            "milestones": [
                {
                    "title": "阶段任务",
                    "due": d.isoformat(),
                    "done": d.isoformat() if d < done_cut and rng.random() < 0.5 else None,
                }
                for d in dues
            ],
        }


def measurement_rows(m: int, seed: int = 2024):
    """``m`` daily readings of county-level indicators with numerators and denominators,
    from 2020-01-01 on (1M rows reach early 2025)."""
    rng = random.Random(seed)
    counties = [r["code"] for r in regions() if r["level"] in ("county", "zone")]
    indicators = [
        "general.forest_coverage_rate",
        "general.wetland_protection_rate",
        "general.fertilizer_utilization_rate",
        "general.livestock_manure_utilization_rate",
    ]
    day = date(2020, 1, 1)
    i = 0
    while True:
        for code in counties:
            for key in indicators:
                if i >= m:
                    return
                den = rng.randint(800, 1200)
                num = int(den * rng.uniform(0.3, 0.99))
                yield {
                    "indicator": key,
                    "region": code,
                    "period": day.isoformat(),
                    "value": round(100 * num / den, 2),
                    "numerator": num,
                    "denominator": den,
                }
                i += 1
        day += timedelta(days=1)


def write_obligations(path: Path, n: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for row in obligations(n):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def write_measurements(path: Path, m: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(
            out, fieldnames=["indicator", "region", "period", "value", "numerator", "denominator"]
        )
        writer.writeheader()
        writer.writerows(measurement_rows(m))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("kind", choices=["obligations", "measurements"])
    parser.add_argument("count", type=int)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    writer = write_obligations if args.kind == "obligations" else write_measurements
    print(writer(args.output, args.count))


if __name__ == "__main__":
    main()
