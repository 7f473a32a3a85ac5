"""The water indicators: those the built-in plan names, the derived ones, and one per GB 3838
parameter (``water.param.<code>``) so that readings import like any other measurement."""

from __future__ import annotations

import re

from duban.core.api import Indicator

from .gb3838 import CLASSES, PARAMETERS

SECTION_CLASS = "water.section_class"
GOOD_RATE = "water.national_section_good_quality_rate"
WORSE_THAN_V_SHARE = "water.worse_than_v_share"
MANGANESE = "water.manganese"
TOTAL_PHOSPHORUS = "water.total_phosphorus"
COUNTY_DRINKING = "water.county_drinking_source_compliance"
PREFECTURE_DRINKING = "water.prefecture_drinking_source_compliance"
PARAM_PREFIX = "water.param."


def param_key(code: str) -> str:
    """``NH3-N`` -> ``water.param.nh3_n``: indicator keys are lower-case snake case."""
    return PARAM_PREFIX + re.sub(r"[^a-z0-9]+", "_", code.lower()).strip("_")


# Indicator key -> GB 3838 parameter code.
PARAM_CODES: dict[str, str] = {param_key(p.code): p.code for p in PARAMETERS}


def _i(
    key: str,
    name: str,
    name_en: str,
    unit: str,
    direction: str,
    aggregation: str,
    frequency: str = "yearly",
    **kw: object,
) -> Indicator:
    return Indicator(
        key=key,
        name=name,
        name_en=name_en,
        unit=unit,
        direction=direction,  # type: ignore[arg-type]
        aggregation=aggregation,
        frequency=frequency,
        **kw,
    )  # type: ignore[arg-type]


# fmt: off
INDICATORS: tuple[Indicator, ...] = (
    _i(GOOD_RATE, "国考断面水质优良率（I～III类比例）",
       "Share of national assessment sections at good quality (class I–III)", "%", "higher", "rate",
       "monthly", description="good sections / assessed national sections, by GB 3838 class"),
    _i(SECTION_CLASS, "断面水质类别", "Water quality class of a section (GB 3838)", "class", "class",
       "worst", "monthly", scale=CLASSES,
       description="stored as the class rank: I=1 … V=5, 劣V=6; computed from parameter readings"),
    _i(WORSE_THAN_V_SHARE, "国考断面劣V类比例", "Share of national assessment sections worse than class V",
       "%", "lower", "rate", "monthly", description="劣V sections / assessed national sections"),
    _i(TOTAL_PHOSPHORUS, "总磷浓度", "Total phosphorus concentration", "mg/L", "lower", "mean",
       "monthly"),
    _i("water.aquatic_ecology_quality", "水生态质量（水生态状况评价指数）",
       "Aquatic ecological quality (assessment index)", "index", "higher", "mean"),
    _i(COUNTY_DRINKING, "县级城市集中式饮用水水源达标率",
       "Compliance rate of county-level urban centralized drinking water sources", "%", "higher",
       "rate", "monthly", description="compliant sources / assessed sources (class III or better, Table 2 and 3 items within limits)"),
    _i(PREFECTURE_DRINKING, "地级城市集中式饮用水水源地水质达标率",
       "Compliance rate of prefecture-level urban centralized drinking water sources", "%", "higher",
       "rate", "monthly"),
    _i("water.county_black_odorous_water_bodies", "县级城市建成区黑臭水体数量",
       "Black and odorous water bodies in county-level built-up areas", "个", "lower", "sum"),
    _i("water.urban_sewage_collection_rate", "城市生活污水集中收集率",
       "Centralized collection rate of urban domestic sewage", "%", "higher", "rate"),
    _i("water.industrial_park_major_pollutant_discharge", "省级及以上产业园区主要污染物排放总量",
       "Major pollutant discharge of provincial-level and higher industrial parks", "t", "lower", "sum"),
    _i("water.rural_sewage_treatment_rate", "农村生活污水治理率", "Rural domestic sewage treatment rate",
       "%", "higher", "rate"),
    _i("water.rural_black_odorous_water_bodies", "较大面积农村黑臭水体数量",
       "Large rural black and odorous water bodies", "个", "lower", "sum"),
    _i("water.total_phosphorus_discharge", "总磷污染物排放总量", "Total phosphorus discharge", "t",
       "lower", "sum"),
    _i(MANGANESE, "地表水锰浓度", "Manganese concentration in surface water", "mg/L", "lower", "worst",
       "monthly"),
    _i("water.total_water_use", "用水总量", "Total water use", "亿立方米", "lower", "sum"),
    _i("water.water_use_per_10k_gdp", "万元GDP用水量", "Water use per 10,000 yuan of GDP", "m³/万元",
       "lower", "rate"),
    _i("water.water_use_per_10k_industrial_value_added", "万元工业增加值用水量",
       "Water use per 10,000 yuan of industrial value added", "m³/万元", "lower", "rate"),
    *(
        _i(param_key(p.code), p.zh, p.en, p.unit, "higher" if p.higher_is_better else "lower", "mean",
           "monthly", description=f"GB 3838-2002 table {p.table}: {p.code}")
        for p in PARAMETERS
    ),
)
# fmt: on
