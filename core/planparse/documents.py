"""Reading plan documents: .txt and .md in any common Chinese encoding, .docx with Word's list numbers."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..i18n import t
from .numerals import int_to_cn

DOCUMENT_SUFFIXES = (".txt", ".md", ".docx", ".csv", ".xlsx")
TABLE_SUFFIXES = (".csv", ".xlsx")

# A table's rows: (line number in the file, or None in a Word table; cells)
Rows = list[tuple[int | None, list[str]]]


@dataclass
class Source:
    """What a plan file holds: its text and its tables (a .docx's, or a spreadsheet)."""

    text: str
    tables: list[Rows] = field(default_factory=list)


def unsupported(path: Path) -> UserError:
    return UserError(
        t(
            "{path}: unsupported file type {suffix!r} (expected .txt, .md, .docx, .csv, .xlsx or .yaml)",
            path=path,
            suffix=path.suffix or "(none)",
        )
    )


def read_source(path: Path) -> Source:
    """The text and tables of a plan file; a spreadsheet (.csv, .xlsx) is one table."""
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        from ..spreadsheet_reader import Column, cell_text, read_table
        from .division import HEADERS

        # The one table reader finds the header (below any title rows, on the first sheet that
        # has one); the division of work is then read from it as from a Word table.
        columns = [Column(k, names, required=k in ("task", "lead")) for k, names in HEADERS.items()]
        sheet = read_table(path, columns, ignore_unknown=True)
        try:
            body = [(n, [cell_text(c) for c in cells]) for n, cells in sheet.rows]
        finally:
            sheet.close()
        title = [(n, [line]) for n, line in sheet.above]
        return Source("", [[*title, (sheet.header_row, sheet.header), *body]])
    if suffix == ".docx":
        raw = _read(path)
        document = _docx(path, raw)
        return Source(_docx_text(document), _docx_tables(document))
    return Source(read_document(path))


def _read(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(
            t("{path}: cannot read: {why}", path=path, why=exc.strerror or exc)
        ) from None
    if not raw.strip():
        raise UserError(t("{path}: the file is empty", path=path))
    return raw


def read_document(path: Path) -> str:
    """The text of a .txt, .md or .docx plan; UserError for anything that is not one."""
    suffix = path.suffix.lower()
    if suffix not in DOCUMENT_SUFFIXES or suffix in TABLE_SUFFIXES:
        raise unsupported(path)
    raw = _read(path)
    text = _docx_text(_docx(path, raw)) if suffix == ".docx" else _decode(path, raw)
    if suffix == ".md":
        text = _strip_markdown(text)
    if not text.strip():
        raise UserError(t("{path}: the file is empty", path=path))
    return text


_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")


def _decode(path: Path, raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    elif b"\x00" not in raw and not raw.startswith(b"PK\x03\x04"):
        for encoding in ("utf-8-sig", "gb18030"):  # Chinese government files often come in GBK
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError:
                continue
            controls = len(_CONTROLS.findall(text))
            if controls <= len(text) // 100:
                return text
    raise UserError(t("{path}: not a text file (binary content)", path=path))


def _docx(path: Path, raw: bytes) -> Any:
    import docx

    try:
        return docx.Document(io.BytesIO(raw))
    except Exception:  # zipfile, zlib, lxml and python-docx raise many kinds on a damaged file
        raise UserError(t("{path}: not a Word (.docx) document", path=path)) from None


def _docx_tables(document: Any) -> list[Rows]:
    """Each table's rows of cell texts (a merged cell repeats its text)."""
    return [
        [(None, [" ".join(cell.text.split()) for cell in row.cells]) for row in table.rows]
        for table in document.tables
    ]


def _docx_text(document: Any) -> str:
    numbering = _DocxNumbering(document)
    lines = []
    for paragraph in document.paragraphs:
        label = numbering.label(paragraph)
        lines.append(f"{label}{paragraph.text}" if label else paragraph.text)
    return "\n".join(lines)


class _DocxNumbering:
    """Word's automatic list numbers are not in the paragraph text: rebuild the labels."""

    _W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

    def __init__(self, document: Any) -> None:
        self.levels: dict[tuple[str, int], tuple[str, str, int]] = {}
        self.counters: dict[str, list[int]] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError):
            return
        w = self._W
        abstract = {}
        for node in root.iter(f"{w}abstractNum"):
            levels = {}
            for lvl in node.iter(f"{w}lvl"):
                fmt = lvl.find(f"{w}numFmt")
                text = lvl.find(f"{w}lvlText")
                start = lvl.find(f"{w}start")
                levels[int(lvl.get(f"{w}ilvl"))] = (
                    fmt.get(f"{w}val") if fmt is not None else "decimal",
                    text.get(f"{w}val") if text is not None else "",
                    int(start.get(f"{w}val")) if start is not None else 1,
                )
            abstract[node.get(f"{w}abstractNumId")] = levels
        for num in root.iter(f"{w}num"):
            ref = num.find(f"{w}abstractNumId")
            if ref is not None:
                for ilvl, spec in abstract.get(ref.get(f"{w}val"), {}).items():
                    self.levels[(num.get(f"{w}numId"), ilvl)] = spec

    def _num_pr(self, paragraph: Any) -> tuple[str, int] | None:
        for holder in (paragraph._p.pPr, getattr(paragraph.style.element, "pPr", None)):
            num_pr = getattr(holder, "numPr", None) if holder is not None else None
            if num_pr is not None and num_pr.numId is not None:
                ilvl = num_pr.ilvl.val if num_pr.ilvl is not None else 0
                return str(num_pr.numId.val), int(ilvl)
        return None

    def label(self, paragraph: Any) -> str:
        found = self._num_pr(paragraph)
        if found is None or found not in self.levels:
            return ""
        num_id, ilvl = found
        counters = self.counters.setdefault(num_id, [0] * 9)
        counters[ilvl] += 1
        for deeper in range(ilvl + 1, 9):
            counters[deeper] = 0
        fmt, text, _ = self.levels[found]
        for level in range(ilvl + 1):
            spec = self.levels.get((num_id, level))
            value = counters[level] + (spec[2] - 1 if spec else 0)
            text = text.replace(f"%{level + 1}", _format_number(value, spec[0] if spec else fmt))
        return text


def _format_number(value: int, fmt: str) -> str:
    if fmt.startswith(("chinese", "ideograph", "taiwanese")):
        return int_to_cn(value)
    if fmt == "decimalEnclosedCircle" and 1 <= value <= 20:
        return chr(0x2460 + value - 1)
    return str(value)


_MD_RULES = [
    (re.compile(r"^\s{0,3}#{1,6}\s*"), ""),  # headings
    (re.compile(r"^\s{0,3}>\s?"), ""),  # quotes
    (re.compile(r"^\s*[-*+]\s+"), ""),  # bullets (numbered lists are kept)
    (re.compile(r"\*\*|__|(?<!\w)\*(?!\s)|`"), ""),  # emphasis and code
    (re.compile(r"!?\[([^\]]*)\]\([^)]*\)"), r"\1"),  # links and images
    (re.compile(r"\s*\\$"), ""),  # hard breaks
]


def _strip_markdown(text: str) -> str:
    out = []
    for line in text.splitlines():
        if re.match(r"^\s*([-*_]\s*){3,}$", line) or line.strip().startswith("|"):
            out.append("")
            continue
        for pattern, repl in _MD_RULES:
            line = pattern.sub(repl, line)
        out.append(line)
    return "\n".join(out)
