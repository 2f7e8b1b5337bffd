"""report.docx in the GB/T 9704 official-document format, with python-docx.

A4; margins 37 mm top, 35 mm bottom, 28 mm binding (left) side, 26 mm right.
Title 2号 (22 pt) 方正小标宋简体, fallback named 宋体 (for machines without it).
Body 3号 (16 pt) 仿宋_GB2312; headings 一、 in 黑体, （一） in 楷体_GB2312.
Fixed 28 pt line spacing (22 lines of 28 characters); page numbers “— 1 —” in 4号 宋体.
"""

from __future__ import annotations

import io
from pathlib import Path

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from . import narrative as nv
from .report import Report, Table

TITLE_FONT, TITLE_FALLBACK = "方正小标宋简体", "宋体"
BODY_FONT = "仿宋_GB2312"
H1_FONT = "黑体"
H2_FONT = "楷体_GB2312"
SIZE_2, SIZE_3, SIZE_4, SIZE_5 = Pt(22), Pt(16), Pt(14), Pt(10.5)


def write_docx(report: Report, path: Path) -> Path:
    """Write the report (same text and tables as the HTML) as an official-format Word file."""
    doc = Document()
    _page_setup(doc)
    _style(doc.styles["Normal"], BODY_FONT, SIZE_3)
    for b in report.blocks:
        if b.kind == "title":
            p = doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _run(p, nv.fill(b.text, report.values), TITLE_FONT, SIZE_2, ascii_font=TITLE_FALLBACK)
            p.paragraph_format.space_after = Pt(16)
        elif b.kind == "heading":
            level = 1 if b.level == 2 else 2
            p = doc.add_heading(level=level)
            _style(p.style, H1_FONT if level == 1 else H2_FONT, SIZE_3)
            _run(p, nv.fill(b.text, report.values), H1_FONT if level == 1 else H2_FONT, SIZE_3)
            p.paragraph_format.first_line_indent = Pt(32)
        elif b.kind == "paragraph":
            p = doc.add_paragraph()
            p.paragraph_format.first_line_indent = Pt(32)
            _run(p, nv.fill(b.text, report.values), BODY_FONT, SIZE_3)
        elif b.kind == "table":
            _table(doc, report.tables[b.text])
        elif b.kind == "chart":
            p = doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            p.add_run().add_picture(io.BytesIO(report.charts[b.text]), width=Mm(150))
    doc.core_properties.title = report.title
    doc.core_properties.author = ""
    doc.core_properties.comments = "edureport"
    doc.save(str(path))
    return Path(path)


def _page_setup(doc: Document) -> None:
    section = doc.sections[0]
    section.start_type = WD_SECTION.NEW_PAGE
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(footer, "— ", "宋体", SIZE_4)
    _page_field(footer)
    _run(footer, " —", "宋体", SIZE_4)


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


def _run(paragraph, text: str, font: str, size: Pt, ascii_font: str | None = None):
    run = paragraph.add_run(text)
    run.font.name = ascii_font or font
    run.font.size = size
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    return run


def _page_field(paragraph) -> None:
    run = _run(paragraph, "", "宋体", SIZE_4)
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
    _run(cap, t.caption, H1_FONT, SIZE_4)
    table = doc.add_table(rows=1 + len(t.rows), cols=len(t.header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for r, row in enumerate([t.header, *t.rows]):
        for c, value in enumerate(row):
            cell = table.cell(r, c)
            p = cell.paragraphs[0]
            p.paragraph_format.line_spacing = Pt(18)
            if c >= 2 or (len(row) == 2 and c == 1):
                p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            _run(p, value, H1_FONT if r == 0 else BODY_FONT, SIZE_4)
    if t.note:
        p = doc.add_paragraph()
        _run(p, t.note, BODY_FONT, SIZE_5)
