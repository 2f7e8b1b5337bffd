"""``edureport new``: a county-year folder ready to fill: config.yaml with every key explained,
the narrative scaffold, and a list of the ledgers to bring (keyword, columns, an example row)."""

from __future__ import annotations

from pathlib import Path

from .errors import InputError

LEDGER_LIST = "台账清单.txt"
# One plausible row per ledger, by canonical column (what a first-time analyst needs to see).
EXAMPLES: dict[str, dict[str, str]] = {
    "aid": {
        "school": "城关第一中学", "stage": "普通高中", "programme": "国家助学金",
        "name": "张三", "id_number": "110101200801011230", "registered_poor": "否",
        "term": "{year}年春季学期", "amount": "1000.00", "paid_on": "{year}-04-15",
    },
    "control": {"stage": "普通高中", "programme": "国家助学金", "person_times": "2310",
                "amount": "2297000.00"},
    "officers": {
        "name": "李四", "gender": "男", "unit": "政策法规股", "cert_no": "41010220200001",
        "id_number": "", "cert_issued": "2020-08-28", "cert_valid_until": "2025-08-27",
        "employment": "在编", "training_hours": "56", "status": "",
    },
    "exchange": {
        "name": "王五", "id_number": "110101198001011232", "role": "教师", "kind": "交流轮岗",
        "from_school": "城关小学", "to_school": "河西小学", "start_on": "{year}-09-01",
    },
    "inspections": {"institution": "小太阳幼儿园", "inst_type": "民办幼儿园",
                    "licence": "教民1234567890123号", "inspected_on": "{year}-05-20",
                    "result": "合格"},
    "approvals": {"institution": "七彩虹幼儿园", "inst_type": "民办幼儿园",
                  "approved_on": "{year}-06-30", "licence": "教民1234567890124号"},
}  # fmt: skip

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

# 人工填报的数字：没有台账可计算的数字（如培训次数），写明数值、单位、名称和来源文件后，
# 叙述中可用 {{{{ training_sessions }}}} 引用；报告的“数据说明”注明“人工填报”。
# manual_figures:
#   training_sessions:
#     {{value: 12, unit: 次, label: 法治培训, source: 县教育局{year}年培训通知汇编}}

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
    from . import narrative
    from .policy import CONFIG_NAME

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
    """The six ledgers to bring: file-name keyword, columns (required first), an example row."""
    from .ledgers import LEDGERS, spec

    parts = [
        f"{year}年度需要放入本文件夹的台账（.xlsx、.xls 或 .csv；按文件名中的关键词识别）\n"
        "列名可用常见的同义写法（如“学校”即“学校名称”）；表头上方可有标题行，表尾可有合计行。\n"
    ]
    for name in LEDGERS:
        s = spec(name)
        label = {c: s.columns[c][0] + ("（元）" if c == "amount" else "") for c in s.columns}
        required = "、".join(label[c] for c in s.required)
        optional = "、".join(label[c] for c in s.columns if c in s.optional)
        example = EXAMPLES[name]
        cols = [c for c in s.columns if example.get(c)]
        parts.append(
            f"\n【{s.title}】文件名含“{s.keyword}”\n"
            f"  必需的列：{required}\n"
            + (f"  可选的列：{optional}\n" if optional else "")
            + f"  示例：{' | '.join(label[c] for c in cols)}\n"
            f"        {' | '.join(example[c].format(year=year) for c in cols)}\n"
        )
    return "".join(parts)
