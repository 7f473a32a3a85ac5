"""The waste indicators (tasks （六） and （八）). Rates are stored with their numerator and
denominator (tonnes, streets and communities, villages) so that a city's or the province's
rate is a rate of sums, never an average of percentages."""

from __future__ import annotations

from duban.core.api import Indicator

GENERATED = "waste.household_waste_collected"
HARMLESS = "waste.county_town_harmless_treatment_rate"
RECOVERY = "waste.recovery_rate"
SORTING = "waste.sorting_coverage_rate"
CITY_SYSTEMS = "waste.cities_with_sorting_system"
COUNTY_SYSTEMS = "waste.county_level_cities_with_sorting_system"
RURAL_COLLECTION = "waste.rural_collection_coverage_rate"
LEACHATE = "waste.leachate_collected"
LEACHATE_RATE = "waste.leachate_treatment_rate"
# Registered by the water plugin; the waste statistics carry its figures too.
RURAL_SEWAGE = "water.rural_sewage_treatment_rate"

# fmt: off
INDICATORS: tuple[Indicator, ...] = (
    Indicator(GENERATED, "生活垃圾清运量", "Household waste collected", "t", "lower", "sum", "quarterly"),
    Indicator(HARMLESS, "县城生活垃圾无害化处理率", "Harmless treatment rate of household waste in county towns",
              "%", "higher", "rate", "quarterly", description="tonnes treated harmlessly / tonnes collected"),
    Indicator(RECOVERY, "生活垃圾回收利用率", "Household waste recovery rate", "%", "higher", "rate",
              "quarterly", description="tonnes recovered / tonnes collected"),
    Indicator(SORTING, "生活垃圾分类覆盖率（街道、社区）",
              "Household waste sorting coverage of streets and communities", "%", "higher", "rate",
              "quarterly", description="streets and communities sorting / streets and communities"),
    Indicator(CITY_SYSTEMS, "建成生活垃圾分类处理系统的地级城市",
              "Prefecture-level cities with a waste sorting and treatment system", "个", "higher", "sum",
              "yearly", description="1 for a city (市州) that has built its system, 0 otherwise"),
    Indicator(COUNTY_SYSTEMS, "建成生活垃圾分类处理系统的县级城市",
              "County-level cities and county towns with a waste sorting and treatment system", "个",
              "higher", "sum", "yearly",
              description="1 for a county-level city or county (not a district) that has built its system"),
    Indicator(RURAL_COLLECTION, "农村生活垃圾收转运处置体系覆盖率",
              "Coverage of rural household waste collection and transfer", "%", "higher", "rate",
              "yearly", description="administrative villages covered / administrative villages"),
    Indicator(LEACHATE, "垃圾渗滤液产生量", "Landfill and incineration leachate collected", "t", "lower",
              "sum", "quarterly"),
    Indicator(LEACHATE_RATE, "垃圾渗滤液处理率", "Leachate treatment rate", "%", "higher", "rate",
              "quarterly", description="tonnes of leachate treated / tonnes collected"),
)
# fmt: on
