"""Dates as plans write them: deadlines, recurring duties and the issue date."""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from datetime import date

from ..dates import month_end
from ..i18n import t
from .numerals import CN_DIGITS, cn_to_int

_DATE_FULL = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_CN_DATE = re.compile(
    r"([〇零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日"
)
_PRE = r"(?:到|至|截至|于|在)?"
_POST = r"(?:前|之前|以前)?"
_YEAR = r"(?:(?P<year>\d{4})年)"
# not a recurring duty's date (每年6月底前) nor the tail of a longer number
_FREE = r"(?<![\d每年])"
_QUARTERS = {"一": 3, "二": 6, "三": 9, "四": 12, "1": 3, "2": 6, "3": 9, "4": 12}
# (pattern, kind); a pattern without a year takes the year from the context
_DEADLINES: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(rf"{_PRE}(?:{_YEAR}|{_FREE})(?P<month>\d{{1,2}})月(?P<day>\d{{1,2}})日{_POST}"),
        "day",
    ),
    (
        re.compile(
            rf"{_PRE}(?:{_YEAR}|{_FREE})(?P<month>\d{{1,2}})月"
            r"(?:(?:底|末|份)(?:前|之前|以前)?|(?:前|之前|以前))"
        ),
        "month",
    ),
    (re.compile(rf"{_PRE}{_YEAR}(?:年底|底|年末|末){_POST}"), "year"),
    (
        re.compile(
            rf"{_PRE}(?:{_YEAR}|(?<![\d每])(?<!每年)(?:今年|当年)?)(?P<half>上半年|下半年|年中)(?:底|末)?{_POST}"
        ),
        "half",
    ),
    (
        re.compile(
            rf"{_PRE}(?:{_YEAR}|(?<![\d每])(?<!每年)(?:今年|当年)?)第?(?P<quarter>[一二三四1-4])季度(?:末|底)?{_POST}"
        ),
        "quarter",
    ),
    (re.compile(rf"{_PRE}(?<![\d每])(?<!每年)(?:今年|当年|本年)?(?:年底|年末){_POST}"), "year"),
    (re.compile(r"(?<![\d每])(?<!每年)(?:今年|当年|本年)?年内"), "year"),
    (
        re.compile(
            r"(?:到|至|截至)(?P<year>\d{4})年(?!\d|[上下]半年|前|以前|之前|第?[一二三四1-4]季度)"
        ),
        "year",
    ),
]
_DATE_WORD = re.compile(r"[年月季]")
_AMBIGUOUS_DATE = re.compile(r"(\d{4})年(?:前|以前|之前)")
# due at once (the plan's issue date), and duties with no deadline at all
AT_ONCE = re.compile(r"立行立改|立即整改|即知即改")
ONGOING = re.compile(r"长期坚持|持续推进|常态化推进|长期推进")
RECURRING = re.compile(
    r"每(季度|月|年|半年)(?:(\d{1,2})月(?:底|末)|(\d{1,2})日|末|底|年底)?(?:开展一次|一次)?(?:前|之前)?"
)


def deadline(text: str, *, year: int | None = None) -> tuple[date | None, str, str | None]:
    """(due, text without the date phrase, why-not) for the first deadline in ``text``.

    A phrase without a year (6月底前, 三季度, 年底前) takes ``year``: the nearest year the
    plan states before it, else the plan's own year; without one it is not a deadline.
    """
    if not _DATE_WORD.search(text):
        return None, text, None
    for pattern, kind in _DEADLINES:
        for m in pattern.finditer(text):
            groups = m.groupdict()
            y = int(groups["year"]) if groups.get("year") else year
            if y is None:
                continue
            try:
                if kind == "day":
                    due = date(y, int(groups["month"]), int(groups["day"]))
                elif kind == "month":
                    due = month_end(y, int(groups["month"]))
                elif kind == "half":
                    due = date(y, 12, 31) if groups["half"] == "下半年" else date(y, 6, 30)
                elif kind == "quarter":
                    due = month_end(y, _QUARTERS[groups["quarter"]])
                else:
                    due = date(y, 12, 31)
            except ValueError:
                return None, text, t("not a calendar date")
            rest = (text[: m.start()] + text[m.end() :]).strip(" ，,、")
            return due, rest, None
    if ambiguous := _AMBIGUOUS_DATE.search(text):
        return None, text, t("ambiguous deadline {phrase!r}", phrase=ambiguous.group(0))
    return None, text, None


def parse_deadline(text: str, *, year: int | None = None) -> date | None:
    """The date of the first deadline a Chinese phrase states (2024年6月底前, 三季度, 年底前 …),
    with ``year`` for phrases that name none; None if it states none."""
    return deadline(text, year=year)[0]


def recurrence_of(text: str, after: date | None) -> tuple[str, date, str] | None:
    """(recurrence, first due on or after ``after``, text without the phrase) for 每季度 …"""
    m = RECURRING.search(text)
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
            else month_end(c.year, c.month)
            for c in candidates
        ]
        recurrence = "monthly"
    elif unit == "季度":
        dues = [month_end(yy, mo) for yy in (y, y + 1) for mo in (3, 6, 9, 12)]
        recurrence = "quarterly"
    elif unit == "半年":
        dues = [month_end(yy, mo) for yy in (y, y + 1) for mo in (6, 12)]
        recurrence = "semiannual"
    else:
        dues = [month_end(yy, int(month)) if month else date(yy, 12, 31) for yy in (y, y + 1)]
        recurrence = "yearly"
    first = min(d for d in dues if d >= after)
    return recurrence, first, rest


def issue_date(lines: Iterable[str]) -> date | None:
    for line in lines:
        s = re.sub(r"\s+", "", line)
        m = re.fullmatch(r"[（(]?(\d{4})年(\d{1,2})月(\d{1,2})日(?:印发)?[）)]?", s)
        if not m:
            cn = _CN_DATE.fullmatch(s.removesuffix("印发"))
            if cn:
                y = int("".join(str(CN_DIGITS[c]) for c in cn.group(1)))
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


_STEP_MONTHS = {"monthly": 1, "quarterly": 3, "semiannual": 6, "yearly": 12}


def occurrences(
    first: date, recurrence: str, until: date | None, *, limit: int = 120
) -> list[date]:
    """Every due date of a recurring milestone from ``first`` to ``until`` (inclusive)."""
    step = _STEP_MONTHS.get(recurrence)
    if step is None or until is None:
        return [first]
    at_month_end = first == month_end(first.year, first.month)
    out, k = [], 0
    while len(out) < limit:
        index = first.month - 1 + k * step
        year, month = first.year + index // 12, index % 12 + 1
        last = calendar.monthrange(year, month)[1]
        due = date(year, month, last if at_month_end else min(first.day, last))
        if due > until:
            break
        out.append(due)
        k += 1
    return out or [first]
