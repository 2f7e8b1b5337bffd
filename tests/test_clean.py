"""The clean step on small files in the real formats: variations read, bad rows set aside."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from edureport.errors import InputError
from edureport.ingest.clean import CleanResult, clean_folder, clean_ledger
from edureport.ingest.ledgers import find_ledgers, read_ledger

from .conftest import AID_HEADER, ID_A, ID_B, make_id, write_csv, write_xlsx


def assert_conserved(result: CleanResult) -> None:
    for ledger, c in result.conservation.items():
        assert c["raw_rows"] == c["cleaned_rows"] + c["set_aside_rows"], ledger


def test_minimal_folder_cleans(county_dir: Path) -> None:
    result = clean_folder(county_dir, 2022)
    assert_conserved(result)
    aid = result.tables["aid"]
    assert aid["amount_fen"].tolist() == [100000, 100000]
    assert aid["stage"].tolist() == ["普通高中", "中等职业教育"]
    assert aid["row"].tolist() == [4, 5]  # two title rows above the header, on a second sheet
    assert result.conservation["aid"]["non_data_rows"] == 5  # 2 title, header, blank, 合计
    assert result.tables["control"]["amount_fen"].sum() == 200000  # GBK CSV, 合计 row skipped
    assert result.tables["officers"]["employment"].tolist() == ["在编"]
    assert result.tables["exchange"]["kind"].tolist() == ["交流轮岗"]
    assert result.tables["inspections"]["licence"].isna().tolist() == [False, True]
    assert result.set_aside.empty


def test_no_personal_data_leaves_the_clean_step(county_dir: Path, tmp_path: Path) -> None:
    result = clean_folder(county_dir, 2022)
    result.write(tmp_path / "run")
    blob = b"".join(p.read_bytes() for p in (tmp_path / "run").rglob("*") if p.is_file())
    text = "".join(t.to_csv() for t in result.tables.values())
    for secret in ("张三", "李四", "王五", "赵六", ID_A, ID_B, ID_A[6:14]):
        assert secret not in text
        assert secret.encode() not in blob


def test_written_result_reads_back(county_dir: Path, tmp_path: Path) -> None:
    result = clean_folder(county_dir, 2022)
    result.write(tmp_path)
    back = CleanResult.load(tmp_path)
    pd.testing.assert_frame_equal(back.tables["aid"], result.tables["aid"])
    assert back.conservation == result.conservation


def _aid(tmp_path: Path, rows: list[list[object]], header: list[str] = AID_HEADER, **kw: object):
    path = write_xlsx(tmp_path / "资助发放.xlsx", [header, *rows], **kw)
    raw = read_ledger("aid", path)
    cleaned, aside = clean_ledger(raw, 2022)
    assert len(raw.frame) == len(cleaned) + len(aside)
    return cleaned, aside


GOOD = [
    1,
    "一中",
    "普通高中",
    "国家助学金",
    "张三",
    ID_A,
    "否",
    "2022年春季学期",
    1000,
    "2022-03-05",
]


def _row(**changes: object) -> list[object]:
    row = list(GOOD)
    for col, value in changes.items():
        row[AID_HEADER.index(col)] = value
    return row


@pytest.mark.parametrize(
    ("bad", "column", "reason"),
    [
        (_row(), "整行", "与第2行完全重复"),
        (
            _row(**{"金额（元）": 500, "发放日期": "2022-04-01"}),
            "学期",
            "同一学生同一项目同一学期重复发放",
        ),
        (_row(学生姓名="李四", 身份证号=ID_B, **{"金额（元）": 0}), "金额", "金额为零或负数"),
        (_row(学生姓名="李四", 身份证号=ID_B, **{"金额（元）": -10}), "金额", "金额为零或负数"),
        (_row(身份证号=ID_B[:-1] + ("0" if ID_B[-1] != "0" else "1")), "身份证号", "校验位错误"),
        (_row(学生姓名="李四", 身份证号=ID_B, 发放日期="2021-12-31"), "发放日期", "不在2022年度"),
        (_row(学生姓名="李四", 身份证号=ID_B, 学段="学前教育"), "资助项目", "该学段没有此资助项目"),
        (_row(学生姓名="李四", 身份证号=ID_B, **{"金额（元）": "一千元"}), "金额", "金额无法识别"),
        (_row(学生姓名="李四", 身份证号=ID_B, 发放日期="某天"), "发放日期", "日期无法识别"),
        (_row(学生姓名="李四", 身份证号=ID_B, 学段="大学"), "学段", "学段无法识别"),
    ],
)
def test_each_set_aside_reason(tmp_path: Path, bad: list[object], column: str, reason: str) -> None:
    cleaned, aside = _aid(tmp_path, [GOOD, bad])
    assert cleaned["row"].tolist() == [2]
    assert aside[["row", "column"]].values.tolist() == [[3, column]]
    assert reason in aside["reason"].iat[0]
    assert aside["file"].iat[0] == "资助发放.xlsx"
    assert "张三" not in aside.to_csv() and ID_A not in aside.to_csv()


def test_header_and_value_variations(tmp_path: Path) -> None:
    header = [
        "序号",
        "学校",
        "学段",
        "项目",
        "姓名",
        "证件号码",
        "建档立卡",
        "学期",
        "金 额\n(万元)",
        "发放时间",
    ]
    rows = [
        [1, " 一 中 ", "高中", "助学金", "张三", ID_A.lower(), "是", "2022春季", "0.1", 44625],
        [
            2,
            "职中",
            "职业高中",
            "免书费，免住宿费",
            "李四",
            ID_B,
            "否",
            "2022年秋季学期",
            "０.０４",
            "2022.9.1",
        ],
    ]
    cleaned, aside = _aid(tmp_path, rows, header=header)
    assert aside.empty
    assert cleaned["amount_fen"].tolist() == [100000, 40000]  # 万元 header → exact fen
    assert cleaned["school"].tolist() == ["一中", "职中"]
    assert cleaned["programme"].tolist() == ["国家助学金", "免书费、免住宿费"]
    assert cleaned["term"].tolist() == ["2022年春季学期", "2022年秋季学期"]
    assert cleaned["paid_on"].dt.strftime("%Y-%m-%d").tolist() == ["2022-03-05", "2022-09-01"]
    assert cleaned["registered_poor"].tolist() == [True, False]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings(tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "资助发放.csv", [AID_HEADER, GOOD, ["合计"] + [""] * 9], encoding)
    raw = read_ledger("aid", path)
    cleaned, aside = clean_ledger(raw, 2022)
    assert cleaned["school"].tolist() == ["一中"] and aside.empty
    assert raw.non_data["total"] == 1


def test_numbers_stored_as_text_and_thousands(tmp_path: Path) -> None:
    cleaned, _ = _aid(tmp_path, [_row(**{"金额（元）": "1,000.00元"})])
    assert cleaned["amount_fen"].tolist() == [100000]


# ---------------------------------------------------------------- bad input, clear errors


def test_missing_ledger_names_folder_and_keyword(county_dir: Path) -> None:
    (county_dir / "民办教育机构审批台账.csv").unlink()
    with pytest.raises(InputError, match="审批") as err:
        find_ledgers(county_dir)
    assert str(county_dir) in str(err.value)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="找不到台账文件夹"):
        find_ledgers(tmp_path / "nope")


def test_missing_column_lists_headers_found(tmp_path: Path) -> None:
    header = [h for h in AID_HEADER if h != "发放日期"]
    path = write_xlsx(tmp_path / "资助发放.xlsx", [header, GOOD[:-1]])
    with pytest.raises(InputError) as err:
        read_ledger("aid", path)
    msg = str(err.value)
    assert "发放日期" in msg and "学校名称" in msg and "资助发放.xlsx" in msg and "行 row: 1" in msg


def test_empty_and_garbage_files(tmp_path: Path) -> None:
    (tmp_path / "a资助发放.csv").write_bytes(b"")
    with pytest.raises(InputError, match="空"):
        read_ledger("aid", tmp_path / "a资助发放.csv")
    (tmp_path / "b资助发放.xlsx").write_bytes(b"\x00garbage" * 100)
    with pytest.raises(InputError, match="无法打开Excel"):
        read_ledger("aid", tmp_path / "b资助发放.xlsx")


def test_undecodable_csv(tmp_path: Path) -> None:
    path = tmp_path / "资助发放.csv"
    path.write_bytes("学校名称,学段\n".encode() + "一中,普高\n".encode("gbk"))
    with pytest.raises(InputError, match="编码") as err:
        read_ledger("aid", path)
    assert "行 row: 2" in str(err.value)


def test_same_ledger_twice(county_dir: Path) -> None:
    write_csv(county_dir / "审批台账副本.csv", [["机构名称"]])
    with pytest.raises(InputError, match="2个文件"):
        find_ledgers(county_dir)


def test_stable_pseudonyms(county_dir: Path) -> None:
    a = clean_folder(county_dir, 2022).tables["aid"]["person"].tolist()
    b = clean_folder(county_dir, 2022).tables["aid"]["person"].tolist()
    assert a == b and len(set(a)) == 2 and all(len(p) == 16 for p in a)
    assert make_id("11010519491231002").endswith("X")


def test_cleaned_tables_keep_no_identifier_in_the_clear() -> None:
    """Certificate numbers and exchange schools become pseudonyms; 性别, 股室 and 原学校 go."""
    import openpyxl

    from edureport import paths

    folder = paths.RAW_DIR / paths.SAMPLE_COUNTY / "2022"
    result = clean_folder(folder, 2022)
    officers, exchange = result.tables["officers"], result.tables["exchange"]
    assert not {"gender", "unit", "name", "status"} & set(officers.columns)
    assert not {"from_school", "name", "id_number"} & set(exchange.columns)
    roster = openpyxl.load_workbook(next(folder.glob("*执法人员*.xlsx")), read_only=True).active
    certs = {str(r[3]) for r in roster.iter_rows(min_row=3, values_only=True) if r[3]}
    assert certs and not certs & set(officers["cert_no"].dropna())
    assert officers["cert_no"].str.fullmatch("[0-9a-f]{16}").all()
    assert exchange["to_school"].str.fullmatch("[0-9a-f]{16}").all()
    assert exchange["to_school"].nunique() > 1
