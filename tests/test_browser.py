"""What reviewers see: the report in headless Chromium from disk (report.docx: test_word.py)."""

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
