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
    r"(?P<role>牵头|负责|参与|配合|协助|协同|共同负责)$"
)
IMPLEMENTERS = re.compile(
    r"(地方各级|各市州|各市、州|市州|各县市区|各区县|各县（市、区）|各县市|各区|各县)"
    r"[^，。；]*?(?:人民政府|政府)?[^，。；]*?负责(?:落实|实施|组织实施)"
)
FILLER = re.compile(r"^(不再列出|下同|不再一一列出|以下均同|以下不再列出)$")


def parenthetical(text: str) -> Iterator[tuple[int, int, str]]:
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


def is_responsibility(content: str) -> bool:
    return any(
        (m := ROLE.match(p.strip())) and m.group("names") for p in re.split(r"[，,；;。]", content)
    )


def split_names(names: str) -> list[str]:
    out = []
    for part in re.split(r"[、，,；;]", names):
        part = part.strip().removesuffix("等").strip()
        if not part:
            continue
        # 和/及/与 join two bodies only when both sides are whole body names (not 发展和改革委员会)
        pieces = re.split(r"(?<=[厅局委院办部行司台])(?:和|及|与|以及)(?=[省市县区国中湖])", part)
        out.extend(p for p in pieces if p)
    return out


def split_clauses(sentence: str) -> list[str]:
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


def split_alternative(clause: str) -> tuple[str, str | None]:
    m = re.search(r"或(?!优于|好于|达到)(?=.*\d)", clause)
    if (
        m
        and not clause[: m.start()].endswith(("达到", "优于"))
        and re.search(r"\d", clause[: m.start()])
    ):
        return clause[: m.start()], clause[m.start() :]
    return clause, None
