"""Reading a plan document (.txt, .md, .docx) into the ``duban-plan/1`` structure.

A hand-written state machine over lines and regular expressions over clauses; the rules
are documented in docs/plan-import.md. Whatever the rules cannot interpret is reported in
``unparsed`` (task, text, why) rather than guessed. Pure: no database; the owners' aliases
and the regions come from the built-in plan data shipped with the package.
"""

from __future__ import annotations

import calendar
import csv
import hashlib
import io
import itertools
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import UserError
from .i18n import t

DOCUMENT_SUFFIXES = (".txt", ".md", ".docx")
PLAN_FORMAT = "duban-plan/1"

# ----------------------------------------------------------------- reading files


def read_document(path: Path) -> str:
    """The text of a .txt, .md or .docx plan; UserError for anything that is not one."""
    suffix = path.suffix.lower()
    if suffix not in DOCUMENT_SUFFIXES:
        raise UserError(
            t(
                "{path}: unsupported file type {suffix!r} (expected .txt, .md, .docx or .yaml)",
                path=path,
                suffix=path.suffix or "(none)",
            )
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(
            t("{path}: cannot read: {why}", path=path, why=exc.strerror or exc)
        ) from None
    if not raw.strip():
        raise UserError(t("{path}: the file is empty", path=path))
    text = _docx_text(path, raw) if suffix == ".docx" else _decode(path, raw)
    if suffix == ".md":
        text = _strip_markdown(text)
    if not text.strip():
        raise UserError(t("{path}: the file is empty", path=path))
    return text


def _decode(path: Path, raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    elif b"\x00" not in raw and not raw.startswith(b"PK\x03\x04"):
        for encoding in ("utf-8-sig", "gb18030"):  # Chinese government files often come in GBK
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError:
                continue
            controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\r\n\t\f")
            if controls <= len(text) // 100:
                return text
    raise UserError(t("{path}: not a text file (binary content)", path=path))


def _docx_text(path: Path, raw: bytes) -> str:
    import docx

    try:
        document = docx.Document(io.BytesIO(raw))
    except Exception:  # zipfile, zlib, lxml and python-docx raise many kinds on a damaged file
        raise UserError(t("{path}: not a Word (.docx) document", path=path)) from None
    numbering = _DocxNumbering(document)
    lines = []
    for paragraph in document.paragraphs:
        label = numbering.label(paragraph)
        lines.append(f"{label}{paragraph.text}" if label else paragraph.text)
    return "\n".join(lines)


class _DocxNumbering:
    """Word's automatic list numbers are not in the paragraph text: rebuild the labels."""

    _W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

    def __init__(self, document: Any) -> None:
        self.levels: dict[tuple[str, int], tuple[str, str, int]] = {}
        self.counters: dict[str, list[int]] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError):
            return
        w = self._W
        abstract = {}
        for node in root.iter(f"{w}abstractNum"):
            levels = {}
            for lvl in node.iter(f"{w}lvl"):
                fmt = lvl.find(f"{w}numFmt")
                text = lvl.find(f"{w}lvlText")
                start = lvl.find(f"{w}start")
                levels[int(lvl.get(f"{w}ilvl"))] = (
                    fmt.get(f"{w}val") if fmt is not None else "decimal",
                    text.get(f"{w}val") if text is not None else "",
                    int(start.get(f"{w}val")) if start is not None else 1,
                )
            abstract[node.get(f"{w}abstractNumId")] = levels
        for num in root.iter(f"{w}num"):
            ref = num.find(f"{w}abstractNumId")
            if ref is not None:
                for ilvl, spec in abstract.get(ref.get(f"{w}val"), {}).items():
                    self.levels[(num.get(f"{w}numId"), ilvl)] = spec

    def _num_pr(self, paragraph: Any) -> tuple[str, int] | None:
        for holder in (paragraph._p.pPr, getattr(paragraph.style.element, "pPr", None)):
            num_pr = getattr(holder, "numPr", None) if holder is not None else None
            if num_pr is not None and num_pr.numId is not None:
                ilvl = num_pr.ilvl.val if num_pr.ilvl is not None else 0
                return str(num_pr.numId.val), int(ilvl)
        return None

    def label(self, paragraph: Any) -> str:
        found = self._num_pr(paragraph)
        if found is None or found not in self.levels:
            return ""
        num_id, ilvl = found
        counters = self.counters.setdefault(num_id, [0] * 9)
        counters[ilvl] += 1
        for deeper in range(ilvl + 1, 9):
            counters[deeper] = 0
        fmt, text, _ = self.levels[found]
        for level in range(ilvl + 1):
            spec = self.levels.get((num_id, level))
            value = counters[level] + (spec[2] - 1 if spec else 0)
            text = text.replace(f"%{level + 1}", _format_number(value, spec[0] if spec else fmt))
        return text


def _format_number(value: int, fmt: str) -> str:
    if fmt.startswith(("chinese", "ideograph", "taiwanese")):
        return int_to_cn(value)
    if fmt == "decimalEnclosedCircle" and 1 <= value <= 20:
        return chr(0x2460 + value - 1)
    return str(value)


_MD_RULES = [
    (re.compile(r"^\s{0,3}#{1,6}\s*"), ""),  # headings
    (re.compile(r"^\s{0,3}>\s?"), ""),  # quotes
    (re.compile(r"^\s*[-*+]\s+"), ""),  # bullets (numbered lists are kept)
    (re.compile(r"\*\*|__|(?<!\w)\*(?!\s)|`"), ""),  # emphasis and code
    (re.compile(r"!?\[([^\]]*)\]\([^)]*\)"), r"\1"),  # links and images
    (re.compile(r"\s*\\$"), ""),  # hard breaks
]


def _strip_markdown(text: str) -> str:
    out = []
    for line in text.splitlines():
        if re.match(r"^\s*([-*_]\s*){3,}$", line) or line.strip().startswith("|"):
            out.append("")
            continue
        for pattern, repl in _MD_RULES:
            line = pattern.sub(repl, line)
        out.append(line)
    return "\n".join(out)


# ----------------------------------------------------------------- numbers and names

_CN_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}


def cn_to_int(text: str) -> int | None:
    """一 … 九十九 (and 一百…); None if ``text`` is not a Chinese numeral."""
    if not text or any(c not in _CN_DIGITS and c not in "十百" for c in text):
        return None
    total, current = 0, 0
    for ch in text:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = current * 10 + _CN_DIGITS[ch] if current else _CN_DIGITS[ch]
    return total + current


def int_to_cn(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")
    return str(n)


def slug_hash(text: str, n: int = 8) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:n]


def _norm(text: str) -> str:
    """A phrase for comparison: no parenthetical parts, quotes, 的, spaces or list marks."""
    text = re.sub(r"[（(][^（）()]*[）)]", "", text)
    return re.sub(r"[\s“”\"'‘’「」《》〈〉的、]", "", text)


# ----------------------------------------------------------------- reference data


@dataclass(frozen=True)
class KnownIndicator:
    key: str
    name: str
    unit: str


# The indicators of the built-in plan (docs/plan-format.md, "Indicators referenced by the
# built-in plan"): a phrase naming one of them gets its key and unit.
BUILTIN_INDICATORS: tuple[KnownIndicator, ...] = tuple(
    KnownIndicator(*row)
    for row in (
        ("water.national_section_good_quality_rate", "国考断面水质优良率（I～III类比例）", "%"),
        ("water.section_class", "断面水质类别", "class"),
        ("water.total_phosphorus", "总磷浓度", "mg/L"),
        ("water.aquatic_ecology_quality", "水生态质量（水生态状况评价指数）", "index"),
        ("water.county_drinking_source_compliance", "县级城市集中式饮用水水源达标率", "%"),
        (
            "water.prefecture_drinking_source_compliance",
            "地级城市集中式饮用水水源地水质达标率",
            "%",
        ),
        ("water.county_black_odorous_water_bodies", "县级城市建成区黑臭水体数量", "个"),
        ("water.urban_sewage_collection_rate", "城市生活污水集中收集率", "%"),
        (
            "water.industrial_park_major_pollutant_discharge",
            "省级及以上产业园区主要污染物排放总量",
            "t",
        ),
        ("water.rural_sewage_treatment_rate", "农村生活污水治理率", "%"),
        ("water.rural_black_odorous_water_bodies", "较大面积农村黑臭水体数量", "个"),
        ("water.total_phosphorus_discharge", "总磷污染物排放总量", "t"),
        ("water.manganese", "地表水锰浓度", "mg/L"),
        ("water.total_water_use", "用水总量", "亿立方米"),
        ("water.water_use_per_10k_gdp", "万元GDP用水量", "m³/万元"),
        ("water.water_use_per_10k_industrial_value_added", "万元工业增加值用水量", "m³/万元"),
        ("waste.county_town_harmless_treatment_rate", "县城生活垃圾无害化处理率", "%"),
        ("waste.sorting_coverage_rate", "生活垃圾分类覆盖率（街道、社区）", "%"),
        ("fishing_ban.aquatic_biotic_integrity_index", "水生生物完整性指数", "index"),
        ("fishing_ban.aquatic_resource_abundance", "水生生物资源量", "index"),
        ("fishing_ban.zero_employment_fisher_households", '退捕渔民"零就业"家庭数', "户"),
        ("general.fertilizer_utilization_rate", "化肥利用率", "%"),
        ("general.pesticide_utilization_rate", "农药利用率", "%"),
        ("general.livestock_manure_utilization_rate", "畜禽粪污综合利用率", "%"),
        ("general.agricultural_film_recovery_rate", "农膜回收率", "%"),
        ("general.key_heavy_metal_discharge", "重点行业重点重金属污染物排放量", "t"),
        ("general.tailings_pond_count", "尾矿库数量", "座"),
        ("general.forest_coverage_rate", "森林覆盖率（林木绿化率）", "%"),
        ("general.wetland_protection_rate", "湿地保护率", "%"),
    )
)


class IndicatorTable:
    """Finds the indicator a plan's phrase names (exact, contained, abbreviated or shared ending)."""

    _MEASURE = re.compile(r"(浓度|数量|总量|指数|量)$")

    def __init__(self, indicators: Iterable[KnownIndicator]) -> None:
        self.by_key: dict[str, KnownIndicator] = {}
        for ind in indicators:
            self.by_key.setdefault(ind.key, ind)
        self.names = [(_norm(i.name), i) for i in self.by_key.values()]
        # 化肥农药利用率 = 化肥(利用率) + 农药利用率: every pair of names sharing an ending
        self.compounds = [
            (n1[: len(n1) - len(suffix)] + n2, i1, i2)
            for n1, i1 in self.names
            for n2, i2 in self.names
            if i1.key != i2.key and len(suffix := _common_suffix(n1, n2)) >= 2
        ]

    def find(self, phrase: str) -> KnownIndicator | None:
        p = _norm(phrase)
        if len(p) < 2:
            return None
        best: tuple[int, KnownIndicator] | None = None
        tie = False
        for name, ind in self.names:
            score = self._score(p, name)
            if score and (best is None or score > best[0]):
                best, tie = (score, ind), False
            elif score and best is not None and score == best[0] and ind.key != best[1].key:
                tie = True
        return None if best is None or tie else best[1]

    def _score(self, p: str, name: str) -> int:
        if p == name:
            return 1000
        # the plan puts qualifiers in front: 全省用水总量, 洞庭湖湖体总磷(浓度)
        if p.endswith(name):
            return 500 + len(name)
        stem = self._MEASURE.sub("", name)
        if len(stem) >= 2 and stem != name and p.endswith(stem):
            return 300 + len(stem)
        if len(p) >= 4 and p in name:
            return 200 + len(p)
        if len(p) >= 4 and p[-1] == name[-1] and _is_subsequence(p, name):
            return 100 + len(p)
        common = len(_common_suffix(p, name))
        return 50 + common if common >= 6 else 0

    def split_compound(self, phrase: str) -> list[KnownIndicator]:
        """化肥农药利用率 → 化肥利用率 and 农药利用率 (both must be known indicators)."""
        p = _norm(phrase)
        return next(([i1, i2] for joined, i1, i2 in self.compounds if p.endswith(joined)), [])


def _is_subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def _common_suffix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    return a[len(a) - n :]


@dataclass
class Reference:
    """What the parser knows beyond the document: owners, aliases, regions, indicators."""

    owners: dict[str, dict[str, Any]] = field(default_factory=dict)  # canonical name -> entry
    aliases: dict[str, str] = field(default_factory=dict)  # alias -> canonical name
    regions: dict[str, str] = field(default_factory=dict)  # name -> code
    indicators: IndicatorTable = field(default_factory=lambda: IndicatorTable(BUILTIN_INDICATORS))


@cache
def builtin_reference() -> Reference:
    """Owners and aliases of the built-in plan, and Hunan's regions, from the package data."""
    import yaml

    ref = Reference()
    data_dir = resources.files("duban.core") / "data"
    try:
        text = (data_dir / "plans" / "hunan-yangtze-2023.yaml").read_text("utf-8")
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        plan = yaml.load(text, Loader=loader) or {}
    except (OSError, yaml.YAMLError):
        plan = {}
    for entry in plan.get("owners") or []:
        if isinstance(entry, dict) and entry.get("name"):
            ref.owners[entry["name"]] = entry
            for alias in entry.get("aliases") or []:
                ref.aliases[alias] = entry["name"]
    try:
        rows = csv.DictReader(io.StringIO((data_dir / "regions.csv").read_text("utf-8")))
        ref.regions = {row["name"]: row["code"] for row in rows}
        # the short form plans use for autonomous prefectures: 湘西土家族苗族自治州 → 湘西自治州
        ref.regions.update(
            {
                f"{name[:2]}自治州": code
                for name, code in list(ref.regions.items())
                if name.endswith("自治州") and len(name) > 5
            }
        )
    except OSError:
        pass
    return ref


# ----------------------------------------------------------------- document structure

_CHAPTER = re.compile(r"^([一二三四五六七八九十百]{1,4})\s*[、．.]\s*(.*)$")
_CN_PAREN = re.compile(r"^[（(]\s*([一二三四五六七八九十百]{1,4})\s*[）)]\s*(.*)$")
_ARABIC = re.compile(r"^(\d{1,3})\s*(?:[.．、](?!\d)|\s)\s*(.*)$")
_AR_PAREN = re.compile(r"^[（(]\s*(\d{1,3})\s*[）)]\s*(.*)$")
_CIRCLED = re.compile(r"^([\u2460-\u2473])\s*(.*)$")
LEVELS = (
    ("chapter", _CHAPTER),
    ("cn_paren", _CN_PAREN),
    ("arabic", _ARABIC),
    ("ar_paren", _AR_PAREN),
    ("circled", _CIRCLED),
)
_FOOTER = re.compile(
    r"^(?:本|此)[^，。]{0,16}(?:方案|计划|办法|意见|规划|细则|通知|要点|规定|制度|措施)"
    r"[^。]{0,30}(?:施行|实施|有效期|解释)|^附件[：:\s\d]*|^抄送[：:]|^(?:此件|本件)"
)


@dataclass
class Item:
    level: int
    number: int
    label: str  # as the document writes it, normalised: （四）, 3., （1）, ①, 一、
    heading: str
    lines: list[str] = field(default_factory=list)
    children: list[Item] = field(default_factory=list)
    line_no: int = 0

    @property
    def own_text(self) -> str:
        return "\n".join(x for x in [self.heading, *self.lines] if x)

    def all_text(self) -> str:
        parts = [self.own_text]
        for child in self.children:
            parts.append(f"{child.label}{child.all_text()}")
        return "\n".join(p for p in parts if p)


def _match_level(line: str) -> tuple[int, int, str, str] | None:
    for level, (kind, pattern) in enumerate(LEVELS):
        m = pattern.match(line)
        if not m:
            continue
        raw, rest = m.group(1), m.group(2).strip()
        if kind in ("chapter", "cn_paren"):
            number = cn_to_int(raw)
        elif kind == "circled":
            number = ord(raw) - 0x2460 + 1
        else:
            number = int(raw)
        if not number or (kind == "arabic" and (number > 200 or not rest)):
            continue
        label = {
            "chapter": f"{raw}、",
            "cn_paren": f"（{raw}）",
            "arabic": f"{number}.",
            "ar_paren": f"（{number}）",
            "circled": raw,
        }[kind]
        return level, number, label, rest
    return None


def _split_document(lines: list[str]) -> tuple[list[str], list[Item], list[str]]:
    """Header lines, the tree of numbered items, footer lines."""
    header: list[str] = []
    roots: list[Item] = []
    stack: list[Item] = []
    footer: list[str] = []
    for no, line in enumerate(lines, 1):
        if footer or (roots and _FOOTER.match(line)):
            footer.append(line)
            continue
        if stack and _issue_date(
            [line]
        ):  # a signature block after the last item: names, then the date
            lines_ = stack[-1].lines
            while lines_ and _is_signature(lines_[-1]):
                footer.insert(0, lines_.pop())
            footer.append(line)
            continue
        found = _match_level(line)
        if found is None:
            if stack:
                if line:
                    stack[-1].lines.append(line)
            else:
                header.append(line)
            continue
        level, number, label, rest = found
        item = Item(level=level, number=number, label=label, heading=rest, line_no=no)
        while stack and stack[-1].level >= level:
            stack.pop()
        (stack[-1].children if stack else roots).append(item)
        stack.append(item)
    return header, roots, footer


def _is_signature(line: str) -> bool:
    """A line of issuing bodies' names (several per line, spaced out, as signed)."""
    parts = [p for p in re.split(r"\s{2,}|\t", line.strip()) if p]
    return bool(parts) and all(
        _BODY_SUFFIX.search(p) and not re.search(r"[，。：、；（）()]", p) for p in parts
    )


# ----------------------------------------------------------------- dates

_DATE_FULL = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_CN_DATE = re.compile(
    r"([〇零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日"
)
_DEADLINES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?:到|至|截至|于|在)?(\d{4})年(\d{1,2})月(\d{1,2})日(?:前|之前|以前)?"), "day"),
    (re.compile(r"(?:到|至|截至|于|在)?(\d{4})年(\d{1,2})月(?:底|末)(?:前|之前|以前)?"), "month"),
    (re.compile(r"(?:到|至|截至|于|在)?(\d{4})年(?:年底|底|年末|末)(?:前|之前|以前)?"), "year"),
    (re.compile(r"(?:到|至|截至|于|在)?(\d{4})年(?:上半年|年中)(?:前|之前)?"), "half"),
    (re.compile(r"(?:到|至|截至)(\d{4})年(?!\d|[上下]半年|前|以前|之前)"), "year"),
]
_AMBIGUOUS_DATE = re.compile(r"(\d{4})年(?:前|以前|之前)|(\d{4})年下半年")
_RECURRING = re.compile(
    r"每(季度|月|年|半年)(?:(\d{1,2})月(?:底|末)|(\d{1,2})日|末|底|年底)?(?:前|之前)?"
)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _deadline(text: str) -> tuple[date | None, str, str | None]:
    """(due, text without the date phrase, why-not) for the first deadline in ``text``."""
    for pattern, kind in _DEADLINES:
        m = pattern.search(text)
        if not m:
            continue
        year = int(m.group(1))
        try:
            if kind == "day":
                due = date(year, int(m.group(2)), int(m.group(3)))
            elif kind == "month":
                due = _month_end(year, int(m.group(2)))
            elif kind == "half":
                due = date(year, 6, 30)
            else:
                due = date(year, 12, 31)
        except ValueError:
            return None, text, t("not a calendar date")
        rest = (text[: m.start()] + text[m.end() :]).strip(" ，,、")
        return due, rest, None
    m = _AMBIGUOUS_DATE.search(text)
    if m:
        return None, text, t("ambiguous deadline {phrase!r}", phrase=m.group(0))
    return None, text, None


def _recurrence(text: str, after: date | None) -> tuple[str, date, str] | None:
    """(recurrence, first due on or after ``after``, text without the phrase) for 每季度 …"""
    m = _RECURRING.search(text)
    if not m or after is None:
        return None
    unit, month, day = m.group(1), m.group(2), m.group(3)
    rest = (text[: m.start()] + text[m.end() :]).strip(" ，,、")
    y = after.year
    if unit == "月":
        candidates = [
            (date(y + (mo + after.month - 1) // 12, (mo + after.month - 1) % 12 + 1, 1))
            for mo in range(0, 13)
        ]
        dues = [
            c.replace(day=min(int(day), calendar.monthrange(c.year, c.month)[1]))
            if day
            else _month_end(c.year, c.month)
            for c in candidates
        ]
        recurrence = "monthly"
    elif unit == "季度":
        dues = [_month_end(yy, mo) for yy in (y, y + 1) for mo in (3, 6, 9, 12)]
        recurrence = "quarterly"
    elif unit == "半年":
        dues = [_month_end(yy, mo) for yy in (y, y + 1) for mo in (6, 12)]
        recurrence = "semiannual"
    else:
        dues = [_month_end(yy, int(month)) if month else date(yy, 12, 31) for yy in (y, y + 1)]
        recurrence = "yearly"
    first = min(d for d in dues if d >= after)
    return recurrence, first, rest


def _issue_date(lines: Iterable[str]) -> date | None:
    for line in lines:
        s = re.sub(r"\s+", "", line)
        m = re.fullmatch(r"[（(]?(\d{4})年(\d{1,2})月(\d{1,2})日(?:印发)?[）)]?", s)
        if not m:
            cn = _CN_DATE.fullmatch(s.removesuffix("印发"))
            if cn:
                y = int("".join(str(_CN_DIGITS[c]) for c in cn.group(1)))
                m_ = cn_to_int(cn.group(2))
                d_ = cn_to_int(cn.group(3))
                if m_ and d_:
                    try:
                        return date(y, m_, d_)
                    except ValueError:
                        return None
            continue
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
    return None


# ----------------------------------------------------------------- responsibility clauses

_BODY_SUFFIX = re.compile(
    r"(厅|局|委|委员会|办|办公室|室|院|部|中心|公司|行|台|政府|会|所|队|站|组|社|署|处|馆|团|厂|集团|分局|支队)$"
)
_BLANKET = re.compile(
    r"^(各|有关|相关|其他|其它|地方|市直|省直|县直)|各级|等部门$|有关单位|相关单位"
)
_ROLE = re.compile(
    r"^(?P<names>.*?)(?:等)?\s*(?P<duty>按照?职责分工|按职责|按各自职责|分别)?\s*"
    r"(?P<role>牵头|负责|参与|配合|协助|协同|共同负责)$"
)
_IMPLEMENTERS = re.compile(
    r"(地方各级|各市州|各市、州|市州|各县市区|各区县|各县（市、区）|各县市|各区|各县)"
    r"[^，。；]*?(?:人民政府|政府)?[^，。；]*?负责(?:落实|实施|组织实施)"
)
_FILLER = re.compile(r"^(不再列出|下同|不再一一列出|以下均同|以下不再列出)$")


def _parenthetical(text: str) -> Iterator[tuple[int, int, str]]:
    """Top-level parenthetical groups (full- or half-width, mixed) as (start, end, content)."""
    depth, start = 0, -1
    for i, ch in enumerate(text):
        if ch in "（(":
            if depth == 0:
                start = i
            depth += 1
        elif ch in "）)" and depth:
            depth -= 1
            if depth == 0:
                yield start, i + 1, text[start + 1 : i]


def _is_responsibility(content: str) -> bool:
    return any(
        (m := _ROLE.match(p.strip())) and m.group("names") for p in re.split(r"[，,；;。]", content)
    )


def _split_names(names: str) -> list[str]:
    out = []
    for part in re.split(r"[、，,；;]", names):
        part = part.strip().removesuffix("等").strip()
        if not part:
            continue
        # 和/及/与 join two bodies only when both sides are whole body names (not 发展和改革委员会)
        pieces = re.split(r"(?<=[厅局委院办部行司台])(?:和|及|与|以及)(?=[省市县区国中湖])", part)
        out.extend(p for p in pieces if p)
    return out


# ----------------------------------------------------------------- goals

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
_STATE_GOAL = re.compile(r"(?:稳定)?达到(?:国家|省|市)?(?:考核)?(?:目标|要求)(?:任务)?$|基本可控$")
# End states (基本消除, 全面达标, 全覆盖) are deliverables even when undated; an undated trend
# ("持续提升X") with nothing to measure describes an activity.
_END_STATES = ("zero", "eliminate", "eliminate_v", "all_compliant", "full_coverage")
_LEADING = re.compile(r"^(?:力争|确保|实现|使|推动|推进|重点推进|切实保障|保障|全面)+")
_SITE_TAIL = re.compile(
    r"^(?P<item>.+?)(?P<tail>(?:等)?(?:[一二三四五六七八九十]水)?(?:国控断面|国考断面|省控断面|断面|干流|湖体))"
)


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


# ----------------------------------------------------------------- the parse


@dataclass
class ParseResult:
    data: dict[str, Any]  # the duban-plan/1 structure
    unparsed: list[dict[str, Any]]

    def summary(self) -> dict[str, Any]:
        """The ``--dry-run`` shape: plan, tasks (lead, participants, milestones, targets), unparsed."""
        return summarize(self.data, self.unparsed)


def summarize(data: dict[str, Any], unparsed: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    def day(value: Any) -> str | None:
        return value.isoformat() if isinstance(value, date) else (str(value) if value else None)

    meta = data.get("plan") or {}
    plan = {k: v for k, v in meta.items() if v is not None}
    for key in ("issued_on", "valid_until"):
        if key in plan:
            plan[key] = day(plan[key])
    tasks = []
    for task in data.get("tasks") or []:
        tasks.append(
            {
                "code": task.get("code"),
                "title": task.get("title"),
                "lead": list(task.get("lead") or []),
                "participants": list(task.get("participants") or []),
                "milestones": [
                    {
                        "due": day(m.get("due")),
                        "text": m.get("text"),
                        **({"recurrence": m["recurrence"]} if m.get("recurrence") else {}),
                    }
                    for m in task.get("milestones") or []
                ],
                "targets": [
                    {
                        "indicator": g.get("indicator"),
                        "name": g.get("name"),
                        "comparator": g.get("comparator"),
                        "value": g.get("value"),
                        "unit": g.get("unit"),
                        "due": day(g.get("due")),
                        **({"baseline_year": g["baseline_year"]} if g.get("baseline_year") else {}),
                    }
                    for g in task.get("targets") or []
                ],
            }
        )
    return {"plan": plan, "tasks": tasks, "unparsed": list(unparsed or [])}


class _Parser:
    def __init__(self, text: str, source: str, ref: Reference) -> None:
        self.source = source
        self.ref = ref
        self.unparsed: list[dict[str, Any]] = []
        text = (
            text.replace("\r\n", "\n")
            .replace("\r", "\n")
            .replace("\u3000", " ")
            .replace("\xa0", " ")
        )
        self.lines = [line.strip() for line in text.split("\n")]
        self.sites: dict[str, dict[str, Any]] = {}
        self.implementers: str | None = None
        self.issued: date | None = None
        self.use_aliases = True
        self.region_code: str | None = None

    def note(self, task: str | None, text: str, why: str) -> None:
        self.unparsed.append({"task": task, "text": text, "why": why})

    # -- the document as a whole
    def run(self) -> ParseResult:
        header, roots, footer = _split_document(self.lines)
        if not roots:
            raise UserError(
                t(
                    "{path}: no numbered tasks found (expected items numbered （一）, 1. or (1))",
                    path=self.source,
                )
            )
        title = self._title(header)
        issued = _issue_date(header) or _issue_date(footer)
        if issued is None:
            self.note(None, "", t("no issue date found (a line such as 2023年3月6日)"))
        self.issued = issued
        self.use_aliases = self._hunan_document(title)
        self.region_code = self._plan_region(title)
        issuers = self._issuers(header, footer)
        valid_until = self._valid_until(footer + header, issued)

        chapters, framing, tasks = self._walk(roots)
        if not tasks:
            raise UserError(
                t(
                    "{path}: no numbered tasks found (expected items numbered （一）, 1. or (1))",
                    path=self.source,
                )
            )
        self._settle_dates(tasks, valid_until)
        self._dedupe_overall_goals(tasks)
        meta: dict[str, Any] = {
            "key": f"plan-{slug_hash(title + str(issued))}",
            "title": title,
            "title_en": None,
            "issued_on": issued,
            "valid_until": valid_until,
            "issuers": issuers,
            "source": self._doc_number(header) or Path(self.source).name,
            "implementers": self.implementers or "none",
        }
        data = {
            "format": PLAN_FORMAT,
            "plan": meta,
            "owners": self._owners(issuers, tasks),
            "sites": list(self.sites.values()),
            "sections": chapters,
            "framing": framing,
            "tasks": tasks,
        }
        return ParseResult(data, self.unparsed)

    def _title(self, header: list[str]) -> str:
        joined = "".join(header)
        m = re.search(r"印发《(.+?)》(?:的)?通知", joined) or re.search(
            r"《(.+?(?:方案|计划|规划|意见|办法|要点))》", joined
        )
        if m:
            return m.group(1)
        lines = [line for line in header if line]
        suffix = re.compile(r"(方案|计划|规划|意见|办法|要点|细则|清单|措施)$")
        for i, line in enumerate(lines[:12]):
            if suffix.search(line) and len(line) <= 60:
                return line
            if (
                i + 1 < len(lines)
                and suffix.search(line + lines[i + 1])
                and len(line + lines[i + 1]) <= 60
            ):
                return line + lines[i + 1]
        if lines and len(lines[0]) <= 60:
            self.note(None, lines[0], t("no plan title found; the first line is used"))
            return lines[0]
        raise UserError(
            t("{path}: no plan title found before the first numbered item", path=self.source)
        )

    def _hunan_document(self, title: str) -> bool:
        """The built-in owners' short names (省水利厅) mean Hunan's bodies only in a Hunan plan."""
        other = re.match(r"^(.{2,8}?)(省|自治区)", title)
        return other is None or other.group(0) == "湖南省"

    def _plan_region(self, title: str) -> str | None:
        for name in sorted(self.ref.regions, key=len, reverse=True):
            if title.startswith(name):
                return self.ref.regions[name]
        return None

    def _issuers(self, header: list[str], footer: list[str]) -> list[str]:
        for block in (header, footer):
            dates = [i for i, line in enumerate(block) if _issue_date([line])]
            if not dates:
                continue
            names: list[str] = []
            for line in reversed(block[: dates[0]]):
                if not line:
                    continue
                if not _is_signature(line):
                    break
                names[:0] = [p for p in re.split(r"\s{2,}|\t", line.strip()) if p]
            if names:
                # "湖南省生态环境厅等十七部门" heads the notice: check the count against the signatures
                first = "".join([line for line in block if line][:2])
                count = re.search(r"等([一二三四五六七八九十]+|\d+)(?:个)?(?:部门|单位)", first)
                if count:
                    n = cn_to_int(count.group(1)) or (
                        int(count.group(1)) if count.group(1).isdigit() else None
                    )
                    if n and n != len(names):
                        self.note(
                            None,
                            count.group(0),
                            t(
                                "the title counts {n} issuing bodies; {m} are signed",
                                n=n,
                                m=len(names),
                            ),
                        )
                return [self._canonical(n) for n in names]
        self.note(None, "", t("no issuing bodies found (names above the issue date)"))
        return []

    def _valid_until(self, lines: list[str], issued: date | None) -> date | None:
        text = "".join(lines)
        m = re.search(r"有效期(?:至|到)(\d{4})年(\d{1,2})月(\d{1,2})日", text)
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        m = re.search(r"有效期(?:为)?(\d+|[一二三四五六七八九十])年", text)
        if m and issued:
            years = int(m.group(1)) if m.group(1).isdigit() else cn_to_int(m.group(1)) or 0
            end = (
                issued.replace(year=issued.year + years)
                if (issued.month, issued.day) != (2, 29)
                else date(issued.year + years, 2, 28)
            )
            return date.fromordinal(end.toordinal() - 1)
        return None

    def _doc_number(self, header: list[str]) -> str | None:
        """The document number (长政办发〔2024〕12号), on a line of its own."""
        for line in header:
            m = re.fullmatch(
                r"[\u4e00-\u9fa5]{1,8}[〔\[［(（]\d{4}[〕\]］)）]\d+号", line.replace(" ", "")
            )
            if m:
                return m.group(0)
        return None

    # -- items
    def _walk(self, roots: list[Item]) -> tuple[list[dict], list[dict], list[dict]]:
        chapters: list[dict] = []
        framing: list[dict] = []
        tasks: list[dict] = []
        expected = 1

        def visit(item: Item, section: str | None, path: str) -> None:
            nonlocal expected
            # a group heads numbered items and says nothing itself: "（一）保障饮用水安全"; a
            # heading ending in 。 ("3.推进管网改造。") is a task whose sub-items are its paragraphs
            is_group = (
                bool(item.children)
                and not item.lines
                and not item.heading.endswith("。")
                and not self._has_clause(item.heading)
            )
            if item.level == 0:
                number = int_to_cn(expected)
                if item.number != expected:
                    self.note(
                        None,
                        f"{item.label}{item.heading}",
                        t(
                            "chapter numbered {got} where {want} was expected; renumbered",
                            got=item.label.rstrip("、"),
                            want=number,
                        ),
                    )
                expected += 1
                if is_group:
                    chapters.append(
                        {"number": number, "title": item.heading.rstrip("。"), "title_en": None}
                    )
                    section = number
            if is_group:
                for child in item.children:
                    visit(child, section, path if item.level == 0 else path + item.label)
                return
            self._item(item, section, path, framing, tasks)

        for root in roots:
            visit(root, None, "")
        codes = [task["code"] for task in tasks]
        if len(set(codes)) != len(codes):  # 1. 2. restarting under each group: qualify them
            for task in tasks:
                task["code"] = task.pop("_path") + task["code"]
        seqs = [task["seq"] for task in tasks]
        if any(b <= a for a, b in itertools.pairwise(seqs)):
            for i, task in enumerate(tasks, 1):
                task["seq"] = i
        for task in tasks:
            task.pop("_path", None)
        return chapters, framing, tasks

    def _has_clause(self, text: str) -> bool:
        return any(_is_responsibility(c) for _, _, c in _parenthetical(text))

    def _item(
        self, item: Item, section: str | None, path: str, framing: list[dict], tasks: list[dict]
    ) -> None:
        heading = item.heading
        title, _, rest = heading.partition("。")
        if len(title) > 60:  # a paragraph, not a heading
            title, rest = title[:0], heading
        title = title.strip().rstrip("：:；;")
        body = "\n".join(x for x in [rest.strip(), *item.lines] if x)
        for child in item.children:
            body += f"\n{child.label}{child.all_text()}"
        code = item.label
        task: dict[str, Any] = {
            "code": code,
            "seq": item.number,
            "section": section,
            "title": title or code,
            "title_en": None,
            "domain": "general",
            "summary": body.strip() or None,
            "summary_en": None,
            "lead": [],
            "participants": [],
            "regions": [],
            "milestones": [],
            "targets": [],
            "_path": path,
        }
        goal_item = re.search(r"目标|任务指标", title) is not None
        text = self._assignments(task, body)
        self._dates_and_goals(task, text)
        task["regions"] = self._regions(body)
        task["domain"] = self._domain(task, title + body)
        if not task["lead"] and not goal_item:
            if not task["milestones"] and not task["targets"]:
                framing.append(
                    {
                        "code": code,
                        "title": task["title"],
                        "title_en": None,
                        "summary": task["summary"],
                        "summary_en": None,
                    }
                )
                return
            self.note(code, title, t("no responsibility clause (牵头/负责/参与) names a lead"))
        task["_overall"] = goal_item
        tasks.append(task)

    def _canonical(self, name: str) -> str:
        if name in self.ref.owners:
            return name
        if self.use_aliases and name in self.ref.aliases:
            return self.ref.aliases[name]
        return name

    def _assignments(self, task: dict[str, Any], body: str) -> str:
        """Reads the responsibility clauses into lead/participants; returns the text without them."""
        leads: list[str] = []
        participants: list[str] = []
        kept: list[str] = []
        pos = 0
        for start, end, content in _parenthetical(body):
            if not _is_responsibility(content):
                continue
            kept.append(body[pos:start])
            kept.append("。")
            pos = end
            for part in (p.strip() for p in re.split(r"[，,；;。]", content)):
                if not part or _FILLER.match(part):
                    continue
                if _IMPLEMENTERS.search(part):
                    level = (
                        "counties"
                        if re.search(r"县|区", part)
                        and "市州" not in part
                        and "地方各级" not in part
                        else "cities"
                    )
                    self.implementers = self.implementers or level
                    continue
                m = _ROLE.match(part)
                if not m or not m.group("names"):
                    self.note(
                        task["code"],
                        part,
                        t("a part of the responsibility clause that is not understood"),
                    )
                    continue
                target = leads if m.group("role") in ("牵头", "负责", "共同负责") else participants
                names = m.group("names")
                if "会同" in names:
                    main, _, others = names.partition("会同")
                    names = main
                    self._add_names(task, others, participants)
                self._add_names(task, names, target)
        kept.append(body[pos:])
        # 牵头单位会同X等部门: the bodies a lead works "together with" take part
        for m in re.finditer(
            r"([^，。；、（）()]{2,24}?)会同([^，。；（）()]{2,60}?)等?(?:有关|相关)?(?:部门|单位)",
            "".join(kept),
        ):
            if self._canonical(m.group(1).strip()) in leads:
                self._add_names(task, m.group(2), participants)
        task["lead"] = list(dict.fromkeys(leads))
        task["participants"] = [p for p in dict.fromkeys(participants) if p not in task["lead"]]
        return "".join(kept)

    def _add_names(self, task: dict[str, Any], names: str, into: list[str]) -> None:
        for name in _split_names(names):
            if _BLANKET.search(name):
                continue
            if not _BODY_SUFFIX.search(name):
                self.note(task["code"], name, t("not the name of a body"))
                continue
            into.append(self._canonical(name))

    def _dates_and_goals(self, task: dict[str, Any], text: str) -> None:
        for line in text.split("\n"):
            numbered = _match_level(line.strip())
            self._sentences(task, numbered[3] if numbered else line)

    def _sentences(self, task: dict[str, Any], text: str) -> None:
        for sentence in re.split(r"[。！？!?]", text):
            due: date | None = None
            recurrence: str | None = None
            for clause in _clauses(sentence):
                found, rest, why = _deadline(clause)
                if why:
                    self.note(task["code"], clause, why)
                if found:
                    due, recurrence = found, None
                    clause = rest
                else:
                    rec = _recurrence(clause, self.issued)
                    if rec:
                        recurrence, due, clause = rec
                    elif _RECURRING.search(clause):
                        self.note(
                            task["code"],
                            clause,
                            t("a recurring deadline needs the plan's issue date"),
                        )
                clause = clause.strip(" ，,：:；;")
                if clause:
                    self._clause(task, clause, due, recurrence)

    def _clause(
        self, task: dict[str, Any], clause: str, due: date | None, recurrence: str | None
    ) -> None:
        primary, alternative = _split_alternative(clause)
        goal, why = match_goal(primary)
        if alternative:
            self.note(
                task["code"], alternative, t("an alternative goal (或…) is not kept as a target")
            )
        if goal is None:
            if why:
                self.note(task["code"], primary, why)
            if due is not None or _STATE_GOAL.search(primary):
                milestone = {"due": due, "text": primary, "text_en": None}
                if recurrence:
                    milestone["recurrence"] = recurrence
                task["milestones"].append(milestone)
            return
        targets = self._targets(task, goal, primary, due)
        if targets:
            task["targets"].extend(targets)
        elif due is not None or _STATE_GOAL.search(primary) or goal.kind in _END_STATES:
            # a goal without a number and nothing known to measure: a deliverable, not a target
            task["milestones"].append({"due": due, "text": primary, "text_en": None})

    def _targets(
        self, task: dict[str, Any], goal: Goal, text: str, due: date | None
    ) -> list[dict[str, Any]]:
        table = self.ref.indicators
        compound = table.split_compound(goal.name)
        parts: list[tuple[KnownIndicator | None, str]]
        if compound:
            parts = [(ind, _norm(ind.name)) for ind in compound]
        else:
            known = table.find(goal.name) or table.find(goal.subject)
            if goal.unit == "class":
                known = table.by_key.get("water.section_class", known)
            elif goal.kind == "share" and re.search(
                r"国考断面水质(?:达到或优于|达到)?(?:III|Ⅲ)类", goal.subject
            ):
                known = table.by_key.get(
                    "water.national_section_good_quality_rate", known
                )  # 优良 = I～III类
            parts = [(known, goal.name)]
        if parts[0][0] is None and not goal.numeric:
            return []  # nothing known to measure: the caller makes it a milestone
        if goal.comparator in ("decrease_pct", "increase_pct") and goal.baseline_year is None:
            self.note(task["code"], text, t("no baseline year stated for a relative change"))
        out = []
        for indicator, name in parts:
            unit = goal.unit or (indicator.unit if indicator else None)
            if unit is None:
                self.note(task["code"], text, t("no unit stated"))
            scopes = (
                split_scopes(goal.subject, self.ref.regions) if len(parts) == 1 else [(None, name)]
            )
            for site, phrase in scopes:
                scoped = name if len(scopes) == 1 else phrase + name[len(goal.subject) :]
                target = {
                    "indicator": indicator.key
                    if indicator
                    else f"general.ind_{slug_hash(_norm(name))}",
                    "name": scoped,
                    "name_en": None,
                    "comparator": goal.comparator,
                    "value": _plain_number(goal.value),
                    "unit": unit,
                    "due": due,
                    "scope": self._scope(phrase, site),
                    "text": text,
                }
                if goal.baseline_year:
                    target["baseline_year"] = goal.baseline_year
                out.append(target)
        return out

    def _scope(self, phrase: str, site: str | None) -> dict[str, str]:
        for name in sorted(self.ref.regions, key=len, reverse=True):
            if phrase.startswith(name):
                return {"region": self.ref.regions[name]}
        if site:
            key = f"site-{slug_hash(site)}"
            kind = (
                "water_section"
                if "断面" in site
                else "lake"
                if site.endswith(("湖", "湖体"))
                else "river_reach"
            )
            self.sites.setdefault(
                key,
                {"key": key, "name": site, "kind": kind, "region": self.region_code, "attrs": {}},
            )
            return {"site": key}
        return {"region": self.region_code} if self.region_code else {}

    def _regions(self, body: str) -> list[str]:
        found = {}
        for name, code in self.ref.regions.items():
            if code == self.region_code:
                continue
            for m in re.finditer(re.escape(name), body):
                # two-character names (南县, 攸县) not inside a longer word such as 湖南县城
                if len(name) > 2 or m.start() == 0 or body[m.start() - 1] not in "湖河江省":
                    found.setdefault(code, m.start())
                    break
        return sorted(found, key=found.__getitem__)

    def _domain(self, task: dict[str, Any], text: str) -> str:
        domains = [g["indicator"].split(".")[0] for g in task["targets"]]
        domains = [d for d in domains if d != "general"]
        if domains:
            return max(set(domains), key=domains.count)
        for domain, words in (
            ("fishing_ban", "禁渔|退捕|捕捞"),
            ("shipping", "船舶|港口|码头|岸电"),
            ("waste", "垃圾|塑料|固体废物"),
            ("supervision", "督察|督办|监督执法|组织领导"),
            ("water", "水|河|湖|排污口"),
        ):
            if re.search(words, task["title"]):
                return domain
        return "general"

    # -- after all items are read
    def _settle_dates(self, tasks: list[dict], valid_until: date | None) -> None:
        undated = any(
            x["due"] is None for task in tasks for x in (*task["milestones"], *task["targets"])
        )
        if valid_until is None and undated:
            self.note(
                None, "", t("no validity period found (有效期至…); undated goals have no due date")
            )
        for task in tasks:
            for x in (*task["milestones"], *task["targets"]):
                if x["due"] is None:
                    x["due"] = valid_until
            task["milestones"] = [m for m in task["milestones"] if m["due"] is not None]
            task["targets"] = [g for g in task["targets"] if g["due"] is not None]
            # a trend goal for something the same task also quantifies adds nothing
            quantified = {g["indicator"] for g in task["targets"] if g["value"] is not None}
            task["targets"] = [
                g
                for g in task["targets"]
                if g["value"] is not None or g["indicator"] not in quantified
            ]

    def _dedupe_overall_goals(self, tasks: list[dict]) -> None:
        """The overall-goals item restates goals that tasks carry: keep each on its task only."""

        def key(g: dict) -> tuple:
            return g["indicator"], g["comparator"], g["value"], g["due"]

        carried = {key(g) for task in tasks if not task["_overall"] for g in task["targets"]}
        for task in tasks:
            if task.pop("_overall"):
                task["targets"] = [g for g in task["targets"] if key(g) not in carried]

    def _owners(self, issuers: list[str], tasks: list[dict]) -> list[dict[str, Any]]:
        names = list(
            dict.fromkeys(
                [*issuers, *(n for task in tasks for n in (*task["lead"], *task["participants"]))]
            )
        )
        owners = []
        for name in names:
            known = self.ref.owners.get(name)
            if known is not None:
                owners.append(dict(known))
                continue
            kind = (
                "judicial"
                if re.search(r"法院|检察院$", name)
                else "government"
                if name.endswith("政府")
                else "enterprise"
                if re.search(r"公司|银行|分行|集团$", name)
                else "department"
            )
            owners.append(
                {
                    "name": name,
                    "name_en": None,
                    "kind": kind,
                    "region": self.region_code,
                    "aliases": [],
                }
            )
        return owners


def _clauses(sentence: str) -> list[str]:
    """Split on ，；, but not inside quotes or parentheses."""
    out, depth, buf = [], 0, []
    for ch in sentence:
        if ch in "（(“《":
            depth += 1
        elif ch in "）)”》" and depth:
            depth -= 1
        if ch in "，,；;：:" and depth == 0:
            out.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    out.append("".join(buf))
    return [c.strip() for c in out if c.strip()]


def _split_alternative(clause: str) -> tuple[str, str | None]:
    m = re.search(r"或(?!优于|好于|达到)(?=.*\d)", clause)
    if (
        m
        and not clause[: m.start()].endswith(("达到", "优于"))
        and re.search(r"\d", clause[: m.start()])
    ):
        return clause[: m.start()], clause[m.start() :]
    return clause, None


def _plain_number(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def parse_plan(
    text: str, *, source: str = "plan", reference: Reference | None = None
) -> ParseResult:
    """Parse a plan document's text; UserError when it holds no numbered tasks."""
    if not text.strip():
        raise UserError(t("{path}: the file is empty", path=source))
    return _Parser(text, source, reference or builtin_reference()).run()


def parse_file(path: Path, *, reference: Reference | None = None) -> ParseResult:
    return parse_plan(read_document(path), source=str(path), reference=reference)


# ----------------------------------------------------------------- drafts and imports


def draft_yaml(data: dict[str, Any], unparsed: list[dict[str, Any]], *, source: str) -> str:
    """The parsed plan as a duban-plan/1 YAML file, with what needs review as comments on top."""
    import yaml

    lines = [
        f"# Draft plan read from {source} by `duban import plan`.",
        "# Review it (titles in English, summaries, owners' regions), then: duban import plan THIS.yaml",
    ]
    if unparsed:
        lines.append("# Not interpreted — check these against the document:")
        for item in unparsed:
            where = f"{item['task']} " if item.get("task") else ""
            text = " ".join(str(item.get("text") or "").split())
            lines.append(f"#   {where}{item['why']}" + (f": {text}" if text else ""))

    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:  # shared dates must not become &anchors
            return True

    body = yaml.dump(
        data,
        Dumper=Dumper,
        allow_unicode=True,
        sort_keys=False,
        width=100,
        default_flow_style=False,
    )
    return "\n".join(lines) + "\n" + body


_STEP_MONTHS = {"monthly": 1, "quarterly": 3, "semiannual": 6, "yearly": 12}


def occurrences(
    first: date, recurrence: str, until: date | None, *, limit: int = 120
) -> list[date]:
    """Every due date of a recurring milestone from ``first`` to ``until`` (inclusive)."""
    step = _STEP_MONTHS.get(recurrence)
    if step is None or until is None:
        return [first]
    month_end = first == _month_end(first.year, first.month)
    out, k = [], 0
    while len(out) < limit:
        index = first.month - 1 + k * step
        year, month = first.year + index // 12, index % 12 + 1
        last = calendar.monthrange(year, month)[1]
        due = date(year, month, last if month_end else min(first.day, last))
        if due > until:
            break
        out.append(due)
        k += 1
    return out or [first]


def import_plan(*, session: Any, data: dict[str, Any], source: str) -> tuple[Any, list[str]]:
    """Load a parsed (or hand-written) plan into the database as a new plan.

    Owners are matched by canonical name or alias; a region or parent the database does not
    hold is left out of a new owner rather than failing the import; recurring milestones
    become one milestone per occurrence. Returns the plan and the names of owners created.
    """
    import copy

    from sqlmodel import select

    from .models import Region
    from .services.owners import find_owner
    from .services.plans import load_plan

    data = copy.deepcopy(data)
    known_regions = set(session.exec(select(Region.code)).all())
    rename: dict[str, str] = {}
    listed = {o.get("name") for o in data.get("owners") or [] if isinstance(o, dict)}
    owners = []
    for entry in data.get("owners") or []:
        if not isinstance(entry, dict) or not entry.get("name"):
            owners.append(entry)  # load_plan reports it
            continue
        existing = next(
            (
                found
                for ref in [entry["name"], *(entry.get("aliases") or [])]
                if (found := find_owner(session=session, ref=ref)) is not None
            ),
            None,
        )
        if existing is not None:
            rename[entry["name"]] = existing.name
            aliases = [
                a
                for a in entry.get("aliases") or []
                if (other := find_owner(session=session, ref=a)) is None or other.id == existing.id
            ]
            owners.append({"name": existing.name, "aliases": aliases})
            continue
        entry = dict(entry)
        if entry.get("region") is not None and str(entry["region"]) not in known_regions:
            entry.pop("region")
        parent = entry.get("parent")
        if parent and parent not in listed and find_owner(session=session, ref=parent) is None:
            entry.pop("parent")
        owners.append(entry)
    data["owners"] = owners
    meta = data.setdefault("plan", {})
    meta["issuers"] = [rename.get(n, n) for n in meta.get("issuers") or []]
    for site in data.get("sites") or []:
        if site.get("region") is not None and str(site["region"]) not in known_regions:
            site.pop("region")
    for task in data.get("tasks") or []:
        task["lead"] = [rename.get(n, n) for n in task.get("lead") or []]
        task["participants"] = [rename.get(n, n) for n in task.get("participants") or []]
        task["regions"] = [r for r in task.get("regions") or [] if str(r) in known_regions]
        for target in task.get("targets") or []:
            scope = target.get("scope") or {}
            if scope.get("region") is not None and str(scope["region"]) not in known_regions:
                target["scope"] = {}
        milestones = []
        for m in task.get("milestones") or []:
            if m.get("recurrence") and isinstance(m.get("due"), date):
                milestones.extend(
                    {**m, "due": d}
                    for d in occurrences(m["due"], m["recurrence"], meta.get("valid_until"))
                )
            else:
                milestones.append(m)
        task["milestones"] = milestones
    return load_plan(session=session, data=data, source=source)
