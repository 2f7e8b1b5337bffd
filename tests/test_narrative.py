import dataclasses
import json
import re
from pathlib import Path

import pytest

from edureport.errors import InputError
from edureport.report import narrative as nv
from edureport.report.document import build, html_fragments, known_references
from edureport.report.figures import Registry

from .conftest import visible_text


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
    assert "执法人员7人，比上年增加1人，增长16.7%，资助1134.65万元。" in visible_text(html)
    assert '<span class="nw">16.7%</span>' in html  # kept with its unit on a narrow screen


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
    from edureport.report.document import audit_numbers

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

    from edureport.ingest.clean import clean_folder
    from edureport.report.document import structure_warnings
    from edureport.report.figures import compute

    reg = compute(clean_folder(county_dir, 2022).tables, dt.date(2022, 12, 31))
    text = "# 报告\n\n## 一、主要做法与成效\n\n## 二、存在的主要问题\n\n## 三、下一步工作措施\n"
    rep = build("测试县", 2022, reg, None, text, "n.md")
    missing = ["报告缺少法定内容：党政主要负责人履行推进法治建设第一责任人职责情况"]
    assert structure_warnings(rep) == missing
    # The scaffold names only figures that compute() produces, and covers every mandated part.
    full = build("测试县", 2022, reg, None, nv.template_text(), "t.md")
    assert structure_warnings(full) == []
    assert full.todo > 0


# ---------------------------------------------------------------- placeholder forms


def _full_reg() -> Registry:
    reg = _reg()
    reg.add("officers_non_staff", "合同工、临时工等人员", 0, "人", "officers")
    reg.add("training_sessions", "法治培训", 12, "次", "县教育局2022年培训通知汇编", manual=True)
    return reg


def _filled(text: str, reg: Registry | None = None, **kw) -> str:
    rep = build("测试县", 2022, reg or _full_reg(), None, f"# 报告\n\n{text}\n", "n.md", **kw)
    return nv.fill(rep.blocks[1].text, rep.values)


def test_value_unit_and_zero_as_none_forms() -> None:
    assert _filled("{{ officers_total.value }}名{{ officers_total.unit }}") == "7名人"
    assert _filled("{{ aid_total_amount.value }}{{ aid_total_amount.unit }}") == "1134.65万元"
    assert _filled("上岗执法人员：{{ officers_non_staff.zero_as_none }}") == "上岗执法人员：无"
    assert _filled("{{ officers_total.zero_as_none }}") == "7人"
    assert _filled("培训{{ training_sessions }}") == "培训12次"


@pytest.mark.parametrize("ref", ["county.value", "year.unit", "year.change"])
def test_forms_need_a_figure(ref: str) -> None:
    with pytest.raises(InputError) as err:
        nv.parse(f"# 标题\n\n见{{{{ {ref} }}}}。\n", "narrative.md", known_references(_reg()))
    assert ref in str(err.value) and "行 row: 3" in str(err.value)


def test_unknown_name_gives_column_nearest_names_and_the_list() -> None:
    text = "# 标题\n\n  本年度资助{{ aid_total_amout }}，执法人员{{ officers_total.vale }}。\n"
    with pytest.raises(InputError) as err:
        nv.parse(text, "narrative.md", known_references(_reg()), hint="runs/x/figures.json")
    message = str(err.value)
    assert "aid_total_amout" in message and "第3行第8列" in message
    assert "{{ aid_total_amount }}" in message  # the nearest valid name (difflib)
    assert "runs/x/figures.json" in message and "列 column: 8" in message
    with pytest.raises(InputError) as err:
        nv.parse(text.replace("aid_total_amout", "aid_total_amount"), "n.md",
                 known_references(_reg()))  # fmt: skip
    assert "{{ officers_total.value }}" in str(err.value) and "第3行第35列" in str(err.value)


# ---------------------------------------------------------------- the number audit


def _typed(text: str, reg: Registry | None = None, county: str = "测试县", **kw) -> list[str]:
    from edureport.report.document import typed_numbers

    rep = build(county, 2022, reg or _full_reg(), None, text, "narrative.md", **kw)
    return [t.text for t in typed_numbers(rep)]


def test_a_typed_number_equal_to_a_figure_is_still_typed() -> None:
    from edureport.report.document import audit_numbers

    text = "# 报告\n\n执法人员{{ officers_total }}，全年共开展培训7次。\n"
    rep = build("测试县", 2022, _reg(), None, text, "narrative.md")
    with pytest.raises(InputError) as err:
        audit_numbers(rep, hint="本次运行文件夹中的 figures.json")
    message = str(err.value)
    assert "第3行第33列“7”" in message and "{{ officers_total.value }}" in message
    assert "figures.json" in message and "manual_figures" in message


def test_chinese_numerals_are_audited() -> None:
    text = "# 报告\n\n培训三百人次，开展十二次，覆盖两所学校，提高百分之三十，二十余人。\n"
    assert _typed(text) == ["三百", "十二", "两", "百分之三十", "二十"]


def test_words_with_numerals_that_are_not_counts() -> None:
    text = (
        "# 报告\n\n统一规范，进一步加强，一年来取得一定成效，服务百姓，千方百计，十分重要，"
        "对违法行为零容忍，一所学校。\n"
    )
    assert _typed(text) == []


def test_dates_and_years_are_allowed() -> None:
    text = (
        "# 报告\n\n2022年6月15日召开会议；6月、3—6月开展检查；2021—2025年规划；"
        "二〇二二年六月十五日；每月15日公示；2022-06-15。\n"
    )
    assert _typed(text) == []
    assert _typed("# 报告\n\n历时3个月，6天。\n") == ["3", "6"]  # durations are counts


def test_ordinals_and_list_numbering_are_allowed() -> None:
    text = (
        "# 报告\n\n## 一、主要做法与成效\n\n### （一）依法行政\n\n"
        "一是规范审批，二是落实清单。第一责任人，第二十五条，其二，（2）公开，高一年级，"
        "三年级，〔2022〕12号文件。\n\n"
        "1.规范审批。\n2.落实清单。\n3、加强监管。\n"
    )
    assert _typed(text) == []
    assert _typed("# 报告\n\n审批1.5天，提高三个百分点。\n") == ["1.5", "三"]


def test_fixed_phrases_from_config_and_the_common_ones() -> None:
    text = "# 报告\n\n落实七五普法和十四五规划，开通12345政务服务热线。\n"
    assert _typed(text) == ["12345"]
    assert _typed(text, fixed_phrases=("12345政务服务热线",)) == []
    assert _typed("# 三台县报告\n\n三台县教育局。\n", county="三台县") == []  # its own name


def test_each_typed_number_has_its_own_line_and_column() -> None:
    from edureport.report.document import typed_numbers

    text = "# 报告\n\n第一行没有数字，\n  第二行有7次培训，\n第三行{{ officers_total }}。\n"
    rep = build("测试县", 2022, _reg(), None, text, "narrative.md")
    ((line, col),) = [(t.line, t.column) for t in typed_numbers(rep)]
    assert (line, col) == (4, 7)  # not the paragraph's first line (3)


def test_numbers_come_from_placeholder_spans_not_matching_values() -> None:
    # a reference followed by a typed digit reads "70人": the digit is typed
    assert _typed("# 报告\n\n执法人员{{ officers_total.value }}0人。\n") == ["70"]
    assert _typed("# 报告\n\n执法人员{{ officers_total.value }}{{ officers_total.unit }}。\n") == []
    assert _typed("# 报告\n\n资金{{ aid_total_amount.value }}万元。\n") == []


def test_a_manual_figure_is_a_placeholder_like_a_computed_one() -> None:
    assert _typed("# 报告\n\n全年开展法治培训{{ training_sessions }}。\n") == []
    assert _typed("# 报告\n\n全年开展法治培训12次。\n") == ["12"]
    data = json.loads(_full_reg().to_json())
    assert data["training_sessions"]["manual"] is True
    assert data["training_sessions"]["source"] == "县教育局2022年培训通知汇编"
    assert data["officers_total"]["manual"] is False


# ---------------------------------------------------------------- completeness


def test_completeness_lists_each_todo_with_line_and_column() -> None:
    from edureport.report.document import completeness

    reg = _full_reg()
    for m in nv.references(nv.template_text()):
        name = m.group(1).partition(".")[0]
        if ":" not in name and name not in reg and name not in nv.NO_CHANGE:
            reg.add(name, name, 1, "人", "test")
    # tables and charts left out (blank lines keep the line numbers): only the text matters here
    text = re.sub(r"(?m)^\{\{ (table|chart):.*$", "", nv.template_text())
    rep = build("测试县", 2022, reg, None, text, "narrative.md")
    todos = [(line, item) for check, line, item in completeness(rep) if check == "todo"]
    lines = [
        n
        for n, raw in enumerate(nv.template_text().splitlines(), 1)
        if "（待填写" in raw and not raw.startswith("<!--")
    ]
    assert [line for line, _ in todos] == lines and len(lines) == 8
    assert all(f"第{line}行第2列待填写：（待填写：" in item for line, item in todos)
    assert [c for c, _, _ in completeness(rep) if c != "todo"] == []


def test_a_mandated_part_missing_or_empty() -> None:
    from edureport.report.document import completeness

    text = (
        "# 报告\n\n## 一、主要做法与成效\n\n做法。\n\n## 二、存在的主要问题\n\n"
        "## 三、下一步工作措施\n\n安排。\n"
    )
    rep = build("测试县", 2022, _full_reg(), None, text, "narrative.md")
    problems = completeness(rep)
    assert [(c, line) for c, line, _ in problems] == [("missing_part", 7), ("missing_part", None)]
    assert "“二、存在的主要问题”下没有正文" in problems[0][2]
    assert "第一责任人" in problems[1][2]


def test_change_references_are_located() -> None:
    from edureport.report.document import change_references

    text = "# 报告\n\n人员{{ officers_total }}{{ officers_total.change }}。\n"
    rep = build("测试县", 2022, _reg(), None, text, "narrative.md")
    assert change_references(rep) == [("officers_total", 3, 23)]


# ---------------------------------------------------------------- config.yaml


def test_manual_figures_and_fixed_phrases_in_config(tmp_path: Path) -> None:
    from edureport.checks.policy import load_policy
    from edureport.report.figures import add_manual

    (tmp_path / "config.yaml").write_text(
        "manual_figures:\n"
        "  training_sessions: {value: 12, unit: 次, label: 法治培训,"
        " source: 县教育局2022年培训通知汇编}\n"
        "  training_funds: {value: 3.5, unit: 万元, label: 培训经费, source: 财务股支出台账}\n"
        "fixed_phrases: [七五普法, 12345热线]\n",
        encoding="utf-8",
    )
    policy = load_policy(tmp_path, 2022)
    assert policy.fixed_phrases == ("七五普法", "12345热线")
    sessions, funds = policy.manual_figures
    assert (sessions.key, sessions.value, sessions.unit, sessions.line) == (
        "training_sessions", 12, "次", 2,
    )  # fmt: skip
    assert funds.value == 3_500_000  # fen
    reg = add_manual(_reg(), policy.manual_figures, policy.source)
    assert reg["training_funds"].text == "3.50万元" and reg["training_sessions"].manual
    clash = dataclasses.replace(sessions, key="officers_total")
    with pytest.raises(InputError) as err:
        add_manual(_reg(), (clash,), policy.source)
    assert "officers_total" in str(err.value) and "行 row: 2" in str(err.value)


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ("x: {value: 12, unit: 次, label: 培训}", "source"),
        ("x: {value: 12, unit: 次, label: 培训, source: ''}", "source"),
        ("Bad-Name: {value: 1, unit: 次, label: 培训, source: 培训通知汇编}", "名称"),
        ("x: {value: -1, unit: 次, label: 培训, source: 培训通知汇编}", "非负整数"),
        ("x: {value: 1.5, unit: 次, label: 培训, source: 培训通知汇编}", "非负整数"),
        ("x: {value: 1, unit: 次, label: 培训, source: 培训通知汇编, note: a}", "note"),
        ("x: 12", "value、unit、label、source"),
    ],
)
def test_bad_manual_figures_are_refused_with_their_line(
    tmp_path: Path, entry: str, says: str
) -> None:
    from edureport.checks.policy import load_policy

    (tmp_path / "config.yaml").write_text(f"# 人工填报\nmanual_figures:\n  {entry}\n", "utf-8")
    with pytest.raises(InputError) as err:
        load_policy(tmp_path, 2022)
    assert says in str(err.value) and "manual_figures" in str(err.value)
    assert "行 row: 3" in str(err.value)
