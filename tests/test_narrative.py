from pathlib import Path

import pytest

from edureport import narrative as nv
from edureport.errors import InputError
from edureport.figures import Registry
from edureport.report import build, html_fragments, known_references


def _reg() -> Registry:
    reg = Registry()
    reg.add("aid_total_amount", "资助", 1134645300, "万元", "aid")
    reg.add("officers_total", "执法人员", 7, "人", "officers")
    return reg


def test_unknown_name_names_file_and_line() -> None:
    text = "# 标题\n\n第一段。\n本年度资助{{ aid_totl }}。\n"
    with pytest.raises(InputError) as err:
        nv.parse(text, "narrative.md", known_references(_reg()))
    assert "aid_totl" in str(err.value) and "narrative.md" in str(err.value)
    assert "行 row: 4" in str(err.value)


def test_figures_and_changes_filled() -> None:
    prev = Registry()
    prev.add("officers_total", "执法人员", 6, "人", "officers")
    rep = build(
        "测试县",
        2022,
        _reg(),
        prev,
        "# {{county}}{{ year }}年度报告\n\n## 一、成效\n\n执法人员{{ officers_total }}"
        "{{ officers_total.change }}，资助{{ aid_total_amount }}{{ aid_total_amount.change }}。\n",
        "n.md",
    )
    html = "".join(html_fragments(rep))
    assert rep.title == "测试县2022年度报告"
    assert "执法人员7人，比上年增加1人，增长16.7%，资助1134.65万元。" in html


def test_ledger_text_is_escaped() -> None:
    rep = build("<b>县</b>", 2022, _reg(), None, "# {{ county }}\n\n<script>x</script>\n", "n.md")
    html = "".join(html_fragments(rep))
    assert "<script>" not in html and "&lt;b&gt;" in html


def test_scaffold_marks_todo_and_never_overwrites(tmp_path: Path) -> None:
    path = nv.scaffold(tmp_path)
    assert nv.TODO in path.read_text(encoding="utf-8")
    with pytest.raises(InputError):
        nv.scaffold(tmp_path)


def test_a_number_typed_by_hand_fails_with_its_location() -> None:
    from edureport.report import audit_numbers

    text = (
        "# {{ county }}{{ year }}年度报告\n\n## 一、成效\n\n"
        "1.执法人员{{ officers_total }}。\n\n资助共1234.56万元。\n"
    )
    rep = build("测试县", 2022, _reg(), None, text, "narrative.md")
    with pytest.raises(InputError) as err:
        audit_numbers(rep)
    assert "1234.56" in str(err.value) and "行 row: 7" in str(err.value)
    ok = build(
        "测试县",
        2022,
        _reg(),
        None,
        text.replace("1234.56万元", "{{ aid_total_amount }}"),
        "narrative.md",
    )
    audit_numbers(ok)  # list numbering (1.) and the year are not figures typed by hand


def test_structure_check_names_missing_parts(county_dir: Path) -> None:
    import datetime as dt

    from edureport.clean import clean_folder
    from edureport.figures import compute
    from edureport.report import structure_warnings

    reg = compute(clean_folder(county_dir, 2022).tables, dt.date(2022, 12, 31))
    text = "# 报告\n\n## 一、主要做法与成效\n\n## 二、存在的主要问题\n\n## 三、下一步工作措施\n"
    rep = build("测试县", 2022, reg, None, text, "n.md")
    missing = ["报告缺少法定内容：党政主要负责人履行推进法治建设第一责任人职责情况"]
    assert structure_warnings(rep) == missing
    # The scaffold names only figures that compute() produces, and covers every mandated part.
    full = build("测试县", 2022, reg, None, nv.template_text(), "t.md")
    assert structure_warnings(full) == []
    assert full.todo > 0
