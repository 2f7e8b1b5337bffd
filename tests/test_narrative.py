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
