"""Goals: the targets a clause states (达到97.3%, 下降7%, 消除…) and the places it names."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from ..i18n import t
from .numerals import cn_to_int

_NUM = r"(?P<num>\d+(?:\.\d+)?(?:/\d+)?)"
_UNITS = {
    "%": "%",
    "％": "%",
    "个百分点": "pp",
    "毫克/升": "mg/L",
    "毫克每升": "mg/L",
    "mg/L": "mg/L",
    "微克/立方米": "μg/m³",
    "亿立方米": "亿立方米",
    "万立方米": "万立方米",
    "立方米": "m³",
    "万吨": "万t",
    "亿元": "亿元",
    "万元": "万元",
    "吨": "t",
    "座": "座",
    "个": "个",
    "家": "家",
    "户": "户",
    "处": "处",
    "条": "条",
    "公里": "km",
    "千米": "km",
    "平方公里": "km²",
    "万亩": "万亩",
    "亩": "亩",
    "公顷": "hm²",
    "人": "人",
    "天": "天",
    "小时": "h",
    "次": "次",
    "项": "项",
    "所": "所",
    "台": "台",
    "艘": "艘",
    "辆": "辆",
    "类": "class",
}
_UNIT = "(?P<unit>" + "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True)) + ")?"
# a figure: a number with its unit (the clauses that hold one must end up somewhere)
HOLDS_FACT = re.compile(
    r"\d+(?:\.\d+)?\s*(?:"
    + "|".join(
        re.escape(u)
        for u in sorted(set(_UNITS) - {"类", "个", "次", "人", "天"}, key=len, reverse=True)
    )
    + ")"
)
_CLASS = {
    "I": 1,
    "II": 2,
    "III": 3,
    "IV": 4,
    "V": 5,
    "Ⅰ": 1,
    "Ⅱ": 2,
    "Ⅲ": 3,
    "Ⅳ": 4,
    "Ⅴ": 5,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
}
_CN_FRACTION = re.compile(r"([一二三四五六七八九十]+)分之([一二三四五六七八九十]+)")

_UP = "提高|提升|增加|增长"
_DOWN = "下降|降低|减少|削减"
_GOALS: list[tuple[str, re.Pattern[str]]] = [
    (
        "baseline",
        re.compile(
            rf"^(?P<subj>.*?)(?:比|较)(?P<year>\d{{4}})年(?:底)?(?:基础上)?(?P<verb>{_DOWN}|{_UP})"
            rf"{_NUM}(?P<unit>%|％|个百分点)(?P<tail>以上|左右)?$"
        ),
    ),
    (
        "relative",
        re.compile(
            rf"^(?P<subj>.+?)(?P<verb>{_DOWN}|{_UP}){_NUM}(?P<unit>%|％|个百分点)(?P<tail>以上|左右)?$"
        ),
    ),
    (
        "share",
        re.compile(rf"^(?:力争|确保|实现)?{_NUM}(?P<unit>%|％)?(?P<tail>以上|以下)(?P<subj>.+)$"),
    ),
    (
        "gte",
        re.compile(
            rf"^(?P<subj>.+?)(?P<verb>达到|提高到|提高至|提升到|提升至|增加到|增加至|增长到|增长至|"
            rf"稳定在|保持在|保持|不低于|不少于|大于|超过|高于|达){_NUM}{_UNIT}(?P<tail>以上|及以上|左右)?$"
        ),
    ),
    (
        "lte",
        re.compile(
            rf"^(?P<subj>.+?)(?P<verb>控制在|下降到|下降至|降低到|降低至|减少到|减少至|降至|压减到|"
            rf"压减至|不超过|不高于|低于|少于|小于|不多于){_NUM}{_UNIT}(?P<tail>以内|以下|之内)?$"
        ),
    ),
    ("bare", re.compile(rf"^(?P<subj>.+?[^\d.]){_NUM}{_UNIT}(?P<tail>以上|以内|以下)$")),
    (
        "class",
        re.compile(
            r"^(?P<subj>.+?)(?:全部|均|稳定|基本)?(?:达到或优于|达到或好于|优于或达到|达到)"
            r"(?P<cls>III|II|IV|I|V|Ⅲ|Ⅱ|Ⅳ|Ⅰ|Ⅴ|[一二三四五])类(?:及以上|以上)?(?:水质|标准)?$"
        ),
    ),
    ("no_worse_than_v", re.compile(r"^(?P<subj>.+?)(?:稳定)?(?:消劣|消除劣(?:V|Ⅴ|五)类)$")),
    (
        "zero",
        re.compile(
            r"^(?P<pre>.*?)[“\"]?零(?P<what>[^”\"]{1,6})[”\"]?(?P<noun>家庭|户|村|企业)"
            r"(?:至少有一人就业|动态清零|清零|全部消除)$"
        ),
    ),
    ("eliminate", re.compile(r"^(?P<subj>.+?)(?:基本|全面|彻底|动态)?(?:消除|清零)$")),
    ("eliminate_v", re.compile(r"^(?:基本|全面|彻底)消除(?P<subj>.+)$")),
    ("trend_down", re.compile(rf"^(?P<subj>.+?)(?:持续|稳步|逐步|不断|明显|逐年)(?:{_DOWN})$")),
    ("trend_down_v", re.compile(rf"^(?:持续|稳步|逐步|不断|逐年)(?:{_DOWN})(?P<subj>.+)$")),
    (
        "trend_up",
        re.compile(
            rf"^(?P<subj>.+?)(?:(?:持续|稳步|逐步|不断|明显|显著|逐年)(?:{_UP}|改善)|恢复性增长)$"
        ),
    ),
    ("trend_up_v", re.compile(rf"^(?:持续|稳步|逐步|不断|逐年)(?:{_UP}|改善)(?P<subj>.+)$")),
    ("all_compliant", re.compile(r"^(?P<subj>.+?)(?:全面|全部|100%)(?:稳定)?达标$")),
    ("full_coverage", re.compile(r"^(?P<subj>.+?)(?:全覆盖|全部覆盖)$")),
]
# A goal stated as a state to reach, with nothing to measure: a milestone even when undated.
STATE_GOAL = re.compile(r"(?:稳定)?达到(?:国家|省|市)?(?:考核)?(?:目标|要求)(?:任务)?$|基本可控$")
# End states (基本消除, 全面达标, 全覆盖) are deliverables even when undated; an undated trend
# ("持续提升X") with nothing to measure describes an activity.
END_STATES = ("zero", "eliminate", "eliminate_v", "all_compliant", "full_coverage")
_LEADING = re.compile(r"^(?:力争|确保|实现|使|推动|推进|重点推进|切实保障|保障|全面)+")
_SITE_TAIL = re.compile(
    r"^(?P<item>.+?)(?P<tail>(?:等)?(?:[一二三四五六七八九十]水)?(?:国控断面|国考断面|省控断面|断面|干流|湖体))"
)


# every goal pattern holds one of these: a clause without any is no goal
_GOAL_WORD = re.compile(rf"\d|分之|类|零|消除|清零|消劣|达标|覆盖|{_UP}|{_DOWN}|改善|恢复")


@dataclass
class Goal:
    kind: str
    comparator: str
    value: float | None
    unit: str | None
    subject: str
    name: str
    baseline_year: int | None = None
    numeric: bool = True


def _number(text: str, comparator: str) -> float:
    if "/" in text:
        a, b = text.split("/")
        share = float(a) / float(b) * 100
        # a share "2/3 以上" must accept exactly 2/3: round towards the lenient side
        rounded = math.floor(share * 10) / 10 if comparator == "gte" else math.ceil(share * 10) / 10
        return rounded
    return float(text)


def _clean_subject(subject: str) -> str:
    subject = _LEADING.sub("", subject.strip(" ，,、：:"))
    subject = subject.replace("实现", "")
    return re.sub(r"(?:水质)?(?:全部|均|稳定|基本|总体)+$", "", subject) or subject


def match_goal(clause: str) -> tuple[Goal | None, str | None]:
    """The goal a clause states, if any; (None, why) for a goal-like clause it cannot read."""
    if not _GOAL_WORD.search(clause):
        return None, None
    clause = _CN_FRACTION.sub(lambda m: f"{cn_to_int(m.group(2))}/{cn_to_int(m.group(1))}", clause)
    for kind, pattern in _GOALS:
        m = pattern.match(clause)
        if not m:
            continue
        groups = m.groupdict()
        subject = _clean_subject(groups.get("subj") or "")
        unit = _UNITS.get(groups.get("unit") or "", groups.get("unit"))
        if kind in ("baseline", "relative"):
            if unit == "pp":
                return None, t("a change in percentage points cannot be a target")
            down = groups["verb"] in _DOWN.split("|")
            comparator = "decrease_pct" if down else "increase_pct"
            year = int(groups["year"]) if kind == "baseline" else None
            return Goal(kind, comparator, float(groups["num"]), "%", subject, subject, year), None
        if kind == "share":
            comparator = "gte" if groups["tail"] == "以上" else "lte"
            value = _number(groups["num"], comparator)
            return Goal(kind, comparator, value, "%", subject, subject + "的比例"), None
        if kind in ("gte", "lte", "bare"):
            comparator = kind if kind != "bare" else ("gte" if groups["tail"] == "以上" else "lte")
            if unit == "pp":
                return None, t("a change in percentage points cannot be a target")
            return Goal(
                kind, comparator, _number(groups["num"], comparator), unit, subject, subject
            ), None
        if kind == "class":
            return Goal(
                kind,
                "lte",
                float(_CLASS[groups["cls"]]),
                "class",
                subject,
                subject.removesuffix("水质") + "水质类别",
            ), None
        if kind == "no_worse_than_v":
            return Goal(kind, "lte", 5.0, "class", subject, subject + "水质类别（消劣）"), None
        if kind == "zero":
            name = f"零{groups['what']}{groups['noun']}"
            return Goal(kind, "eliminate", 0.0, None, name, name, numeric=False), None
        if kind.startswith("eliminate"):
            return Goal(kind, "eliminate", 0.0, None, subject, subject, numeric=False), None
        if kind.startswith("trend"):
            comparator = "trend_down" if kind.startswith("trend_down") else "trend_up"
            return Goal(kind, comparator, None, None, subject, subject, numeric=False), None
        if kind == "all_compliant":
            return Goal(kind, "gte", 100.0, "%", subject, subject + "达标率", numeric=False), None
        if kind == "full_coverage":
            return Goal(kind, "gte", 100.0, "%", subject, subject + "覆盖率", numeric=False), None
    if re.search(r"\d+(?:\.\d+)?\s*(?:%|％|个百分点)", clause):
        return None, t("a percentage that no goal pattern reads")
    return None, None


_ALTERNATIVE_CHANGE = re.compile(
    rf"^(?:比|较)(?P<year>\d{{4}})年(?:底)?(?:基础上)?(?P<verb>{_UP}|{_DOWN}){_NUM}"
    r"(?P<unit>个百分点|%|％)(?:以上|左右)?$"
)


def alternative_goal(alternative: str, goal: Goal) -> dict[str, Any] | None:
    """The other way a goal may be met (…70%以上或比2020年提高5个百分点以上): its comparator,
    value, unit and baseline year; None if it cannot be read."""
    text = alternative.removeprefix("或").removeprefix("者").strip()
    m = _ALTERNATIVE_CHANGE.match(text)
    if m:
        up = m.group("verb") in _UP.split("|")
        points = m.group("unit") == "个百分点"
        return {
            "comparator": ("increase" if up else "decrease") + ("_pp" if points else "_pct"),
            "value": plain_number(float(m.group("num"))),
            "unit": "pp" if points else "%",
            "baseline_year": int(m.group("year")),
        }
    other, _ = match_goal(goal.subject + text)
    if other is None or other.value is None:
        return None
    return {"comparator": other.comparator, "value": plain_number(other.value), "unit": other.unit}


def split_scopes(subject: str, regions: dict[str, str]) -> list[tuple[str | None, str]]:
    """One (site, phrase) per place a goal names: 马家坪电站、龙荫港梅桥村、华容东湖等断面 → three
    sections; 长江干流湖南段和湘、资、沅、澧四水干流 → five reaches; 长沙市、株洲市X → two regions."""
    whole: list[tuple[str | None, str]] = [(None, subject)]
    if "、" not in subject and "和" not in subject:
        return whole
    tokens = subject.split("、")
    m = _SITE_TAIL.match(tokens[-1])
    if m and len(tokens) > 1:
        tail = re.sub(r"^等?(?:[一二三四五六七八九十]水)?", "", m.group("tail"))
        remainder = tokens[-1][m.end() :]
        firsts, lead = tokens[:-1], []
        if "和" in firsts[0]:
            before, _, first_item = firsts[0].rpartition("和")
            if _SITE_TAIL.match(before) or before.endswith(("段", "湖", "河", "江")):
                lead, firsts = [before], [first_item, *firsts[1:]]
        items = [*firsts, m.group("item")]
        if all(0 < len(i) <= 10 for i in items):
            return [(site, site + remainder) for site in [*lead, *(i + tail for i in items)]]
        return whole
    names = [tok.strip() for tok in re.split(r"[、和]", subject)]
    if len(names) > 1 and all(n in regions for n in names[:-1]):
        last = next(
            (r for r in sorted(regions, key=len, reverse=True) if names[-1].startswith(r)), None
        )
        if last:
            rest = names[-1][len(last) :]
            return [(None, f"{n}{rest}") for n in names[:-1]] + [(None, names[-1])]
    return whole


def plain_number(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value
