"""report.docx as a reader sees it: rendered by LibreOffice to PDF, rasterised by poppler.

A python-docx read-back cannot see layout (it passed while the chart was clipped to one line), so
the layout tests convert the Word files with ``soffice --headless`` and look at the pages: the
chart drawn at its full height, table header rows repeated on the next page, page numbers on the
outer edge, no figure split from its unit, 待填写 highlighted in a draft. ``make test`` installs
LibreOffice Writer and poppler-utils (scripts/system-packages.sh docx).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from PIL import Image

from edureport import paths
from edureport.report import narrative as nv
from edureport.report.document import Report, Table, build
from edureport.report.word import WORD_JOINER, write_docx

from .conftest import TEST_KEY

DPI = 100
BAR = (0x8C, 0x1C, 0x13)  # the aid chart's bar colour (edureport/report/charts.py)
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
POPPLER = shutil.which("pdftoppm") and shutil.which("pdftotext")
MISSING = "LibreOffice (soffice) or poppler-utils missing: `make setup-test` installs them"
skip_unless_renderer = pytest.mark.skipif(not (SOFFICE and POPPLER), reason=MISSING)


def needs_renderer(test):
    """A test on the rendered pages: slow (LibreOffice), skipped only where it is missing."""
    return pytest.mark.slow(skip_unless_renderer(test))


LONG_HEADER = ["序号", "学校名称", "受助人次", "资助金额"]


# ---------------------------------------------------------------- the documents


@pytest.fixture(scope="module")
def sample_reports() -> tuple[Report, Report]:
    """The bundled sample's report with its narrative, and a draft from the template."""
    from edureport.ingest.clean import clean_folder
    from edureport.report.figures import compute
    from edureport.runs.steps import report_date

    folder = paths.RAW_DIR / paths.SAMPLE_COUNTY / str(paths.SAMPLE_YEAR)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDUREPORT_PSEUDONYM_KEY", TEST_KEY)
        cleaned = clean_folder(folder, paths.SAMPLE_YEAR)
    reg = compute(cleaned.tables, report_date(folder, paths.SAMPLE_YEAR))
    text, source = nv.load(folder / nv.NARRATIVE_FILE)
    final = build(paths.SAMPLE_COUNTY, paths.SAMPLE_YEAR, reg, None, text, source)
    draft = build(paths.SAMPLE_COUNTY, paths.SAMPLE_YEAR, reg, None, nv.template_text(), "template")
    assert final.todo == 0 and draft.todo > 0
    return final, draft


def long_table_report() -> Report:
    """A report whose one table runs over several pages."""
    rows = [
        [str(i), f"第{i}中心学校", f"{i * 37}人次", f"{i * 1234.56:.2f}万元"] for i in range(1, 91)
    ]
    blocks = [
        nv.Block("title", "长表测试", 1, 1),
        nv.Block("paragraph", "下表跨页，表头应在每页重复。", line=2),
        nv.Block("table", "long", line=3),
    ]
    table = Table("各校资助情况", LONG_HEADER, rows, "注：测试数据。")
    return Report("测试县", 2022, blocks, {}, {"long": table}, {}, "test")


@pytest.fixture(scope="module")
def docs(sample_reports: tuple[Report, Report], tmp_path_factory: pytest.TempPathFactory):
    """The Word files: sample, draft, long (written in-process)."""
    final, draft = sample_reports
    out = tmp_path_factory.mktemp("docx")
    return {
        "sample": write_docx(final, out / "sample.docx"),
        "draft": write_docx(draft, out / "draft.docx"),
        "long": write_docx(long_table_report(), out / "long.docx"),
    }


@dataclass
class Rendered:
    pdf: Path
    pages: list[np.ndarray]  # RGB, DPI dots per inch

    def text(self, page: int | None = None) -> str:
        """``pdftotext -layout`` of the whole PDF or one page (1-based), word joiners removed."""
        span = ["-f", str(page), "-l", str(page)] if page else []
        out = _run(["pdftotext", "-layout", *span, str(self.pdf), "-"]).stdout
        return out.replace(WORD_JOINER, "")


@pytest.fixture(scope="module")
def rendered(docs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory):
    """Every Word file converted by LibreOffice in one run, each page rasterised at DPI."""
    if not (SOFFICE and POPPLER):
        pytest.skip(MISSING)
    out = tmp_path_factory.mktemp("pdf")
    profile = (out / "lo-profile").as_uri()  # private: never waits on someone's running soffice
    _run(
        [
            *(SOFFICE, f"-env:UserInstallation={profile}", "--headless"),
            *("--convert-to", "pdf", "--outdir", str(out), *map(str, docs.values())),
        ],
        timeout=300,
    )
    result = {}
    for name in docs:
        pdf = out / f"{name}.pdf"
        assert pdf.exists(), f"LibreOffice wrote no {pdf.name}"
        _run(["pdftoppm", "-r", str(DPI), "-png", str(pdf), str(out / name)])
        pngs = sorted(out.glob(f"{name}-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        result[name] = Rendered(pdf, [np.asarray(Image.open(p).convert("RGB")) for p in pngs])
    return result


def _run(cmd: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{cmd[0]} failed: {proc.stderr}"
    return proc


def _colour_rows(image: np.ndarray, colour: tuple[int, int, int], tol: int = 40) -> np.ndarray:
    """Indices of the rows holding at least a few pixels of ``colour``."""
    close = (np.abs(image.astype(int) - np.array(colour)) <= tol).all(axis=2)
    return np.flatnonzero(close.sum(axis=1) >= 3)


def _mm_to_px(mm: float) -> float:
    return mm / 25.4 * DPI


def _plain(text: str) -> str:
    return text.replace(WORD_JOINER, "")


# ---------------------------------------------------------------- the Word file read back


def test_docx_page_setup_fonts_headings(docs: dict[str, Path]) -> None:
    d = Document(str(docs["sample"]))
    s = d.sections[0]
    assert (round(s.page_width.mm), round(s.page_height.mm)) == (210, 297)
    assert abs(s.top_margin - Mm(37)) < Mm(0.1) and abs(s.left_margin - Mm(28)) < Mm(0.1)

    def east_asian(run) -> str:
        return run._element.rPr.rFonts.get(qn("w:eastAsia"))

    paragraphs = [p for p in d.paragraphs if p.text.strip()]
    title = paragraphs[0]
    assert title.text.endswith("2022年度法治政府建设情况工作报告")
    assert east_asian(title.runs[0]) == "方正小标宋简体" and title.runs[0].font.size == Pt(22)
    h1 = [p for p in paragraphs if p.text.startswith(("一、", "二、", "三、"))]
    assert [p.text for p in h1] == [
        "一、主要做法与成效",
        "二、存在的主要问题",
        "三、下一步工作措施",
    ]
    assert all(east_asian(p.runs[0]) == "黑体" for p in h1)
    h2 = [p for p in paragraphs if p.text.startswith("（一）")]
    assert h2 and east_asian(h2[0].runs[0]) == "楷体_GB2312"
    body = [p for p in paragraphs if "1134.65万元" in _plain(p.text)]
    assert body and east_asian(body[0].runs[0]) == "仿宋_GB2312"
    assert body[0].runs[0].font.size == Pt(16)
    assert len(d.tables) >= 3
    texts = [_plain(c.text) for t in d.tables for row in t.rows for c in row.cells]
    assert "1134.65万元" in texts and "12837人次" in texts


def test_docx_structure(docs: dict[str, Path]) -> None:
    """The XML behind the layout: picture style, header rows, odd/even footers, joiners."""
    d = Document(str(docs["sample"]))
    pictures = [p for p in d.paragraphs if p._p.xpath(".//w:drawing")]
    assert pictures and all(p.style.name == "Picture" for p in pictures)
    spacing = pictures[0].style.element.pPr.find(qn("w:spacing"))
    assert spacing.get(qn("w:lineRule")) == "auto" and spacing.get(qn("w:line")) == "240"
    shape = d.inline_shapes[0]
    assert 60 < shape.height.mm < 70 and abs(shape.width.mm - 150) < 0.1
    for t in d.tables:
        assert t.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
        assert all(r._tr.trPr.find(qn("w:tblHeader")) is None for r in t.rows[1:])
    assert d.settings.odd_and_even_pages_header_footer
    s = d.sections[0]
    for footer in (s.footer, s.even_page_footer):
        assert "PAGE" in footer._element.xml and footer.paragraphs[0].text.strip() == "—  —"
    assert "1134.65\u2060万\u2060元" in d.tables[1].rows[-1].cells[3].text


def test_draft_placeholders_highlighted_in_docx(
    docs: dict[str, Path], sample_reports: tuple[Report, Report]
) -> None:
    d = Document(str(docs["draft"]))
    runs = [r for p in d.paragraphs for r in p.runs if nv.TODO in r.text]
    assert len(runs) == sum(b.text.count(nv.TODO) for b in sample_reports[1].blocks) > 5
    assert all(r._element.rPr.find(qn("w:highlight")).get(qn("w:val")) == "yellow" for r in runs)
    assert all(r.text.startswith("（待填写") and r.text.endswith("）") for r in runs)
    final = Document(str(docs["sample"]))
    assert not any(r.font.highlight_color for p in final.paragraphs for r in p.runs)


# ---------------------------------------------------------------- the rendered pages


@needs_renderer
def test_page_count(rendered: dict[str, Rendered]) -> None:
    assert 4 <= len(rendered["sample"].pages) <= 8
    assert 3 <= len(rendered["long"].pages) <= 8


@needs_renderer
def test_chart_drawn_at_full_height(docs: dict[str, Path], rendered: dict[str, Rendered]) -> None:
    """The bars span what they span in the chart image, scaled to the picture's 6.5 cm height."""
    d = Document(str(docs["sample"]))
    blob = d.part.related_parts[d.inline_shapes[0]._inline.xpath(".//a:blip/@r:embed")[0]].blob
    source = np.asarray(Image.open(BytesIO(blob)).convert("RGB"))
    rows = _colour_rows(source, BAR, tol=5)
    share = (rows[-1] - rows[0] + 1) / source.shape[0]  # the bars' part of the picture's height
    expected = _mm_to_px(d.inline_shapes[0].height.mm) * share
    found = [(n, _colour_rows(page, BAR)) for n, page in enumerate(rendered["sample"].pages, 1)]
    found = [(n, r) for n, r in found if len(r)]
    assert len(found) == 1, f"bar colour on pages {[n for n, _ in found]}"
    page, bar_rows = found[0]
    drawn = bar_rows[-1] - bar_rows[0] + 1
    line = _mm_to_px(Pt(28).mm)
    assert drawn > 3 * line, f"chart clipped: bars span {drawn}px on page {page}"
    assert 0.92 * expected <= drawn <= 1.08 * expected, (drawn, expected)


@needs_renderer
def test_header_row_repeats_on_each_page(rendered: dict[str, Rendered]) -> None:
    long = rendered["long"]
    assert len(long.pages) >= 3
    for n in range(1, len(long.pages) + 1):
        lines = [ln.split() for ln in long.text(n).splitlines() if ln.strip()]
        assert LONG_HEADER in lines, f"no header row on page {n}"
    body = long.text().replace(" ", "")
    assert body.count("第90中心学校") == 1 and body.count("资助金额") == len(long.pages)


@needs_renderer
@pytest.mark.parametrize("name", ["sample", "long"])
def test_page_numbers_on_outer_edge(rendered: dict[str, Rendered], name: str) -> None:
    """GB/T 9704: “— 1 —” right on odd pages, left on even ones, below the text."""
    pdf = rendered[name].pdf
    xml = _run(["pdftotext", "-bbox", str(pdf), "-"]).stdout
    pages = re.findall(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', xml, re.S)
    assert len(pages) == len(rendered[name].pages) >= 2
    word = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" [^>]*>([^<]*)</word>')
    for n, (width, height, body) in enumerate(pages, 1):
        w, h = float(width), float(height)
        foot = [
            (float(x0), float(x1), t)
            for x0, y0, x1, t in word.findall(body)
            if float(y0) > h - Mm(35).pt
        ]
        assert "".join(t for _, _, t in foot).replace(" ", "") == f"—{n}—", (n, foot)
        left, right = min(x0 for x0, _, _ in foot), max(x1 for _, x1, _ in foot)
        if n % 2:
            assert left > w / 2 and right > w - Mm(26).pt - 2 * Pt(14).pt, (n, left, right)
        else:
            assert right < w / 2 and left < Mm(28).pt + 2 * Pt(14).pt, (n, left, right)


_FIGURE = re.compile(r"\d\s?(?:万元|人次)")


@needs_renderer
@pytest.mark.parametrize("name", ["sample", "long"])
def test_no_figure_split_from_its_unit(
    docs: dict[str, Path], rendered: dict[str, Rendered], name: str
) -> None:
    """Every 万元 and 人次 sits on the same line as its digits, as many as the document has."""
    d = Document(str(docs[name]))
    cells = [c.text for t in d.tables for row in t.rows for c in row.cells]
    headers = {c.text for t in d.tables for c in t.rows[0].cells}
    wanted = sum(len(_FIGURE.findall(_plain(t))) for t in [p.text for p in d.paragraphs] + cells)
    lines = rendered[name].text().splitlines()
    assert wanted > 20
    assert sum(len(_FIGURE.findall(ln)) for ln in lines) == wanted  # none lost to a line break
    # -layout puts table cells side by side, two spaces or more apart
    pieces = [p.strip() for ln in lines for p in re.split(r"\s{2,}", ln) if p.strip()]
    orphans = [p for p in pieces if p not in headers and re.match(r"(万?元|人?次)", p)]
    orphans += [p for p in pieces if re.search(r"\d\s?万$", p)]
    assert orphans == []


@needs_renderer
def test_draft_placeholders_highlighted_when_rendered(rendered: dict[str, Rendered]) -> None:
    yellow = (255, 255, 0)
    assert len(_colour_rows(rendered["draft"].pages[0], yellow, tol=10)) > 10
    assert not any(len(_colour_rows(p, yellow, tol=10)) for p in rendered["sample"].pages)
