"""``edureport new``: a county-year folder ready to fill: config.yaml with every key explained,
the narrative scaffold, and a list of the ledgers to bring (keyword, columns, an example row)."""

from __future__ import annotations

from pathlib import Path

from edureport.errors import InputError

LEDGER_LIST = "台账清单.txt"
# One plausible row per ledger, by canonical column (what a first-time analyst needs to see).
CONFIG = """\
# {county} {year} 年度：校验参数（edureport new 生成；以 # 开头的是说明，不起作用）
#
# 本文件与本年度的各类台账放在同一文件夹。未填写的项目采用全国默认值
# （edureport/resources/standards.yaml）。

# 申报执法人员数（人）：执法人员名册的人数须与之相等。不填则该项校验显示为“未配置”。
# declared_officers: 7

# 报告日期：执法证须在此日期有效。默认为 {year}-12-31。
# report_date: {year}-12-31

# 执法人员年度培训学时要求（学时），全国默认 40。
# training_hours_required: 40

# 资助标准金额（元/人次），覆盖全国标准；只能设置全国已有统一标准的项目。
# standards:
#   中等职业教育:
#     国家助学金: 1000

# 人工填报的数字：没有台账可计算的数字（如普法宣传活动次数），写明数值、单位、名称和来源文件后，
# 叙述中可用 {{{{ publicity_events }}}} 引用；报告的“数据说明”注明“人工填报”。
# （法治培训、行政复议和应诉案件有台账时由台账计算，不必人工填报。）
# manual_figures:
#   publicity_events:
#     {{value: 12, unit: 次, label: 普法宣传活动, source: 县教育局{year}年普法工作总结}}

# 叙述中允许出现的固定说法里的数字（如“七五普法”“十四五”已内置），每项一个字符串。
# fixed_phrases: [12345政务服务热线]

# 确认剔除的行：执法人员、交流、检查、审批台账中被剔除的数据行，须逐行确认后报告才能发布。
# 从 set_aside.csv 复制文件名和行号，并写明原因。
# accepted_set_aside:
#   - file: 行政执法人员名册.xlsx
#     row: 12
#     reason: 该同志已于3月调出本单位，名册未及时更新
"""


def new_county_year(folder: Path, county: str, year: int) -> list[str]:
    """Create ``folder`` (and its parents) with what a new county-year needs; never overwrites.

    Returns one line per file: written, or already there.
    """
    from edureport.checks.policy import CONFIG_NAME
    from edureport.report import narrative

    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"无法创建文件夹 cannot create folder: {exc.strerror}", file=str(folder)
        ) from None
    lines = []
    for name, write in (
        (narrative.NARRATIVE_FILE, lambda p: p.write_text(narrative.template_text(), "utf-8")),
        (CONFIG_NAME, lambda p: p.write_text(CONFIG.format(county=county, year=year), "utf-8")),
        (LEDGER_LIST, lambda p: p.write_text(ledger_list(year), "utf-8")),
    ):
        path = folder / name
        if path.exists():
            lines.append(f"已存在，未改动 kept: {path}")
        else:
            write(path)
            lines.append(f"已生成 written: {path}")
    return lines


def ledger_list(year: int) -> str:
    """The ledgers to bring (from their specs): file-name keyword, columns (required first), an
    example row; the optional ledgers last, marked so."""
    from edureport.ingest.specs import all_specs

    parts = [
        f"{year}年度需要放入本文件夹的台账（.xlsx、.xls 或 .csv；按文件名中的关键词识别）\n"
        "列名可用常见的同义写法（如“学校”即“学校名称”）；表头上方可有标题行，表尾可有合计行。\n"
    ]
    for s in all_specs().values():
        label = {f.name: f.title + ("（元）" if f.type == "money" else "") for f in s.fields}
        required = "、".join(label[c] for c in s.required)
        optional = "、".join(label[c] for c in s.columns if c in s.optional)
        shown = [f for f in s.fields if f.example]
        use = "（可选：没有就不放；叙述中用到它的数字时才需要）" if s.optional_ledger else ""
        parts.append(
            f"\n【{s.title}】{use}文件名含“{s.keyword}”\n"
            f"  必需的列：{required}\n"
            + (f"  可选的列：{optional}\n" if optional else "")
            + f"  示例：{' | '.join(label[f.name] for f in shown)}\n"
            f"        {' | '.join(f.example.format(year=year) for f in shown)}\n"
        )
    return "".join(parts)
