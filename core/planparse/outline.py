"""The outline of a plan document: header, numbered items (一、（一）1.（1）①) and footer."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .clauses import BODY_SUFFIX
from .dates import issue_date
from .numerals import cn_to_int

_CHAPTER = re.compile(r"^([一二三四五六七八九十百]{1,4})\s*[、．.]\s*(.*)$")
_CN_PAREN = re.compile(r"^[（(]\s*([一二三四五六七八九十百]{1,4})\s*[）)]\s*(.*)$")
_ARABIC = re.compile(r"^(\d{1,4})\s*(?:[.．、](?!\d)|\s)\s*(.*)$")
_AR_PAREN = re.compile(r"^[（(]\s*(\d{1,4})\s*[）)]\s*(.*)$")
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


def match_level(line: str, follows: int | None = None) -> tuple[int, int, str, str] | None:
    """(level, number, label, rest) of a numbered line. A line opening with a number above 200
    ("300 吨…") is an item only when it ``follows`` the item numbered one less at that level."""
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
        if not number or (
            kind == "arabic" and (not rest or (number > 200 and follows != number - 1))
        ):
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


def split_document(lines: list[str]) -> tuple[list[str], list[Item], list[str]]:
    """Header lines, the tree of numbered items, footer lines."""
    header: list[str] = []
    roots: list[Item] = []
    stack: list[Item] = []
    footer: list[str] = []
    last: dict[int, int] = {}  # the number of the latest item at each level
    for no, line in enumerate(lines, 1):
        if footer or (roots and _FOOTER.match(line)):
            footer.append(line)
            continue
        if stack and issue_date(
            [line]
        ):  # a signature block after the last item: names, then the date
            lines_ = stack[-1].lines
            while lines_ and is_signature(lines_[-1]):
                footer.insert(0, lines_.pop())
            footer.append(line)
            continue
        found = match_level(line, last.get(2))
        if found is None:
            if stack:
                if line:
                    stack[-1].lines.append(line)
            else:
                header.append(line)
            continue
        level, number, label, rest = found
        item = Item(level=level, number=number, label=label, heading=rest, line_no=no)
        last[level] = number
        for deeper in [k for k in last if k > level]:
            del last[deeper]
        while stack and stack[-1].level >= level:
            stack.pop()
        (stack[-1].children if stack else roots).append(item)
        stack.append(item)
    return header, roots, footer


def is_signature(line: str) -> bool:
    """A line of issuing bodies' names (several per line, spaced out, as signed)."""
    parts = [p for p in re.split(r"\s{2,}|\t", line.strip()) if p]
    return bool(parts) and all(
        BODY_SUFFIX.search(p) and not re.search(r"[，。：、；（）()]", p) for p in parts
    )
