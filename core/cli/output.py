"""Printing listings as a table (CJK-aware) or JSON, and writing them as CSV or a workbook
(``core/spreadsheet.py``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from ..clock import local_time
from ..controls import neutralise, neutralise_all
from ..i18n import catalog, language
from ..spreadsheet import Chart, Field, Listing, cell_width, fields, plain, write

FORMATS = ("table", "json", "csv")
LISTING_FORMATS = ("table", "json", "csv", "xlsx")


def format_option(*choices: str, default: str = "table") -> Any:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices or FORMATS),
        default=default,
        show_default=True,
        help="Output format.",
    )


output_option = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (required for xlsx; CSV goes to standard output without it).",
)


def listing_options(*choices: str, default: str = "table") -> Any:
    """``--format`` (table, json, csv, xlsx and any ``choices``) and ``-o FILE`` of a listing."""

    def apply(func: Any) -> Any:
        return format_option(*LISTING_FORMATS, *choices, default=default)(output_option(func))

    return apply


def document_options(func: Any) -> Any:
    """The header of a 公文 (``--format docx``), over ``[document]`` in duban.toml."""
    for name, dest, text in (
        ("--signature", "signature", "Signature (落款); default: the issuer."),
        ("--to", "recipients", "Recipients (主送机关), e.g. 各市州人民政府."),
        ("--number", "number", "Document number (发文字号), e.g. 湘督办〔2024〕3号."),
        ("--issuer", "issuer", "Issuing body (发文机关)."),
    ):
        func = click.option(name, dest, metavar="TEXT", help=text)(func)
    return func


sheet_option = click.option(
    "--sheet",
    metavar="NAME",
    help="Read this sheet of an .xlsx workbook (default: the first whose header fits).",
)


def fit(text: str, width: int) -> str:
    """Pad or ellipsise ``text`` to exactly ``width`` cells, never cutting a character in half."""
    used = cell_width(text)
    if used <= width:
        return text + " " * (width - used)
    out, used = [], 0
    for ch in text:
        w = cell_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…" + " " * (width - used - 1)


def _shown(value: Any) -> str:
    """``value`` as text for a terminal: stored control characters made visible."""
    return neutralise(plain(value))


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
    columns: Sequence[tuple[str, ...] | Field],
    fmt: str,
    *,
    max_width: int = 48,
    output: Path | None = None,
    title: str = "",
    totals: Mapping[str, Any] | None = None,
    charts: Sequence[Chart] = (),
) -> None:
    """Write ``rows``; ``columns`` are (key, header[, kind]) used by table, csv and xlsx
    (csv heads its columns with the keys, the other formats with the headers). ``totals`` is
    a row shown last in a table or workbook (never in CSV or JSON)."""
    out = sys.stdout
    if fmt == "json":
        out.write(dumps(list(rows)) + "\n")
        return
    cols = fields(columns)
    if fmt in ("csv", "xlsx"):
        if fmt == "csv" and output is None and out.isatty():
            rows = neutralise_all(list(rows))
        write(Listing(title or "duban", cols, rows, totals, charts), fmt, output, stdout=out)
        return
    rows = list(rows) + ([totals] if totals else [])
    cells = [[_shown(row.get(c.key)) for c in cols] for row in rows]
    widths = [
        min(max([cell_width(c.header)] + [cell_width(r[i]) for r in cells]), max_width)
        for i, c in enumerate(cols)
    ]
    out.write(
        "  ".join(fit(neutralise(c.header), w) for c, w in zip(cols, widths, strict=True)).rstrip()
        + "\n"
    )
    out.write("  ".join("─" * w for w in widths) + "\n")
    for n, c in enumerate(cells):
        if totals and n == len(cells) - 1:
            out.write("  ".join("─" * w for w in widths) + "\n")
        out.write("  ".join(fit(v, w) for v, w in zip(c, widths, strict=True)).rstrip() + "\n")


_ACRONYMS = {"id": "ID", "url": "URL", "sha256": "SHA-256"}


def field_label(key: str) -> str:
    """A record's key as a person reads it: ``first_id`` is "First ID" in English and the
    catalog's ``"field:first_id"`` in Chinese (a plugin names its own fields in its catalog).
    A key the catalogs do not name is shown as it is."""
    if language() == "zh":
        return catalog().get(f"field:{key}", key)
    words = [_ACRONYMS.get(word, word) for word in key.split("_") if word]
    english = " ".join(words)
    return english[:1].upper() + english[1:]


def emit_one(data: Mapping[str, Any], fmt: str) -> None:
    """A single record: JSON as an object (keys and instants as stored), otherwise one
    labelled line per field, instants in local time."""
    if fmt == "json":
        sys.stdout.write(dumps(data) + "\n")
        return
    labels = {key: neutralise(field_label(key)) for key in data}
    width = max((cell_width(label) for label in labels.values()), default=0)
    for key, value in data.items():
        if isinstance(value, list) and value and isinstance(value[0], Mapping):
            sys.stdout.write(f"{fit(labels[key], width)}  \n")
            for item in value:
                sys.stdout.write(
                    "    "
                    + "  ".join(
                        f"{neutralise(field_label(k))}={_shown(v)}" for k, v in item.items()
                    )
                    + "\n"
                )
        else:
            shown = local_time(value) if isinstance(value, datetime) else _shown(value)
            sys.stdout.write(f"{fit(labels[key], width)}  {shown}\n")
