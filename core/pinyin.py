"""Chinese text in pinyin order (拼音排序), without a dictionary.

GB 2312 lays out its 3,755 common characters (一级汉字) by pinyin, and GB 18030 keeps that
layout while encoding every other character, so comparing titles by their GB 18030 bytes
puts 安 before 巴 before 长 before 湖 before 水. Rarer characters (GB 2312's second level,
by radical and stroke, and beyond) come after the common ones; Latin letters and digits
come first. PostgreSQL does the same with ``convert_to(title, 'GB18030')``; SQLite calls
``pinyin_key`` through a function registered on every connection (``core/db.py``, and the
lean path's in ``queries.lean_connect``).
"""

from __future__ import annotations

from typing import Any

SQLITE_FUNCTION = "duban_pinyin"


def pinyin_key(text: str | None) -> bytes:
    """The bytes that sort ``text`` in pinyin order."""
    return (text or "").encode("gb18030", errors="replace")


def register(dbapi_connection: Any) -> None:
    """Give a SQLite connection the function ``order_sql`` calls."""
    dbapi_connection.create_function(SQLITE_FUNCTION, 1, pinyin_key, deterministic=True)


def order_sql(dialect: str, expr: str) -> str:
    """``ORDER BY`` text for ``expr``'s text in pinyin order on ``dialect``."""
    if dialect == "postgresql":
        return f"convert_to({expr}, 'GB18030')"
    return f"{SQLITE_FUNCTION}({expr})"
