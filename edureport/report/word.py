"""report.docx in the GB/T 9704 official-document format, with python-docx.

A4; margins 37 mm top, 35 mm bottom, 28 mm binding (left) side, 26 mm right.
Title 2号 (22 pt) 方正小标宋简体, fallback named 宋体 (for machines without it).
Body 3号 (16 pt) 仿宋_GB2312; headings 一、 in 黑体, （一） in 楷体_GB2312.
Fixed 28 pt line spacing (22 lines of 28 characters) for text; pictures sit in their own
paragraph style with single line spacing, since an exact line height clips an inline picture.
Page numbers “— 1 —” in 4号 半角宋体 on the outer edge, one character in: odd pages right, even
pages left (different odd and even footers). Every figure keeps its unit on its line (word
joiners between number and unit); table header rows repeat on each page; in a draft every
“待填写” placeholder is highlighted in yellow.
"""

from __future__ import annotations

import io
import re
import unicodedata
from pathlib import Path

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Length, Mm, Pt

from edureport.report import narrative as nv
from edureport.report.document import Report, Table

TITLE_FONT, TITLE_FALLBACK = "方正小标宋简体", "宋体"
BODY_FONT = "仿宋_GB2312"
H1_FONT = "黑体"
H2_FONT = "楷体_GB2312"
PAGE_NUMBER_FONT = "宋体"
SIZE_2, SIZE_3, SIZE_4, SIZE_5 = Pt(22), Pt(16), Pt(14), Pt(10.5)
PAGE_WIDTH, PAGE_HEIGHT = Mm(210), Mm(297)
MARGINS = {"top": Mm(37), "bottom": Mm(35), "left": Mm(28), "right": Mm(26)}
TEXT_WIDTH = PAGE_WIDTH - MARGINS["left"] - MARGINS["right"]  # 156 mm
CHART_WIDTH = Mm(150)
PICTURE_STYLE = "Picture"

WORD_JOINER = "\u2060"  # zero width, forbids a line break on either side
UNITS = ("万元", "人次", "元", "人", "所", "个", "项", "次", "件", "名", "家", "%", "％")
_FIGURE = re.compile(r"(\d+(?:[.,]\d+)*)(" + "|".join(re.escape(u) for u in UNITS) + ")")
_PLACEHOLDER = re.compile(rf"（{nv.TODO}[^（）]*）|{nv.TODO}")
CELL_PADDING = Pt(10.8) + Pt(4)  # Table Grid's 0.08 inch each side, and some slack


def keep_together(text: str) -> str:
    """Join each figure to its unit (``1134.65⁠万⁠元``) so no line break falls inside it."""
    return _FIGURE.sub(lambda m: m.group(1) + WORD_JOINER + WORD_JOINER.join(m.group(2)), text)


def write_docx(report: Report, path: Path) -> Path:
    """Write the report (same text and tables as the HTML) as an official-format Word file."""
    doc = Document()
    _page_setup(doc)
    _style(doc.styles["Normal"], BODY_FONT, SIZE_3)
    _picture_style(doc)
    for b in report.blocks:
        if b.kind == "title":
            p = doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            text = nv.fill(b.text, report.values)
            _text(p, text, TITLE_FONT, SIZE_2, ascii_font=TITLE_FALLBACK)
            p.paragraph_format.space_after = Pt(16)
        elif b.kind == "heading":
            level = 1 if b.level == 2 else 2
            p = doc.add_heading(level=level)
            _style(p.style, H1_FONT if level == 1 else H2_FONT, SIZE_3)
            _text(p, nv.fill(b.text, report.values), H1_FONT if level == 1 else H2_FONT, SIZE_3)
            p.paragraph_format.first_line_indent = Pt(32)
        elif b.kind == "paragraph":
            p = doc.add_paragraph()
            p.paragraph_format.first_line_indent = Pt(32)
            _text(p, nv.fill(b.text, report.values), BODY_FONT, SIZE_3)
        elif b.kind == "table":
            _table(doc, report.tables[b.text])
        elif b.kind == "chart":
            p = doc.add_paragraph(style=PICTURE_STYLE)
            p.add_run().add_picture(io.BytesIO(report.charts[b.text]), width=CHART_WIDTH)
    doc.core_properties.title = report.title
    doc.core_properties.author = ""
    doc.core_properties.comments = "edureport"
    doc.save(str(path))
    return Path(path)


def _page_setup(doc: Document) -> None:
    section = doc.sections[0]
    section.start_type = WD_SECTION.NEW_PAGE
    section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
    section.top_margin, section.bottom_margin = MARGINS["top"], MARGINS["bottom"]
    section.left_margin, section.right_margin = MARGINS["left"], MARGINS["right"]
    # GB/T 9704 7.5: 单页码居右空一字，双页码居左空一字.
    doc.settings.odd_and_even_pages_header_footer = True
    odd = section.footer.paragraphs[0]
    odd.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    odd.paragraph_format.right_indent = SIZE_4
    even = section.even_page_footer.paragraphs[0]
    even.alignment = WD_ALIGN_PARAGRAPH.LEFT
    even.paragraph_format.left_indent = SIZE_4
    for footer in (odd, even):
        footer.paragraph_format.first_line_indent = Pt(0)
        _run(footer, "— ", PAGE_NUMBER_FONT, SIZE_4)
        _page_field(footer)
        _run(footer, " —", PAGE_NUMBER_FONT, SIZE_4)


def _style(style, font: str, size: Pt) -> None:
    style.font.name = font
    style.font.size = size
    style.font.bold = False
    style.font.color.rgb = None
    rpr = style.element.get_or_add_rPr()
    rpr.get_or_add_rFonts().set(qn("w:eastAsia"), font)
    pf = style.paragraph_format
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = Pt(28)
    pf.space_before = pf.space_after = Pt(0)


def _picture_style(doc: Document) -> None:
    """Centred, single line spacing: the line grows to the picture's height, nothing clipped."""
    style = doc.styles.add_style(PICTURE_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = doc.styles["Normal"]
    style.quick_style = True
    pf = style.paragraph_format
    pf.alignment = WD_ALIGN_PARAGRAPH.CENTER
    pf.line_spacing_rule = WD_LINE_SPACING.SINGLE
    pf.first_line_indent = Pt(0)
    pf.space_before = pf.space_after = Pt(6)


def _text(paragraph, text: str, font: str, size: Pt, ascii_font: str | None = None) -> None:
    """Runs for a piece of narrative: figures kept with their units, placeholders highlighted."""
    at = 0
    for m in _PLACEHOLDER.finditer(text):
        if m.start() > at:
            _run(paragraph, keep_together(text[at : m.start()]), font, size, ascii_font)
        run = _run(paragraph, keep_together(m.group(0)), font, size, ascii_font)
        run.font.highlight_color = WD_COLOR_INDEX.YELLOW
        at = m.end()
    if at < len(text):
        _run(paragraph, keep_together(text[at:]), font, size, ascii_font)


def _run(paragraph, text: str, font: str, size: Pt, ascii_font: str | None = None):
    run = paragraph.add_run(text)
    run.font.name = ascii_font or font
    run.font.size = size
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    return run


def _page_field(paragraph) -> None:
    run = _run(paragraph, "", PAGE_NUMBER_FONT, SIZE_4)
    for tag, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if tag:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), tag)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._element.append(el)


def _table(doc: Document, t: Table) -> None:
    cap = doc.add_paragraph()
    cap.alignment = WD_ALIGN_PARAGRAPH.CENTER
    cap.paragraph_format.keep_with_next = True
    _run(cap, t.caption, H1_FONT, SIZE_4)
    rows = [t.header, *t.rows]
    widths = column_widths(rows, SIZE_4, TEXT_WIDTH)
    table = doc.add_table(rows=len(rows), cols=len(t.header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False  # fixed layout: the widths below, in Word and LibreOffice alike
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    for r, row in enumerate(rows):
        tr_pr = table.rows[r]._tr.get_or_add_trPr()
        tr_pr.append(OxmlElement("w:cantSplit"))  # a row never breaks across pages
        if r == 0:
            tr_pr.append(OxmlElement("w:tblHeader"))  # repeated at the top of each page
        for c, value in enumerate(row):
            cell = table.cell(r, c)
            cell.width = widths[c]
            p = cell.paragraphs[0]
            p.paragraph_format.line_spacing = Pt(18)
            if c >= 2 or (len(row) == 2 and c == 1):
                p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            _run(p, keep_together(value), H1_FONT if r == 0 else BODY_FONT, SIZE_4)
    if t.note:
        p = doc.add_paragraph()
        _run(p, keep_together(t.note), BODY_FONT, SIZE_5)


def text_width(text: str, size: Length) -> int:
    """Roughly how wide ``text`` sets at ``size`` (EMU), erring wide: CJK one em, digits 0.64 em
    (DejaVu Sans, LibreOffice's stand-in for 仿宋 on Linux; 仿宋's own are 0.5 em)."""
    return int(sum(_char_ems(ch) for ch in text) * size)


def _char_ems(ch: str) -> float:
    if unicodedata.category(ch) == "Cf":
        return 0.0
    if unicodedata.east_asian_width(ch) in "WFA":
        return 1.0
    return {".": 0.32, ",": 0.32, " ": 0.32, "%": 0.95}.get(ch, 0.64)


def column_widths(rows: list[list[str]], size: Length, total: Length) -> list[Length]:
    """Column widths filling ``total``.

    Every column is at least wide enough for its header and for each figure with its unit on one
    line. The room left goes first to the columns that then fit whole (the narrowest first, while
    each other column keeps a character more than its header), the rest shared equally by those
    still wrapping.
    """
    cols = len(rows[0])
    full = [max(text_width(r[c], size) for r in rows) + CELL_PADDING for c in range(cols)]
    least = [
        max(
            text_width(rows[0][c], size),
            *(text_width(m.group(0), size) for r in rows[1:] for m in _FIGURE.finditer(r[c])),
            2 * size,
        )
        + CELL_PADDING
        for c in range(cols)
    ]
    if sum(full) <= total:  # everything fits on one line: spread the spare room evenly
        spare = (total - sum(full)) // cols
        return [Length(w + spare) for w in full]
    if sum(least) >= total:
        return [Length(w * total // sum(least)) for w in least]
    room, widths = total - sum(least), list(least)
    wanting = sorted((full[c] - least[c], c) for c in range(cols) if full[c] > least[c])
    for i, (deficit, c) in enumerate(wanting):
        others = len(wanting) - i - 1
        give = deficit if deficit + others * size <= room else room // (others + 1)
        give = min(give, deficit)
        widths[c] += give
        room -= give
    return [Length(w) for w in widths]
