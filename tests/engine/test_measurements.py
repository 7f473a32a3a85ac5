"""Recording and importing readings, and aggregating them over regions."""

from __future__ import annotations

import hashlib
import types
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from duban.core.cli.context import Env
from duban.core.contributions import Indicator
from duban.core.models import AuditEvent, Evidence, Measurement, Region
from duban.core.plugins import get_host, reset_host

FOREST = "general.forest_coverage_rate"
PONDS = "general.tailings_pond_count"
ROOT = Path(__file__).resolve().parents[2]


def _session(runner, as_of: str = "2030-01-01"):
    return Env.create(db_url=runner.url, actor="coord", as_of=as_of)


def counts(runner) -> tuple[int, int]:
    """(measurements, audit events): both must stay put when input is refused."""
    env = _session(runner)
    with env.session(write=False) as s:
        result = (
            s.execute(select(func.count()).select_from(Measurement)).scalar_one(),
            s.execute(select(func.count()).select_from(AuditEvent)).scalar_one(),
        )
    env.close()
    return result


def rows(runner) -> list[tuple]:
    env = _session(runner)
    with env.session(write=False) as s:
        found = s.execute(
            select(
                Measurement.indicator,
                Measurement.subject,
                Measurement.period_start,
                Measurement.period_end,
                Measurement.value,
                Measurement.numerator,
                Measurement.denominator,
            ).order_by(Measurement.id)
        ).all()
    env.close()
    return [tuple(r) for r in found]


# Recording --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("at", "start", "end"),
    [
        ("2023", date(2023, 1, 1), date(2023, 12, 31)),
        ("2023-Q2", date(2023, 4, 1), date(2023, 6, 30)),
        ("2023年第四季度", date(2023, 10, 1), date(2023, 12, 31)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2023-06-15", date(2023, 6, 15), date(2023, 6, 15)),
        ("2023-03-01/2023-05-31", date(2023, 3, 1), date(2023, 5, 31)),
    ],
)
def test_record_periods(world, at: str, start: date, end: date) -> None:
    world.ok("record", FOREST, "58.5", "--region", "430000", "--at", at, as_of="2024-06-01")
    assert rows(world) == [(FOREST, "region:430000", start, end, 58.5, None, None)]


def test_record_is_idempotent_and_corrections_are_audited(world) -> None:
    first = world.ok(
        "record", FOREST, "58.5", "--region", "湖南省", "--at", "2023", as_of="2024-06-01"
    )
    before = counts(world)
    again = world.ok(
        "record", FOREST, "58.5", "--region", "430000", "--at", "2023", as_of="2024-06-02"
    )
    assert again.stdout == first.stdout and counts(world) == before
    world.ok("record", FOREST, "58.7", "--region", "430000", "--at", "2023", as_of="2024-06-03")
    assert rows(world)[0][4] == 58.7
    env = _session(world)
    with env.session(write=False) as s:
        event = s.execute(
            select(AuditEvent.action, AuditEvent.before, AuditEvent.after).order_by(
                AuditEvent.seq.desc()
            )
        ).first()
    env.close()
    assert event.action == "measurement.correct"
    assert (event.before["value"], event.after["value"]) == (58.5, 58.7)


def test_record_a_rate_with_numerator_and_denominator(world) -> None:
    world.ok(
        "record",
        FOREST,
        "60",
        "--region",
        "430100",
        "--at",
        "2023",
        "--numerator",
        "720",
        "--denominator",
        "1200",
        as_of="2024-06-01",
    )
    assert rows(world) == [
        (FOREST, "region:430100", date(2023, 1, 1), date(2023, 12, 31), 60.0, 720.0, 1200.0)
    ]
    bad = world(
        "record",
        FOREST,
        "65",
        "--region",
        "430100",
        "--at",
        "2022",
        "--numerator",
        "720",
        "--denominator",
        "1200",
        as_of="2024-06-01",
    )
    assert bad.exit_code == 2 and "does not match numerator / denominator = 60" in bad.stderr
    alone = world("record", FOREST, "65", "--region", "430100", "--at", "2022", "--numerator", "1")
    assert alone.exit_code == 2 and "numerator and denominator go together" in alone.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["general.no_such_thing", "1", "--region", "430000", "--at", "2023"],
            "INDICATOR: unknown indicator 'general.no_such_thing'",
        ),
        (
            ["general.forest_coverage", "1", "--region", "430000", "--at", "2023"],
            f"did you mean {FOREST}",
        ),
        ([FOREST, "abc", "--region", "430000", "--at", "2023"], "VALUE: not a number: 'abc'"),
        ([FOREST, "nan", "--region", "430000", "--at", "2023"], "VALUE: not a finite number"),
        (
            [FOREST, "1", "--region", "430000", "--at", "2205"],
            "--at: 2205 is outside 1990-01-01..2100-12-31",
        ),
        ([FOREST, "1", "--region", "430000", "--at", "1850-06-01"], "--at: 1850-06-01 is outside"),
        ([FOREST, "1", "--region", "430000", "--at", "2023-13"], "--at: not a period"),
        (
            [FOREST, "1", "--region", "430000", "--at", "2025"],
            "a reading cannot precede what it observes",
        ),
        ([FOREST, "1", "--region", "火星", "--at", "2023"], "--region: unknown region '火星'"),
        ([FOREST, "1", "--at", "2023"], "give exactly one of --region and --site"),
        (
            [FOREST, "1", "--region", "430000", "--site", "x", "--at", "2023"],
            "exactly one of --region and --site",
        ),
        ([FOREST, "1", "--site", "nowhere", "--at", "2023"], "--site: unknown site 'nowhere'"),
        (
            [
                FOREST,
                "1",
                "--region",
                "430000",
                "--at",
                "2023",
                "--evidence",
                "ftp://example.org/a.pdf",
            ],
            "only http(s) URLs are accepted",
        ),
        (
            [FOREST, "1", "--region", "430000", "--at", "2023", "--evidence", "/no/such/file.pdf"],
            "--evidence: no such file",
        ),
    ],
)
def test_bad_readings_are_refused_and_write_nothing(world, args: list[str], message: str) -> None:
    before = counts(world)
    result = world("record", *args, as_of="2024-06-01")
    assert result.exit_code != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert counts(world) == before


def test_viewer_may_not_record_and_a_member_only_in_its_region(world) -> None:
    world.ok("user", "add", "wang", "--role", "viewer")
    refused = world(
        "record",
        FOREST,
        "1",
        "--region",
        "430000",
        "--at",
        "2023",
        actor="wang",
        as_of="2024-06-01",
    )
    assert refused.exit_code == 3
    world.ok("user", "add", "li", "--role", "member", "--owner", "长沙市人民政府")
    world.ok(
        "record", FOREST, "1", "--region", "430102", "--at", "2023", actor="li", as_of="2024-06-01"
    )
    elsewhere = world(
        "record", FOREST, "1", "--region", "430200", "--at", "2023", actor="li", as_of="2024-06-01"
    )
    assert elsewhere.exit_code == 3 and "only for its owner's region" in elsewhere.stderr


def test_evidence_file_is_fingerprinted_and_urls_kept(world, tmp_path: Path) -> None:
    report = tmp_path / "公报.pdf"
    report.write_bytes(b"%PDF-1.4 bulletin")
    world.ok(
        "record",
        FOREST,
        "58.5",
        "--region",
        "430000",
        "--at",
        "2023",
        "--evidence",
        str(report),
        "--source",
        "湖南省统计公报",
        as_of="2024-06-01",
    )
    world.ok(
        "record",
        FOREST,
        "58.1",
        "--region",
        "430000",
        "--at",
        "2022",
        "--evidence",
        "https://tjj.hunan.gov.cn/bulletin.html",
        as_of="2024-06-01",
    )
    env = _session(world)
    with env.session(write=False) as s:
        evidence = s.execute(
            select(Evidence.id, Evidence.uri, Evidence.sha256).order_by(Evidence.id)
        ).all()
        linked = s.execute(select(Measurement.evidence_id).order_by(Measurement.id)).scalars().all()
    env.close()
    assert evidence[0].sha256 == hashlib.sha256(b"%PDF-1.4 bulletin").hexdigest()
    assert evidence[0].uri == str(report.resolve())
    assert (evidence[1].uri, evidence[1].sha256) == ("https://tjj.hunan.gov.cn/bulletin.html", None)
    assert linked == [e.id for e in evidence]


# Importing --------------------------------------------------------------------------------
def _region_codes() -> list[str]:
    text = (ROOT / "core" / "data" / "regions.csv").read_text("utf-8").splitlines()[1:]
    return [line.split(",")[0] for line in text]


def _big_csv(path: Path, *, bad_at: int | None = None, chinese: bool = True) -> int:
    """10,000 readings: every region x monthly periods; ``bad_at`` gets a non-number."""
    codes = _region_codes()
    header = "指标,地区,时间,数值,来源" if chinese else "indicator,region,period,value,source"
    lines, n = [header], 0
    for year in range(2010, 2024):
        for month in range(1, 13):
            for code in codes:
                if n == 10_000:
                    break
                n += 1
                value = "abc" if n == bad_at else f"{(n % 700) / 10:.1f}"
                lines.append(f"{PONDS},{code},{year}-{month:02d},{value},台账")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return n


def test_import_all_or_nothing_with_one_bad_row_in_10000(world, tmp_path: Path) -> None:
    path = tmp_path / "readings.csv"
    _big_csv(path, bad_at=5000)
    before = counts(world)
    result = world("import", "measurements", str(path), as_of="2024-06-01")
    assert result.exit_code == 2
    assert "1 bad row(s); nothing was imported" in result.stderr
    assert "readings.csv:5001:D (数值): not a number: 'abc'" in result.stderr
    assert counts(world) == before


def test_import_reports_every_bad_row_up_to_a_limit(world, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    lines = ["indicator,region,period,value"]
    lines += [f"{PONDS},430100,{2000 + i % 20}-{1 + i // 20:02d},x" for i in range(40)]
    lines += [
        f"{PONDS},430100,2024,1",
        f"{PONDS},430100,2024,2",
        f"{PONDS},nowhere,2024,1",
        "general.nope,430100,2024,1",
        f"{PONDS},430100,2199,1",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = world("import", "measurements", str(path), as_of="2025-06-01")
    assert result.exit_code == 2
    err = result.stderr
    assert "43 bad row(s)" in err and "bad.csv:2:D (value): not a number: 'x'" in err
    assert "… and 13 more" in err
    assert counts(world)[0] == 0
    # Duplicates are found once the rows themselves are fine.
    path.write_text(
        "\n".join(
            ["indicator,region,period,value", f"{PONDS},430100,2024,1", f"{PONDS},长沙市,2024,2"]
        )
        + "\n",
        encoding="utf-8",
    )
    dup = world("import", "measurements", str(path), as_of="2025-06-01")
    assert "bad.csv:3: the same indicator, subject and period as row 2" in dup.stderr


def test_reimport_changes_nothing_and_a_correction_updates_one_row(world, tmp_path: Path) -> None:
    path = tmp_path / "readings.csv"
    _big_csv(path, chinese=False)
    first = world.ok(
        "import", "measurements", str(path), "--format", "json", as_of="2024-06-01"
    ).json()
    assert (first["rows"], first["inserted"], first["updated"], first["unchanged"]) == (
        10_000,
        10_000,
        0,
        0,
    )
    assert "Importing" in world.ok("import", "measurements", str(path), as_of="2024-06-01").stderr
    before_rows, before = rows(world), counts(world)
    again = world.ok(
        "import", "measurements", str(path), "--format", "json", as_of="2024-07-01"
    ).json()
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 10_000)
    assert rows(world) == before_rows and counts(world) == before
    text = path.read_text("utf-8").replace(
        f"{PONDS},430000,2010-01,0.1,台账", f"{PONDS},430000,2010-01,0.2,台账"
    )
    path.write_text(text, encoding="utf-8")
    fixed = world.ok(
        "import", "measurements", str(path), "--format", "json", as_of="2024-07-01"
    ).json()
    assert (fixed["inserted"], fixed["updated"]) == (0, 1)
    assert counts(world) == (before[0], before[1] + 1)


def test_import_xlsx_with_chinese_headers(world, tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["指标", "地区", "时间", "数值", "分子", "分母", "来源", "备注"])
    sheet.append([FOREST, "长沙市", 2023, None, 450, 1000, "统计公报", "初步数"])
    sheet.append([FOREST, 430200, "2023年", 52, None, None, "统计公报", None])
    sheet.append([FOREST, "湘潭市", date(2023, 6, 30), "48%", None, None, None, None])
    path = tmp_path / "readings.xlsx"
    book.save(path)
    summary = world.ok(
        "import", "measurements", str(path), "--format", "json", as_of="2024-06-01"
    ).json()
    assert summary["inserted"] == 3
    assert rows(world) == [
        (FOREST, "region:430100", date(2023, 1, 1), date(2023, 12, 31), 45.0, 450.0, 1000.0),
        (FOREST, "region:430200", date(2023, 1, 1), date(2023, 12, 31), 52.0, None, None),
        (FOREST, "region:430300", date(2023, 6, 30), date(2023, 6, 30), 48.0, None, None),
    ]


def test_import_xlsx_as_offices_send_it(world, tmp_path: Path) -> None:
    """A title row, 数值（%） as the value's header, a period as a lost-format date (a serial
    number), the readings on the second sheet: the same reader as every other importer."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "说明"
    book.active.append(["森林覆盖率按统计公报填报"])
    sheet = book.create_sheet("数据")
    sheet.append(["2023年森林覆盖率"])
    sheet.append(["指标", "地区", "时间", "数值（%）"])
    sheet.append([FOREST, "长沙市", 45291, 55.5])  # 45291 = 2023-12-31
    path = tmp_path / "readings.xlsx"
    book.save(path)
    summary = world.ok(
        "import", "measurements", str(path), "--format", "json", as_of="2024-06-01"
    ).json()
    assert (summary["inserted"], summary["sheet"]) == (1, "数据")
    assert rows(world) == [
        (FOREST, "region:430100", date(2023, 12, 31), date(2023, 12, 31), 55.5, None, None)
    ]


def test_import_refuses_unknown_columns_and_other_files(world, tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("指标,地区,时间,数值,颜色\n", encoding="utf-8")
    result = world("import", "measurements", str(path))
    assert result.exit_code == 2 and "unknown column '颜色'" in result.stderr
    path.write_text("指标,时间,数值\n", encoding="utf-8")
    assert "missing column(s): region/site" in world("import", "measurements", str(path)).stderr
    other = tmp_path / "a.json"
    other.write_text("{}", encoding="utf-8")
    assert ".csv or .xlsx" in world("import", "measurements", str(other)).stderr


def test_gb18030_csv_is_read(world, tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(f"指标,地区,时间,数值\n{FOREST},长沙市,2023,55\n".encode("gb18030"))
    world.ok("import", "measurements", str(path), as_of="2024-06-01")
    assert rows(world)[0][1:5] == ("region:430100", date(2023, 1, 1), date(2023, 12, 31), 55.0)


# Aggregation ------------------------------------------------------------------------------
def _series(runner, indicator: str, code: str, until: date = date(2030, 1, 1)) -> list:
    from duban.core.services.measurements import series

    env = _session(runner)
    with env.session(write=False) as s:
        region = s.execute(select(Region).where(Region.code == code)).scalar_one()
        found = [
            types.SimpleNamespace(
                id=r.id,
                period_end=r.period_end,
                value=r.value,
                numerator=r.numerator,
                denominator=r.denominator,
            )
            for r in series(session=s, indicator=indicator, region_id=region.id, until=until)
        ]
    env.close()
    return found


def test_a_rate_over_three_counties_is_summed_not_averaged(world) -> None:
    # Three counties of 长沙市, with their own shares (by hand):
    #   芙蓉区 45/50 = 90 %, 天心区 10/40 = 25 %, 岳麓区 300/400 = 75 %
    #   rate  = (45 + 10 + 300) / (50 + 40 + 400) = 355 / 490 = 72.449 %
    #   mean of the rates = (90 + 25 + 75) / 3 = 63.333 %  (wrong: ignores the sizes)
    for code, num, den in (("430102", 45, 50), ("430103", 10, 40), ("430104", 300, 400)):
        world.ok(
            "record",
            FOREST,
            str(num / den * 100),
            "--region",
            code,
            "--at",
            "2023",
            "--numerator",
            str(num),
            "--denominator",
            str(den),
            as_of="2024-06-01",
        )
    [city] = _series(world, FOREST, "430100")
    assert city.value == pytest.approx(72.449, abs=1e-3)
    assert city.value != pytest.approx(63.333, abs=1)
    assert (city.numerator, city.denominator, city.id) == (355, 490, None)
    # The province sees the same counties through the city.
    assert _series(world, FOREST, "430000")[0].value == pytest.approx(72.449, abs=1e-3)
    # A county without numerator and denominator makes the rate unknowable: no averaging.
    world.ok("record", FOREST, "50", "--region", "430105", "--at", "2023", as_of="2024-06-01")
    assert _series(world, FOREST, "430100") == []


def test_own_readings_win_and_levels_are_not_counted_twice(world) -> None:
    # 长沙市 reports 12 ponds itself; its counties' 5 + 4 must not be added on top.
    world.ok("record", PONDS, "12", "--region", "430100", "--at", "2023", as_of="2024-06-01")
    world.ok("record", PONDS, "5", "--region", "430102", "--at", "2023", as_of="2024-06-01")
    world.ok("record", PONDS, "4", "--region", "430103", "--at", "2023", as_of="2024-06-01")
    world.ok("record", PONDS, "7", "--region", "430211", "--at", "2023", as_of="2024-06-01")  # 株洲
    world.ok("record", PONDS, "300", "--region", "430000", "--at", "2021", as_of="2022-06-01")
    province = _series(world, PONDS, "430000")
    assert [(r.period_end.year, r.value) for r in province] == [(2021, 300), (2023, 19)]
    assert province[0].id is not None and province[1].id is None
    assert [r.value for r in _series(world, PONDS, "430100")] == [12]
    assert [r.value for r in _series(world, PONDS, "430200")] == [7]
    assert _series(world, PONDS, "430000", until=date(2022, 12, 31))[-1].value == 300


def test_worst_best_mean_and_latest_aggregations(world) -> None:
    plugin = types.ModuleType("agg_test_plugin")
    from duban.core.hookspecs import hookimpl

    @hookimpl
    def duban_register_indicators(register) -> None:
        for key, direction, how in (
            ("worst_low", "lower", "worst"),
            ("worst_high", "higher", "worst"),
            ("best_low", "lower", "best"),
            ("mean", "higher", "mean"),
            ("own", "higher", "latest"),
        ):
            register(
                Indicator(
                    key=f"aggtest.{key}",
                    name=key,
                    name_en=key,
                    direction=direction,
                    aggregation=how,
                )
            )

    plugin.duban_register_indicators = duban_register_indicators
    get_host().register_module("aggtest", plugin)
    try:
        for key in ("worst_low", "worst_high", "best_low", "mean", "own"):
            for code, value in (("430102", "1.5"), ("430103", "3"), ("430104", "0.5")):
                world.ok(
                    "record",
                    f"aggtest.{key}",
                    value,
                    "--region",
                    code,
                    "--at",
                    "2023",
                    as_of="2024-06-01",
                )
        got = {
            key: [r.value for r in _series(world, f"aggtest.{key}", "430100")]
            for key in ("worst_low", "worst_high", "best_low", "mean", "own")
        }
        assert got == {
            "worst_low": [3],
            "worst_high": [0.5],
            "best_low": [0.5],
            "mean": [pytest.approx(5 / 3)],
            "own": [],
        }
    finally:
        reset_host()
