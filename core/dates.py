"""Reading dates as Chinese offices write them: the one parser every importer uses.

Cells arrive as ``date``/``datetime`` (a formatted Excel cell), as Excel serial numbers (46203,
a date cell whose format was lost) or as text: ``2024-06-30``, ``2024/6/30``, ``2024.6.30``,
``20240630``, ``2024年6月30日``, ``二〇二四年六月三十日``, with an optional time. Deadlines add
``2024年底前``, ``2024年6月底``, ``到2025年年底``, ``2024年上半年``; periods add ``2024``,
``2024-Q2``, ``2024年第二季度``, ``2024-06``, ``2024年6月`` and ``START/END``. Functions raise
``ValueError`` on text they cannot read; callers say where the text came from.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta
from typing import Any

EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 is 1900-01-01 (Excel's 1900 leap-year bug included)
# Serials read as dates only inside duban's window of plausible dates (1990..2100).
SERIAL_MIN, SERIAL_MAX = 32874, 73415

_ZH_DIGITS = {"〇": 0, "零": 0, "○": 0, "Ｏ": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5}
_ZH_DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9}
_ZH_NUMBER = r"[〇零○一二三四五六七八九十]"
_DAY = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?"
    r"(?:[ T]+(\d{1,2})[:：时](\d{1,2})(?:[:：分](\d{1,2})(?:\.\d+)?)?秒?)?"
)
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_ZH_DAY = re.compile(rf"({_ZH_NUMBER}{{4}})年({_ZH_NUMBER}{{1,3}})月({_ZH_NUMBER}{{1,3}})日")
_LEAD = r"(?:到|至|截至|截止|于|在)?"
_TAIL = r"(?:前|之前|以前)?"
_MONTH_END = re.compile(rf"{_LEAD}(\d{{4}})年(\d{{1,2}})月(?:底|末|份)?{_TAIL}")
_YEAR_END = re.compile(rf"{_LEAD}(\d{{4}})年?(?:年底|底|年末|末)?{_TAIL}")
_HALF = re.compile(rf"{_LEAD}(\d{{4}})年(?:上半年|年中){_TAIL}")
_QUARTER = re.compile(r"(\d{4})(?:\s*-?\s*[Qq]|年第?)([1-4一二三四])(?:季度)?")
_MONTH = re.compile(r"(\d{4})(?:-|/|年)(\d{1,2})月?")
_QUARTER_NUM = {"一": 1, "二": 2, "三": 3, "四": 4}


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def month_start(day: date) -> date:
    """The first day of ``day``'s month."""
    return day.replace(day=1)


def last_of_month(day: date) -> date:
    """The last day of ``day``'s month."""
    return month_end(day.year, day.month)


def add_months(day: date, n: int) -> date:
    """The first day of the month ``n`` months after (or, negative, before) ``day``'s."""
    index = day.year * 12 + day.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month_ends(first: date, last: date) -> list[date]:
    """The last day of every month from ``first``'s that ends by ``last``."""
    ends, month = [], month_start(first)
    while (end := last_of_month(month)) <= last:
        ends.append(end)
        month = add_months(month, 1)
    return ends


def from_serial(number: float) -> date:
    """An Excel serial day number as a date; ValueError outside 1990..2100."""
    if not SERIAL_MIN <= number <= SERIAL_MAX:
        raise ValueError(number)
    return EXCEL_EPOCH + timedelta(days=int(number))


def _zh_number(text: str) -> int:
    """一 .. 三十一 (and 〇-digit years written digit by digit)."""
    if "十" not in text:
        return int("".join(str(_ZH_DIGITS[c]) for c in text))
    tens, _, ones = text.partition("十")
    return (_ZH_DIGITS[tens] if tens else 1) * 10 + (_ZH_DIGITS[ones] if ones else 0)


def _clean(value: Any) -> str:
    return re.sub(r"\s+", " ", str(value)).strip().replace("／", "/").replace("－", "-")


def _serial_text(text: str) -> date | None:
    """A serial number written as text (a CSV saved from a sheet whose date format was lost)."""
    if re.fullmatch(r"\d{5}(?:\.\d+)?", text):
        return from_serial(float(text))
    return None


def parse_moment(value: Any) -> datetime:
    """A local date and time (midnight when only a date is given)."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time.min)
    if isinstance(value, int | float) and not isinstance(value, bool):
        whole = from_serial(value)
        return datetime.combine(whole, time.min) + timedelta(days=float(value) % 1)
    text = _clean(value)
    try:
        return datetime.fromisoformat(text)  # the common layout, parsed in C
    except ValueError:
        pass
    if (serial := _serial_text(text)) is not None:
        return datetime.combine(serial, time.min) + timedelta(days=float(text) % 1)
    if m := _DAY.fullmatch(text):
        hour, minute, second = (int(g or 0) for g in m.groups()[3:])
        return datetime(int(m[1]), int(m[2]), int(m[3]), hour, minute, second)
    return datetime.combine(parse_day(text), time.min)


def parse_day(value: Any) -> date:
    """A calendar date from a cell: a date, a serial number or one of the text forms above."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return from_serial(value)
    text = re.sub(r"(?:之前|以前|前)$", "", _clean(value)).strip()
    if (serial := _serial_text(text)) is not None:
        return serial
    if m := _DAY.fullmatch(text):
        return date(int(m[1]), int(m[2]), int(m[3]))
    if m := _COMPACT.fullmatch(text):
        return date(int(m[1]), int(m[2]), int(m[3]))
    if m := _ZH_DAY.fullmatch(text):
        return date(_zh_number(m[1]), _zh_number(m[2]), _zh_number(m[3]))
    raise ValueError(value)


def parse_deadline(value: Any) -> tuple[date, str]:
    """A deadline cell -> (due date, how it was written: ``date``, ``month_end``, ``half`` or
    ``year_end``): ``2024-06-30``, ``2024年6月底前``, ``2024年上半年``, ``到2025年年底``."""
    try:
        return parse_day(value), "date"
    except ValueError:
        pass
    text = re.sub(r"\s+", "", str(value))
    if m := _MONTH_END.fullmatch(text):
        return month_end(int(m[1]), int(m[2])), "month_end"
    if m := _HALF.fullmatch(text):
        return date(int(m[1]), 6, 30), "half"
    if (m := _YEAR_END.fullmatch(text)) and text.strip("到至截止于在前之以") != m[1]:
        return date(int(m[1]), 12, 31), "year_end"
    raise ValueError(value)


def parse_period(value: Any) -> tuple[date, date]:
    """A period cell -> (first, last day): a year (2024, 2024年), a quarter (2024-Q2,
    2024年第二季度), a month (2024-06, 2024年6月), a day in any form ``parse_day`` reads, or
    ``START/END``."""
    if isinstance(value, date):
        day = parse_day(value)
        return day, day
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1000 <= value <= 9999:
        return date(value, 1, 1), date(value, 12, 31)
    text = _clean(value).replace(" ", "")
    if "/" in text and text.count("/") == 1 and not _MONTH.fullmatch(text):
        start, _, end = text.partition("/")
        return parse_day(start), parse_day(end)
    if m := re.fullmatch(r"(\d{4})年?(?:度|全年)?", text):
        year = int(m[1])
        return date(year, 1, 1), date(year, 12, 31)
    if m := _QUARTER.fullmatch(text):
        year, q = int(m[1]), _QUARTER_NUM.get(m[2]) or int(m[2])
        return date(year, 3 * q - 2, 1), month_end(year, 3 * q)
    if m := _MONTH.fullmatch(text):
        year, month = int(m[1]), int(m[2])
        return date(year, month, 1), month_end(year, month)
    day = parse_day(value if not isinstance(value, str) else text)
    return day, day


def period(value: Any, *, what: str = "--at") -> tuple[date, date]:
    """``parse_period`` for people: a ``UserError`` naming ``what`` on a bad or far-off period."""
    from .clock import EARLIEST, LATEST
    from .errors import UserError
    from .i18n import t

    raw = value if isinstance(value, date | int | float) else str(value).strip()
    try:
        first, last = parse_period(raw)
    except ValueError:
        raise UserError(
            t(
                "{what}: not a period (2024, 2024-Q2, 2024-06 or 2024-06-15): {value!r}",
                what=what,
                value=str(raw),
            )
        ) from None
    if last < first:
        raise UserError(
            t("{what}: the period ends before it starts: {value!r}", what=what, value=str(raw))
        )
    if not (first >= EARLIEST and last <= LATEST):
        raise UserError(
            t(
                "{what}: {value} is outside {start}..{end}",
                what=what,
                value=str(raw),
                start=EARLIEST.isoformat(),
                end=LATEST.isoformat(),
            )
        )
    return first, last
