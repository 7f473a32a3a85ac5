"""The ship-pollution and shore-power indicators (task （九））. Readings are per port (a site);
a region's figure sums its ports, and rates are sums of numerators over sums of denominators."""

from __future__ import annotations

from duban.core.api import Indicator

RECEIPTS_ISSUED = "shipping.receipts_issued"
RECEIPTS_CLOSED = "shipping.receipts_closed"
CLOSURE_RATE = "shipping.receipt_closure_rate"
RECEIPTS_OVERDUE = "shipping.receipts_overdue"
SMALL_SHIP_ASHORE = "shipping.small_ship_sewage_ashore_rate"
SHORE_BERTHS = "shipping.shore_power_berths"
SHORE_CALLS = "shipping.shore_power_calls"
SHORE_KWH = "shipping.shore_power_kwh"
SHORE_KWH_YOY = "shipping.shore_power_kwh_yoy"
TANK_WASHING = "shipping.tank_washing_rate"

# fmt: off
INDICATORS: tuple[Indicator, ...] = (
    Indicator(RECEIPTS_ISSUED, "船舶污染物接收联单（开具）", "Ship pollutant receipts issued", "份", "higher",
              "sum", "monthly", description="receipts by the month they were issued (received ashore)"),
    Indicator(RECEIPTS_CLOSED, "闭环联单", "Ship pollutant receipts closed (received, transferred, disposed)",
              "份", "higher", "sum", "monthly"),
    Indicator(CLOSURE_RATE, "船舶污染物接收转运处置联单闭环率", "Closure rate of ship pollutant receipts", "%",
              "higher", "rate", "monthly",
              description="receipts with reception, transfer and disposal confirmed / receipts issued, "
                          "by month of issue"),
    Indicator(RECEIPTS_OVERDUE, "超期未闭环联单", "Receipts open beyond the allowed days", "份", "lower",
              "sum", "monthly", description="open at the month's end longer than the unclosed-receipt "
                                            "rule's days (30)"),
    Indicator(SMALL_SHIP_ASHORE, "400总吨以下船舶生活污水船上储存交岸处置率",
              "Ships under 400 GT storing sewage on board and handing it ashore", "%", "higher", "rate",
              "quarterly", description="ships doing so / ships under 400 GT"),
    Indicator(SHORE_BERTHS, "具备岸电供应能力的泊位", "Berths equipped with shore power", "个", "higher", "sum",
              "yearly"),
    Indicator(SHORE_CALLS, "使用岸电船舶艘次", "Ship calls using shore power", "艘次", "higher", "sum",
              "quarterly"),
    Indicator(SHORE_KWH, "岸电用电量", "Shore power delivered", "kWh", "higher", "sum", "quarterly"),
    Indicator(SHORE_KWH_YOY, "岸电用电量同比变化", "Shore power delivered, change on the same period a year "
              "before", "%", "higher", "rate", "quarterly",
              description="(kWh - kWh a year before) / kWh a year before, over ports reporting both",
              minimum=-100.0, maximum=float("inf")),  # a change: down to -100 %, up without end
    Indicator(TANK_WASHING, "化学品船洗舱作业应洗尽洗率", "Chemical tankers washed whenever required", "%",
              "higher", "rate", "quarterly", description="washings done / washings required"),
)
# fmt: on
