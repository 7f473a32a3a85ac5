"""The tutorial plugin of docs/plugins.md (docs/tutorial/duban-tailings) really works."""

from __future__ import annotations

import importlib.util
import sys
from datetime import date
from pathlib import Path

import pytest

from duban.core.plugins import get_host

TUTORIAL = (
    Path(__file__).resolve().parents[2] / "docs/tutorial/duban-tailings/duban_tailings/__init__.py"
)

REGISTER = """编号,名称,地区,状态,停用日期
HN-001,柿竹园尾矿库,苏仙区,停用,2019-03-01
HN-002,水口山尾矿库,常宁市,停用,2022-10-01
HN-003,锡矿山尾矿库,冷水江市,在用,
HN-004,黄沙坪尾矿库,桂阳县,闭库,
HN-005,宝山尾矿库,桂阳县,在用,
"""


@pytest.fixture
def tutorial(hunan):
    spec = importlib.util.spec_from_file_location("duban_tailings", TUTORIAL)
    module = importlib.util.module_from_spec(spec)
    sys.modules["duban_tailings"] = module
    spec.loader.exec_module(module)
    get_host().register_module("tailings", module)
    yield hunan
    sys.modules.pop("duban_tailings", None)


def test_register_import_count_and_idle_rule(tutorial, tmp_path: Path) -> None:
    path = tmp_path / "ponds.csv"
    path.write_text(REGISTER, encoding="utf-8")
    summary = tutorial.ok(
        "import", "tailings-ponds", str(path), "--format", "json", as_of="2024-06-01"
    ).json()
    assert summary == {"file": str(path), "ponds": 5, "counties": 4}

    from duban.core.db import get_engine, open_session
    from duban.core.services.measurements import series
    from duban.core.services.regions import resolve_region

    with open_session(get_engine(tutorial.url), actor="coord", write=False) as session:
        chenzhou = resolve_region(session=session, ref="郴州市")
        province = resolve_region(session=session, ref="湖南省")
        # Summed over counties: 苏仙区 1 + 桂阳县 1 (the closed one does not count) = 2.
        assert (
            series(
                session=session,
                indicator="general.tailings_pond_count",
                region_id=chenzhou.id,
                until=date(2024, 6, 1),
            )[-1].value
            == 2
        )
        assert (
            series(
                session=session,
                indicator="general.tailings_pond_count",
                region_id=province.id,
                until=date(2024, 6, 1),
            )[-1].value
            == 4
        )

    tutorial.ok("sweep", as_of="2024-06-01")
    fired = [
        e
        for e in tutorial.ok("escalations", "--format", "json").json()
        if e["rule"] == "tailings.idle_unclosed"
    ]
    assert [(e["level"], e["addressed_to"]) for e in fired] == [("supervise", "苏仙区人民政府")]


def test_bad_register_row_rejects_the_file(tutorial, tmp_path: Path, fingerprint) -> None:
    path = tmp_path / "ponds.csv"
    path.write_text(REGISTER + "HN-006,某尾矿库,桂阳县,废弃,\n", encoding="utf-8")
    before = fingerprint(tutorial.url)
    result = tutorial("import", "tailings-ponds", str(path))
    assert result.exit_code == 2 and f"{path}:7: status: unknown '废弃'" in result.stderr
    assert fingerprint(tutorial.url) == before
