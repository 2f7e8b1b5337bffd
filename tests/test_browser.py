"""What reviewers see: the report in headless Chromium from disk, and the Word file read back."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from edureport import paths

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="make setup-test installs chromium")
def test_report_in_headless_chromium(published: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    failed: list[str] = []
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 1400})
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.on(
            "request",
            lambda r: None if r.url.startswith(("file:", "data:")) else failed.append(r.url),
        )
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto((published / "report.html").as_uri())
        page.wait_for_load_state("networkidle")
        headings = page.locator("h2").all_inner_texts()
        images = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        browser.close()
    assert failed == [] and errors == []
    assert [h for h in headings if h[:2] in ("一、", "二、", "三、")] == [
        "一、主要做法与成效",
        "二、存在的主要问题",
        "三、下一步工作措施",
    ]
    assert images and all(w > 0 for w in images)
    keep = paths.OUTPUTS_DIR / "screenshots"  # for a person to look at after the run
    keep.mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp_path / "report.png", keep / "report-示例县-2022.png")


def test_docx_page_setup_fonts_headings(published: Path) -> None:
    import docx
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    d = docx.Document(str(published / "report.docx"))
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
    body = [p for p in paragraphs if "1134.65万元" in p.text]
    assert body and east_asian(body[0].runs[0]) == "仿宋_GB2312"
    assert body[0].runs[0].font.size == Pt(16)
    footer_xml = s.footer._element.xml
    assert "PAGE" in footer_xml
    assert len(d.tables) >= 3
    texts = [c.text for t in d.tables for row in t.rows for c in row.cells]
    assert "1134.65万元" in texts and "12837人次" in texts
