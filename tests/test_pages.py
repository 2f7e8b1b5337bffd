"""The reviewer pages where reviewers read them: a desktop, a phone (390 px) and paper.

Each page (report, validation of a passing and of a failing run, the index) is opened in headless
Chromium at 1280 and 390 px and in print emulation at A4 width, and printed to PDF. Asserted: no
sideways scrolling, no figure split from its unit across lines (measured on the laid-out text,
not on the markup), and, for the failing run, the failure first. Screenshots are kept under
outputs/screenshots/ for a person to look at.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from edureport import paths

from .conftest import TEST_KEY, run_cli
from .test_lab import failing_county_year

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path("/usr/bin/chromium").exists(), reason="make setup-test installs chromium"
    ),
]
CHROMIUM = "/usr/bin/chromium"
WIDTHS = (1280, 390)
PRINT_WIDTH = 680  # A4 less the margins, in CSS px
UNITS = "万元|元|人次|学时|人|行|项|所|个|次|处|%"
# Every number followed by its unit in the page's text, and whether it spans two lines.
SPLIT_JS = r"""
() => {
  const re = /[-−]?\d[\d,]*(?:\.\d+)?\s?(?:UNITS)/g;
  const split = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    const text = node.textContent;
    let m;
    re.lastIndex = 0;
    while ((m = re.exec(text))) {
      const r = document.createRange();
      r.setStart(node, m.index);
      r.setEnd(node, m.index + m[0].length);
      const tops = new Set([...r.getClientRects()].filter(x => x.width > 0)
        .map(x => Math.round(x.top)));
      if (tops.size > 1) split.push(m[0]);
    }
  }
  return split;
}
""".replace("UNITS", UNITS)
OVERFLOW_JS = "() => document.documentElement.scrollWidth - window.innerWidth"
# A card's labels are the column names as written (no quotes, no markup).
LABELS_JS = """() => [...document.querySelectorAll('td[data-label]')].map(td => td.dataset.label)
  .filter(label => /["'<>&]/.test(label))"""


@pytest.fixture(scope="module")
def pages(published: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The published sample's pages, and those of a failing run of another county."""
    data = tmp_path_factory.mktemp("data")
    out = tmp_path_factory.mktemp("out")
    failing_county_year(data / "测试县" / "2022")
    proc = run_cli(data, out, TEST_KEY, "--county", "测试县", "--year", "2022")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    (draft,) = (out / "测试县" / "2022" / "runs").iterdir()
    return {
        "report": published / "report.html",
        "validation": published / "validation.html",
        "draft-report": draft / "report.html",
        "draft-validation": draft / "validation.html",
        "index": published.parent.parent / "index.html",
        "index-draft": out / "index.html",
    }


def test_reviewer_pages_fit_desktop_phone_and_paper(pages: dict[str, Path], tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    keep = paths.OUTPUTS_DIR / "screenshots"
    keep.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for name, path in pages.items():
            for width in WIDTHS:
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.goto(path.as_uri())
                problems += _layout_problems(page, f"{name} @{width}px")
                page.screenshot(path=str(keep / f"{name}-{width}.png"), full_page=True)
                page.close()
            page = browser.new_page(viewport={"width": PRINT_WIDTH, "height": 900})
            page.goto(path.as_uri())
            page.emulate_media(media="print")
            problems += _layout_problems(page, f"{name} printed")
            pdf = tmp_path / f"{name}.pdf"
            page.pdf(path=str(pdf), format="A4")
            page.close()
            problems += [f"{name}.pdf: {s}" for s in _pdf_splits(pdf)]
            shutil.copy(pdf, keep / pdf.name)
        browser.close()
    assert problems == []


def _layout_problems(page: object, where: str) -> list[str]:
    overflow = page.evaluate(OVERFLOW_JS)  # type: ignore[attr-defined]
    split = page.evaluate(SPLIT_JS)  # type: ignore[attr-defined]
    labels = page.evaluate(LABELS_JS)  # type: ignore[attr-defined]
    found = [f"{where}: scrolls sideways by {overflow}px"] if overflow > 0 else []
    found += [f"{where}: card label shown as {label!r}" for label in labels]
    return found + [f"{where}: “{s}” split across lines" for s in split]


def _pdf_splits(pdf: Path) -> list[str]:
    """A number at a line's end whose unit starts the next line, in the PDF's own text."""
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return re.findall(rf"(?<![0-9A-Za-z.,])[-−]?\d[\d,]*(?:\.\d+)?[ \t]*\n\s*(?:{UNITS})", text)


def test_failing_validation_page_says_what_failed_first(pages: dict[str, Path]) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(pages["draft-validation"].as_uri())
        title = page.title()
        first_heading = page.locator("h2").first.inner_text()
        failed = page.locator("table.checks").first.inner_text()
        back = page.locator("nav.back a").first.get_attribute("href")
        banner_top = page.locator(".banner").first.bounding_box()
        browser.close()
    assert title == "测试县2022年度数据校验结果：未通过"
    assert first_heading == "未通过的校验"
    assert "台账比汇总表少 100.00 元" in failed  # which side is higher, in words
    assert re.search(r"F\d", failed) is None  # figures by name, not by code
    assert banner_top is not None and banner_top["y"] < 844  # the verdict without scrolling
    assert back == "report.html" and (pages["draft-validation"].parent / back).is_file()
