"""Every row of the README's exit-code table, for ``run`` and ``batch``; names that are paths.

The table's outcomes are produced in-process where a real one would take a minute (a lock held,
a signal), and for real where it is cheap (wrong parameters, a bad narrative, a bad name).
"""

from __future__ import annotations

import re
import signal
from pathlib import Path
from typing import Any

import pytest

from edureport import cli, errors, paths
from edureport.errors import (
    EXIT_BAD_INPUT,
    EXIT_DIFFERS,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_IO,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_TERMINATED,
    EXIT_USAGE,
    EXIT_VALIDATION_FAILED,
    InputError,
    Interrupted,
    LockedError,
    StorageError,
    UsageError,
)
from edureport.runs import pipeline as pl

README = Path(__file__).resolve().parents[1] / "README.md"


def table_codes() -> dict[int, tuple[str, str, str]]:
    """The README's exit-code table: code -> (run, batch, reproduce) descriptions."""
    cell = r" \| ([^|]+?)"
    rows = re.findall(rf"^\| (\d+(?:, \d+)*){cell * 3} \|$", README.read_text("utf-8"), re.M)
    table: dict[int, tuple[str, str, str]] = {}
    for codes, run, batch, again in rows:
        for code in codes.split(", "):
            table[int(code)] = (run, batch, again)
    return table


def _result(code: int) -> pl.RunResult:
    return pl.RunResult(Path("/nonexistent/run"), Path("/nonexistent/report.html"), code == 0, code)


# What makes ``run`` end with each code: a result it returns, or an exception it raises.
OUTCOMES: dict[int, Any] = {
    EXIT_OK: _result(EXIT_OK),
    EXIT_INTERNAL: RuntimeError("a bug"),
    EXIT_BAD_INPUT: InputError("坏文件", file="x.csv", row=3, column="金额"),
    EXIT_VALIDATION_FAILED: _result(EXIT_VALIDATION_FAILED),
    EXIT_USAGE: UsageError("参数错误"),
    EXIT_IO: OSError(28, "No space left on device", "/srv/out/x.json"),
    EXIT_LOCKED: LockedError("另一运行持有锁"),
    EXIT_INTERRUPTED: KeyboardInterrupt(),
    EXIT_TERMINATED: Interrupted(signal.SIGTERM),
}


def test_the_table_lists_every_code_the_package_knows() -> None:
    table = table_codes()
    assert set(table) == set(OUTCOMES) | {EXIT_DIFFERS} == set(errors.STATUS) | {EXIT_OK}
    assert table[EXIT_DIFFERS][:2] == ("—", "—")  # only reproduce ends with it


@pytest.mark.parametrize("code", [EXIT_OK, EXIT_DIFFERS])
def test_reproduce_ends_with_its_codes(
    code: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from edureport.runs import reproduce

    found = reproduce.Reproduction(tmp_path / "a", tmp_path / "b", ["数字 figure x: 1 → 2"][:code])
    monkeypatch.setattr(reproduce, "reproduce", lambda *_args, **_kwargs: found)
    assert cli.main(["reproduce", "20230105T023000-1a2b3c", "--out", str(tmp_path)]) == code
    out = capsys.readouterr().out
    assert ("复现结果一致 identical" in out) == (code == EXIT_OK)
    assert ("数字 figure x: 1 → 2" in out) == (code == EXIT_DIFFERS)


@pytest.mark.parametrize("code", sorted(OUTCOMES))
def test_run_ends_with_each_code_of_the_table(
    code: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert code in table_codes()
    outcome = OUTCOMES[code]
    Interrupted.received = None

    def fake_run(*_args: Any, **_kwargs: Any) -> pl.RunResult:
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    monkeypatch.setattr(pl, "run", fake_run)
    monkeypatch.setattr("edureport.report.site.write_index", lambda _out: None)
    got = cli.main(["run", "--county", "示例县", "--year", "2022", "--out", str(tmp_path)])
    Interrupted.received = None
    assert got == code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if code == EXIT_BAD_INPUT:
        assert "x.csv" in err and "3" in err and "金额" in err
    if code == EXIT_IO:
        assert "磁盘空间不足 disk full: /srv/out/x.json" in err
        assert StorageError.from_os(outcome) is not None


@pytest.mark.parametrize("code", sorted(OUTCOMES))
def test_batch_ends_with_the_most_severe_county_code(
    code: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from edureport.runs import batch

    outcomes = [
        batch.Outcome("甲县", 2022, errors.status_of(EXIT_OK), EXIT_OK, 1.0),
        batch.Outcome("乙县", 2022, errors.status_of(code), code, 1.0),
    ]

    def fake_batch(*_args: Any, **_kwargs: Any) -> batch.BatchResult:
        return batch.BatchResult(outcomes, tmp_path / "rollup.html", tmp_path / "index.html")

    monkeypatch.setattr(batch, "run_batch", fake_batch)
    assert cli.main(["batch", "--year", "2022", "--out", str(tmp_path)]) == code


def test_batch_severity_order_is_the_readmes() -> None:
    text = README.read_text("utf-8")
    order = re.search(r"in the order\s+([\d >]+)\.", text).group(1)
    assert [int(c) for c in order.split(" > ")] == list(errors.SEVERITY)


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--year", "1999"],
        ["run", "--bogus"],
        ["run", "--cell-timeout", "0"],
        ["batch"],
        ["batch", "--year", "2022", "--workers", "0"],
        [],
    ],
)
def test_wrong_parameters_exit_64(argv: list[str], capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == EXIT_USAGE
    assert "参数错误" in capsys.readouterr().err


@pytest.mark.parametrize(
    "line",
    ["今年{{ county.change }}。", "资助情况如下{{ table:aid }}。", "见图{{ chart:aid }}"],
)
def test_misplaced_references_are_bad_input_with_their_line(line: str) -> None:
    from edureport.report import narrative

    known = {"county", "year", "aid_total_amount", "table:aid", "chart:aid"}
    with pytest.raises(InputError) as err:
        narrative.parse(f"# 标题\n\n{line}\n", "narrative.md", known)
    assert err.value.exit_code == EXIT_BAD_INPUT and err.value.row == 3


# --- names that become paths -------------------------------------------------------------------

BAD_COUNTIES = ["..", ".", "../../evil", "a/b", "a\\b", ".hidden", "x\x00y", "x\ny", " 县", "县 ",
                "\u202e县", "", "县" * 65]  # fmt: skip


@pytest.mark.parametrize("county", BAD_COUNTIES)
def test_a_county_that_is_not_one_folder_name_is_refused(county: str) -> None:
    with pytest.raises(UsageError):
        paths.county_year_dir(Path("/data"), county, 2022)
    with pytest.raises(UsageError):
        paths.published_dir(Path("/out"), county, 2022)


def test_good_names_stay_inside_their_root(tmp_path: Path) -> None:
    for county in ("示例县", "测试{x}县", "阿坝藏族羌族自治州汶川县"):
        folder = paths.published_dir(tmp_path, county, 2022)
        assert folder.parent.parent == tmp_path


@pytest.mark.parametrize("command", ["run", "new"])
def test_run_and_new_write_nothing_outside_their_roots(command: str, tmp_path: Path) -> None:
    data, out = tmp_path / "root" / "data", tmp_path / "root" / "out"
    data.mkdir(parents=True)
    argv = [command, "--county", "../../evil", "--year", "2022", "--data", str(data)]
    if command == "run":
        argv += ["--out", str(out)]
    assert cli.main(argv) == EXIT_USAGE
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_a_batch_folder_whose_name_is_no_county_is_one_failed_outcome(tmp_path: Path) -> None:
    from edureport.runs import batch

    options = pl.RunOptions(False, 60, 0)
    outcome = batch.run_county("坏\x01县", 2022, tmp_path, tmp_path / "out", options)
    assert (outcome.exit_code, outcome.figures) == (EXIT_USAGE, {})
    assert not (tmp_path / "out").exists()
