"""Printing listings as a table (CJK-aware), JSON or CSV."""

from __future__ import annotations

import csv
import json
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import click

from ..controls import neutralise

FORMATS = ("table", "json", "csv")


def format_option(*choices: str, default: str = "table") -> Any:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices or FORMATS),
        default=default,
        show_default=True,
        help="Output format.",
    )


def cell_width(text: str) -> int:
    """Terminal cells taken by ``text``: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def fit(text: str, width: int) -> str:
    """Pad or ellipsise ``text`` to exactly ``width`` cells, never cutting a character in half."""
    if cell_width(text) <= width:
        return text + " " * (width - cell_width(text))
    out, used = [], 0
    for ch in text:
        w = cell_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…" + " " * (width - used - 1)


def _plain(value: Any, *, for_csv: bool = False) -> str:
    """``value`` as text; for a terminal, stored control characters are made visible."""
    text = _text(value, for_csv=for_csv)
    return text if for_csv and not sys.stdout.isatty() else neutralise(text)


def _text(value: Any, *, for_csv: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        if for_csv:
            return "true" if value else "false"
        return "✓" if value else ""
    if isinstance(value, list | tuple):
        return ("; " if for_csv else ", ").join(_text(v, for_csv=for_csv) for v in value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


# JSON escapes C0 itself; C1 (U+0080-U+009F) it would write raw, and some terminals obey it.
_C1 = {code: f"\\u{code:04x}" for code in range(0x80, 0xA0)}


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=_json_default).translate(_C1)


def emit(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[tuple[str, str]],
    fmt: str,
    *,
    max_width: int = 48,
) -> None:
    """Write ``rows``; ``columns`` are (key, header) pairs used by table and csv."""
    out = sys.stdout
    if fmt == "json":
        out.write(dumps(list(rows)) + "\n")
        return
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow([key for key, _ in columns])
        for row in rows:
            writer.writerow([_plain(row.get(key), for_csv=True) for key, _ in columns])
        return
    rows = list(rows)
    cells = [[_plain(row.get(key)) for key, _ in columns] for row in rows]
    widths = [
        min(max([cell_width(h)] + [cell_width(c[i]) for c in cells]), max_width)
        for i, (_, h) in enumerate(columns)
    ]
    out.write(
        "  ".join(fit(h, w) for (_, h), w in zip(columns, widths, strict=True)).rstrip() + "\n"
    )
    out.write("  ".join("─" * w for w in widths) + "\n")
    for c in cells:
        out.write("  ".join(fit(v, w) for v, w in zip(c, widths, strict=True)).rstrip() + "\n")


def emit_one(data: Mapping[str, Any], fmt: str) -> None:
    """A single record: JSON as an object, otherwise ``key: value`` lines."""
    if fmt == "json":
        sys.stdout.write(dumps(data) + "\n")
        return
    width = max((cell_width(k) for k in data), default=0)
    for key, value in data.items():
        if isinstance(value, list) and value and isinstance(value[0], Mapping):
            sys.stdout.write(f"{fit(neutralise(key), width)}  \n")
            for item in value:
                sys.stdout.write(
                    "    "
                    + "  ".join(f"{neutralise(k)}={_plain(v)}" for k, v in item.items())
                    + "\n"
                )
        else:
            sys.stdout.write(f"{fit(neutralise(key), width)}  {_plain(value)}\n")
