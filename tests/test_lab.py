"""What an analyst sees in JupyterLab: a real server, real kernels, headless Chromium.

A county-year whose validation fails in the middle of the checks' order (one amount in the
拨付汇总表 100 元 off, one officer a 合同工) is cleaned and validated by running the notebooks'
cells from the Run menu. The failed checks must be on screen as soon as the results cell is,
before the list of every check, with no table cut short and no English-only header. Step 2 run
before step 1 must say to run step 1 (清洗) first.

Screenshots are left in each test's tmp_path (``pytest --basetemp=…`` keeps them somewhere known).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
import openpyxl
import pytest

from edureport import paths

from .conftest import BIN, TEST_KEY

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian chromium (setup-test)"),
    pytest.mark.skipif(
        not (BIN / "jupyter").exists() or importlib.util.find_spec("jupyterlab") is None,
        reason="needs JupyterLab in the venv (pip install -e '.[lab]')",
    ),
]

VIEWPORT = {"width": 1280, "height": 900}
COUNTY, YEAR = "测试县", 2022
NOTEBOOKS = ("1_clean", "2_validate", "3_report")
CJK = re.compile(r"[\u4e00-\u9fff]")
# The checks this county-year fails (the amount check fails per programme and in the total).
FAILED_RULES = (
    re.compile(r"执法人员全部为在编人员"),
    re.compile(r"每个学段\+资助项目的资助金额与拨付汇总表一致"),
    re.compile(r"各项目资助金额之和等于拨付汇总表的合计金额"),
)
SUMMARY = re.compile(r"校验(\d+)项：(\d+)项通过，(\d+)项未通过")
SERVER_START_S = 60
KERNEL_START_MS = 60_000
RUN_ALL_MS = 120_000


# ---------------------------------------------------------------- the county-year and notebooks


def failing_county_year(target: Path) -> Path:
    """The bundled sample as 测试县/2022, failing checks in the middle of the checks' order.

    The year before comes along unchanged, so that the narrative's year-on-year figures have
    their previous year and only the planted faults fail.
    """
    sample = paths.RAW_DIR / paths.SAMPLE_COUNTY
    shutil.copytree(sample / str(YEAR - 1), target.parent / str(YEAR - 1))
    shutil.copytree(sample / str(YEAR), target)
    control = target / f"{YEAR}年资助资金拨付汇总表.csv"
    text = control.read_bytes().decode("gbk")
    # One programme's amount and the 合计 both 100 元 more: the ledger no longer agrees with
    # the finance office's totals, while the control sheet's own 合计 still adds up.
    changed = text.replace(
        "普通高中,国家助学金,2310,2297000.00", "普通高中,国家助学金,2310,2297100.00"
    )
    changed = changed.replace("合计,,12837,11346453.00", "合计,,12837,11346553.00")
    assert changed.count("2297100.00") == changed.count("11346553.00") == 1, "the sample changed"
    control.write_bytes(changed.encode("gbk"))
    roster = target / "行政执法人员名册.xlsx"
    wb = openpyxl.load_workbook(roster)
    ws = wb.active
    header = next(r for r in ws.iter_rows() if any(c.value == "用工性质" for c in r))
    col = next(c.column for c in header if c.value == "用工性质")
    officer = next(
        ws.cell(row=r, column=col)
        for r in range(header[0].row + 1, ws.max_row + 1)
        if ws.cell(row=r, column=col).value == "在编"
    )
    officer.value = "合同工"
    wb.save(roster)
    return target


def write_notebook(name: str, folder: Path, data_dir: Path, run_dir: Path) -> Path:
    """A copy of notebooks/<name>.ipynb whose parameters cell points at the test folders."""
    nb = nbformat.read(paths.NOTEBOOKS_DIR / f"{name}.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = (
        "# 参数 parameters（测试用 test copy）\n"
        f"county = {COUNTY!r}\n"
        f"year = {YEAR}\n"
        f"data_dir = {str(data_dir)!r}\n"
        f"run_dir = {str(run_dir)!r}\n"
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


# ---------------------------------------------------------------- the server


@dataclass
class Lab:
    url: str
    token: str
    root: Path  # the server's root_dir
    run: Path  # run_dir of the notebooks at the root
    fresh_run: Path  # run_dir of fresh/2_validate.ipynb, never cleaned

    def api(self, method: str, path: str) -> Any:
        req = urllib.request.Request(
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        for kernel in self.api("GET", "/api/kernels"):
            try:
                self.api("DELETE", f"/api/kernels/{kernel['id']}")
            except urllib.error.URLError:
                pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (kernels run in process groups of their own)."""
    kids: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for kid in kids.get(todo.pop(), []):
            found.append(kid)
            todo.append(kid)
    return found


def stop(proc: subprocess.Popen[bytes], lab: Lab) -> None:
    """Shut the kernels down, then the server's process group; kill what is left, by pid."""
    left = descendants(proc.pid)
    try:
        lab.shutdown_kernels()
    except OSError:  # URLError included: the server is already gone
        pass
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab on 127.0.0.1 rooted at a folder of notebook copies; always shut down."""
    base = tmp_path_factory.mktemp("lab")
    data = failing_county_year(base / "data" / COUNTY / str(YEAR))
    root = base / "notebooks"
    run, fresh_run = base / "outputs" / "run", base / "outputs" / "fresh"
    for name in NOTEBOOKS:
        write_notebook(name, root, data, run)
    write_notebook("2_validate", root / "fresh", data, fresh_run)
    home = base / "jupyter"  # nothing read from or written to the user's own Jupyter folders
    settings = home / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(  # no "fetch news?" toast
        json.dumps({"fetchNews": "false", "checkForUpdates": False}), "utf-8"
    )
    env = {
        **os.environ,
        "EDUREPORT_PSEUDONYM_KEY": TEST_KEY,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "IPYTHONDIR": str(home / "ipython"),
    }
    port, token = free_port(), secrets.token_hex(16)
    argv = [
        str(BIN / "jupyter"),
        "lab",
        "--no-browser",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",  # ServerApp.token is deprecated
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.root_dir={root}",
        *(["--allow-root"] if os.geteuid() == 0 else []),  # CI runs as root
    ]
    log = base / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            argv, env=env, cwd=root, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Lab(f"http://127.0.0.1:{port}", token, root, run, fresh_run)
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
            try:
                server.api("GET", "/api/status")
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"jupyter lab did not answer:\n{log.read_text()[-3000:]}")
                time.sleep(0.25)
        yield server
    finally:
        stop(proc, server)


@pytest.fixture(scope="module")
def browser(lab: Lab) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield chromium
        finally:
            chromium.close()


# ---------------------------------------------------------------- driving JupyterLab

PANEL = """const panel = [...document.querySelectorAll('.jp-NotebookPanel')]
    .find(p => !p.classList.contains('lm-mod-hidden'));"""
# The notebook is loaded (until then the panel shows one empty cell and "No Kernel", and Run
# All would ask which kernel to start) and its kernel connected and idle.
READY = f"""([cells]) => {{
  {PANEL}
  if (!panel || panel.querySelectorAll('.jp-Cell').length !== cells) return false;
  const name = panel.querySelector('.jp-KernelName');
  const status = panel.querySelector('.jp-Notebook-ExecutionIndicator');
  return !!name && !/No Kernel/.test(name.textContent) && !!status
    && status.getAttribute('data-status') === 'idle';
}}"""
# The kernel is idle, no cell waits or runs ([*]), the first ``executed`` code cells have run.
DONE = f"""([executed]) => {{
  {PANEL}
  if (!panel) return false;
  const status = panel.querySelector('.jp-Notebook-ExecutionIndicator');
  if (!status || status.getAttribute('data-status') !== 'idle') return false;
  const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
    .map(p => p.textContent);
  return !prompts.some(p => p.includes('*')) && prompts.length >= executed
    && prompts.slice(0, executed).every(p => /\\[\\d+\\]/.test(p));
}}"""
# Whether every point just inside the element's corners and its centre shows the element (not
# clipped by a scrolled container, not covered by something else).
UNOBSCURED = """el => {
  const r = el.getBoundingClientRect();
  const pts = [[r.left + 2, r.top + 2], [r.right - 2, r.top + 2], [r.left + 2, r.bottom - 2],
               [r.right - 2, r.bottom - 2], [(r.left + r.right) / 2, (r.top + r.bottom) / 2]];
  return pts.every(([x, y]) => { const e = document.elementFromPoint(x, y);
                                 return !!e && (e === el || el.contains(e)); });
}"""


def open_notebook(browser: Browser, lab: Lab, path: str) -> Page:
    """A new page with only ``path`` open, all its cells shown and its kernel idle."""
    cells = len(nbformat.read(lab.root / path, as_version=4).cells)
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(30_000)
    page.goto(f"{lab.url}/lab/tree/{path}?reset&token={lab.token}")
    page.wait_for_function(READY, arg=[cells], timeout=KERNEL_START_MS, polling=250)
    deadline = time.monotonic() + KERNEL_START_MS / 1000
    while not any(
        s["path"] == path and s["kernel"]["execution_state"] == "idle"
        for s in lab.api("GET", "/api/sessions")
    ):
        assert time.monotonic() < deadline, f"no idle kernel for {path}"
        time.sleep(0.25)
    return page


def run_all(page: Page, executed: int) -> Locator:
    """Run → Run All Cells; wait until the first ``executed`` code cells have run (a cell that
    raises stops the rest) and the kernel is idle; return the notebook panel."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    page.wait_for_function(DONE, arg=[executed], timeout=RUN_ALL_MS, polling=250)
    return page.locator(".jp-NotebookPanel:visible")


def code_cell(panel: Locator, source: str) -> Locator:
    """The one code cell whose source contains ``source``."""
    cells = panel.locator(".jp-CodeCell").filter(
        has=panel.page.locator(".jp-InputArea", has_text=source)
    )
    assert cells.count() == 1, f"one code cell with {source!r}"
    return cells.first


def scroll_to_top_of(cell: Locator) -> None:
    cell.evaluate("el => el.scrollIntoView({block: 'start'})")
    cell.page.wait_for_timeout(300)  # let the notebook's windowed panel settle


def output_problems(panel: Locator) -> list[str]:
    """Errors, pandas tables cut short ("…" rows) and English-only column headers in outputs."""
    problems = []
    outputs = panel.locator(".jp-OutputArea-output")
    for i in range(outputs.count()):
        out = outputs.nth(i)
        text = out.inner_text()
        if "error" in (out.get_attribute("data-mime-type") or ""):
            problems.append(f"output {i} is an error: {text[-500:]!r}")
        if re.search(r"^[\s.…]*(\.\.\.|…)[\s.…]*$", text, re.M) or re.search(
            r"\[\d+ rows x \d+ columns\]", text
        ):
            problems.append(f"output {i} shows a truncated table: {text[:300]!r}")
        problems += [
            f"output {i} has an English-only header {th!r}"
            for th in out.locator("th").all_inner_texts()
            if th.strip() and not CJK.search(th)
        ]
    return problems


def off_screen(element: Locator) -> str | None:
    """Why ``element`` is not wholly in the viewport and unobscured (None if it is)."""
    if not element.is_visible():
        return "not visible"
    box = element.bounding_box()
    if box is None:
        return "no box"
    w, h = VIEWPORT["width"], VIEWPORT["height"]
    if box["x"] < 0 or box["y"] < 0 or box["x"] + box["width"] > w or box["y"] + box["height"] > h:
        return f"outside the {w}×{h} viewport: {box}"
    return None if element.evaluate(UNOBSCURED) else f"clipped or covered: {box}"


# ---------------------------------------------------------------- the tests


@pytest.mark.timeout(240)
def test_validate_before_clean_names_step_1(lab: Lab, browser: Browser, tmp_path: Path) -> None:
    page = open_notebook(browser, lab, "fresh/2_validate.ipynb")
    try:
        panel = run_all(page, executed=2)
        cell = code_cell(panel, "validation_overview")
        scroll_to_top_of(cell)
        page.screenshot(path=str(tmp_path / "2_validate-before-clean.png"))
        text = "\n".join(cell.locator(".jp-OutputArea-output").all_inner_texts())
    finally:
        page.close()
        lab.shutdown_kernels()
    assert "请先运行第一步" in text and "清洗" in text, text[-2000:]
    assert "1_clean.ipynb" in text, text[-2000:]
    assert "FileNotFoundError" not in text, text[-2000:]
    assert not (lab.fresh_run / "validation.json").exists()


@pytest.mark.timeout(240)
def test_failed_checks_first_and_on_screen(lab: Lab, browser: Browser, tmp_path: Path) -> None:
    page = open_notebook(browser, lab, "1_clean.ipynb")
    try:
        panel = run_all(page, executed=3)
        panel.locator(".jp-CodeCell").last.locator(".jp-OutputArea-output").first.wait_for()
        scroll_to_top_of(code_cell(panel, "clean_overview"))
        page.screenshot(path=str(tmp_path / "1_clean.png"))
        problems = [f"1_clean {p}" for p in output_problems(panel)]
    finally:
        page.close()
    assert (lab.run / "conservation.json").exists()

    page = open_notebook(browser, lab, "2_validate.ipynb")
    try:
        panel = run_all(page, executed=3)
        every = code_cell(panel, "all_checks")
        every.locator(".jp-OutputArea-output").first.wait_for()
        cell = code_cell(panel, "validation_overview")
        scroll_to_top_of(cell)
        page.screenshot(path=str(tmp_path / "2_validate.png"))
        first = cell.locator(".jp-OutputArea-output").first
        first_text = first.inner_text()
        hidden = {"summary line": off_screen(first.locator("p", has_text=SUMMARY).first)}
        hidden |= {
            r.pattern: off_screen(first.locator("td", has_text=r).first) for r in FAILED_RULES
        }
        wide = first.evaluate("el => el.scrollWidth > el.clientWidth + 1")
        failed_first = page.evaluate(
            "([a, b]) => !!(a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING)",
            [first.element_handle(), every.element_handle()],
        )
        every_rows = every.locator(".jp-OutputArea-output tr")
        listed = every_rows.count() - 1  # less the header row
        statuses = [
            every_rows.nth(i).locator("td").first.inner_text() for i in range(1, min(listed, 6))
        ]
        scroll_to_top_of(every)
        page.screenshot(path=str(tmp_path / "2_validate-every-check.png"))
        problems += [f"2_validate {p}" for p in output_problems(panel)]
    finally:
        page.close()
        lab.shutdown_kernels()

    match = SUMMARY.search(first_text)
    assert match, f"no summary line (校验…项 … 未通过) in the first output:\n{first_text[:1500]}"
    total, passed, failed = map(int, match.groups())
    for rule in FAILED_RULES:
        assert rule.search(first_text), f"{rule.pattern} not among the failed checks"
    assert {k: v for k, v in hidden.items() if v} == {}, "not on screen without scrolling"
    assert not wide, "the results are wider than the output area (a horizontal scroll bar)"
    assert failed_first, "the failed checks come before the list of every check"
    assert problems == []
    assert listed == total, f"every check listed, whole: {listed} rows for {total} checks"
    assert statuses[:failed] == ["未通过"] * min(failed, 5), "failures first in the list"
    # The premise: the planted faults fail checks in the middle of the checks' order.
    checks = json.loads((lab.run / "validation.json").read_text("utf-8"))["checks"]
    assert sum(c["status"] == "failed" for c in checks) == failed and passed + failed <= total
    where = [
        i
        for i, c in enumerate(checks)
        if c["status"] == "failed" and any(r.search(c["rule"]) for r in FAILED_RULES)
    ]
    assert len(where) == len(FAILED_RULES), [checks[i]["rule"] for i in where]
    assert 0 < min(where) and max(where) < len(checks) - 1, where
