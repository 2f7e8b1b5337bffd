"""The validation step's narrative checks on the bundled sample (2022, with 2021 beside it).

What is unfinished (待填写, a missing part) and 同比 without valid data of last year become rows
of the ``narrative`` suite; 同比 is used only after last year's ledgers pass the ledger suites.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from edureport import paths
from edureport.checks.policy import load_policy
from edureport.errors import InputError
from edureport.ingest.clean import CleanResult
from edureport.report import narrative as nv
from edureport.runs import steps, summaries

from .conftest import TEST_KEY

COUNTY, YEAR = paths.SAMPLE_COUNTY, 2022
SAMPLE = paths.RAW_DIR / COUNTY


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sample's two years copied, 2022 cleaned once (2021 beside it): (data, run)."""
    root = tmp_path_factory.mktemp("narr")
    for year in ("2021", "2022"):
        shutil.copytree(SAMPLE / year, root / "data" / COUNTY / year)
    data, run = root / "data" / COUNTY / "2022", root / "run"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDUREPORT_PSEUDONYM_KEY", TEST_KEY)
        steps.clean(COUNTY, YEAR, data, run)
    return data, run


@pytest.fixture
def work(cleaned: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    """A fresh copy of the cleaned sample (data folders and run folder) for one test."""
    data_root, run = cleaned[0].parent, cleaned[1]
    shutil.copytree(data_root, tmp_path / "data" / COUNTY)
    shutil.copytree(run, tmp_path / "run")
    return tmp_path / "data" / COUNTY / "2022", tmp_path / "run"


def _check(data: Path, run: Path) -> tuple[list[dict[str, Any]], list[str]]:
    cleaned = CleanResult.load(run)
    return steps.narrative_checks(COUNTY, YEAR, data, run, cleaned, load_policy(data, YEAR))


def _by_check(problems: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for p in problems:
        out.setdefault(p["check"], []).append(p)
    return out


def test_the_sample_is_finished_and_its_previous_year_valid(work: tuple[Path, Path]) -> None:
    data, run = work
    assert _check(data, run) == ([], [])
    state = json.loads((run / steps.PREVIOUS_STATE).read_text("utf-8"))
    assert state["status"] == "cleaned" and state["validated"] == "passed"
    assert json.loads((run / steps.PREVIOUS / "validation.json").read_text("utf-8"))["passed"]
    assert steps.usable_previous(run) is not None
    assert "publicity_events" not in json.loads((run / "figures.json").read_text("utf-8"))


def test_the_scaffold_fails_with_each_todo_and_its_line(work: tuple[Path, Path]) -> None:
    data, run = work
    (data / nv.NARRATIVE_FILE).write_text(nv.template_text(), encoding="utf-8")
    problems, notes = _check(data, run)
    todo_lines = [
        n
        for n, raw in enumerate(nv.template_text().splitlines(), 1)
        if "（待填写" in raw and not raw.startswith("<!--")
    ]
    assert [(p["check"], p["row"]) for p in problems] == [("todo", n) for n in todo_lines]
    assert all(p["file"] == nv.NARRATIVE_FILE and "待填写" in p["item"] for p in problems)
    assert notes == []


def test_no_narrative_file_is_a_failed_check(work: tuple[Path, Path]) -> None:
    data, run = work
    (data / nv.NARRATIVE_FILE).unlink()
    problems, _ = _check(data, run)
    assert [(p["check"], p["row"]) for p in problems] == [("todo", None)]
    assert "没有叙述文件" in problems[0]["item"] and "edureport new" in problems[0]["item"]


def _without_previous_year(data: Path, run: Path) -> None:
    shutil.rmtree(data.parent / "2021")
    steps._clean_previous(data, run, YEAR)


def test_change_without_last_year_fails_with_the_reason(work: tuple[Path, Path]) -> None:
    data, run = work
    _without_previous_year(data, run)
    problems, notes = _check(data, run)
    rows = _by_check(problems)["previous_missing"]
    lines = (data / nv.NARRATIVE_FILE).read_text("utf-8").splitlines()
    changes = [n for n, line in enumerate(lines, 1) for _ in range(line.count(".change }}"))]
    assert len(changes) >= 3  # the sample's narrative uses 同比 in several places
    assert [p["row"] for p in rows] == changes and len(problems) == len(changes)
    first = changes[0]
    assert "{{ aid_total_count.change }}" in rows[0]["item"] and f"第{first}行第" in rows[0]["item"]
    assert "没有上年（2021年）的台账文件夹" in rows[0]["item"] and notes == []
    assert steps.usable_previous(run) is None


def test_without_change_a_missing_last_year_is_a_note(work: tuple[Path, Path]) -> None:
    data, run = work
    _without_previous_year(data, run)
    path = data / nv.NARRATIVE_FILE
    path.write_text(re.sub(r"\{\{ \w+\.change \}\}", "", path.read_text("utf-8")), "utf-8")
    problems, notes = _check(data, run)
    assert problems == []
    assert len(notes) == 1 and "2021" in notes[0] and "不影响发布" in notes[0]


def test_last_year_that_fails_validation_feeds_no_change(work: tuple[Path, Path]) -> None:
    data, run = work
    config = data.parent / "2021" / "config.yaml"
    config.write_text(
        config.read_text("utf-8").replace("declared_officers: 7", "declared_officers: 8"), "utf-8"
    )
    problems, _ = _check(data, run)
    rows = _by_check(problems)["previous_invalid"]
    assert len(problems) == len(rows) == 1 and rows[0]["row"] == 16
    item = rows[0]["item"]
    assert "上年（2021年）台账未通过校验" in item and "行政执法人员名册" in item
    assert "执法人员名册人数等于申报的执法人员数" in item
    assert steps.usable_previous(run) is None  # the report shows no 同比 from it
    failed = json.loads((run / steps.PREVIOUS / "validation.json").read_text("utf-8"))
    assert failed["summary"]["failed"] == ["officers.count_matches_declared"]


def test_unreadable_last_year_fails_the_change(work: tuple[Path, Path]) -> None:
    data, run = work
    next((data.parent / "2021").glob("*资助发放*")).unlink()
    steps._clean_previous(data, run, YEAR)
    problems, _ = _check(data, run)
    assert {p["check"] for p in problems} == {"previous_missing"}
    assert "无法读取" in problems[0]["item"]


def test_a_manual_figure_is_referenced_and_needs_last_years_too(work: tuple[Path, Path]) -> None:
    data, run = work
    with open(data / "config.yaml", "a", encoding="utf-8") as fh:
        fh.write(
            "manual_figures:\n  publicity_events: {value: 12, unit: 次, label: 普法宣传活动,"
            " source: 县教育局2022年普法工作总结}\n"
        )
    path = data / nv.NARRATIVE_FILE
    refs = "{{ publicity_events }}{{ publicity_events.change }}"
    text = path.read_text("utf-8").replace(
        "同时建立执法案卷", f"开展普法宣传活动{refs}；同时建立执法案卷"
    )
    assert refs in text
    path.write_text(text, "utf-8")
    problems, _ = _check(data, run)
    assert [p["check"] for p in problems] == ["previous_missing"]
    assert "上年（2021年）没有 publicity_events 这一数字" in problems[0]["item"]
    figure = json.loads((run / "figures.json").read_text("utf-8"))["publicity_events"]
    assert figure["manual"] and figure["source"] == "县教育局2022年普法工作总结"
    assert any("人工填报" in line and "12次" in line for line in summaries.manual_lines(run))


def test_a_typed_number_stops_the_step_with_line_column_and_the_list(
    work: tuple[Path, Path],
) -> None:
    data, run = work
    path = data / nv.NARRATIVE_FILE
    path.write_text(path.read_text("utf-8").replace("亲自部署", "全年7次亲自部署"), "utf-8")
    with pytest.raises(InputError) as err:
        _check(data, run)
    message = str(err.value)
    assert "“7”" in message and str(run / "figures.json") in message
    lines = path.read_text("utf-8").splitlines()
    typed = next(n for n, line in enumerate(lines, 1) if "全年7次亲自部署" in line)
    assert err.value.row == typed and err.value.column is not None
