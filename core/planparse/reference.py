"""What the parser knows beyond the document: owners and aliases, regions, indicators."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cache, cached_property
from importlib import resources
from typing import Any


def slug_hash(text: str, n: int = 8) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:n]


_ASIDE = re.compile(r"[（(][^（）()]*[）)]")
_MARKS = re.compile(r"[\s“”\"'‘’「」《》〈〉的、]")


def norm_phrase(text: str) -> str:
    """A phrase for comparison: no parenthetical parts, quotes, 的, spaces or list marks."""
    return _MARKS.sub("", _ASIDE.sub("", text))


# ----------------------------------------------------------------- reference data


@dataclass(frozen=True)
class KnownIndicator:
    key: str
    name: str
    unit: str


class IndicatorTable:
    """Finds the indicator a plan's phrase names (exact, contained, abbreviated or shared ending)."""

    _MEASURE = re.compile(r"(浓度|数量|总量|指数|量)$")

    def __init__(self, indicators: Iterable[KnownIndicator]) -> None:
        self.by_key: dict[str, KnownIndicator] = {}
        for ind in indicators:
            self.by_key.setdefault(ind.key, ind)
        self.names = [(norm_phrase(i.name), i) for i in self.by_key.values()]
        self._found: dict[str, KnownIndicator | None] = {}
        self.fallback: IndicatorTable | None = None
        # 化肥农药利用率 = 化肥(利用率) + 农药利用率: every pair of names sharing an ending
        self.compounds = [
            (n1[: len(n1) - len(suffix)] + n2, i1, i2)
            for n1, i1 in self.names
            for n2, i2 in self.names
            if i1.key != i2.key and len(suffix := _common_suffix(n1, n2)) >= 2
        ]

    def find(self, phrase: str) -> KnownIndicator | None:
        p = norm_phrase(phrase)
        if p not in self._found:
            found = self._find(p)
            if found is None and self.fallback is not None:
                found = self.fallback.find(p)
            self._found[p] = found
        return self._found[p]

    def _find(self, p: str) -> KnownIndicator | None:
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
        p = norm_phrase(phrase)
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
    indicators: IndicatorTable = field(default_factory=lambda: IndicatorTable(()))
    province: str | None = None  # the home province, whose short owner names the aliases are

    @cached_property
    def region_pattern(self) -> re.Pattern[str] | None:
        """Any region's name, the longest first."""
        names = sorted(self.regions, key=len, reverse=True)
        return re.compile("|".join(map(re.escape, names))) if names else None


def with_indicators(ref: Reference, extra: Iterable[KnownIndicator]) -> Reference:
    """``ref`` with more indicators to match (the plugins' catalogue), tried when its own
    find nothing."""
    known = ref.indicators.by_key
    table = IndicatorTable(ref.indicators.by_key.values())
    table.fallback = IndicatorTable(ind for ind in extra if ind.key not in known)
    return replace(ref, indicators=table)


def _load_yaml(text: str) -> Any:
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@cache
def builtin_reference() -> Reference:
    """The home province's owners, aliases, regions and indicators, from the package data
    (core/data/plan-reference.yaml names the files)."""
    import yaml

    data_dir = resources.files("duban.core") / "data"
    spec = _load_yaml((data_dir / "plan-reference.yaml").read_text("utf-8"))
    ref = Reference(
        indicators=IndicatorTable(KnownIndicator(*row) for row in spec["indicators"]),
        province=spec.get("province"),
    )
    try:
        plan = _load_yaml((data_dir / spec["owners"]).read_text("utf-8")) or {}
    except (OSError, yaml.YAMLError):
        plan = {}
    for entry in plan.get("owners") or []:
        if isinstance(entry, dict) and entry.get("name"):
            ref.owners[entry["name"]] = entry
            for alias in entry.get("aliases") or []:
                ref.aliases[alias] = entry["name"]
    try:
        rows = csv.DictReader(io.StringIO((data_dir / spec["regions"]).read_text("utf-8")))
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
