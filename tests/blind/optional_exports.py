"""Blind corpus for the two OPTIONAL ledgers: 法治培训台账 (training) and
行政复议和行政应诉案件台账 (cases).

Written from the contract only (docs/ledgers.md sections 7 and 8, "How real files vary", "Shapes
offices produce"; resources/ledgers/training.yaml and cases.yaml; resources/figures.yaml;
docs/narrative.md; README), without reading the package's reading, cleaning or figure code.

1. ``generate()`` draws the TRUE training sessions and cases of 青禾县 2023 (the county-year of
   tests/blind/exports.py) from a fixed seed; ``expected_figures()`` computes the training_* and
   cases_* figures from those records (never from the written files).
2. ``write_base_training`` / ``write_base_cases`` write each in a clean base form.
3. ``CASES``: each writes the six required ledgers in base form (exports.write_case) plus the
   optional ledgers in one messy form, and declares what ``edureport run`` must do.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import openpyxl

from tests.blind import exports

COUNTY = exports.COUNTY
YEAR = exports.YEAR
SEED = 20231109
HERE = Path(__file__).resolve().parent

# ---------------------------------------------------------------------------------------------
# Vocabulary (contract: training.yaml / cases.yaml)
# ---------------------------------------------------------------------------------------------

# canonical 培训对象 -> figure-key infix (figures.yaml)
AUDIENCES = {"执法人员": "officers", "机关干部": "cadres", "教师": "teachers", "学生": "students"}
# contract variants of each audience value
AUDIENCE_VARIANTS = {
    "执法人员": ["行政执法人员", "执法队伍"],
    "机关干部": ["机关工作人员", "干部", "局机关干部"],
    "教师": ["老师", "教职工", "中小学教师"],
    "学生": ["中小学生", "在校学生"],
}
CASE_TYPE_VARIANTS = {"行政复议": ["复议"], "行政诉讼": ["诉讼", "行政应诉", "应诉"]}
OUTCOME_VARIANTS = {
    "维持": ["予以维持", "维持原行政行为"],
    "撤销": ["予以撤销", "撤销原行政行为"],
    "确认违法": ["确认原行政行为违法"],
    "变更": ["予以变更"],
    "责令履行": ["责令履行职责"],
    "驳回": ["驳回请求", "驳回诉讼请求", "驳回复议申请"],
    "和解": ["达成和解"],
    "调解": ["调解结案"],
    "撤回": ["撤诉", "申请人撤回申请", "原告撤诉"],
    "终止": ["终止审理"],
    "审理中": ["未结", "在审", "尚未审结"],
}
APPEARED_VARIANTS = {"是": ["Y", "是的", "出庭", "已出庭"], "否": ["N", "未出庭"]}
# outcomes that correct the bureau (brief: 撤销/确认违法/变更/责令履行)
CORRECTING = {"撤销", "确认违法", "变更", "责令履行"}

TOPICS = {
    "执法人员": [
        "行政执法程序与文书规范",
        "《行政处罚法》条文解读",
        "行政执法“三项制度”专题培训",
        "校外培训机构执法检查实务",
    ],
    "机关干部": [
        "习近平法治思想专题学习",
        "《中华人民共和国民法典》专题讲座",
        "重大行政决策程序暂行条例解读",
        "政府信息公开条例解读",
    ],
    "教师": [
        "《未成年人保护法》与校园安全",
        "教师职业行为准则与师德师风",
        "学生欺凌防治与依法处置",
        "《家庭教育促进法》解读",
    ],
    "学生": [
        "“宪法进校园”主题教育",
        "预防未成年人犯罪法治报告会",
        "防范电信网络诈骗法治讲座",
        "模拟法庭进校园",
    ],
}
CAUSES = [
    "不服学籍处理决定",
    "不服行政处罚决定",
    "政府信息公开答复",
    "不服民办学校办学许可决定",
    "要求履行法定职责",
    "教师资格认定",
    "不服招生入学安排",
    "不服教师职称评审结果",
]


# ---------------------------------------------------------------------------------------------
# True records
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Training:
    day: date
    topic: str
    audience: str  # canonical
    participants: int
    hours: int


@dataclass(frozen=True)
class CaseRecord:
    no: str
    type: str  # 行政复议 / 行政诉讼
    received: date
    cause: str
    outcome: str  # canonical
    appeared: str  # 是 / 否 for a lawsuit, "" for a reconsideration


@dataclass(frozen=True)
class Records:
    training: tuple[Training, ...]
    cases: tuple[CaseRecord, ...]
    names: tuple[str, ...]  # generated person names written into 培训主题 / 案由

    def personal(self) -> set[str]:
        return set(self.names)


# outcomes of the 8 reconsiderations and 16 lawsuits; 13 of the 16 principals appeared
# (81.25 %: 812.5 tenths, which half-up makes 813 and half-even 812)
REVIEW_OUTCOMES = ["维持", "维持", "驳回", "撤销", "变更", "责令履行", "终止", "审理中"]
LAWSUIT_OUTCOMES = [
    *["驳回"] * 5,
    "维持",
    "维持",
    "撤销",
    "确认违法",
    "和解",
    "调解",
    "撤回",
    "撤回",
    "终止",
    "审理中",
    "审理中",
]
LAWSUITS_APPEARED = 13
SESSIONS = {"执法人员": 6, "机关干部": 5, "教师": 8, "学生": 5}
PARTICIPANTS = {"执法人员": (8, 12), "机关干部": (18, 46), "教师": (40, 320), "学生": (150, 900)}
HOURS = {"执法人员": (4, 16), "机关干部": (2, 6), "教师": (2, 8), "学生": (1, 3)}


def _names(rng: random.Random, n: int) -> list[str]:
    """Person names unlike any of the required ledgers' people or the narratives' text."""
    taken = exports.generate().personal()
    forbidden = exports.NARRATIVE.read_text(encoding="utf-8") + NARRATIVE_EXTRA + NARRATIVE_CASES
    out: list[str] = []
    while len(out) < n:
        name = rng.choice(exports.SURNAMES) + "".join(rng.sample(exports.GIVEN, 2))
        if name not in taken and name not in forbidden and name not in out:
            out.append(name)
    return out


def _day(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange((end - start).days + 1))


@functools.cache
def generate(seed: int = SEED) -> Records:
    rng = random.Random(seed)
    names = _names(rng, 7)
    training: list[Training] = []
    lecturers = iter(names[:4])
    for audience, n in SESSIONS.items():
        topics = rng.sample(TOPICS[audience], len(TOPICS[audience]))
        for i in range(n):
            topic = topics[i % len(topics)]
            if audience in ("执法人员", "机关干部") and i < 2:
                topic = f"邀请{next(lecturers)}律师讲授{topic}"
            training.append(
                Training(
                    day=_day(rng, date(YEAR, 1, 5), date(YEAR, 12, 25)),
                    topic=topic,
                    audience=audience,
                    participants=rng.randint(*PARTICIPANTS[audience]),
                    hours=rng.randint(*HOURS[audience]),
                )
            )
    training.sort(key=lambda t: (t.day, t.audience))

    cases: list[CaseRecord] = []
    appeared = [True] * LAWSUITS_APPEARED + [False] * (len(LAWSUIT_OUTCOMES) - LAWSUITS_APPEARED)
    rng.shuffle(appeared)
    for i, outcome in enumerate(REVIEW_OUTCOMES):
        cause = rng.choice(CAUSES)
        if i < 2:
            cause = f"{names[4 + i]}{cause}"
        cases.append(
            CaseRecord(
                f"（{YEAR}）青复字第{i + 1}号",
                "行政复议",
                _day(rng, date(YEAR, 1, 3), date(YEAR, 12, 28)),
                cause,
                outcome,
                "",
            )
        )
    for i, outcome in enumerate(LAWSUIT_OUTCOMES):
        cause = rng.choice(CAUSES)
        if i == 0:
            cause = f"{names[6]}{cause}"
        cases.append(
            CaseRecord(
                f"（{YEAR}）川0107行初{i + 21}号",
                "行政诉讼",
                _day(rng, date(YEAR, 1, 3), date(YEAR, 12, 28)),
                cause,
                outcome,
                "是" if appeared[i] else "否",
            )
        )
    cases.sort(key=lambda c: (c.received, c.no))
    return Records(tuple(training), tuple(cases), tuple(names))


# ---------------------------------------------------------------------------------------------
# Expected figures (from the true records)
# ---------------------------------------------------------------------------------------------


def rate_tenths(num: int, den: int) -> int:
    """A percentage in tenths of a percent, rounded half-up (exact integer arithmetic)."""
    return (num * 2000 + den) // (2 * den)


def training_figures(rows: tuple[Training, ...] | list[Training]) -> dict[str, int]:
    fig = {
        "training_sessions": len(rows),
        "training_participants": sum(t.participants for t in rows),
        "training_hours": sum(t.hours for t in rows),
    }
    for audience, infix in AUDIENCES.items():
        sel = [t for t in rows if t.audience == audience]
        fig[f"training_{infix}_sessions"] = len(sel)
        fig[f"training_{infix}_participants"] = sum(t.participants for t in sel)
        fig[f"training_{infix}_hours"] = sum(t.hours for t in sel)
    return fig


def cases_figures(rows: tuple[CaseRecord, ...] | list[CaseRecord]) -> dict[str, int | None]:
    review = [c for c in rows if c.type == "行政复议"]
    lawsuits = [c for c in rows if c.type == "行政诉讼"]
    appeared = len([c for c in lawsuits if c.appeared == "是"])
    return {
        "cases_total": len(rows),
        "cases_review": len(review),
        "cases_litigation": len(lawsuits),
        "cases_review_corrected": len([c for c in review if c.outcome in CORRECTING]),
        "cases_litigation_lost": len([c for c in lawsuits if c.outcome in CORRECTING]),
        "cases_principal_appeared": appeared,
        # None: absent (no lawsuit, the rate cannot be computed)
        "cases_principal_rate": rate_tenths(appeared, len(lawsuits)) if lawsuits else None,
    }


def expected_figures(o: Records) -> dict[str, int | None]:
    return {**training_figures(o.training), **cases_figures(o.cases)}


# ---------------------------------------------------------------------------------------------
# Narratives: tests/blind/narrative.md plus a paragraph using the optional figures
# ---------------------------------------------------------------------------------------------

ANCHOR = "{{ table:officers }}\n"
NARRATIVE_EXTRA = (
    "全年组织法治培训{{ training_sessions }}，参训{{ training_participants }}，"
    "累计{{ training_hours }}；其中执法人员法治培训{{ training_officers_sessions }}，"
    "教师法治培训参训{{ training_teachers_participants }}，"
    "学生法治教育{{ training_students_sessions }}。"
    "本年度我局作为被申请人、被告的行政复议和行政诉讼案件共{{ cases_total }}，"
    "其中行政复议案件{{ cases_review }}，被纠错{{ cases_review_corrected.zero_as_none }}；"
    "行政诉讼案件{{ cases_litigation }}，败诉{{ cases_litigation_lost.zero_as_none }}；"
    "负责人出庭应诉{{ cases_principal_appeared }}，出庭应诉率{{ cases_principal_rate }}。\n"
)
NARRATIVE_CASES = (
    "本年度我局作为被申请人的行政复议案件{{ cases_review }}，"
    "被纠错{{ cases_review_corrected.zero_as_none }}；"
    "作为被告的行政诉讼案件{{ cases_litigation.zero_as_none }}。\n"
)


def narrative(extra: str) -> str:
    base = exports.NARRATIVE.read_text(encoding="utf-8")
    assert base.count(ANCHOR) == 1
    return base.replace(ANCHOR, f"{ANCHOR}\n{extra}")


def filled_phrases(fig: dict[str, int | None]) -> list[str]:
    """Text the full narrative must show in report.html (tags stripped), per docs/narrative.md:
    ``{{ key }}`` is the figure with its unit; a rate is shown as 81.3%."""
    out = [f"全年组织法治培训{fig['training_sessions']}次"]
    rate = fig["cases_principal_rate"]
    if rate is not None:
        out.append(f"出庭应诉率{rate // 10}.{rate % 10}%")
    out.append(f"行政复议案件{fig['cases_review']}件")
    return out


# ---------------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------------

TRAINING_FILE = f"{YEAR}年法治培训台账.xlsx"
CASES_FILE = f"{YEAR}年行政复议和行政应诉案件台账.xlsx"
TRAINING_HEADER = ["序号", "培训日期", "培训主题", "培训对象", "参训人数", "学时"]
CASES_HEADER = ["序号", "案号", "案件类型", "收案日期", "案由", "处理结果", "负责人是否出庭"]

Row = list[object]


def training_row(i: int, t: Training) -> Row:
    return [i, t.day, t.topic, t.audience, t.participants, t.hours]


def training_rows(rows: tuple[Training, ...] | list[Training]) -> list[Row]:
    return [training_row(i, t) for i, t in enumerate(rows, 1)]


def case_row(i: int, c: CaseRecord) -> Row:
    return [i, c.no, c.type, c.received, c.cause, c.outcome, c.appeared or None]


def case_rows(rows: tuple[CaseRecord, ...] | list[CaseRecord]) -> list[Row]:
    return [case_row(i, c) for i, c in enumerate(rows, 1)]


def write_base_training(o: Records, folder: Path) -> None:
    exports.save_xlsx(
        folder / TRAINING_FILE, [("法治培训", [TRAINING_HEADER, *training_rows(o.training)])]
    )


def write_base_cases(o: Records, folder: Path) -> None:
    exports.save_xlsx(folder / CASES_FILE, [("案件台账", [CASES_HEADER, *case_rows(o.cases)])])


FULL = str.maketrans("0123456789", "０１２３４５６７８９")


def cycler(variants: dict[str, list[str]], canonical_too: bool = True) -> Callable[[str], str]:
    """Each call for a value gives its next written form, so every variant is used in turn."""
    seen: dict[str, int] = {}

    def form(value: str) -> str:
        forms = [*variants[value], value] if canonical_too else variants[value]
        k = seen.get(value, 0)
        seen[value] = k + 1
        return forms[k % len(forms)]

    return form


def excel_serial(d: date) -> int:
    return (d - date(1899, 12, 30)).days


# ---------------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------------

Build = Callable[[Records, Path], None]


@dataclass(frozen=True)
class Case:
    name: str
    expect: str  # "publish" | "refuse"
    what: str
    build: Build
    exit_codes: tuple[int, ...] = ()  # for "refuse": the exit codes the contract allows
    narrative: str | None = NARRATIVE_EXTRA  # paragraph added to the blind narrative
    # publish: the expected optional figures (None value = absent); default: all of them
    figures: Callable[[Records], dict[str, int | None]] = expected_figures
    must_mention: tuple[str, ...] = ()  # refuse: text the run's output must contain
    config_extra: Callable[[Records], str] | None = None
    absent_keys: tuple[str, ...] = field(default=())  # publish: keys with no value
    report_mentions: tuple[str, ...] = ()  # publish: text report.html must show


CASES: list[Case] = []


def case(name: str, expect: str, what: str, **kw) -> Callable[[Build], Build]:
    assert expect in {"publish", "refuse"}

    def deco(fn: Build) -> Build:
        CASES.append(Case(name, expect, what, fn, **kw))
        return fn

    return deco


def write_case(cs: Case, data_root: Path) -> tuple[Path, set[str]]:
    """The six required ledgers in base form (exports.write_case), then this case's optional
    ledgers, narrative and config; returns the folder and every personal string written."""
    required = exports.Case(cs.name, None, "publish", cs.what, lambda c, f: [])
    folder, personal = exports.write_case(required, data_root)
    o = generate()
    cs.build(o, folder)
    if cs.narrative is not None:
        (folder / "narrative.md").write_text(narrative(cs.narrative), encoding="utf-8")
    if cs.config_extra is not None:
        with open(folder / "config.yaml", "a", encoding="utf-8") as fh:
            fh.write(cs.config_extra(o))
    return folder, personal | o.personal()


# -- publish -----------------------------------------------------------------------------------


@case("optional_base", "publish", "both optional ledgers in clean base form (xlsx)")
def _base(o: Records, folder: Path) -> None:
    write_base_training(o, folder)
    write_base_cases(o, folder)


@case(
    "training_title_total_synonyms",
    "publish",
    "training xlsx: merged title row, 填报单位 line, headers 培训时间/培训内容/参训对象/参加人数/"
    "培训学时 with 序号 and 备注, a correct 合计 row; dates as date cells and numbers 20230305",
)
def _training_title_total(o: Records, folder: Path) -> None:
    header = ["序号", "培训时间", "培训内容", "参训对象", "参加人数", "培训学时", "备注"]
    rows: list[Row] = [
        [f"{COUNTY}教育局{YEAR}年度法治培训台账"],
        ["填报单位：青禾县教育局政策法规股", None, None, None, None, "填报日期：2024年1月8日"],
        header,
    ]
    for i, t in enumerate(o.training, 1):
        day: object = t.day if i % 2 else int(t.day.strftime("%Y%m%d"))
        rows.append(
            [i, day, t.topic, t.audience, t.participants, t.hours, "线上" if i % 5 == 0 else None]
        )
    total = sum(t.participants for t in o.training), sum(t.hours for t in o.training)
    rows.append(["合计", None, None, None, *total, None])
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    exports.fill(ws, rows)
    ws.merge_cells("A1:G1")
    exports.save_workbook(wb, folder / TRAINING_FILE)
    write_base_cases(o, folder)


@case(
    "training_csv_gbk_variants",
    "publish",
    "training CSV in GBK: headers 日期/主题/对象/人数/课时; audience variants (行政执法人员, "
    "机关工作人员, 中小学教师, 在校学生 …); dates 2023年3月5日 / 2023/3/5 / 2023.3.5 / 20230305 / "
    "2023年5月 / full-width; full-width digits in 人数 and 课时; stray spaces",
)
def _training_csv_gbk(o: Records, folder: Path) -> None:
    audience_form = cycler(AUDIENCE_VARIANTS)
    forms: list[Callable[[date], str]] = [
        lambda d: f"{d.year}年{d.month}月{d.day}日",
        lambda d: f"{d.year}/{d.month}/{d.day}",
        lambda d: f"{d.year}.{d.month}.{d.day}",
        lambda d: d.strftime("%Y%m%d"),
        lambda d: f"{d.year}年{d.month}月{d.day}日".translate(FULL),
        lambda d: f" {d.isoformat()} ",
    ]
    rows: list[Row] = [["序号", "日期", "主题", "对象", "人数", "课时"]]
    for i, t in enumerate(o.training, 1):
        day = forms[i % len(forms)](t.day) if i != 7 else f"{t.day.year}年{t.day.month}月"
        audience = audience_form(t.audience)
        if i % 4 == 0:
            audience = f" {audience} "
        people, hours = str(t.participants), str(t.hours)
        if i % 3 == 0:
            people, hours = people.translate(FULL), hours.translate(FULL)
        if i % 5 == 0:
            people = f"{people} "
        rows.append([i, day, t.topic, audience, people, hours])
    text = exports.csv_bytes(rows)
    (folder / TRAINING_FILE.replace(".xlsx", ".csv")).write_bytes(text.encode("gbk"))
    write_base_cases(o, folder)


@case(
    "cases_csv_bom_variants",
    "publish",
    "cases CSV in UTF-8 with BOM: headers 编号/类型/受理日期/案件事由/结果/负责人出庭应诉; "
    "type variants (复议, 行政应诉, 诉讼, 应诉), outcome variants (予以维持, 驳回诉讼请求 …), "
    "appearance variants (已出庭, 未出庭, 出庭, Y, N, 是的); "
    "dates 2023.3.5 / 2023/3/5 / 20230305; spaces",
)
def _cases_csv_bom(o: Records, folder: Path) -> None:
    type_form = cycler(CASE_TYPE_VARIANTS)
    outcome_form = cycler(OUTCOME_VARIANTS)
    appeared_form = cycler(APPEARED_VARIANTS, canonical_too=False)
    forms: list[Callable[[date], str]] = [
        lambda d: f"{d.year}.{d.month}.{d.day}",
        lambda d: f"{d.year}/{d.month}/{d.day}",
        lambda d: d.strftime("%Y%m%d"),
        lambda d: f"{d.year}年{d.month}月{d.day}日",
    ]
    rows: list[Row] = [["序号", "编号", "类型", "受理日期", "案件事由", "结果", "负责人出庭应诉"]]
    for i, c in enumerate(o.cases, 1):
        kind = type_form(c.type)
        outcome = outcome_form(c.outcome)
        appeared = appeared_form(c.appeared) if c.appeared else ""
        if i % 4 == 0:
            kind, outcome = f" {kind}", f"{outcome} "
        rows.append([i, c.no, kind, forms[i % len(forms)](c.received), c.cause, outcome, appeared])
    text = exports.csv_bytes(rows)
    (folder / CASES_FILE.replace(".xlsx", ".csv")).write_bytes(text.encode("utf-8-sig"))
    write_base_training(o, folder)


@case(
    "cases_xlsx_title_synonyms",
    "publish",
    "cases xlsx: merged title, 填报单位 line, headers 案件号/类别/立案日期/案由/审理结果/"
    "行政机关负责人是否出庭 and 备注; dates as Excel serial numbers, date cells and "
    "20230305 numbers; full-width digits in 案号; a blank row in the middle",
)
def _cases_xlsx_title(o: Records, folder: Path) -> None:
    header = [
        "序号",
        "案件号",
        "类别",
        "立案日期",
        "案由",
        "审理结果",
        "行政机关负责人是否出庭",
        "备注",
    ]
    rows: list[Row] = [
        [f"{COUNTY}教育局{YEAR}年行政复议和行政应诉案件台账"],
        ["填报单位：青禾县教育局政策法规股"],
        header,
    ]
    forms: list[Callable[[date], object]] = [
        lambda d: d,
        excel_serial,
        lambda d: int(d.strftime("%Y%m%d")),
    ]
    for i, c in enumerate(o.cases, 1):
        if i == 12:
            rows.append([])
        no = c.no.translate(FULL) if i % 2 else c.no
        note = "已结案" if c.outcome != "审理中" else None
        rows.append(
            [i, no, c.type, forms[i % 3](c.received), c.cause, c.outcome, c.appeared or None, note]
        )
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "案件台账"
    exports.fill(ws, rows)
    ws.merge_cells("A1:H1")
    exports.save_workbook(wb, folder / CASES_FILE)
    write_base_training(o, folder)


def _only_reviews(o: Records) -> list[CaseRecord]:
    return [c for c in o.cases if c.type == "行政复议"]


@case(
    "cases_only_reviews_no_training",
    "publish",
    "training ledger absent, cases ledger with reconsiderations only; narrative uses only "
    "case figures: cases_principal_rate absent (no lawsuit), training figures unavailable",
    narrative=NARRATIVE_CASES,
    figures=lambda o: cases_figures(_only_reviews(o)),
    absent_keys=("cases_principal_rate", *training_figures([])),
)
def _cases_only_reviews(o: Records, folder: Path) -> None:
    exports.save_xlsx(
        folder / CASES_FILE, [("案件台账", [CASES_HEADER, *case_rows(_only_reviews(o))])]
    )


# -- set aside / refused -----------------------------------------------------------------------

EXTRA_ROW = len(generate().training) + 2  # Excel row of a row appended to the base training file


def _append_training(o: Records, folder: Path, bad: Row) -> None:
    rows = [TRAINING_HEADER, *training_rows(o.training), [len(o.training) + 1, *bad]]
    exports.save_xlsx(folder / TRAINING_FILE, [("法治培训", rows)])
    write_base_cases(o, folder)


def _zero_participants(o: Records, folder: Path) -> None:
    _append_training(o, folder, [date(YEAR, 11, 20), "依法治校示范校创建培训", "教师", 0, 2])


case(
    "training_zero_participants",
    "refuse",
    "training row with 参训人数 0 (set aside, no control total: must not publish)",
    exit_codes=(3,),
    must_mention=("法治培训",),
)(_zero_participants)

case(
    "training_zero_participants_accepted",
    "publish",
    "the same 参训人数 0 row, accepted in config.yaml (accepted_set_aside): published without it",
    config_extra=lambda o: (
        "\naccepted_set_aside:\n"
        f"  - file: {TRAINING_FILE}\n"
        f"    row: {EXTRA_ROW}\n"
        "    reason: 该场培训因故取消，台账未及时删除\n"
    ),
    report_mentions=("该场培训因故取消，台账未及时删除",),
)(_zero_participants)


@case(
    "training_total_disagrees",
    "refuse",
    "training xlsx whose 合计 row states 参训人数 10 more than its rows (a total that disagrees "
    "fails validation)",
    exit_codes=(3,),
    must_mention=("法治培训",),
)
def _training_total_disagrees(o: Records, folder: Path) -> None:
    total = sum(t.participants for t in o.training) + 10, sum(t.hours for t in o.training)
    rows = [TRAINING_HEADER, *training_rows(o.training), ["合计", None, None, None, *total]]
    exports.save_xlsx(folder / TRAINING_FILE, [("法治培训", rows)])
    write_base_cases(o, folder)


@case(
    "training_date_outside_year",
    "refuse",
    "training row dated 2022-12-28 (outside the report year: set aside)",
    exit_codes=(3,),
    must_mention=("法治培训",),
)
def _training_outside_year(o: Records, folder: Path) -> None:
    _append_training(o, folder, [date(YEAR - 1, 12, 28), "年终法治工作总结会", "机关干部", 30, 2])


@case(
    "training_audience_unknown",
    "refuse",
    "training row whose 培训对象 is 家长 (not one of the four values)",
    exit_codes=(3,),
    must_mention=("法治培训",),
)
def _training_audience_unknown(o: Records, folder: Path) -> None:
    _append_training(o, folder, [date(YEAR, 10, 12), "家庭教育促进法宣讲", "家长", 120, 2])


@case(
    "cases_duplicate_number",
    "refuse",
    "a later case row repeats the 案号 of an earlier one (unique check fails)",
    exit_codes=(3,),
    must_mention=("复议",),
)
def _cases_duplicate(o: Records, folder: Path) -> None:
    first = o.cases[0]
    dup = CaseRecord(first.no, "行政诉讼", date(YEAR, 12, 29), "不服行政处罚决定", "审理中", "否")
    rows = [CASES_HEADER, *case_rows(o.cases), case_row(len(o.cases) + 1, dup)]
    exports.save_xlsx(folder / CASES_FILE, [("案件台账", rows)])
    write_base_training(o, folder)


@case(
    "cases_lawsuit_without_appearance",
    "refuse",
    "a 行政诉讼 row with 负责人是否出庭 left empty (present_if fails)",
    exit_codes=(3,),
    must_mention=("复议",),
)
def _cases_no_appearance(o: Records, folder: Path) -> None:
    rows = [CASES_HEADER, *case_rows(o.cases)]
    k = next(i for i, c in enumerate(o.cases, 1) if c.type == "行政诉讼" and c.appeared == "是")
    rows[k][6] = None
    exports.save_xlsx(folder / CASES_FILE, [("案件台账", rows)])
    write_base_training(o, folder)


@case(
    "cases_appearance_unrecognised",
    "refuse",
    "a 行政诉讼 row whose 负责人是否出庭 reads 委托代理人出庭 (not 是/否 nor a listed variant; "
    "the principal did NOT appear): refused or set aside, never read as 是",
    exit_codes=(2, 3),
    must_mention=("复议",),
)
def _cases_appearance_unrecognised(o: Records, folder: Path) -> None:
    rows = [CASES_HEADER, *case_rows(o.cases)]
    k = next(i for i, c in enumerate(o.cases, 1) if c.type == "行政诉讼" and c.appeared == "否")
    rows[k][6] = "委托代理人出庭"
    exports.save_xlsx(folder / CASES_FILE, [("案件台账", rows)])
    write_base_training(o, folder)


@case(
    "narrative_uses_training_without_ledger",
    "refuse",
    "the narrative uses training figures but there is no 法治培训台账 (exit 2, naming it)",
    exit_codes=(2,),
    must_mention=("法治培训台账",),
)
def _training_absent(o: Records, folder: Path) -> None:
    write_base_cases(o, folder)
