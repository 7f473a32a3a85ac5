"""Official documents (公文) as Word files, in the layout of GB/T 9704-2012.

A4 with the standard margins (top 37 mm, bottom 35 mm, left 28 mm, right 26 mm; a text
block of 156 × 225 mm, 22 lines of 28 characters); the red masthead (版头: the issuing
body's mark, the document number 发文字号 and the red rule under them); the title in
小标宋 2号; the recipients (主送机关); the body in 仿宋_GB2312 3号 with headings by level
(一、 in 黑体, （一） in 楷体_GB2312, 1. in bold 仿宋); the signature (落款) and date of
writing (成文日期, in Arabic numerals); page numbers as ``— 1 —`` in 宋体 4号, odd pages on
the right, even pages on the left. Fonts are named for East Asian text (``w:eastAsia``) so
that Word and WPS use them where installed; elsewhere they fall back to a similar face.

The header fields come from ``[document]`` in duban.toml, overridden per command by the
options ``document_options`` adds (docs/configuration.md)::

    doc = OfficialDocument(title="关于……的通报")
    doc.paragraph("……")
    doc.heading("约谈事项", level=1)
    doc.save(path)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from .i18n import t
from .settings import get_settings

MASTHEAD_FONT = "方正小标宋简体"
TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING_FONTS = {1: "黑体", 2: "楷体_GB2312", 3: BODY_FONT, 4: BODY_FONT}
PAGE_NUMBER_FONT = "宋体"
RED = "FF0000"
SIZE_2, SIZE_3, SIZE_4 = 22, 16, 14  # 2号, 3号, 4号 in points
MASTHEAD_SIZE = 36  # 小初; the standard leaves the mark's size to the issuer
LINE = 28.95  # points: 22 lines in the 225 mm text block
CN_NUMBERS = "一二三四五六七八九十"


def _cn(n: int) -> str:
    """1 -> 一, 12 -> 十二, 20 -> 二十 (heading numbers)."""
    if n <= 10:
        return CN_NUMBERS[n - 1]
    tens, ones = divmod(n, 10)
    return (
        (CN_NUMBERS[tens - 1] if tens > 1 else "") + "十" + (CN_NUMBERS[ones - 1] if ones else "")
    )


def written_date(day: date) -> str:
    """成文日期: 2024年5月5日 (Arabic numerals, no leading zeros)."""
    return f"{day.year}年{day.month}月{day.day}日"


class OfficialDocument:
    """A 公文 being written: masthead and title first, then paragraphs, headings and tables;
    ``save`` adds the signature, date and page numbers."""

    def __init__(
        self,
        *,
        title: str,
        issuer: str | None = None,
        masthead: str | None = None,
        number: str | None = None,
        recipients: str | None = None,
        signature: str | None = None,
        dated: date,
    ) -> None:
        from docx import Document

        config = get_settings().document
        self.issuer = issuer or config.issuer or t("Supervision office")
        self.masthead = masthead or config.masthead or t("{issuer} document", issuer=self.issuer)
        self.number = number if number is not None else config.number
        self.recipients = recipients if recipients is not None else config.recipients
        self.signature = signature or config.signature or self.issuer
        self.dated = dated
        self.title = title
        self._numbers = [0, 0, 0, 0]
        self.doc = Document()
        self._page()
        self._styles()
        self._head()

    # Layout ------------------------------------------------------------------------------
    def _page(self) -> None:
        from docx.shared import Mm

        sec = self.doc.sections[0]
        sec.page_width, sec.page_height = Mm(210), Mm(297)
        sec.top_margin, sec.bottom_margin = Mm(37), Mm(35)
        sec.left_margin, sec.right_margin = Mm(28), Mm(26)
        sec.header_distance, sec.footer_distance = Mm(15), Mm(21)
        self.doc.settings.odd_and_even_pages_header_footer = True
        props = self.doc.core_properties
        props.title, props.author, props.language = self.title, self.issuer, "zh-CN"

    def _styles(self) -> None:
        from docx.enum.text import WD_LINE_SPACING
        from docx.shared import Pt

        normal = self.doc.styles["Normal"]
        _fonts(normal.element, BODY_FONT)
        normal.font.size = Pt(SIZE_3)
        fmt = normal.paragraph_format
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(LINE)
        fmt.space_before = fmt.space_after = Pt(0)
        _lang(normal.element.get_or_add_rPr())

    def _line(
        self,
        text: str = "",
        *,
        font: str = BODY_FONT,
        size: float = SIZE_3,
        align: str = "justify",
        indent: float = 0,
        bold: bool = False,
        color: str | None = None,
        right_indent: float = 0,
        spacing: float | None = None,
    ) -> Any:
        from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
        from docx.oxml.ns import qn
        from docx.shared import Pt, RGBColor

        par = self.doc.add_paragraph()
        par.alignment = {
            "left": WD_ALIGN_PARAGRAPH.LEFT,
            "center": WD_ALIGN_PARAGRAPH.CENTER,
            "right": WD_ALIGN_PARAGRAPH.RIGHT,
            "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
        }[align]
        fmt = par.paragraph_format
        if indent:
            fmt.first_line_indent = Pt(indent * size)
            # WPS measures indents in characters: say it that way too.
            ind = par._p.get_or_add_pPr().get_or_add_ind()
            ind.set(qn("w:firstLineChars"), str(int(indent * 100)))
        if right_indent:
            fmt.right_indent = Pt(right_indent * SIZE_3)
        if spacing is not None:
            fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
            fmt.line_spacing = Pt(spacing)
        if text:
            run = par.add_run(text)
            _fonts(run._element, font)
            run.font.size = Pt(size)
            run.font.bold = bold
            if color:
                run.font.color.rgb = RGBColor.from_string(color)
        return par

    def _head(self) -> None:
        """版头 (masthead, 发文字号, red rule), then the title and 主送机关."""
        self._line(spacing=LINE)
        # One line across the 156 mm (442 pt) text block: a long name takes smaller type.
        size = max(16, min(MASTHEAD_SIZE, 440 // max(1, len(self.masthead))))
        self._line(
            self.masthead,
            font=MASTHEAD_FONT,
            size=size,
            align="center",
            color=RED,
            spacing=size * 1.3,
        )
        self._line(spacing=LINE)
        rule = self._line(self.number or "", align="center")
        _red_rule(rule._p.get_or_add_pPr())
        self._line()
        self._line(self.title, font=TITLE_FONT, size=SIZE_2, align="center", spacing=SIZE_2 * 1.6)
        self._line()
        if self.recipients:
            self._line(f"{self.recipients}：", align="left")

    # Content -----------------------------------------------------------------------------
    def paragraph(self, text: str) -> None:
        """A body paragraph: 仿宋 3号, first line indented two characters."""
        self._line(text, indent=2)

    def heading(self, text: str, *, level: int = 1) -> None:
        """A numbered heading: 一、 (黑体), （一） (楷体), 1. (bold 仿宋), （1） (仿宋)."""
        self._numbers[level - 1] += 1
        for lower in range(level, len(self._numbers)):
            self._numbers[lower] = 0
        n = self._numbers[level - 1]
        mark = {1: f"{_cn(n)}、", 2: f"（{_cn(n)}）", 3: f"{n}.", 4: f"（{n}）"}[level]
        self._line(mark + text, font=HEADING_FONTS[level], indent=2, bold=level == 3)

    def table(
        self,
        fields: Sequence[Any],
        rows: Sequence[Mapping[str, Any]],
        totals: Mapping[str, Any] | None = None,
    ) -> None:
        """A table of ``fields`` (``spreadsheet.Field``): header in 黑体, cells in 仿宋 4号."""
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.shared import Pt

        from .spreadsheet import plain

        def text(value: Any, kind: str) -> str:
            if value is None:
                return "—"
            if kind == "percent":
                return f"{100 * value:.1f}%"
            if kind == "percent100":
                return f"{value:.1f}%"
            return plain(value)

        table = self.doc.add_table(rows=1, cols=len(fields))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        all_rows = [*rows, *([totals] if totals else [])]
        for cell, f in zip(table.rows[0].cells, fields, strict=True):
            _cell(cell, f.header, "黑体", Pt(SIZE_4 - 2))
        for row in all_rows:
            cells = table.add_row().cells
            for cell, f in zip(cells, fields, strict=True):
                _cell(cell, text(row.get(f.key), f.kind), BODY_FONT, Pt(SIZE_4 - 2))
        self._line()

    # Closing -----------------------------------------------------------------------------
    def _close(self) -> None:
        """落款 and 成文日期 (right, the date four characters from the edge), page numbers."""
        self._line()
        self._line()
        self._line(self.signature, align="right", right_indent=2)
        self._line(written_date(self.dated), align="right", right_indent=4)
        self._page_numbers()

    def _page_numbers(self) -> None:
        """— 1 — in 宋体 4号: odd pages right-aligned, even pages left, one character in."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt

        sec = self.doc.sections[0]
        for footer, align in (
            (sec.footer, WD_ALIGN_PARAGRAPH.RIGHT),
            (sec.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT),
        ):
            par = footer.paragraphs[0]
            par.alignment = align
            if align == WD_ALIGN_PARAGRAPH.RIGHT:
                par.paragraph_format.right_indent = Pt(SIZE_4)
            else:
                par.paragraph_format.left_indent = Pt(SIZE_4)
            for kind, text in (("text", "— "), ("field", "PAGE"), ("text", " —")):
                if kind == "text":
                    run = par.add_run(text)
                    _fonts(run._element, PAGE_NUMBER_FONT)
                    run.font.size = Pt(SIZE_4)
                else:
                    _page_field(par, Pt(SIZE_4))

    def save(self, path: Path) -> None:
        from .spreadsheet import save

        self._close()
        save(self.doc, path)


def _red_rule(ppr: Any) -> None:
    """The red rule under the document number (4 mm below it), as wide as the text block."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "12"), ("w:space", "11"), ("w:color", RED)):
        bottom.set(qn(key), value)
    border.append(bottom)
    # pBdr precedes these in CT_PPr's sequence; Word refuses elements out of order.
    ppr.insert_element_before(
        border, "w:shd", "w:tabs", "w:snapToGrid", "w:spacing", "w:ind", "w:jc", "w:rPr"
    )


def _lang(rpr: Any) -> None:
    """Latin text in English, East Asian text in Chinese (for spelling and line breaking)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    rpr.insert_element_before(lang, "w:eastAsianLayout", "w:specVanish", "w:oMath")


def _fonts(element: Any, font: str) -> None:
    """Name ``font`` for East Asian and Latin text of a run or style."""
    from docx.oxml.ns import qn

    rfonts = element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), font)
    rfonts.set(qn("w:hint"), "eastAsia")


def _cell(cell: Any, text: str, font: str, size: Any) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING

    par = cell.paragraphs[0]
    par.alignment = WD_ALIGN_PARAGRAPH.CENTER
    par.paragraph_format.first_line_indent = 0
    par.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    run = par.add_run(text)
    _fonts(run._element, font)
    run.font.size = size


def _page_field(par: Any, size: Any) -> None:
    """A PAGE field (the page's number) as Word writes it."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for kind, text in (("begin", None), ("instr", " PAGE "), ("separate", None), ("num", "1")):
        run = par.add_run()
        _fonts(run._element, PAGE_NUMBER_FONT)
        run.font.size = size
        if kind == "instr":
            node = OxmlElement("w:instrText")
            node.set(qn("xml:space"), "preserve")
            node.text = text
        elif kind == "num":
            run.text = text
            continue
        else:
            node = OxmlElement("w:fldChar")
            node.set(qn("w:fldCharType"), kind)
        run._element.append(node)
    end = par.add_run()
    node = OxmlElement("w:fldChar")
    node.set(qn("w:fldCharType"), "end")
    end._element.append(node)
