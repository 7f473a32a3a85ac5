"""The shipping plugin end to end: ports and their authorities, receipts and their closure,
shore power year on year, the rules in the sweep, bad rows, the panel, the listing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from duban.core.clock import FixedClock, local_midnight
from duban.core.db import get_engine, open_session
from duban.core.models import Measurement, Obligation, Owner, Region, Site, Target
from duban.core.plugins import get_host
from duban.core.services.measurements import series

PORTS = [
    "港口,所在地区,时间,岸电泊位数,使用岸电艘次,岸电用电量（千瓦时）,400总吨以下船舶数,船上储存交岸处置船舶数,应洗舱次数,已洗舱次数",
    "城陵矶港,岳阳楼区,2023,18,2150,386000,420,398,36,34",
    "长沙港,开福区,2023,12,1320,215000,260,251,12,12",
    "常德港,鼎城区,2023,6,540,72000,180,166,,",
    "城陵矶港,,2024,22,2480,452000,410,402,40,40",
    "长沙港,,2024,14,1190,198500,255,255,14,13",
    "常德港,,2024,8,610,80500,175,170,,",
]
RECEIPTS = [
    "联单编号,船舶名称,港口,污染物类型,数量,单位,接收时间,转运时间,处置时间",
    "YY2025030001,湘岳阳货1688,城陵矶港,生活污水,3.2,m³,2025-03-02 09:15,2025-03-03 14:00,2025-03-05 10:30",
    "YY2025030002,湘岳阳货2306,城陵矶港,含油污水,0.8,m³,2025-03-04 16:40,2025-03-06 09:00,2025-03-08 11:20",
    "YY2025030003,皖安庆货0925,城陵矶港,生活垃圾,0.35,t,2025-03-10 08:05,2025-03-11 10:00,",
    "YY2025030004,湘岳阳货3117,城陵矶港,生活污水,2.6,m³,2025/3/21 13:30,,",
    "CS2025030001,湘长沙货0618,长沙港,生活污水,4.1,m³,2025-03-05 10:00,2025-03-05 15:30,2025-03-07 09:00",
    "CS2025030002,湘长沙货1022,长沙港,含油污水,1.2,m³,2025-03-18 11:10,2025-03-19 08:40,2025-03-20 16:00",
    "CS2025040001,湘湘潭货0331,长沙港,生活污水,3.8,m³,2025-04-02 09:30,2025-04-03 10:00,2025-04-06 15:00",
    "CD2025030001,湘常德货0512,常德港,化学品洗舱水,12.5,m³,2025-03-12 07:50,2025-03-13 09:20,2025-03-16 14:10",
]
MARCH = (date(2025, 3, 1), date(2025, 3, 31))


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def session_at(duban, day: date):
    return open_session(get_engine(duban.url), actor="coord", clock=FixedClock(local_midnight(day)))


def at(duban, indicator: str, region: str, day: date, period: tuple[date, date]) -> Measurement:
    with session_at(duban, day) as s:
        rid = s.exec(select(Region.id).where(Region.name == region)).one()
        found = [
            m
            for m in series(session=s, indicator=indicator, region_id=rid, until=day)
            if (m.period_start, m.period_end) == period
        ]
    assert len(found) == 1, found
    return found[0]


@pytest.fixture
def ports(hunan, tmp_path):
    out = hunan.ok(
        "import",
        "shipping",
        str(write(tmp_path / "ports.csv", PORTS)),
        "--format",
        "json",
        as_of="2025-01-20",
    ).json()
    assert out["ports_created"] == 3
    return hunan


@pytest.fixture
def receipts(ports, tmp_path):
    out = ports.ok(
        "import",
        "shipping-receipts",
        str(write(tmp_path / "receipts.csv", RECEIPTS)),
        "--format",
        "json",
        as_of="2025-04-25",
    ).json()
    assert out["created"] == 8 and out["ports"] == 3
    return ports


def test_ports_get_their_city_transport_authority(ports):
    with session_at(ports, date(2025, 1, 20)) as s:
        sites = {site.name: site for site in s.exec(select(Site).where(Site.kind == "port"))}
        owner = s.exec(select(Owner).where(Owner.name == "岳阳市交通运输局")).one()
        parent = s.get(Owner, owner.parent_id)
    assert set(sites) == {"城陵矶港", "长沙港", "常德港"}
    assert sites["城陵矶港"].attrs == {"authority": "岳阳市交通运输局"}
    assert parent.name == "岳阳市人民政府"
    audit = ports.ok("audit", "verify")
    assert audit.exit_code == 0


def test_shore_power_and_rates_by_port_city_and_province(ports):
    day, y2024 = date(2025, 1, 20), (date(2024, 1, 1), date(2024, 12, 31))
    assert (
        at(ports, "shipping.shore_power_kwh", "湖南省", day, y2024).value == 452000 + 198500 + 80500
    )
    assert at(ports, "shipping.shore_power_berths", "湖南省", day, y2024).value == 22 + 14 + 8
    # Year on year: the change over the year before, summed over ports reporting both years.
    m = at(ports, "shipping.shore_power_kwh_yoy", "湖南省", day, y2024)
    assert (m.numerator, m.denominator) == (731000 - 673000, 673000)
    assert m.value == pytest.approx(8.6181, abs=1e-4)
    m = at(ports, "shipping.shore_power_kwh_yoy", "长沙市", day, y2024)
    assert m.value == pytest.approx(100 * (198500 - 215000) / 215000)
    m = at(ports, "shipping.tank_washing_rate", "湖南省", day, y2024)
    assert (m.numerator, m.denominator) == (53, 54)
    m = at(ports, "shipping.small_ship_sewage_ashore_rate", "岳阳市", day, y2024)
    assert (m.numerator, m.denominator) == (402, 410)


def test_receipts_closure_by_port_city_and_province(receipts):
    day = date(2025, 4, 25)
    # Port 城陵矶港 (岳阳楼区): 2 of 4 March receipts closed.
    m = at(receipts, "shipping.receipt_closure_rate", "岳阳楼区", day, MARCH)
    assert (m.numerator, m.denominator, m.value) == (2, 4, 50.0)
    assert at(receipts, "shipping.receipt_closure_rate", "岳阳市", day, MARCH).value == 50.0
    # Province: (2 + 2 + 1) of (4 + 2 + 1).
    m = at(receipts, "shipping.receipt_closure_rate", "湖南省", day, MARCH)
    assert (m.numerator, m.denominator) == (5, 7) and m.value == pytest.approx(500 / 7)
    assert at(receipts, "shipping.receipts_issued", "湖南省", day, MARCH).value == 7
    # April's figures count once April is over.
    april = (date(2025, 4, 1), date(2025, 4, 30))
    assert at(receipts, "shipping.receipts_closed", "长沙市", date(2025, 5, 1), april).value == 1
    # Nothing was open for more than 30 days at the end of March.
    assert at(receipts, "shipping.receipts_overdue", "湖南省", day, MARCH).value == 0


def shipping_escalations(duban, day: str) -> list[dict]:
    duban.ok("sweep", as_of=day)
    return [
        r
        for r in duban.ok("escalations", "--format", "json", as_of=day).json()
        if r["condition"].startswith("shipping:")
    ]


def test_unclosed_receipts_supervise_the_port_authority_and_resolve(receipts, tmp_path):
    rows = [
        r for r in shipping_escalations(receipts, "2025-04-25") if ":receipt:" in r["condition"]
    ]
    # Received 10 and 21 March: open 46 and 35 days.
    assert sorted(r["reason"].split()[1] for r in rows) == ["YY2025030003", "YY2025030004"]
    assert {(r["level"], r["addressed_to"]) for r in rows} == {("supervise", "岳阳市交通运输局")}
    # 0003's disposal is confirmed in the next export of the ledger.
    later = [
        line.replace("2025-03-11 10:00,", "2025-03-11 10:00,2025-04-28 09:00")
        if "030003" in line
        else line
        for line in RECEIPTS
    ]
    out = receipts.ok(
        "import",
        "shipping-receipts",
        str(write(tmp_path / "later.csv", later)),
        "--format",
        "json",
        as_of="2025-04-30",
    ).json()
    assert (out["created"], out["updated"], out["unchanged"]) == (0, 1, 7)
    rows = [
        r for r in shipping_escalations(receipts, "2025-04-30") if ":receipt:" in r["condition"]
    ]
    state = {r["reason"].split()[1]: bool(r["resolved"]) for r in rows}
    assert state == {"YY2025030003": True, "YY2025030004": False}
    m = at(receipts, "shipping.receipt_closure_rate", "湖南省", date(2025, 4, 30), MARCH)
    assert (m.numerator, m.denominator) == (6, 7)
    # At the end of April 0004 had been open 40 days.
    m = at(
        receipts,
        "shipping.receipts_overdue",
        "岳阳市",
        date(2025, 4, 30),
        (date(2025, 4, 1), date(2025, 4, 30)),
    )
    assert m.value == 1


def test_shore_power_falling_supervises(ports):
    rows = [r for r in shipping_escalations(ports, "2025-01-20") if "shore_power" in r["condition"]]
    assert [(r["level"], r["addressed_to"]) for r in rows] == [("supervise", "长沙市交通运输局")]
    assert "198500 kWh" in rows[0]["reason"] and "(-7.7%)" in rows[0]["reason"]


def test_closure_below_full_at_the_deadline_summons(receipts):
    rows = [
        r
        for r in shipping_escalations(receipts, "2026-01-05")
        if "closure_at_deadline" in r["condition"]
    ]
    assert [(r["level"], r["addressed_to"]) for r in rows] == [("summon", "岳阳市人民政府")]
    assert "2 of 4 closed (50.00%)" in rows[0]["reason"]
    assert rows[0]["follow_up_id"] is not None  # a summons asks for a written rectification report


def test_bad_receipts_name_row_and_column_and_write_nothing(ports, tmp_path, fingerprint):
    bad = [
        RECEIPTS[0],
        RECEIPTS[1],
        "YY2025030009,湘岳阳货0001,城陵矶港,生活污水,1,m³,2025-03-02 09:15,,2025-03-05 10:30",
        "YY2025030010,湘岳阳货0002,岳阳港,生活污水,1,m³,2025-03-02 09:15,,",
        "YY2025030011,湘岳阳货0003,城陵矶港,压载水,1,m³,2025-03-02 09:15,,",
        "YY2025030012,湘岳阳货0004,城陵矶港,生活污水,1,m³,2025-03-32 09:15,,",
        RECEIPTS[1],
    ]
    before = fingerprint(ports.url)
    result = ports(
        "import", "shipping-receipts", str(write(tmp_path / "bad.csv", bad)), as_of="2025-04-25"
    )
    assert result.exit_code != 0 and "5 bad row(s); nothing was imported" in result.stderr
    assert (
        "bad.csv:3:I (处置时间): disposed but never transferred: fill in 转运时间" in result.stderr
    )
    assert "bad.csv:4:C (港口): unknown port '岳阳港'" in result.stderr
    assert "bad.csv:5:D (污染物类型): '压载水' is not one of" in result.stderr
    assert "bad.csv:6:G (接收时间): not a time" in result.stderr
    assert "bad.csv:7:A (联单编号): receipt YY2025030001 is already on row 2" in result.stderr
    assert fingerprint(ports.url) == before


def test_bad_port_row_creates_no_port_and_no_authority(hunan, tmp_path, fingerprint):
    rows = [PORTS[0], PORTS[1], "新港,,2024,1,1,1,,,,"]
    before = fingerprint(hunan.url)
    result = hunan("import", "shipping", str(write(tmp_path / "p.csv", rows)), as_of="2025-01-20")
    assert "p.csv:3:B (所在地区): port 新港 is new: give the region it lies in" in result.stderr
    assert fingerprint(hunan.url) == before


def test_plan_gets_the_default_targets(hunan):
    with session_at(hunan, date(2024, 1, 1)) as s:
        rows = s.exec(
            select(Obligation.code, Target.indicator, Target.comparator, Target.value)
            .join(Obligation, Obligation.id == Target.obligation_id)
            .where(Target.indicator.startswith("shipping."))
        ).all()
    assert sorted(rows) == sorted(
        [
            ("（九）", "shipping.receipt_closure_rate", "gte", 100.0),
            ("（九）", "shipping.tank_washing_rate", "gte", 100.0),
            ("（九）", "shipping.small_ship_sewage_ashore_rate", "gte", 100.0),
            ("（九）", "shipping.shore_power_kwh", "trend_up", None),
        ]
    )


def test_dashboard_panel(receipts):
    with session_at(receipts, date(2025, 4, 25)) as s:
        answers = dict(
            get_host().call("duban_dashboard_panels", session=s, as_of=date(2025, 4, 25))
        )
    (panel,) = answers["shipping"]
    rows = {r.label: (r.value, r.tone) for r in panel.rows}
    assert rows["Receipts closed in 2025"] == ("75.0%（6/8）", "warn")
    assert rows["Receipts open over 30 days"] == ("2", "bad")
    assert rows["Shore power, change on a year before（2024-01-01～2024-12-31）"] == (
        "+8.6%",
        "good",
    )


def test_plugin_listing(duban):
    plugins = {p["name"]: p for p in duban.ok("plugins", "--format", "json").json()}
    shipping = plugins["shipping"]
    assert shipping["status"] == "ok"
    assert {
        "shipping.receipts_issued",
        "shipping.receipts_closed",
        "shipping.receipt_closure_rate",
        "shipping.receipts_overdue",
        "shipping.small_ship_sewage_ashore_rate",
        "shipping.shore_power_berths",
        "shipping.shore_power_calls",
        "shipping.shore_power_kwh",
        "shipping.shore_power_kwh_yoy",
        "shipping.tank_washing_rate",
    } == set(shipping["indicators"])
    assert set(shipping["rules"]) == {
        "shipping.receipt_unclosed",
        "shipping.shore_power_falling",
        "shipping.closure_below_full_at_deadline",
    }
    assert set(shipping["importers"]) == {"shipping", "shipping-receipts"}
    assert set(shipping["site_kinds"]) == {"port", "pollutant_receipt"}
