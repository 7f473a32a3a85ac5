"""Clauses: splitting sentences, and who is responsible (牵头, 负责, 参与…)."""

from __future__ import annotations

import re
from collections.abc import Iterator

BODY_SUFFIX = re.compile(
    r"(厅|局|委|委员会|办|办公室|室|院|部|中心|公司|行|台|政府|会|所|队|站|组|社|署|处|馆|团|厂|集团|分局|支队)$"
)
BLANKET = re.compile(
    r"^(各|有关|相关|其他|其它|地方|市直|省直|县直)|各级|等部门$|有关单位|相关单位"
)
ROLE = re.compile(
    r"^(?P<names>.*?)(?:等)?\s*(?P<duty>按照?职责分工|按职责|按各自职责|分别)?\s*"
    r"(?P<role>牵头|负责|参与|配合|协助|协同|共同负责)(?:督导|落实|实施|推进|组织实施)?$"
)
IMPLEMENTERS = re.compile(
    r"(地方各级|各市州|各市、州|市州|各县市区|各区县|各县（市、区）|各县市|各区|各县)"
    r"[^，。；]*?(?:人民政府|政府)?[^，。；]*?负责(?:落实|实施|组织实施)"
)
# a standing clause: 以下各项均需各县市区落实，不再列出
STANDING = re.compile(
    r"以下[^。；]{0,12}?(?:均|都)?(?:需|由)?(地方各级|各市州|各市、州|各县市区|各区县|各县（市、区）|各县市|各区|各县)"
    r"[^，。；]{0,16}?(?:负责)?(?:落实|实施|组织实施)"
)
# labelled groups: 牵头单位：A；责任单位：B、C
LABEL = re.compile(
    r"(牵头单位|主办单位|主责单位|责任单位|负责单位|实施单位|配合单位|参与单位|协办单位|协同单位|协助单位)"
    r"\s*[：:]\s*"
)
LEAD_LABELS = frozenset({"牵头单位", "主办单位", "主责单位"})
PART_LABELS = frozenset({"配合单位", "参与单位", "协办单位", "协同单位", "协助单位"})
# A（牵头）、B、C
MARKED_LEAD = re.compile(r"[（(]牵头[）)]")
# 由A会同B负责, a sentence of its own
BY_CLAUSE = re.compile(
    r"(?:^|(?<=[。；;\n]))\s*由(?P<clause>[^。；;\n]{2,80}?负责(?:落实|实施|组织实施)?)[。；;]?"
)
OPEN, CLOSE = "（(〔【[", "）)〕】]"
_BRACKET = re.compile(r"[（(〔【\[）)〕】\]]")
FILLER = re.compile(r"^(不再列出|下同|不再一一列出|以下均同|以下不再列出)$")


def parenthetical(text: str) -> Iterator[tuple[int, int, str]]:
    """Top-level bracketed groups (（…）, (…), 〔…〕, 【…】, mixed) as (start, end, content)."""
    depth, start = 0, -1
    for m in _BRACKET.finditer(text):
        i, ch = m.start(), m.group(0)
        if ch in OPEN:
            if depth == 0:
                start = i
            depth += 1
        elif ch in CLOSE and depth:
            depth -= 1
            if depth == 0:
                yield start, i + 1, text[start + 1 : i]


def is_responsibility(content: str) -> bool:
    return any(
        (m := ROLE.match(p.strip())) and m.group("names") for p in re.split(r"[，,；;。]", content)
    )


def labelled_groups(text: str) -> list[tuple[str, str]] | None:
    """(label, names) of a text made only of labelled groups, else None."""
    text = text.strip().rstrip("。；;")
    found = list(LABEL.finditer(text))
    if not found or text[: found[0].start()].strip():
        return None
    ends = [m.start() for m in found[1:]] + [len(text)]
    return [
        (m.group(1), text[m.end() : end].strip(" ；;，,。"))
        for m, end in zip(found, ends, strict=True)
    ]


_AND = re.compile(r"(?<=[厅局委院办部行司台])(?:和|及|与|以及)(?=[省市县区国中湖])")
_NAME_SEPARATORS = re.compile(r"[、，,；;]")


def split_names(names: str) -> list[tuple[int, str]]:
    """(position in the list, name) of each name; 和/及/与 between two whole names splits too."""
    out = []
    for i, part in enumerate(_NAME_SEPARATORS.split(names)):
        part = part.strip().removesuffix("等").strip()
        if not part:
            continue
        # 和/及/与 join two bodies only when both sides are whole body names (not 发展和改革委员会)
        pieces = _AND.split(part)
        out.extend((i, p) for p in pieces if p)
    return out


_NESTING = re.compile(r"[（(“《]")
_SEPARATORS = re.compile(r"[，,；;：:]")


def split_clauses(sentence: str) -> list[str]:
    """Split on ，；, but not inside quotes or parentheses."""
    if not _NESTING.search(sentence):
        return [c.strip() for c in _SEPARATORS.split(sentence) if c.strip()]
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


def split_alternative(clause: str) -> tuple[str, str | None]:
    if "或" not in clause:
        return clause, None
    m = re.search(r"或(?!优于|好于|达到)(?=.*\d)", clause)
    if (
        m
        and not clause[: m.start()].endswith(("达到", "优于"))
        and re.search(r"\d", clause[: m.start()])
    ):
        return clause[: m.start()], clause[m.start() :]
    return clause, None
