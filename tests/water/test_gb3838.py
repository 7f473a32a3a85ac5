"""Tests for the GB 3838-2002 classifier, checked against a table written out here."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

_MODULE_NAME = "duban_water_gb3838_under_test"
_PATH = Path(__file__).resolve().parents[2] / "plugins" / "water" / "gb3838.py"


def _load():
    if _MODULE_NAME in sys.modules:
        return sys.modules[_MODULE_NAME]
    spec = importlib.util.spec_from_file_location(_MODULE_NAME, _PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look the module up in sys.modules while the class body runs.
    sys.modules[_MODULE_NAME] = module
    spec.loader.exec_module(module)
    return module


gb = _load()

CLASSES = ("I", "II", "III", "IV", "V", "劣V")

# GB 3838-2002 Table 1, classes I..V, "<=" limits (mg/L unless noted), typed in independently.
LOWER_IS_BETTER: dict[str, tuple[float, float, float, float, float]] = {
    "CODMn": (2, 4, 6, 10, 15),
    "COD": (15, 15, 20, 30, 40),
    "BOD5": (3, 3, 4, 6, 10),
    "NH3-N": (0.15, 0.5, 1.0, 1.5, 2.0),
    "TP": (0.02, 0.1, 0.2, 0.3, 0.4),
    "TN": (0.2, 0.5, 1.0, 1.5, 2.0),
    "Cu": (0.01, 1.0, 1.0, 1.0, 1.0),
    "Zn": (0.05, 1.0, 1.0, 2.0, 2.0),
    "F": (1.0, 1.0, 1.0, 1.5, 1.5),
    "Se": (0.01, 0.01, 0.01, 0.02, 0.02),
    "As": (0.05, 0.05, 0.05, 0.1, 0.1),
    "Hg": (0.00005, 0.00005, 0.0001, 0.001, 0.001),
    "Cd": (0.001, 0.005, 0.005, 0.005, 0.01),
    "Cr6": (0.01, 0.05, 0.05, 0.05, 0.1),
    "Pb": (0.01, 0.01, 0.05, 0.05, 0.1),
    "CN": (0.005, 0.05, 0.2, 0.2, 0.2),
    "phenol": (0.002, 0.002, 0.005, 0.01, 0.1),
    "petroleum": (0.05, 0.05, 0.05, 0.5, 1.0),
    "LAS": (0.2, 0.2, 0.2, 0.3, 0.3),
    "sulfide": (0.05, 0.1, 0.2, 0.5, 1.0),
    "fecal_coliform": (200, 2000, 10000, 20000, 40000),
}
TP_LAKE = (0.01, 0.025, 0.05, 0.1, 0.2)
DO_LIMITS = (7.5, 6, 5, 3, 2)  # ">=" limits
# Tables 2 and 3: single limits.
SINGLE_LIMITS = {
    "sulfate": 250,
    "chloride": 250,
    "nitrate": 10,
    "Fe": 0.3,
    "Mn": 0.1,
    "Tl": 0.0001,
    "Sb": 0.005,
}
NOT_ASSESSED_ON_RIVERS = {"TN", "fecal_coliform"}

ZH_NAMES = {
    "pH值": "pH",
    "溶解氧": "DO",
    "高锰酸盐指数": "CODMn",
    "化学需氧量": "COD",
    "五日生化需氧量": "BOD5",
    "氨氮": "NH3-N",
    "总磷": "TP",
    "总氮": "TN",
    "铜": "Cu",
    "锌": "Zn",
    "氟化物": "F",
    "硒": "Se",
    "砷": "As",
    "汞": "Hg",
    "镉": "Cd",
    "六价铬": "Cr6",
    "铬(六价)": "Cr6",
    "铬（六价）": "Cr6",
    "铅": "Pb",
    "氰化物": "CN",
    "挥发酚": "phenol",
    "石油类": "petroleum",
    "阴离子表面活性剂": "LAS",
    "硫化物": "sulfide",
    "粪大肠菌群": "fecal_coliform",
    "硫酸盐": "sulfate",
    "氯化物": "chloride",
    "硝酸盐": "nitrate",
    "铁": "Fe",
    "锰": "Mn",
    "铊": "Tl",
    "锑": "Sb",
}
CODE_ALIASES = {
    "ph": "pH",
    "do": "DO",
    "codmn": "CODMn",
    "CODMN": "CODMn",
    "cod": "COD",
    "bod5": "BOD5",
    "NH3-N": "NH3-N",
    "nh3-n": "NH3-N",
    "NH3N": "NH3-N",
    "NH4-N": "NH3-N",
    "tp": "TP",
    "tn": "TN",
    "CU": "Cu",
    "zn": "Zn",
    "f": "F",
    "se": "Se",
    "AS": "As",
    "hg": "Hg",
    "cd": "Cd",
    "Cr6": "Cr6",
    "Cr(VI)": "Cr6",
    "cr(vi)": "Cr6",
    "pb": "Pb",
    "cn": "CN",
    "Phenol": "phenol",
    "PETROLEUM": "petroleum",
    "las": "LAS",
    "Sulfide": "sulfide",
    "Fecal_Coliform": "fecal_coliform",
    "Sulfate": "sulfate",
    "CHLORIDE": "chloride",
    "Nitrate": "nitrate",
    "fe": "Fe",
    "MN": "Mn",
    "tl": "Tl",
    "SB": "Sb",
}


def expected_lower(limits: tuple[float, ...], value: float) -> str:
    """Best class whose limit the value meets (linear scan, independent of the module)."""
    for cls, limit in zip(CLASSES[:5], limits, strict=True):
        if value <= limit:
            return cls
    return "劣V"


def expected_do(value: float) -> str:
    for cls, limit in zip(CLASSES[:5], DO_LIMITS, strict=True):
        if value >= limit:
            return cls
    return "劣V"


def _lower_cases():
    for code, limits in LOWER_IS_BETTER.items():
        for i, limit in enumerate(limits):
            yield pytest.param(code, limits, float(limit), id=f"{code}-{CLASSES[i]}-at")
            above = math.nextafter(float(limit), math.inf)
            yield pytest.param(code, limits, above, id=f"{code}-{CLASSES[i]}-above")
        yield pytest.param(code, limits, limits[-1] * 1.5, id=f"{code}-worse-than-V")
        yield pytest.param(code, limits, 0.0, id=f"{code}-zero")


def _classify_alone(code: str, value: float, *, lake: bool = False):
    """Classify ``code`` alone, adding a class-I pH where the item is not assessed."""
    readings = {code: value}
    if (code in NOT_ASSESSED_ON_RIVERS and not (lake and code == "TN")) or code in SINGLE_LIMITS:
        readings["pH"] = 7.0
    return gb.classify(readings, lake=lake)


@pytest.mark.parametrize(("code", "limits", "value"), list(_lower_cases()))
def test_lower_is_better_boundaries(code: str, limits: tuple[float, ...], value: float) -> None:
    expected = expected_lower(limits, value)
    result = _classify_alone(code, value)
    assert result.per_parameter[code] == expected
    if code not in NOT_ASSESSED_ON_RIVERS:
        assert result.water_class == expected
        assert result.limiting == (code,)
    else:
        assert result.water_class == "I"


@pytest.mark.parametrize("code", sorted(LOWER_IS_BETTER))
def test_at_limit_is_that_class_and_above_is_next_distinct_class(code: str) -> None:
    limits = LOWER_IS_BETTER[code]
    for i, limit in enumerate(limits):
        at = _classify_alone(code, float(limit)).per_parameter[code]
        first_with_same_limit = CLASSES[limits.index(limit)]
        assert at == first_with_same_limit
        assert gb.class_rank(at) <= i + 1
        above = _classify_alone(code, math.nextafter(float(limit), math.inf)).per_parameter[code]
        worse = [c for c, lim in zip(CLASSES[:5], limits, strict=True) if lim > limit]
        assert above == (worse[0] if worse else "劣V")


def test_explicit_boundary_examples() -> None:
    assert gb.classify({"COD": 15}).water_class == "I"
    assert gb.classify({"COD": 15.01}).water_class == "III"
    assert gb.classify({"NH3-N": 0.15}).water_class == "I"
    assert gb.classify({"NH3-N": 0.16}).water_class == "II"
    assert gb.classify({"NH3-N": 2.0}).water_class == "V"
    assert gb.classify({"NH3-N": 2.01}).water_class == "劣V"
    assert gb.classify({"Hg": 0.00005}).water_class == "I"
    assert gb.classify({"Hg": 0.00006}).water_class == "III"
    assert gb.classify({"Cu": 0.011}).water_class == "II"
    assert gb.classify({"CN": 0.2}).water_class == "III"
    assert gb.classify({"CN": 0.21}).water_class == "劣V"


def _do_cases():
    for i, limit in enumerate(DO_LIMITS):
        yield pytest.param(float(limit), id=f"DO-{CLASSES[i]}-at")
        yield pytest.param(math.nextafter(float(limit), -math.inf), id=f"DO-{CLASSES[i]}-below")
    yield pytest.param(12.0, id="DO-supersaturated")
    yield pytest.param(0.0, id="DO-zero")


@pytest.mark.parametrize("value", list(_do_cases()))
def test_do_higher_is_better(value: float) -> None:
    result = gb.classify({"DO": value})
    assert result.water_class == expected_do(value)
    assert result.per_parameter["DO"] == expected_do(value)


def test_do_direction_explicit() -> None:
    assert gb.classify({"DO": 7.5}).water_class == "I"
    assert gb.classify({"DO": 7.4}).water_class == "II"
    assert gb.classify({"DO": 5.0}).water_class == "III"
    assert gb.classify({"DO": 2.0}).water_class == "V"
    assert gb.classify({"DO": 1.9}).water_class == "劣V"


@pytest.mark.parametrize(
    ("value", "river", "lake"),
    [
        (0.01, "I", "I"),
        (0.011, "I", "II"),
        (0.02, "I", "II"),
        (0.025, "II", "II"),
        (0.026, "II", "III"),
        (0.05, "II", "III"),
        (0.1, "II", "IV"),
        (0.15, "III", "V"),
        (0.2, "III", "V"),
        (0.25, "IV", "劣V"),
        (0.4, "V", "劣V"),
        (0.41, "劣V", "劣V"),
    ],
)
def test_tp_river_and_lake_limits(value: float, river: str, lake: str) -> None:
    assert gb.classify({"TP": value}).water_class == river
    assert gb.classify({"TP": value}, lake=True).water_class == lake


@pytest.mark.parametrize(("i", "limit"), list(enumerate(TP_LAKE)))
def test_tp_lake_boundaries(i: int, limit: float) -> None:
    assert gb.classify({"TP": limit}, lake=True).water_class == CLASSES[i]
    above = math.nextafter(limit, math.inf)
    assert gb.classify({"TP": above}, lake=True).water_class == CLASSES[i + 1]


def test_tn_only_sets_class_for_lakes() -> None:
    readings = {"pH": 7.2, "DO": 8.0, "TN": 1.2}
    river = gb.classify(readings)
    assert river.water_class == "I"
    assert river.per_parameter["TN"] == "IV"
    assert "TN" not in river.limiting
    lake = gb.classify(readings, lake=True)
    assert lake.water_class == "IV"
    assert lake.limiting == ("TN",)
    # TN alone is an assessed item only for lakes.
    assert gb.classify({"TN": 0.2}, lake=True).water_class == "I"
    with pytest.raises(ValueError):
        gb.classify({"TN": 0.2})


def test_fecal_coliform_does_not_set_class() -> None:
    result = gb.classify({"pH": 7.0, "fecal_coliform": 50000}, lake=True)
    assert result.water_class == "I"
    assert result.per_parameter["fecal_coliform"] == "劣V"
    assert result.limiting == ("pH",)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.0, "劣V"), (5.9, "劣V"), (6.0, "I"), (7.0, "I"), (9.0, "I"), (9.1, "劣V"), (14.0, "劣V")],
)
def test_ph(value: float, expected: str) -> None:
    result = gb.classify({"pH": value})
    assert result.water_class == expected
    assert result.per_parameter["pH"] == expected


@pytest.mark.parametrize("value", [-0.1, 14.1, math.nan])
def test_ph_out_of_range_is_invalid(value: float) -> None:
    with pytest.raises(gb.InvalidReading, match="pH"):
        gb.classify({"pH": value})


def test_worst_item_sets_class_and_limiting_order_is_stable() -> None:
    readings = {"NH3-N": 0.3, "BOD5": 5.0, "DO": 6.5, "COD": 25.0, "pH": 7.5}
    result = gb.classify(readings)
    assert result.water_class == "IV"
    assert result.limiting == ("COD", "BOD5")
    reordered = gb.classify(dict(reversed(list(readings.items()))))
    assert reordered.limiting == ("COD", "BOD5")
    assert (
        reordered.per_parameter
        == result.per_parameter
        == {
            "NH3-N": "II",
            "BOD5": "IV",
            "DO": "II",
            "COD": "IV",
            "pH": "I",
        }
    )


def test_single_limiting_and_all_class_i() -> None:
    assert gb.classify({"DO": 1.0, "COD": 25.0}).limiting == ("DO",)
    all_one = gb.classify({"pH": 7.0, "DO": 9.0, "CODMn": 1.0})
    assert all_one.water_class == "I"
    assert all_one.limiting == ("pH", "DO", "CODMn")


@pytest.mark.parametrize(("name", "code"), sorted(ZH_NAMES.items()))
def test_chinese_names(name: str, code: str) -> None:
    assert gb.parameter(name).code == code
    result = gb.classify({name: 0.0, "pH值": 7.0} if code != "pH" else {name: 7.0})
    assert code in result.per_parameter
    assert name not in result.per_parameter or name == code


@pytest.mark.parametrize(("name", "code"), sorted(CODE_ALIASES.items()))
def test_codes_are_case_insensitive(name: str, code: str) -> None:
    assert gb.parameter(name).code == code


def test_chinese_readings_classify() -> None:
    result = gb.classify({"pH值": 7.1, "溶解氧": 5.5, "氨氮": 1.2, "总磷": 0.15, "高锰酸盐指数": 5})
    assert result.water_class == "IV"
    assert result.limiting == ("NH3-N",)
    assert result.per_parameter == {
        "pH": "I",
        "DO": "III",
        "NH3-N": "IV",
        "TP": "III",
        "CODMn": "III",
    }


@pytest.mark.parametrize(("code", "limit"), sorted(SINGLE_LIMITS.items()))
def test_single_limit_items_do_not_set_class(code: str, limit: float) -> None:
    at = gb.classify({"pH": 7.0, code: limit})
    assert at.water_class == "I"
    assert at.per_parameter[code] == "达标"
    assert at.exceedances == {}
    over = gb.classify({"pH": 7.0, code: limit * 2.5})
    assert over.water_class == "I"
    assert over.limiting == ("pH",)
    assert over.per_parameter[code] == "超标"
    assert over.exceedances[code] == pytest.approx(2.5)
    hair = gb.classify({"pH": 7.0, code: math.nextafter(float(limit), math.inf)})
    assert hair.per_parameter[code] == "超标"


def test_named_single_limits() -> None:
    r = gb.classify({"pH": 7.0, "锰": 0.1, "铁": 0.31, "铊": 0.0001, "锑": 0.006})
    assert r.water_class == "I"
    assert r.per_parameter["Mn"] == "达标"
    assert r.per_parameter["Fe"] == "超标"
    assert r.per_parameter["Tl"] == "达标"
    assert r.per_parameter["Sb"] == "超标"
    assert set(r.exceedances) == {"Fe", "Sb"}
    assert r.exceedances["Sb"] == pytest.approx(1.2)
    assert gb.classify({"pH": 7.0, "Mn": 0.11}).per_parameter["Mn"] == "超标"
    assert gb.classify({"pH": 7.0, "Tl": 0.00011}).per_parameter["Tl"] == "超标"


def test_water_temperature_is_skipped() -> None:
    result = gb.classify({"水温": 31.5, "pH": 7.0})
    assert result.per_parameter == {"pH": "I"}


def test_unknown_parameter_names_it() -> None:
    with pytest.raises(gb.UnknownParameter, match="chlorophyll") as info:
        gb.classify({"pH": 7.0, "chlorophyll": 3.0})
    assert isinstance(info.value, ValueError)
    with pytest.raises(gb.UnknownParameter, match="叶绿素"):
        gb.parameter("叶绿素")


@pytest.mark.parametrize("name", ["NH3-N", "氨氮", "DO", "Mn", "fecal_coliform"])
def test_negative_reading_names_parameter_and_value(name: str) -> None:
    readings = {name: -0.25} if name in {"NH3-N", "氨氮", "DO"} else {"pH": 7, name: -0.25}
    with pytest.raises(gb.InvalidReading) as info:
        gb.classify(readings)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert name in message
    assert "-0.25" in message


@pytest.mark.parametrize("value", [math.nan, math.inf, "abc"])
def test_non_finite_or_non_numeric_is_invalid(value: object) -> None:
    with pytest.raises(gb.InvalidReading, match="COD"):
        gb.classify({"COD": value})


def test_no_assessed_item_raises() -> None:
    with pytest.raises(ValueError):
        gb.classify({})
    with pytest.raises(ValueError):
        gb.classify({"fecal_coliform": 10, "Mn": 0.01, "水温": 20})


def test_duplicate_parameter_raises() -> None:
    with pytest.raises(ValueError, match="NH3-N"):
        gb.classify({"NH3-N": 0.1, "氨氮": 0.2})


def test_none_means_not_measured() -> None:
    assert gb.classify({"pH": 7.0, "COD": None}).per_parameter == {"pH": "I"}


def test_classify_many_matches_classify() -> None:
    rows = [
        {"pH": 7.0, "DO": 4.0, "TP": 0.15},
        {"pH": 8.0, "COD": 45.0},
        {"pH": 6.5, "TN": 1.6, "TP": 0.06},
    ]
    for lake in (False, True):
        many = gb.classify_many(rows, lake=lake)
        assert many == [gb.classify(r, lake=lake) for r in rows]
    assert [c.water_class for c in gb.classify_many(rows)] == ["IV", "劣V", "II"]
    assert [c.water_class for c in gb.classify_many(rows, lake=True)] == ["V", "劣V", "V"]


def test_classify_value() -> None:
    assert gb.classify_value("fecal_coliform", 2000) == "II"
    assert gb.classify_value("TP", 0.05, lake=True) == "III"
    assert gb.classify_value("Mn", 0.2) == "超标"
    assert gb.classify_value("pH", 9.0) == "I"


def test_class_rank_and_is_good() -> None:
    assert tuple(gb.CLASSES) == CLASSES
    assert [gb.class_rank(c) for c in CLASSES] == [1, 2, 3, 4, 5, 6]
    assert [gb.is_good(c) for c in CLASSES] == [True, True, True, False, False, False]
    with pytest.raises(ValueError):
        gb.class_rank("VI")


def test_classification_is_frozen() -> None:
    result = gb.classify({"pH": 7.0})
    with pytest.raises(AttributeError):
        result.water_class = "II"  # type: ignore[misc]


def test_parameter_metadata_and_assessed_set() -> None:
    codes = {p.code for p in gb.PARAMETERS}
    assert codes == {"pH", "DO"} | set(LOWER_IS_BETTER) | set(SINGLE_LIMITS)
    for p in gb.PARAMETERS:
        assert p.code and p.zh and p.en and p.unit
    assert gb.parameter("粪大肠菌群").unit == "个/L"
    assert gb.parameter("氨氮").unit == "mg/L"
    # 21 assessed items on rivers: Table 1 minus water temperature, TN and fecal coliform.
    assessed = {"pH", "DO"} | set(LOWER_IS_BETTER) - NOT_ASSESSED_ON_RIVERS
    assert len(assessed) == 21
    big = {code: 1e9 for code in assessed if code not in {"pH", "DO"}}
    result = gb.classify({**big, "pH": 9.5, "DO": 0.0, "TN": 1e9, "fecal_coliform": 1e9})
    assert set(result.limiting) == assessed
    lake = gb.classify({**big, "pH": 9.5, "DO": 0.0, "TN": 1e9, "fecal_coliform": 1e9}, lake=True)
    assert set(lake.limiting) == assessed | {"TN"}
