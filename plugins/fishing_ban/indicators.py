"""The fishing-ban indicators. Rates are stored with their numerator and denominator so that
a city's or the province's rate is the sum of the counties' numerators over the sum of their
denominators, never an average of percentages."""

from __future__ import annotations

from duban.core.api import Indicator

RETIRED_BOATS = "fishing_ban.retired_boats"
RETIRED_FISHERS = "fishing_ban.retired_fishers"
PENSION_RATE = "fishing_ban.pension_insurance_rate"
EMPLOYMENT_RATE = "fishing_ban.employment_rate"
ZERO_EMPLOYMENT = "fishing_ban.zero_employment_fisher_households"
CASES = "fishing_ban.illegal_fishing_cases"
PERSONS = "fishing_ban.illegal_fishing_persons"
COVERT_CHECKS = "fishing_ban.covert_checks"
PATROL_RATE = "fishing_ban.patrol_coverage_rate"
BIOTIC_INTEGRITY = "fishing_ban.aquatic_biotic_integrity_index"
ABUNDANCE = "fishing_ban.aquatic_resource_abundance"

# fmt: off
INDICATORS: tuple[Indicator, ...] = (
    Indicator(RETIRED_BOATS, "退捕渔船", "Fishing boats withdrawn", "艘", "higher", "sum", "quarterly"),
    Indicator(RETIRED_FISHERS, "退捕渔民", "Fishers withdrawn (retired fishers)", "人", "higher", "sum",
              "quarterly"),
    Indicator(PENSION_RATE, "退捕渔民养老保险参保率", "Retired fishers covered by basic pension insurance",
              "%", "higher", "rate", "quarterly",
              description="insured / eligible retired fishers (应保尽保 = 100%)"),
    Indicator(EMPLOYMENT_RATE, "退捕渔民转产就业率", "Retired fishers needing work who are employed", "%",
              "higher", "rate", "quarterly",
              description="employed / retired fishers with the will and ability to work"),
    Indicator(ZERO_EMPLOYMENT, "退捕渔民\"零就业\"家庭数", "Retired-fisher households with no member in work",
              "户", "lower", "sum", "monthly",
              description="open households of the zero-employment ledger at each month's end"),
    Indicator(CASES, "非法捕捞案件", "Illegal fishing cases", "起", "lower", "sum", "quarterly"),
    Indicator(PERSONS, "非法捕捞涉案人员", "People involved in illegal fishing cases", "人", "lower", "sum",
              "quarterly"),
    Indicator(COVERT_CHECKS, "暗访检查", "Covert checks done", "次", "higher", "sum", "quarterly"),
    Indicator(PATROL_RATE, "禁捕水域巡护覆盖率", "Patrol coverage of the no-fishing waters", "%", "higher",
              "rate", "quarterly", description="waters patrolled / no-fishing waters"),
    Indicator(BIOTIC_INTEGRITY, "水生生物完整性指数", "Index of biotic integrity of aquatic life", "index",
              "higher", "mean", "yearly"),
    Indicator(ABUNDANCE, "水生生物资源量", "Abundance of aquatic biological resources", "index", "higher",
              "mean", "yearly"),
)
# fmt: on
