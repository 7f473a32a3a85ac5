"""GB 3838-2002 地表水环境质量标准: single-factor water-quality classification.

Table 1 (basic items) grades a value into classes I-V or 劣V; Table 2 (supplementary
items for centralized drinking-water sources) and Table 3 (specific items) are single
limits judged 达标/超标.  A section's class is the worst class of its assessed items:
the 21 Table 1 items other than water temperature, total nitrogen and fecal coliform,
plus total nitrogen for lakes and reservoirs.  Standard library only.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = [
    "CLASSES",
    "COMPLIANT",
    "NON_COMPLIANT",
    "PARAMETERS",
    "Classification",
    "InvalidReading",
    "Parameter",
    "UnknownParameter",
    "class_rank",
    "classify",
    "classify_many",
    "classify_value",
    "is_good",
    "parameter",
]

CLASSES: tuple[str, ...] = ("I", "II", "III", "IV", "V", "劣V")
COMPLIANT = "达标"
NON_COMPLIANT = "超标"

_RANK = {c: i + 1 for i, c in enumerate(CLASSES)}


class UnknownParameter(ValueError):
    """A reading names a parameter that GB 3838-2002 does not define here."""


class InvalidReading(ValueError):
    """A reading is NaN, infinite, non-numeric, negative, or a pH outside 0-14."""


@dataclass(frozen=True, slots=True)
class Parameter:
    """One GB 3838-2002 item.

    ``limits`` holds the class I-V limits for Table 1 items (river limits where rivers and
    lakes differ) or a single limit for Table 2/3 items; pH has the range (6, 9).
    """

    code: str
    zh: str
    en: str
    unit: str
    table: int
    limits: tuple[float, ...]
    lake_limits: tuple[float, ...] | None = None
    higher_is_better: bool = False
    aliases: tuple[str, ...] = ()


_MGL = "mg/L"

# Order here is the order of the standard's tables; ``Classification.limiting`` follows it.
# fmt: off
PARAMETERS: tuple[Parameter, ...] = (
    Parameter("pH", "pH值", "pH", "无量纲", 1, (6.0, 9.0)),
    # DO class I is "饱和率90%（或7.5）"; only the 7.5 mg/L figure is applied.
    Parameter("DO", "溶解氧", "Dissolved oxygen", _MGL, 1, (7.5, 6.0, 5.0, 3.0, 2.0),
              higher_is_better=True),
    Parameter("CODMn", "高锰酸盐指数", "Permanganate index", _MGL, 1, (2.0, 4.0, 6.0, 10.0, 15.0),
              aliases=("COD_Mn", "IMn")),
    Parameter("COD", "化学需氧量", "Chemical oxygen demand", _MGL, 1,
              (15.0, 15.0, 20.0, 30.0, 40.0), aliases=("CODCr",)),
    Parameter("BOD5", "五日生化需氧量", "Five-day biochemical oxygen demand", _MGL, 1,
              (3.0, 3.0, 4.0, 6.0, 10.0), aliases=("BOD",)),
    Parameter("NH3-N", "氨氮", "Ammonia nitrogen", _MGL, 1, (0.15, 0.5, 1.0, 1.5, 2.0),
              aliases=("NH3N", "NH4-N", "NH4N")),
    Parameter("TP", "总磷", "Total phosphorus", _MGL, 1, (0.02, 0.1, 0.2, 0.3, 0.4),
              lake_limits=(0.01, 0.025, 0.05, 0.1, 0.2)),
    Parameter("TN", "总氮", "Total nitrogen", _MGL, 1, (0.2, 0.5, 1.0, 1.5, 2.0)),
    Parameter("Cu", "铜", "Copper", _MGL, 1, (0.01, 1.0, 1.0, 1.0, 1.0)),
    Parameter("Zn", "锌", "Zinc", _MGL, 1, (0.05, 1.0, 1.0, 2.0, 2.0)),
    Parameter("F", "氟化物", "Fluoride", _MGL, 1, (1.0, 1.0, 1.0, 1.5, 1.5),
              aliases=("氟化物(以F-计)",)),
    Parameter("Se", "硒", "Selenium", _MGL, 1, (0.01, 0.01, 0.01, 0.02, 0.02)),
    Parameter("As", "砷", "Arsenic", _MGL, 1, (0.05, 0.05, 0.05, 0.1, 0.1)),
    Parameter("Hg", "汞", "Mercury", _MGL, 1, (0.00005, 0.00005, 0.0001, 0.001, 0.001)),
    Parameter("Cd", "镉", "Cadmium", _MGL, 1, (0.001, 0.005, 0.005, 0.005, 0.01)),
    Parameter("Cr6", "六价铬", "Hexavalent chromium", _MGL, 1, (0.01, 0.05, 0.05, 0.05, 0.1),
              aliases=("Cr(VI)", "CrVI", "Cr6+", "铬(六价)")),
    Parameter("Pb", "铅", "Lead", _MGL, 1, (0.01, 0.01, 0.05, 0.05, 0.1)),
    Parameter("CN", "氰化物", "Cyanide", _MGL, 1, (0.005, 0.05, 0.2, 0.2, 0.2)),
    Parameter("phenol", "挥发酚", "Volatile phenol", _MGL, 1, (0.002, 0.002, 0.005, 0.01, 0.1),
              aliases=("volatile_phenol", "phenols")),
    Parameter("petroleum", "石油类", "Petroleum", _MGL, 1, (0.05, 0.05, 0.05, 0.5, 1.0),
              aliases=("oil", "petroleum_oil")),
    Parameter("LAS", "阴离子表面活性剂", "Anionic surfactant", _MGL, 1, (0.2, 0.2, 0.2, 0.3, 0.3),
              aliases=("anionic_surfactants",)),
    Parameter("sulfide", "硫化物", "Sulfide", _MGL, 1, (0.05, 0.1, 0.2, 0.5, 1.0),
              aliases=("sulphide",)),
    Parameter("fecal_coliform", "粪大肠菌群", "Fecal coliform", "个/L", 1,
              (200.0, 2000.0, 10000.0, 20000.0, 40000.0),
              aliases=("faecal_coliform", "fecal_coliforms")),
    # Table 2: supplementary items for centralized surface drinking-water sources.
    Parameter("sulfate", "硫酸盐", "Sulfate", _MGL, 2, (250.0,),
              aliases=("SO4", "sulphate", "硫酸盐(以SO4计)")),
    Parameter("chloride", "氯化物", "Chloride", _MGL, 2, (250.0,),
              aliases=("Cl", "氯化物(以Cl-计)")),
    Parameter("nitrate", "硝酸盐", "Nitrate (as N)", _MGL, 2, (10.0,),
              aliases=("NO3-N", "NO3N", "硝酸盐(以N计)", "硝酸盐氮")),
    Parameter("Fe", "铁", "Iron", _MGL, 2, (0.3,)),
    Parameter("Mn", "锰", "Manganese", _MGL, 2, (0.1,)),
    # Table 3: specific items (only those single limits that are commonly monitored).
    Parameter("Tl", "铊", "Thallium", _MGL, 3, (0.0001,)),
    Parameter("Sb", "锑", "Antimony", _MGL, 3, (0.005,)),
)
# fmt: on

# Items of Table 1 that set a section's class (besides TN for lakes).
_NOT_ASSESSED = frozenset({"TN", "fecal_coliform"})
# Accepted and skipped: water temperature is in Table 1 but has no class limits.
_IGNORED_NAMES = ("水温", "WT", "temp", "temperature", "water_temperature")

_BY_CODE = {p.code: p for p in PARAMETERS}

_KIND_GRADED, _KIND_PH, _KIND_SINGLE, _KIND_SKIP = 0, 1, 2, 3

# Spec tuple used in the hot loop: (order, code, kind, bounds, sign, assessed, limit).
# Higher-is-better bounds are stored negated (with sign -1) so that one bisect_left over an
# ascending tuple gives the best class whose limit the value meets, limit included.
_Spec = tuple[int, str, int, tuple[float, ...], float, bool, float]
_SKIP: _Spec = (-1, "", _KIND_SKIP, (), 1.0, False, 0.0)


def _norm(name: str) -> str:
    return (
        name.strip()
        .casefold()
        .replace("（", "(")
        .replace("）", ")")
        .replace(" ", "")
        .replace("_", "")
        .replace("-", "")
    )


def _build_specs(lake: bool) -> dict[str, _Spec]:
    specs: dict[str, _Spec] = {}
    for order, p in enumerate(PARAMETERS):
        if p.table != 1:
            spec: _Spec = (order, p.code, _KIND_SINGLE, (), 1.0, False, p.limits[0])
        elif p.code == "pH":
            spec = (order, p.code, _KIND_PH, p.limits, 1.0, True, 0.0)
        else:
            limits = p.lake_limits if lake and p.lake_limits else p.limits
            if p.higher_is_better:
                bounds, sign = tuple(-x for x in limits), -1.0
            else:
                bounds, sign = limits, 1.0
            assessed = p.code not in _NOT_ASSESSED or (lake and p.code == "TN")
            spec = (order, p.code, _KIND_GRADED, bounds, sign, assessed, 0.0)
        for name in (p.code, p.zh, p.en, *p.aliases):
            specs[_norm(name)] = spec
    for name in _IGNORED_NAMES:
        specs[_norm(name)] = _SKIP
    return specs


_SPECS = (_build_specs(False), _build_specs(True))
# Raw names seen so far -> spec, so each distinct spelling is normalised once.
_CACHE: tuple[dict[str, _Spec], dict[str, _Spec]] = ({}, {})
_CACHE_MAX = 4096


def _resolve(name: str, lake: bool) -> _Spec:
    if not isinstance(name, str):
        raise UnknownParameter(f"unknown GB 3838-2002 parameter: {name!r}")
    spec = _SPECS[lake].get(_norm(name))
    if spec is None:
        raise UnknownParameter(f"unknown GB 3838-2002 parameter: {name!r}")
    cache = _CACHE[lake]
    if len(cache) < _CACHE_MAX:
        cache[name] = spec
    return spec


def parameter(name: str) -> Parameter:
    """Look up a parameter by code, alias, Chinese or English name (case-insensitive)."""
    spec = _resolve(name, False)
    if spec[2] == _KIND_SKIP:
        raise UnknownParameter(f"{name!r} (water temperature) has no GB 3838-2002 class")
    return _BY_CODE[spec[1]]


@dataclass(frozen=True, slots=True)
class Classification:
    """Result for one section and period.

    ``per_parameter`` maps canonical codes to a class (Table 1) or 达标/超标 (Tables 2/3);
    ``exceedances`` maps over-limit Table 2/3 codes to value / limit (超标倍数 is that minus 1).
    """

    water_class: str
    limiting: tuple[str, ...]
    per_parameter: dict[str, str] = field(hash=False)
    exceedances: dict[str, float] = field(hash=False)

    @property
    def rank(self) -> int:
        """Numeric rank of ``water_class`` (I=1 … 劣V=6)."""
        return _RANK[self.water_class]

    @property
    def good(self) -> bool:
        """True for classes I–III (优良)."""
        return _RANK[self.water_class] <= 3


def _invalid(name: str, code: str, value: object) -> InvalidReading:
    shown = code if _norm(name) == _norm(code) else f"{code} ({name})"
    return InvalidReading(f"invalid reading for {shown}: {value!r}")


def _classify_one(
    readings: Mapping[str, float | None],
    lake: bool,
    require_assessed: bool = True,
    _bisect=bisect_left,
    _classes=CLASSES,
    _inf=math.inf,
) -> Classification:
    cache = _CACHE[lake]
    per: dict[str, str] = {}
    exceed: dict[str, float] = {}
    worst = -1
    limiting: list[tuple[int, str]] = []
    for name, value in readings.items():
        spec = cache.get(name)
        if spec is None:
            spec = _resolve(name, lake)
        order, code, kind, bounds, sign, assessed, limit = spec
        if kind == _KIND_SKIP or value is None:
            continue
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise _invalid(name, code, value) from None
        # The negated comparison also rejects NaN.
        if not (0.0 <= v < _inf):
            raise _invalid(name, code, value)
        if code in per:
            raise ValueError(f"parameter {code} given more than once (as {name!r})")
        if kind == _KIND_GRADED:
            r = _bisect(bounds, v * sign)
        elif kind == _KIND_PH:
            if v > 14.0:
                raise _invalid(name, code, value)
            r = 0 if bounds[0] <= v <= bounds[1] else 5
        else:
            if v > limit:
                per[code] = NON_COMPLIANT
                exceed[code] = v / limit
            else:
                per[code] = COMPLIANT
            continue
        per[code] = _classes[r]
        if assessed:
            if r > worst:
                worst = r
                limiting = [(order, code)]
            elif r == worst:
                limiting.append((order, code))
    if worst < 0:
        if not require_assessed:
            return Classification("", (), per, exceed)
        raise ValueError(
            "no assessed GB 3838-2002 item among the readings "
            f"({'lake' if lake else 'river'}): {sorted(map(str, readings))}"
        )
    if len(limiting) > 1:
        limiting.sort()
    return Classification(_classes[worst], tuple(c for _, c in limiting), per, exceed)


def classify(readings: Mapping[str, float | None], *, lake: bool = False) -> Classification:
    """Classify one section's readings; ``lake=True`` for lakes and reservoirs.

    Keys are codes, aliases or Chinese names; ``None`` values (not measured) and water
    temperature are skipped.  Raises UnknownParameter, InvalidReading, or ValueError when
    no assessed item is present or one parameter is given twice.
    """
    return _classify_one(readings, bool(lake))


def classify_many(
    rows: Iterable[Mapping[str, float | None]], *, lake: bool = False
) -> list[Classification]:
    """Classify many sections/periods at once (same rules and errors as ``classify``)."""
    lake = bool(lake)
    one = _classify_one
    return [one(row, lake) for row in rows]


def classify_value(name: str, value: float, *, lake: bool = False) -> str:
    """Class (or 达标/超标) of a single reading, whether or not it is an assessed item."""
    spec = _resolve(name, bool(lake))
    if spec[2] == _KIND_SKIP:
        raise UnknownParameter(f"{name!r} (water temperature) has no GB 3838-2002 class")
    if value is None:
        raise _invalid(name, spec[1], value)
    return _classify_one({name: value}, bool(lake), False).per_parameter[spec[1]]


def class_rank(c: str) -> int:
    """Rank of a class name: I=1, II=2, III=3, IV=4, V=5, 劣V=6."""
    try:
        return _RANK[c]
    except KeyError:
        raise ValueError(f"not a GB 3838-2002 water class: {c!r}") from None


def is_good(c: str) -> bool:
    """True for classes I–III (优良水质)."""
    return class_rank(c) <= 3
