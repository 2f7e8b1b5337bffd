"""`edureport new` makes a folder ready to fill; `edureport check` lists every problem at once."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from edureport import cli, paths
from edureport.checks.policy import load_policy
from edureport.errors import EXIT_BAD_INPUT

SAMPLE = paths.RAW_DIR / paths.SAMPLE_COUNTY / "2022"


def test_new_creates_the_folder_and_everything_to_fill(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert cli.main(["new", "--county", "新县", "--year", "2023", "--data", str(tmp_path)]) == 0
    folder = tmp_path / "新县" / "2023"
    names = {p.name for p in folder.iterdir()}
    assert names == {"narrative.md", "config.yaml", "台账清单.txt"}
    assert load_policy(folder, 2023).declared_officers is None  # every key commented out
    listing = (folder / "台账清单.txt").read_text("utf-8")
    for keyword in ("资助发放", "拨付汇总", "执法人员", "交流", "检查", "审批"):
        assert f"文件名含“{keyword}”" in listing
    assert "金额（元）" in listing and "2023年春季学期" in listing
    (folder / "narrative.md").write_text("# 我的叙述\n", "utf-8")
    assert cli.main(["new", "--county", "新县", "--year", "2023", "--data", str(tmp_path)]) == 0
    assert (folder / "narrative.md").read_text("utf-8") == "# 我的叙述\n"  # never overwritten
    assert "已存在" in capsys.readouterr().out


def test_check_of_an_empty_folder_names_all_six_ledgers_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    cli.main(["new", "--county", "新县", "--year", "2023", "--data", str(tmp_path)])
    capsys.readouterr()
    code = cli.main(["check", "--county", "新县", "--year", "2023", "--data", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == EXIT_BAD_INPUT
    assert out.count("✗ 错误") == 6 and "6 个问题" in out
    for title in ("学生资助发放台账", "资助资金拨付汇总表", "行政执法人员名册"):
        assert f"缺少{title}" in out


def test_check_lists_an_unreadable_ledger_and_an_unaccepted_row_together(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    folder = tmp_path / "测试县" / "2022"
    shutil.copytree(SAMPLE, folder)
    (folder / "2022年民办教育机构审批台账.xlsx").write_bytes(b"PK\x03\x04 not a workbook")
    roster = folder / "行政执法人员名册.xlsx"
    wb = openpyxl.load_workbook(roster)
    wb.active.append(["某某", "男", "政策法规股", "41010220150009", None, "长期", "编外", 40])
    wb.save(roster)
    code = cli.main(["check", "--county", "测试县", "--year", "2022", "--data", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == EXIT_BAD_INPUT
    errors = [line for line in out.splitlines() if line.startswith("✗")]
    assert len(errors) == 2, out
    assert "审批台账" in errors[0] or "审批台账" in errors[1]
    assert any("行政执法人员名册.xlsx 第10行" in e and "accepted_set_aside" in e for e in errors)
    assert "某某" not in out


def test_check_of_the_sample_finds_nothing_wrong(capsys: pytest.CaptureFixture) -> None:
    code = cli.main(["check", "--data", str(paths.RAW_DIR)])
    out = capsys.readouterr().out
    assert code == 0 and "未发现问题" in out and "✗" not in out


def test_data_may_be_the_root_or_the_county_year_folder(capsys: pytest.CaptureFixture) -> None:
    from edureport.runs import steps

    for data in (paths.RAW_DIR, SAMPLE):
        assert cli.main(["check", "--data", str(data)]) == 0, capsys.readouterr().out
        assert steps.resolve(paths.SAMPLE_COUNTY, 2022, data)[0] == SAMPLE.resolve()


def test_check_words_a_disagreeing_total_as_validation_does(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    folder = tmp_path / "测试县" / "2022"
    shutil.copytree(SAMPLE, folder)
    control = next(folder.glob("*拨付汇总*.csv"))
    lines = control.read_bytes().decode("gbk").splitlines()
    total = next(i for i, line in enumerate(lines) if line.startswith("合计"))
    cells = lines[total].split(",")
    cells[-1] = f"{float(cells[-1]) + 100:.2f}"
    lines[total] = ",".join(cells)
    control.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    assert cli.main(["check", "--county", "测试县", "--year", "2022", "--data", str(tmp_path)]) == 2
    errors = [line for line in capsys.readouterr().out.splitlines() if line.startswith("✗")]
    assert len(errors) == 1 and f"第{total + 1}行" in errors[0], errors
    assert "合计行（金额）" in errors[0] and "元" in errors[0] and "分" not in errors[0]
