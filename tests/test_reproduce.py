"""``edureport reproduce``: a recorded run re-run from its record and compared, never published;
inputs that changed or are gone named; another key refused; each difference listed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from edureport import paths
from edureport.errors import EXIT_BAD_INPUT, EXIT_DIFFERS, EXIT_OK, EXIT_USAGE
from edureport.runs import reproduce

from .conftest import TEST_KEY, edureport, run_cli, sample_copy

COUNTY, YEAR = paths.SAMPLE_COUNTY, paths.SAMPLE_YEAR


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """data/ (a copy of the sample) and out/ (its one published run)."""
    root = tmp_path_factory.mktemp("reproduce")
    sample_copy(root / "data")
    proc = run_cli(root / "data", root / "out")
    assert proc.returncode == 0, proc.stderr
    return root


@pytest.fixture
def work(baseline: Path, tmp_path: Path) -> Path:
    shutil.copytree(baseline, tmp_path / "w", symlinks=True)
    return tmp_path / "w"


def target(root: Path) -> Path:
    return root / "out" / COUNTY / str(YEAR)


def the_run(root: Path) -> Path:
    (run_dir,) = (target(root) / "runs").iterdir()
    return run_dir


def edureport_reproduce(
    root: Path, run_id: str, *extra: str, key: str = TEST_KEY, data: bool = True
) -> subprocess.CompletedProcess[str]:
    """``edureport reproduce`` with ``root``'s data (``data``; else the recorded folder)."""
    extra = (*extra, "--data", str(root / "data")) if data else extra
    tmp = root / "tmp"  # the staged inputs' private folder goes here: it must be gone after
    tmp.mkdir(exist_ok=True)
    env = {"TMPDIR": str(tmp)}
    proc = edureport("reproduce", run_id, "--out", root / "out", *extra, key=key, env=env)
    assert not list(tmp.iterdir()), "the staged copies of the ledgers were left behind"
    return proc


def published_state(root: Path) -> tuple[str, bytes, list[str]]:
    t = target(root)
    return os.readlink(t / "current"), (t / "report.html").read_bytes(), sorted(os.listdir(t))


def reproduction(root: Path) -> Path:
    (run_dir,) = (target(root) / "reproductions").iterdir()
    return run_dir


def test_the_sample_reproduces_identically(work: Path) -> None:
    before, run_dir = published_state(work), the_run(work)
    proc = edureport_reproduce(work, run_dir.name, data=False)  # the recorded data folder
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("复现结果一致 identical") and run_dir.name in last
    assert "Traceback" not in proc.stderr
    # a check, not a publication: the published report and its runs are as they were
    assert published_state(work)[:2] == before[:2]
    assert [p.name for p in (target(work) / "runs").iterdir()] == [run_dir.name]
    again = reproduction(work)
    record = json.loads((again / "run.json").read_text("utf-8"))
    assert record["reproduces"] == run_dir.name and record["status"] == "reproduced"
    assert record["exit_code"] == EXIT_OK and record["reproduction"]["identical"] is True
    assert record["inputs"] == json.loads((run_dir / "run.json").read_text("utf-8"))["inputs"]
    assert (again / "figures.json").read_bytes() == (run_dir / "figures.json").read_bytes()


def test_one_changed_ledger_byte_is_named_and_nothing_runs(work: Path) -> None:
    data = work / "data" / COUNTY / str(YEAR)
    ledger = next(p for p in sorted(data.iterdir()) if "交流" in p.name)
    raw = bytearray(ledger.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    ledger.write_bytes(bytes(raw))
    (data.parent / str(YEAR - 1) / "narrative.md").unlink()  # kept in sources/: not a problem
    gone = next(p for p in sorted((data.parent / str(YEAR - 1)).iterdir()) if "审批" in p.name)
    gone.unlink()
    proc = edureport_reproduce(work, the_run(work).name)
    assert proc.returncode == EXIT_BAD_INPUT, proc.stdout + proc.stderr
    assert f"{ledger}（已改变 changed" in proc.stderr and f"{gone}（已不存在 gone）" in proc.stderr
    assert "narrative.md" not in proc.stderr and "Traceback" not in proc.stderr
    assert not (target(work) / "reproductions").exists()


def test_the_narrative_and_config_the_run_used_come_from_its_folder(work: Path) -> None:
    """The analyst edited narrative.md and config.yaml since: the run's copies are used."""
    data = work / "data" / COUNTY / str(YEAR)
    with open(data / "narrative.md", "a", encoding="utf-8") as fh:
        fh.write("\n新增一段。\n")
    with open(data / "config.yaml", "a", encoding="utf-8") as fh:
        fh.write("\n# edited\n")
    (data / "新台账草稿.csv").write_text("a,b\n", "utf-8")  # not read by the run: left out
    proc = edureport_reproduce(work, the_run(work).name)
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    assert "新台账草稿.csv" in proc.stdout  # named as left out


def test_each_difference_is_listed(work: Path) -> None:
    """The record says otherwise than the inputs give now (as if the code had changed)."""
    run_dir = the_run(work)
    figures = json.loads((run_dir / "figures.json").read_text("utf-8"))
    figures["aid_total_count"]["value"] += 1
    figures["aid_total_count"]["text"] = f"{figures['aid_total_count']['value']}人次"
    (run_dir / "figures.json").write_text(json.dumps(figures, ensure_ascii=False), "utf-8")
    report = (run_dir / "report.html").read_text("utf-8")
    (run_dir / "report.html").write_text(report.replace("依法行政", "依法办事", 1), "utf-8")
    proc = edureport_reproduce(work, run_dir.name)
    assert proc.returncode == EXIT_DIFFERS == 4, proc.stdout + proc.stderr
    out = proc.stdout
    assert "复现结果不同 differs" in out
    assert "数字 figure aid_total_count（学生资助合计人次）" in out
    assert "报告正文 report text: -" in out and "依法办事" in out
    record = json.loads((reproduction(work) / "run.json").read_text("utf-8"))
    assert record["status"] == "differs" and record["exit_code"] == EXIT_DIFFERS


def test_another_key_or_an_unknown_run_is_refused(baseline: Path) -> None:
    run_id = the_run(baseline).name
    recorded = json.loads((the_run(baseline) / "run.json").read_text("utf-8"))["key_id"]
    proc = edureport_reproduce(baseline, run_id, key="another-key-0123456789abcdef")
    assert proc.returncode == EXIT_USAGE and recorded in proc.stderr
    assert "the pseudonym key differs" in proc.stderr
    proc = edureport_reproduce(baseline, "20000101T000000-abcdef")
    assert proc.returncode == EXIT_USAGE and "run not found" in proc.stderr
    assert not (target(baseline) / "reproductions").exists()


def test_installed_differences_are_named() -> None:
    from edureport.runs.provenance import (
        code_version,
        lock_sha256,
        package_versions,
        python_version,
    )

    record = {
        "code_version": code_version(),
        "packages": package_versions(),
        "lock_sha256": lock_sha256(),
        "python": python_version(),
    }
    assert reproduce.installed_differences(record) == []
    record["packages"] = {**record["packages"], "pandas": "0.0.1"}
    record |= {"code_version": "0123456789ab", "lock_sha256": "f" * 64}
    lines = reproduce.installed_differences(record)
    assert len(lines) == 3
    assert any("pandas 记录 recorded 0.0.1" in line for line in lines)
    assert any("0123456789ab" in line for line in lines)
    assert any("requirements.lock" in line for line in lines)


def test_report_text_leaves_out_run_id_time_and_version(tmp_path: Path) -> None:
    page = (
        '<html><style>p{}</style><p>资助&amp;金额</p><img alt="aid" src="data:image/png;base64,'
        'QUJD"><footer><p>运行编号 20230105T023000-1a2b3c；生成时间 2023-01-05 02:30；'
        "程序版本 0.2.0（abc123-dirty）。</p></footer></html>"
    )
    (tmp_path / "a.html").write_text(page, "utf-8")
    other = page.replace("20230105T023000-1a2b3c", "20240101T000000-ffffff")
    other = other.replace("2023-01-05 02:30", "2024-01-01 00:00").replace("0.2.0", "0.3.0")
    (tmp_path / "b.html").write_text(other, "utf-8")
    a, b = reproduce.report_text(tmp_path / "a.html"), reproduce.report_text(tmp_path / "b.html")
    assert a == b and a[0] == "资助&金额" and a[1].startswith("[图 chart aid ")
