"""Chinese text in pinyin order (拼音排序), without a dictionary.

GB 2312 lays out its 3,755 common characters (一级汉字) by pinyin, and GB 18030 keeps that
layout while encoding every other character, so comparing titles by their GB 18030 bytes
puts 安 before 巴 before 长 before 湖 before 水. Rarer characters (GB 2312's second level,
by radical and stroke, and beyond) come after the common ones; Latin letters and digits
come first. PostgreSQL does the same with ``convert_to(title, 'GB18030')``; SQLite calls
``pinyin_key`` through a function registered on every connection (``core/db.py``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import LargeBinary
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

SQLITE_FUNCTION = "duban_pinyin"


def pinyin_key(text: str | None) -> bytes:
    """The bytes that sort ``text`` in pinyin order."""
    return (text or "").encode("gb18030", errors="replace")


def register(dbapi_connection: Any) -> None:
    """Give a SQLite connection the function ``pinyin_order`` compiles to."""
    dbapi_connection.create_function(SQLITE_FUNCTION, 1, pinyin_key, deterministic=True)


class pinyin_order(FunctionElement):
    """``ORDER BY pinyin_order(column)``: the column's text in pinyin order."""

    type = LargeBinary()
    inherit_cache = True


@compiles(pinyin_order, "postgresql")
def _postgresql(element: pinyin_order, compiler: Any, **kw: Any) -> str:
    return f"convert_to({compiler.process(element.clauses, **kw)}, 'GB18030')"


@compiles(pinyin_order)
def _sqlite(element: pinyin_order, compiler: Any, **kw: Any) -> str:
    return f"{SQLITE_FUNCTION}({compiler.process(element.clauses, **kw)})"
