"""Shared fixtures: an isolated pseudonym key, and a tiny county-year folder made in the tests."""

from __future__ import annotations

import csv
import html
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from edureport import paths
from edureport.ingest.ids import id_check_digit

BIN = Path(sys.executable).parent


@pytest.fixture(autouse=True)
def _pseudonym_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDUREPORT_PSEUDONYM_KEY", "test-key-not-secret-7f3a9c")


def make_id(first17: str) -> str:
    """A well-formed resident ID with a valid check digit."""
    return first17 + id_check_digit(first17)


def write_csv(path: Path, rows: list[list[object]], encoding: str = "utf-8-sig") -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def write_xlsx(
    path: Path,
    rows: list[list[object]],
    title: str | None = None,
    sheet: str = "Sheet1",
    extra_sheet: bool = False,
) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    if extra_sheet:
        ws.title = "填表说明"
        ws.append(["本表由各校填报"])
        ws = wb.create_sheet(sheet)
    else:
        ws.title = sheet
    if title:
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(len(r) for r in rows))
        ws.append(["填报单位：测试县教育局"])
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


ID_A = make_id("51010720080101123")
ID_B = make_id("51010720070202456")
ID_T = make_id("51010719800101000")

AID_HEADER = [
    "序号",
    "学校名称",
    "学段",
    "资助项目",
    "学生姓名",
    "身份证号",
    "是否建档立卡",
    "学期",
    "金额（元）",
    "发放日期",
]


@pytest.fixture
def county_dir(tmp_path: Path) -> Path:
    """A minimal, valid county-year folder: 测试县/2022 with one row or so per ledger."""
    folder = tmp_path / "data" / "测试县" / "2022"
    folder.mkdir(parents=True)
    write_xlsx(
        folder / "2022年学生资助发放台账.xlsx",
        [
            AID_HEADER,
            [
                1,
                "一中",
                "普高",
                "国家助学金",
                "张三",
                ID_A,
                "否",
                "2022年春季学期",
                "1,000.00",
                "2022/3/5",
            ],
            [
                2,
                "职中",
                "中职",
                "免学费",
                "李四",
                ID_B,
                "否",
                "2022年秋季学期",
                1000,
                "2022年9月1日",
            ],
            [None] * 10,
            ["合计", None, None, None, None, None, None, None, 2000, None],
        ],
        title="2022年学生资助发放台账",
        extra_sheet=True,
        sheet="台账",
    )
    write_csv(
        folder / "资助资金拨付汇总表.csv",
        [
            ["学段", "资助项目", "人次", "金额(元)"],
            ["普通高中", "国家助学金", 1, "1000"],
            ["中等职业教育", "免学费", 1, "1000.00"],
            ["合计", "", 2, "2000"],
        ],
        encoding="gbk",
    )
    write_csv(
        folder / "行政执法人员名册.csv",
        [
            [
                "姓名",
                "性别",
                "所在股室",
                "执法证号",
                "发证日期",
                "有效期至",
                "用工性质",
                "年度培训学时",
            ],
            ["王五", "男", "政策法规股", "JY001", "2020-01-01", "2025-12-31", "正式", "48"],
        ],
    )
    write_csv(
        folder / "教师校长交流台账.csv",
        [
            ["姓名", "证件号码", "身份", "交流类型", "原学校", "交流学校", "开始日期"],
            ["赵六", ID_T, "教师", "轮岗", "城关小学", "河西小学", "2022-9-1"],
        ],
    )
    write_csv(
        folder / "民办教育机构检查台账.csv",
        [
            ["机构名称", "机构类型", "办学许可证号", "检查日期", "检查结论"],
            ["阳光幼儿园", "幼儿园", "XK001", "2022-5-1", "合格"],
            ["启明培训", "培训机构", "", "2022-6-1", "取缔"],
        ],
    )
    write_csv(
        folder / "民办教育机构审批台账.csv",
        [
            ["机构名称", "机构类型", "审批日期", "办学许可证号"],
            ["星星幼儿园", "民办幼儿园", "2022-6-1", "XK002"],
        ],
    )
    return folder


def page_text(path: Path) -> str:
    """The visible text of an HTML page (tags, styles and white space removed)."""
    return visible_text(path.read_text(encoding="utf-8"))


def visible_text(page: str) -> str:
    """The visible text of HTML (tags, styles and white space removed)."""
    page = re.sub(r"<style.*?</style>", "", page, flags=re.S)
    return re.sub(r"\s+", "", html.unescape(re.sub(r"<[^>]+>", "", page)))


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One run of `edureport run` on the bundled sample, shared by the end-to-end tests."""
    out = tmp_path_factory.mktemp("out")
    return publish(paths.RAW_DIR, out)


# ---------------------------------------------------------------- hostile inputs, privacy (issue 8)

SAMPLE_DIR = paths.RAW_DIR / paths.SAMPLE_COUNTY / str(paths.SAMPLE_YEAR)
TEST_KEY = "test-key-not-secret-7f3a9c"


def sample_copy(root: Path) -> Path:
    """A copy of the bundled sample's county-year folder as ``<root>/<county>/<year>``, with
    last year's folder beside it (the sample's narrative uses 同比, which needs it)."""
    import shutil

    target = root / paths.SAMPLE_COUNTY / str(paths.SAMPLE_YEAR)
    shutil.copytree(SAMPLE_DIR, target)
    shutil.copytree(
        SAMPLE_DIR.parent / str(paths.SAMPLE_YEAR - 1), target.parent / str(paths.SAMPLE_YEAR - 1)
    )
    return target


def edureport(
    *args: str | Path,
    key: str = TEST_KEY,
    background: bool = False,
    timeout: float = 900,
    env: dict[str, str] | None = None,
) -> Any:
    """The one way tests start the console script: ``edureport *args`` with the test pseudonym
    key (and ``env`` added); finished (CompletedProcess) or, with ``background``, running."""
    env = {**os.environ, "EDUREPORT_PSEUDONYM_KEY": key, **(env or {})}
    argv = [str(BIN / "edureport"), *map(str, args)]
    if background:
        return subprocess.Popen(
            argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)


def run_cli(
    data_root: Path, out_root: Path, key: str = TEST_KEY, *extra: str
) -> subprocess.CompletedProcess[str]:
    """``edureport run`` of the sample county-year (or ``--county``/``--year`` in ``extra``)."""
    return edureport("run", "--data", data_root, "--out", out_root, *extra, key=key)


def publish(data_root: Path, out_root: Path, *extra: str) -> Path:
    """``edureport run`` that must publish; the published county-year folder (the sample's
    unless ``extra`` names another with ``--county``/``--year``)."""
    proc = run_cli(data_root, out_root, TEST_KEY, *extra)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("报告已发布") and last.endswith("report.html"), last
    return Path(last.split(": ", 1)[1]).parent


def patch_readers(monkeypatch: Any, name: str, value: object) -> None:
    """Replace ``name`` in every module of edureport.ingest.readers that holds it (a helper one
    module defines and others import), so the readers all see ``value``."""
    import importlib

    for module in ("sheet", "delimited", "xlsx", "xlsx_scan", "xls"):
        mod = importlib.import_module(f"edureport.ingest.readers.{module}")
        if hasattr(mod, name):
            monkeypatch.setattr(mod, name, value)


def rewrite_part(src: Path, dst: Path, part: str, change: object) -> Path:
    """Copy a zip (an .xlsx), passing one member through ``change(bytes) -> bytes``."""
    import zipfile

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == part:
                data = change(data)  # type: ignore[operator]
            zout.writestr(item, data)
    return dst
