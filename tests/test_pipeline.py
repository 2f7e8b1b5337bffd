"""End to end on the bundled sample: the CLI publishes a report stating F1–F18; notebooks run."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from edureport import paths

from .conftest import BIN, edureport, page_text

pytestmark = pytest.mark.slow

# figures-2022.md: each figure as the report states it (value with its unit).
F = {
    "F1": ["检查合格29所"],
    "F2": ["取缔无证校外培训机构8所"],
    "F3": ["新审批民办幼儿园4所"],
    "F4": ["12837人次"],
    "F5": ["1134.65万元"],
    "F6": ["学前教育资助459人次", "19.17万元"],
    "F7": ["生活费补助2419人次", "110.12万元"],
    "F8": ["普通高中国家助学金2310人次", "229.70万元"],
    "F9": ["免住宿费606人次", "84.27万元"],
    "F10": ["中职国家助学金799人次", "79.90万元"],
    "F11": ["中职免学费6029人次", "602.90万元"],
    "F12": ["免住宿费215人次", "8.60万元"],
    "F13": ["交流共318人"],
    "F14": ["教师294人", "校长24人"],
    "F15": ["走教教师23人"],
    "F16": ["涉及学校16所"],
    "F17": ["行政执法人员7人", "持有效行政执法证件7人"],
    "F18": ["无执法资格人员上岗执法0人"],
}


@pytest.mark.parametrize("figure", sorted(F))
def test_report_states_each_figure(published: Path, figure: str) -> None:
    text = page_text(published / "report.html")
    for phrase in F[figure]:
        assert phrase in text, (figure, phrase)


def test_sections_in_reference_order(published: Path) -> None:
    text = page_text(published / "report.html")
    marks = [
        "2022年度法治政府建设情况工作报告",
        "一、主要做法与成效",
        "二、存在的主要问题",
        "三、下一步工作措施",
    ]
    positions = [text.index(m) for m in marks]
    assert positions == sorted(positions)


def test_rounding_note_and_year_on_year(published: Path) -> None:
    text = page_text(published / "report.html")
    assert "四舍五入" in text and "1134.66" in text
    assert "比上年" in text


def test_report_is_offline_and_codeless(published: Path) -> None:
    raw = (published / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", raw)
    assert "<script" not in raw and "import " not in raw and "In&nbsp;[" not in raw


def test_published_layout(published: Path) -> None:
    for name in (
        "report.html",
        "validation.html",
        "validation.json",
        "figures.json",
        "set_aside.csv",
        "conservation.json",
        "cleaned/aid.parquet",
        "notebooks/1_clean.ipynb",
        "notebooks/3_report.ipynb",
    ):
        assert (published / name).exists(), name
    figures = json.loads((published / "figures.json").read_text(encoding="utf-8"))
    assert figures["aid_total_amount"]["value"] == 1134645300
    conservation = json.loads((published / "conservation.json").read_text("utf-8"))
    for c in conservation["conservation"].values():
        assert c["raw_rows"] == c["cleaned_rows"] + c["set_aside_rows"]


@pytest.mark.parametrize("extra", [[], ["-p", "year", "2021"]], ids=["defaults", "year2021"])
def test_notebooks_run_under_papermill_cli(tmp_path: Path, extra: list[str]) -> None:
    for name in ("1_clean", "2_validate", "3_report"):
        proc = subprocess.run(
            [
                BIN / "papermill",
                f"notebooks/{name}.ipynb",
                str(tmp_path / f"{name}.ipynb"),
                *extra,
                "--no-progress-bar",
            ],
            cwd=paths.REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]


def test_bad_input_is_one_clear_message(tmp_path: Path) -> None:
    (tmp_path / "某县" / "2022").mkdir(parents=True)
    proc = edureport("run", "--county", "某县", "--data", tmp_path, "--out", tmp_path / "out")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "缺少学生资助发放台账" in proc.stderr
    assert not (tmp_path / "out" / "某县" / "2022" / "report.html").exists()
