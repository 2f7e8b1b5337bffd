"""Policy values: national defaults, county-year config.yaml overrides, and their errors."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from edureport import paths
from edureport.checks.policy import CONFIG_NAME, Policy, load_policy, national_defaults
from edureport.errors import InputError

SAMPLE = paths.RAW_DIR / paths.SAMPLE_COUNTY


def write_config(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CONFIG_NAME
    path.write_text(text, encoding="utf-8")
    return path


def test_without_config_national_defaults_apply(tmp_path: Path) -> None:
    policy = load_policy(tmp_path, 2022)
    assert policy == national_defaults(2022)
    assert policy.declared_officers is None  # → the officer-count check is "not configured"
    assert policy.report_date == dt.date(2022, 12, 31)
    assert policy.training_hours_required == 40
    assert policy.source is None and policy.overridden == ()
    assert policy.year_start == dt.datetime(2022, 1, 1)
    assert policy.year_end.date() == dt.date(2022, 12, 31)


def test_national_standards_and_programmes(tmp_path: Path) -> None:
    policy = load_policy(tmp_path, 2022)
    fen = {(s.stage, s.programme): s.amounts_fen for s in policy.standards}
    assert fen == {
        ("中等职业教育", "国家助学金"): (100_000,),
        ("中等职业教育", "免学费"): (100_000,),
        ("中等职业教育", "免书费、免住宿费"): (40_000,),
        ("普通高中", "国家助学金"): (100_000, 50_000),
    }
    assert set(policy.valid_pairs) == {
        ("学前教育", "学前教育资助"),
        ("义务教育", "家庭经济困难学生生活费补助"),
        ("普通高中", "国家助学金"),
        ("普通高中", "建档立卡学生免学费、免书费、免住宿费"),
        ("中等职业教育", "国家助学金"),
        ("中等职业教育", "免学费"),
        ("中等职业教育", "免书费、免住宿费"),
    }
    assert policy.registered_poor_only == ("建档立卡学生免学费、免书费、免住宿费",)
    by_pair = {(s.stage, s.programme): s for s in policy.standards}
    assert ("学前教育", "学前教育资助") not in by_pair  # amounts vary per student
    assert by_pair[("普通高中", "国家助学金")].code == "senior_high_grant"


@pytest.mark.parametrize(("year", "officers"), [(2022, 7), (2021, 7)])
def test_sample_configs(year: int, officers: int) -> None:
    policy = load_policy(SAMPLE / str(year), year)
    assert policy.declared_officers == officers
    assert policy.report_date == dt.date(year, 12, 31)
    assert policy.training_hours_required == 40
    assert policy.source is not None and policy.source.endswith(CONFIG_NAME)
    assert set(policy.overridden) == {"declared_officers", "report_date"}


def test_overrides(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        "# 注释\n"
        "declared_officers: 12\n"
        "report_date: '2023-01-15'\n"
        "training_hours_required: 48.5\n"
        "standards:\n"
        "  中等职业教育:\n"
        "    免书费、免住宿费: 400.5\n"
        "  普通高中:\n"
        "    国家助学金: [1000, '750.25', 500]\n",
    )
    policy = load_policy(tmp_path, 2022)
    assert policy.declared_officers == 12
    assert policy.report_date == dt.date(2023, 1, 15)
    assert policy.training_hours_required == 48.5
    fen = {(s.stage, s.programme): s.amounts_fen for s in policy.standards}
    assert fen[("中等职业教育", "免书费、免住宿费")] == (40_050,)
    assert fen[("普通高中", "国家助学金")] == (100_000, 75_025, 50_000)
    assert fen[("中等职业教育", "免学费")] == (100_000,)  # not overridden
    assert [s.code for s in policy.standards] == [s.code for s in national_defaults(2022).standards]


def test_empty_config_and_explicit_nulls_keep_defaults(tmp_path: Path) -> None:
    write_config(tmp_path, "# 只有注释\n")
    assert load_policy(tmp_path, 2022).declared_officers is None
    write_config(tmp_path, "declared_officers:\nreport_date:\n")
    policy = load_policy(tmp_path, 2022)
    assert policy.declared_officers is None and policy.report_date == dt.date(2022, 12, 31)


def test_policy_is_frozen(tmp_path: Path) -> None:
    policy = load_policy(tmp_path, 2022)
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.declared_officers = 3  # type: ignore[misc]
    assert isinstance(policy, Policy)


BAD_VALUES = [
    ("declared_officers: 七\n", "declared_officers", 1),
    ("declared_officers: -1\n", "declared_officers", 1),
    ("declared_officers: 7.5\n", "declared_officers", 1),
    ("declared_officers: true\n", "declared_officers", 1),
    ("report_date: 2022/12/31\n", "report_date", 1),
    ("report_date: 2020-12-31\n", "report_date", 1),
    ("report_date: 12\n", "report_date", 1),
    ("\ntraining_hours_required: -4\n", "training_hours_required", 2),
    ("training_hours_required: 四十\n", "training_hours_required", 1),
    ("officers: 7\n", "officers", 1),
    ("standards: 1000\n", "standards", 1),
    ("standards:\n  中等职业教育: 1000\n", "standards.中等职业教育", 2),
    ("standards:\n  学前教育:\n    学前教育资助: 500\n", "standards.学前教育.学前教育资助", 3),
    ("standards:\n  中等职业教育:\n    免学费: 0\n", "standards.中等职业教育.免学费", 3),
    ("standards:\n  中等职业教育:\n    免学费: 1000.005\n", "standards.中等职业教育.免学费", 3),
    ("standards:\n  中等职业教育:\n    免学费: 一千\n", "standards.中等职业教育.免学费", 3),
    ("standards:\n  中等职业教育:\n    免学费: []\n", "standards.中等职业教育.免学费", 3),
]


@pytest.mark.parametrize(("text", "key", "line"), BAD_VALUES, ids=[b[0] for b in BAD_VALUES])
def test_bad_values_name_file_key_and_line(tmp_path: Path, text: str, key: str, line: int) -> None:
    path = write_config(tmp_path, text)
    with pytest.raises(InputError) as info:
        load_policy(tmp_path, 2022)
    message = str(info.value)
    assert str(path) in message and key in message
    assert info.value.file == str(path) and info.value.row == line


def test_bad_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, "declared_officers: 7\nreport_date: [2022-12-31\n")
    with pytest.raises(InputError, match="YAML") as info:
        load_policy(tmp_path, 2022)
    assert info.value.file == str(path) and info.value.row is not None


@pytest.mark.parametrize("text", ["- 7\n- 2022-12-31\n", "just text\n"])
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str) -> None:
    write_config(tmp_path, text)
    with pytest.raises(InputError, match="映射"):
        load_policy(tmp_path, 2022)


def test_non_utf8_config_is_refused(tmp_path: Path) -> None:
    tmp_path.joinpath(CONFIG_NAME).write_bytes("declared_officers: 7 # 人数\n".encode("gbk"))
    with pytest.raises(InputError, match="UTF-8"):
        load_policy(tmp_path, 2022)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    tmp_path.joinpath(CONFIG_NAME).write_bytes("\ufeffdeclared_officers: 5\n".encode())
    assert load_policy(tmp_path, 2022).declared_officers == 5


@pytest.mark.parametrize("year", [True, "2022", 1800])
def test_bad_year(tmp_path: Path, year: object) -> None:
    with pytest.raises(InputError):
        load_policy(tmp_path, year)  # type: ignore[arg-type]
