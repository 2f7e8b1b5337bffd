"""Blind test corpus: ledgers written the way county bureau offices export them.

Written from the input contract only (shared/reference/ledgers.md, figures-2022.md and the
README), without reading the package's reading or cleaning code.

1. ``generate()`` draws the TRUE records of one fictional county-year (青禾县, 2023) from a
   fixed seed, and ``expected_figures()`` computes the figures from those records.
2. ``write_base_*`` write each ledger in a clean base form (xlsx via openpyxl, csv via csv).
3. ``CASES``: each applies ONE kind of real-office mess to ONE ledger, every other ledger in
   base form, and declares what the tool must do: "publish" (exact figures), "refuse" (exit 2
   or 3, nothing published) or "either" (exact figures, or refused; never published wrong).

Every case describes the same true records, so every case has the same expected figures.
Expectations are never computed by reading the written files back.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import openpyxl.cell._writer as _cell_writer

COUNTY = "青禾县"
YEAR = 2023
SEED = 20230917
HERE = Path(__file__).resolve().parent
NARRATIVE = HERE / "narrative.md"

# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------

STAGES = ["学前教育", "义务教育", "普通高中", "中等职业教育"]

# figure-key stem -> (学段, 资助项目); figures-2022.md F6-F12
PROGRAMMES: dict[str, tuple[str, str]] = {
    "aid_preschool": ("学前教育", "学前教育资助"),
    "aid_compulsory_living": ("义务教育", "家庭经济困难学生生活费补助"),
    "aid_highschool_grant": ("普通高中", "国家助学金"),
    "aid_highschool_poor": ("普通高中", "建档立卡学生免学费、免书费、免住宿费"),
    "aid_vocational_grant": ("中等职业教育", "国家助学金"),
    "aid_vocational_tuition": ("中等职业教育", "免学费"),
    "aid_vocational_books": ("中等职业教育", "免书费、免住宿费"),
}
# disbursements drawn per programme (a few hundred in all)
PROGRAMME_ROWS = {
    "aid_preschool": 40,
    "aid_compulsory_living": 70,
    "aid_highschool_grant": 56,
    "aid_highschool_poor": 28,
    "aid_vocational_grant": 36,
    "aid_vocational_tuition": 60,
    "aid_vocational_books": 22,
}
# amounts in fen. National standards (figures-2022.md, last paragraph) where one applies;
# per-student amounts (with cents) where the standard varies.
VARYING_FEN = {
    "aid_preschool": [50000, 62500, 75000, 83750, 90000, 101235, 125000],
    "aid_compulsory_living": [31250, 43725, 50000, 62500, 62500, 75000, 100000],
    "aid_highschool_poor": [118000, 135000, 139080, 142550, 160000],
}
STANDARD_FEN = {
    "aid_vocational_grant": 100000,
    "aid_vocational_tuition": 100000,
    "aid_vocational_books": 40000,
}

SCHOOLS = {
    "学前教育": ["青禾县第一幼儿园", "青禾县城关镇中心幼儿园", "青禾县南山镇中心幼儿园"],
    "义务教育": [
        "青禾县第一小学",
        "青禾县实验小学",
        "青禾县南山镇中心小学",
        "青禾县第一初级中学",
        "青禾县北坪镇初级中学",
    ],
    "普通高中": ["青禾县第一中学", "青禾县第二中学"],
    "中等职业教育": ["青禾县职业技术学校"],
}
# birth years per stage (students' IDs must look like pupils of that stage)
BIRTH_YEARS = {
    "学前教育": (2018, 2020),
    "义务教育": (2009, 2016),
    "普通高中": (2005, 2008),
    "中等职业教育": (2005, 2008),
}
TERMS = [f"{YEAR}年春季学期", f"{YEAR}年秋季学期"]

# schools served by 走教 teachers (every 原学校 of a 走教 teacher is also served by another
# one, so "distinct schools served" is the same whether 原学校 is counted or not)
ITINERANT_SCHOOLS = [
    "青禾县第一小学",
    "青禾县实验小学",
    "青禾县南山镇中心小学",
    "青禾县北坪镇初级中学",
    "青禾县上坪村小学",
    "青禾县下河教学点",
    "青禾县石门村小学",
    "青禾县柳塘村小学",
]
ROTATION_SCHOOLS = [
    *SCHOOLS["义务教育"],
    "青禾县上坪村小学",
    "青禾县石门村小学",
    "青禾县城关镇第二小学",
    "青禾县南山镇初级中学",
]

# real county-level area codes (GB/T 2260)
AREAS = ["110101", "310104", "440305", "510107", "330106"]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范石廖贾夏韦付方邹孟熊秦邱尹薛闫段雷侯龙史陶黎贺顾毛郝龚"
    "邵钱严覃武戴莫孔汤"
)
GIVEN = "梓浩涵睿欣怡宇轩萱晨嘉俊婷琪瑶昊铭楠彤妍皓璐婧珂骏琳韬翊霖煜芮钰珊栩蕾曦琛泓沛"

DEPARTMENTS = ["政策法规股", "安全稳定股", "民办教育管理股", "教育督导室", "基础教育股"]

# ---------------------------------------------------------------------------------------------
# True records
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Aid:
    school: str
    stage: str
    programme: str
    key: str  # figure-key stem in PROGRAMMES
    name: str
    id: str
    poor: str  # 是 / 否
    term: str
    fen: int
    paid: date


@dataclass(frozen=True)
class Officer:
    name: str
    sex: str
    dept: str
    cert: str
    issued: date
    expires: date
    staff: str
    hours: int


@dataclass(frozen=True)
class Exchange:
    name: str
    id: str
    role: str  # 教师 / 校长
    kind: str  # 交流轮岗 / 走教
    from_school: str
    to_school: str
    start: date


@dataclass(frozen=True)
class Inspection:
    inst: str
    type: str
    licence: str  # "" = unlicensed
    day: date
    result: str


@dataclass(frozen=True)
class Approval:
    inst: str
    type: str
    day: date
    licence: str


@dataclass(frozen=True)
class County:
    aid: tuple[Aid, ...]
    officers: tuple[Officer, ...]
    # roster rows of people who are NOT current officers (退休 / 调离); used by roster cases
    former_officers: tuple[tuple[Officer, str], ...]
    exchange: tuple[Exchange, ...]
    inspections: tuple[Inspection, ...]
    approvals: tuple[Approval, ...]

    def personal(self) -> set[str]:
        """Every generated name and ID number (must never reach the outputs)."""
        out: set[str] = set()
        for a in self.aid:
            out |= {a.name, a.id}
        for o in self.officers:
            out.add(o.name)
        for o, _ in self.former_officers:
            out.add(o.name)
        for e in self.exchange:
            out |= {e.name, e.id}
        return out


_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_CHECK = "10X98765432"


def check_digit(body17: str) -> str:
    """GB 11643-1999 check character of the first 17 digits."""
    return _CHECK[sum(int(d) * w for d, w in zip(body17, _WEIGHTS, strict=True)) % 11]


def id_is_valid(value: str) -> bool:
    return len(value) == 18 and value[:17].isdigit() and check_digit(value[:17]) == value[17]


class _Draw:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.names: set[str] = set()
        self.ids: set[str] = set()
        self.forbidden = NARRATIVE.read_text(encoding="utf-8") + "".join(
            s for v in SCHOOLS.values() for s in v
        )

    def name(self) -> str:
        while True:
            n = self.rng.choice(SURNAMES) + "".join(self.rng.sample(GIVEN, 2))
            if n not in self.names and n not in self.forbidden:
                self.names.add(n)
                return n

    def birth(self, lo: int, hi: int) -> date:
        return date(lo, 1, 1) + timedelta(days=self.rng.randrange((hi - lo + 1) * 365))

    def resident_id(self, born: date, female: bool | None = None) -> str:
        while True:
            seq = self.rng.randrange(1000)
            if female is not None and (seq % 2 == 0) != female:
                seq = (seq + 1) % 1000
            body = f"{self.rng.choice(AREAS)}{born:%Y%m%d}{seq:03d}"
            value = body + check_digit(body)
            if value not in self.ids:
                self.ids.add(value)
                return value

    def day(self, start: date, end: date) -> date:
        return start + timedelta(days=self.rng.randrange((end - start).days + 1))


def _twin_ids(d: _Draw) -> tuple[str, str]:
    """Two valid, digit-only IDs that share their first 15 digits (twins: same area, same
    birthday, consecutive sequence numbers). Stored as Excel numbers they become equal."""
    born = d.birth(1988, 1990)
    area = d.rng.choice(AREAS)
    for seq in range(101, 990, 2):
        a = f"{area}{born:%Y%m%d}{seq:03d}"
        b = f"{area}{born:%Y%m%d}{seq + 2:03d}"
        ia, ib = a + check_digit(a), b + check_digit(b)
        if ia[:15] == ib[:15] and ia.isdigit() and ib.isdigit() and not {ia, ib} & d.ids:
            d.ids |= {ia, ib}
            return ia, ib
    raise AssertionError("no twin IDs")


def _aid(d: _Draw) -> list[Aid]:
    rng = d.rng
    students: dict[str, list[tuple[str, str, str, str]]] = {}  # stage -> (name, id, school, poor)
    pool_size = {"学前教育": 28, "义务教育": 45, "普通高中": 45, "中等职业教育": 40}
    for stage in STAGES:
        lo, hi = BIRTH_YEARS[stage]
        pool = []
        for i in range(pool_size[stage]):
            poor = "是" if (stage == "普通高中" and i < 18) or rng.random() < 0.2 else "否"
            pool.append(
                (d.name(), d.resident_id(d.birth(lo, hi)), rng.choice(SCHOOLS[stage]), poor)
            )
        students[stage] = pool
    spring = (date(YEAR, 3, 1), date(YEAR, 6, 30))
    autumn = (date(YEAR, 9, 1), date(YEAR, 12, 20))
    # one payday per school, programme and term (offices pay in batches)
    paydays: dict[tuple[str, str, str], date] = {}
    rows: list[Aid] = []
    for key, (stage, programme) in PROGRAMMES.items():
        pool = students[stage]
        if key == "aid_highschool_poor":
            pool = [s for s in pool if s[3] == "是"]
        pairs = [(s, t) for s in pool for t in TERMS]
        for (name, rid, school, poor), term in rng.sample(pairs, PROGRAMME_ROWS[key]):
            if key in STANDARD_FEN:
                fen = STANDARD_FEN[key]
            elif key == "aid_highschool_grant":
                fen = 50000 if rng.random() < 0.15 else 100000  # 500 = half term
            else:
                fen = rng.choice(VARYING_FEN[key])
            slot = (school, programme, term)
            if slot not in paydays:
                paydays[slot] = d.day(*(spring if term == TERMS[0] else autumn))
            rows.append(
                Aid(school, stage, programme, key, name, rid, poor, term, fen, paydays[slot])
            )
    order = {s: i for i, s in enumerate(STAGES)}
    progs = [p for _, p in PROGRAMMES.values()]
    rows.sort(key=lambda a: (order[a.stage], a.school, progs.index(a.programme), a.term, a.id))
    return rows


def _officers(d: _Draw) -> tuple[list[Officer], list[tuple[Officer, str]]]:
    rng = d.rng
    out = []
    for i in range(12):
        issued = d.day(date(2018, 1, 1), date(YEAR, 6, 30))
        out.append(
            Officer(
                name=d.name(),
                sex=rng.choice("男女"),
                dept=DEPARTMENTS[i % len(DEPARTMENTS)],
                cert=f"510107{issued.year}{i + 11:04d}",
                issued=issued,
                expires=date(issued.year + 6, issued.month, min(issued.day, 28)),
                staff="在编",
                hours=rng.choice([40, 42, 48, 56, 60, 64, 72]),
            )
        )
    current, former = out[:10], out[10:]
    # former officers: certificate still nominally valid; only the remark says they are gone
    return current, [(replace(former[0], hours=0), "退休"), (former[1], "调离")]


def _exchange(d: _Draw) -> list[Exchange]:
    rng = d.rng
    rows: list[Exchange] = []
    twins = _twin_ids(d)
    for i in range(22):
        role = "校长" if i >= 18 else "教师"
        rid = twins[i] if i < 2 else d.resident_id(d.birth(1968, 1996))
        src, dst = rng.sample(ROTATION_SCHOOLS, 2)
        rows.append(
            Exchange(
                d.name(),
                rid,
                role,
                "交流轮岗",
                src,
                dst,
                d.day(date(YEAR, 8, 25), date(YEAR, 9, 5)),
            )
        )
    teachers = [(d.name(), d.resident_id(d.birth(1975, 1997))) for _ in range(7)]
    served: list[tuple[int, str, list[str]]] = []
    for i, _ in enumerate(teachers):
        home = rng.choice(ITINERANT_SCHOOLS)
        others = [s for s in ITINERANT_SCHOOLS if s != home]
        served.append((i, home, rng.sample(others, rng.choice([2, 2, 3]))))
    covered = {s for _, _, sv in served for s in sv}
    for school in ITINERANT_SCHOOLS:
        if school not in covered:
            for _, home, sv in served:
                if home != school and school not in sv:
                    sv.append(school)
                    break
    for i, home, sv in served:
        start = date(YEAR, 2, 20) if i % 2 else date(YEAR, 9, 1)
        for school in sv:
            rows.append(Exchange(*teachers[i], "教师", "走教", home, school, start))
    return rows


_KG_NAMES = [
    "小太阳",
    "七彩虹",
    "金苹果",
    "童心",
    "蓝天",
    "爱弥儿",
    "小星星",
    "贝贝",
    "启智",
    "乐乐",
]
_TRAINING_NAMES = [
    "博雅教育培训学校",
    "启明星艺术培训中心",
    "思源学科培训学校",
    "新航道英语培训中心",
    "墨香书法培训中心",
    "飞扬体育培训中心",
    "知行教育培训学校",
    "乐音音乐培训中心",
    "智慧树科技培训中心",
    "翰林文化培训学校",
    "阳光作文培训中心",
    "未来星美术培训中心",
    "卓越学科辅导中心",
    "童画美术工作室",
    "优学课外辅导中心",
]


def _licence(n: int) -> str:
    return f"教民1510107{n:07d}号"


def _inspections(d: _Draw) -> list[Inspection]:
    rng = d.rng
    insts: list[tuple[str, str, str, str]] = []  # name, type, licence, result
    for i, kg in enumerate(_KG_NAMES):
        insts.append((f"青禾县{kg}幼儿园", "民办幼儿园", _licence(70001 + i), "合格"))
    for i in (3, 7):
        insts[i] = (*insts[i][:3], "限期整改")
    for i, school in enumerate(["青禾县育才学校", "青禾县博文实验学校", "青禾县新星学校"]):
        insts.append((school, "民办中小学", _licence(10001 + i), "合格"))
    for i, tr in enumerate(_TRAINING_NAMES):
        if i < 10:
            result = "限期整改" if i in (2, 6) else "合格"
            insts.append((f"青禾县{tr}", "校外培训机构", _licence(90001 + i), result))
        else:
            insts.append((f"青禾县{tr}", "校外培训机构", "", "取缔"))
    rows = [
        Inspection(n, t, lic, d.day(date(YEAR, 3, 1), date(YEAR, 11, 30)), res)
        for n, t, lic, res in insts
    ]
    # two institutions inspected twice in the year, 合格 both times (count once)
    for i in (0, 14):
        n, t, lic, res = insts[i]
        assert res == "合格"
        rows.append(Inspection(n, t, lic, d.day(date(YEAR, 12, 1), date(YEAR, 12, 20)), res))
    rng.shuffle(rows)
    return sorted(rows, key=lambda r: r.day)


def _approvals(d: _Draw) -> list[Approval]:
    items = [
        ("青禾县晨曦幼儿园", "民办幼儿园"),
        ("青禾县小橡树幼儿园", "民办幼儿园"),
        ("青禾县南山镇快乐幼儿园", "民办幼儿园"),
        ("青禾县北坪镇启航幼儿园", "民办幼儿园"),
        ("青禾县明德学校", "民办中小学"),
        ("青禾县书韵文化培训中心", "校外培训机构"),
    ]
    rows = [
        Approval(n, t, d.day(date(YEAR, 2, 1), date(YEAR, 11, 30)), _licence(80001 + i))
        for i, (n, t) in enumerate(items)
    ]
    return sorted(rows, key=lambda r: r.day)


@functools.cache
def generate(seed: int = SEED) -> County:
    d = _Draw(seed)
    aid = _aid(d)
    officers, former = _officers(d)
    return County(
        aid=tuple(aid),
        officers=tuple(officers),
        former_officers=tuple(former),
        exchange=tuple(_exchange(d)),
        inspections=tuple(_inspections(d)),
        approvals=tuple(_approvals(d)),
    )


# ---------------------------------------------------------------------------------------------
# Expected figures (from the true records, never from the written files)
# ---------------------------------------------------------------------------------------------

REPORT_DATE = date(YEAR, 12, 31)


def control_rows(c: County) -> list[tuple[str, str, int, int]]:
    """The finance office's control totals: (学段, 资助项目, 人次, fen), from the true records."""
    out = []
    for key, (stage, programme) in PROGRAMMES.items():
        rows = [a for a in c.aid if a.key == key]
        out.append((stage, programme, len(rows), sum(a.fen for a in rows)))
    return out


def expected_figures(c: County) -> dict[str, int]:
    fig: dict[str, int] = {}
    in_year = [i for i in c.inspections if i.day.year == YEAR]
    fig["inspected_passed"] = len({i.inst for i in in_year if i.result == "合格"})
    fig["unlicensed_closed"] = len(
        {
            i.inst
            for i in in_year
            if i.type == "校外培训机构" and not i.licence and i.result == "取缔"
        }
    )
    fig["inspected_rectify"] = len({i.inst for i in in_year if i.result == "限期整改"})
    fig["inspected_total"] = len({i.inst for i in in_year})
    fig["kindergartens_approved"] = len(
        [a for a in c.approvals if a.type == "民办幼儿园" and a.day.year == YEAR]
    )
    fig["aid_total_count"] = len(c.aid)
    fig["aid_total_amount"] = sum(a.fen for a in c.aid)
    for key in PROGRAMMES:
        rows = [a for a in c.aid if a.key == key]
        fig[f"{key}_count"] = len(rows)
        fig[f"{key}_amount"] = sum(a.fen for a in rows)
    rotation = [e for e in c.exchange if e.kind == "交流轮岗"]
    fig["exchange_total"] = len({e.id for e in rotation})
    fig["exchange_teachers"] = len({e.id for e in rotation if e.role == "教师"})
    fig["exchange_principals"] = len({e.id for e in rotation if e.role == "校长"})
    itinerant = [e for e in c.exchange if e.kind == "走教"]
    fig["itinerant_teachers"] = len({e.id for e in itinerant})
    fig["itinerant_schools"] = len({e.to_school for e in itinerant})
    fig["officers_total"] = len(c.officers)
    fig["officers_certified"] = len(
        [o for o in c.officers if o.cert and o.issued <= REPORT_DATE <= o.expires]
    )
    fig["officers_non_staff"] = len([o for o in c.officers if o.staff != "在编"])
    return fig


# ---------------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------------

FILES = {
    "aid": "2023年学生资助发放台账（终版）.xlsx",
    "control": "2023年资助资金拨付汇总表.csv",
    "officers": "行政执法人员名册.xlsx",
    "exchange": "2023年教师校长交流台账.csv",
    "inspections": "2023年民办教育机构检查台账.xlsx",
    "approvals": "2023年民办教育机构审批台账.xlsx",
}

AID_HEADER = [
    "序号",
    "学校名称",
    "学段",
    "资助项目",
    "学生姓名",
    "身份证号",
    "是否建档立卡",
    "学期",
    "金额（元）",
    "发放日期",
]
AMOUNT_COL = AID_HEADER.index("金额（元）")
CONTROL_HEADER = ["学段", "资助项目", "人次", "金额（元）"]
OFFICER_HEADER = [
    "姓名",
    "性别",
    "所在股室",
    "执法证号",
    "发证日期",
    "有效期至",
    "用工性质",
    "年度培训学时",
]
EXCHANGE_HEADER = ["姓名", "身份证号", "身份", "交流类型", "原学校", "交流学校", "开始日期"]
INSPECTION_HEADER = ["机构名称", "机构类型", "办学许可证号", "检查日期", "检查结论"]
APPROVAL_HEADER = ["机构名称", "机构类型", "审批日期", "办学许可证号"]

Row = list[object]


def yuan_text(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def yuan_number(fen: int) -> float:
    return fen / 100  # the nearest double; its repr is the exact two-decimal amount


def fill(ws, rows: list[Row], start: int = 1) -> None:
    """Write rows from row ``start``; None leaves a cell empty; dates get a date format."""
    for r, row in enumerate(rows, start):
        for col, value in enumerate(row, 1):
            if value is None:
                continue
            cell = ws.cell(row=r, column=col, value=value)
            if isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"


def save_workbook(wb: openpyxl.Workbook, path: Path) -> None:
    """Save with every float written as its shortest round-trip repr (17 significant digits
    when needed), as Excel does. openpyxl itself writes "%.16g", which would drop the binary
    noise of 1180.0000000000002."""
    original = _cell_writer.safe_string

    def exact(value: object) -> str:
        if isinstance(value, float) and math.isfinite(value):
            return repr(value)
        return original(value)

    _cell_writer.safe_string = exact
    try:
        wb.save(path)
    finally:
        _cell_writer.safe_string = original


def save_xlsx(path: Path, sheets: list[tuple[str, list[Row]]]) -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets:
        fill(wb.create_sheet(title), rows)
    save_workbook(wb, path)
    return wb


def csv_bytes(rows: list[Row], delimiter: str = ",") -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buf.getvalue()


def aid_row(i: int, a: Aid) -> Row:
    return [
        i,
        a.school,
        a.stage,
        a.programme,
        a.name,
        a.id,
        a.poor,
        a.term,
        yuan_number(a.fen),
        a.paid,
    ]


def aid_rows(c: County) -> list[Row]:
    return [aid_row(i, a) for i, a in enumerate(c.aid, 1)]


def write_base_aid(c: County, folder: Path) -> None:
    save_xlsx(folder / FILES["aid"], [("资助发放台账", [AID_HEADER, *aid_rows(c)])])


def control_table(c: County) -> list[Row]:
    return [
        CONTROL_HEADER,
        *([s, p, n, yuan_text(fen)] for s, p, n, fen in control_rows(c)),
    ]


def write_base_control(c: County, folder: Path) -> None:
    (folder / FILES["control"]).write_bytes(csv_bytes(control_table(c)).encode("utf-8-sig"))


def officer_row(o: Officer) -> Row:
    return [o.name, o.sex, o.dept, o.cert, o.issued, o.expires, o.staff, o.hours]


def write_base_officers(c: County, folder: Path) -> None:
    rows = [OFFICER_HEADER, *(officer_row(o) for o in c.officers)]
    save_xlsx(folder / FILES["officers"], [("执法人员名册", rows)])


def exchange_rows(c: County) -> list[Row]:
    return [
        [e.name, e.id, e.role, e.kind, e.from_school, e.to_school, e.start.isoformat()]
        for e in c.exchange
    ]


def write_base_exchange(c: County, folder: Path) -> None:
    text = csv_bytes([EXCHANGE_HEADER, *exchange_rows(c)])
    (folder / FILES["exchange"]).write_bytes(text.encode("utf-8-sig"))


def inspection_rows(c: County) -> list[Row]:
    return [[i.inst, i.type, i.licence or None, i.day, i.result] for i in c.inspections]


def write_base_inspections(c: County, folder: Path) -> None:
    rows = [INSPECTION_HEADER, *inspection_rows(c)]
    save_xlsx(folder / FILES["inspections"], [("检查台账", rows)])


def approval_rows(c: County) -> list[Row]:
    return [[a.inst, a.type, a.day, a.licence] for a in c.approvals]


def write_base_approvals(c: County, folder: Path) -> None:
    save_xlsx(folder / FILES["approvals"], [("审批台账", [APPROVAL_HEADER, *approval_rows(c)])])


BASE_WRITERS: dict[str, Callable[[County, Path], None]] = {
    "aid": write_base_aid,
    "control": write_base_control,
    "officers": write_base_officers,
    "exchange": write_base_exchange,
    "inspections": write_base_inspections,
    "approvals": write_base_approvals,
}


def config_text(c: County) -> str:
    return (
        f"# {COUNTY} {YEAR} 年度：校验参数（盲测数据，虚构；据示例县 config.yaml 改写）\n"
        "#\n"
        "# 未填写的项目采用全国默认值。\n\n"
        "# 申报执法人员数（人）：执法人员名册的人数须与之相等。\n"
        f"declared_officers: {len(c.officers)}\n\n"
        "# 报告日期：执法证须在此日期有效。\n"
        f"report_date: {REPORT_DATE.isoformat()}\n"
    )


# ---------------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------------

Build = Callable[[County, Path], list[str]]


@dataclass(frozen=True)
class Case:
    name: str
    ledger: str | None  # the one ledger written in a messy form (None: all base)
    expect: str  # "publish" | "refuse" | "either"
    what: str
    build: Build


CASES: list[Case] = []


def case(name: str, ledger: str | None, expect: str, what: str) -> Callable[[Build], Build]:
    assert expect in {"publish", "refuse", "either"}

    def deco(fn: Build) -> Build:
        CASES.append(Case(name, ledger, expect, what, fn))
        return fn

    return deco


def write_case(cs: Case, data_root: Path) -> tuple[Path, set[str]]:
    """Write the county-year folder of one case; return it and every personal string written."""
    c = generate()
    folder = data_root / COUNTY / str(YEAR)
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(config_text(c), encoding="utf-8")
    (folder / "narrative.md").write_text(NARRATIVE.read_text(encoding="utf-8"), encoding="utf-8")
    for ledger, writer in BASE_WRITERS.items():
        if ledger != cs.ledger:
            writer(c, folder)
    extras = cs.build(c, folder)
    return folder, c.personal() | set(extras)


def _rng(name: str) -> random.Random:
    return random.Random(f"{SEED}:{name}")


def _truncated(id_number: str) -> float:
    """An 18-digit ID typed into an Excel General cell: a double kept to 15 significant
    digits (Excel shows 1.10101E+17; digits after the 15th are zeros)."""
    return float(int(id_number[:15]) * 1000)


# -- base --------------------------------------------------------------------------------------


@case("base", None, "publish", "every ledger in clean base form")
def _base(c: County, folder: Path) -> list[str]:
    return []


# -- aid ledger: shapes ------------------------------------------------------------------------


@case("aid_school_merged", "aid", "publish", "学校名称 merged down each school's block")
def _aid_school_merged(c: County, folder: Path) -> list[str]:
    rows = aid_rows(c)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "资助发放台账"
    fill(ws, [AID_HEADER])
    start = 2
    for i, row in enumerate(rows):
        r = i + 2
        first = i == 0 or rows[i - 1][1] != row[1]
        fill(ws, [[*row[:1], row[1] if first else None, *row[2:]]], start=r)
        last = i == len(rows) - 1 or rows[i + 1][1] != row[1]
        if first:
            start = r
        if last and r > start:
            ws.merge_cells(start_row=start, start_column=2, end_row=r, end_column=2)
    save_workbook(wb, folder / FILES["aid"])
    return []


@case(
    "aid_two_row_header",
    "aid",
    "publish",
    "two-row header: 学生信息 merged over 姓名/身份证号, 发放信息 over 金额（元）/发放日期",
)
def _aid_two_row_header(c: County, folder: Path) -> list[str]:
    top: Row = [*AID_HEADER]
    top[4:6] = ["学生信息", None]
    top[8:10] = ["发放信息", None]
    second: Row = [None] * 10
    second[4:6] = ["姓名", "身份证号"]
    second[8:10] = ["金额（元）", "发放日期"]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "资助发放台账"
    fill(ws, [top, second, *aid_rows(c)])
    for col in (1, 2, 3, 4, 7, 8):
        ws.merge_cells(start_row=1, start_column=col, end_row=2, end_column=col)
    ws.merge_cells("E1:F1")
    ws.merge_cells("I1:J1")
    save_workbook(wb, folder / FILES["aid"])
    return []


@case("aid_unit_row", "aid", "publish", "header 资助金额 with a unit row （元） under it")
def _aid_unit_row(c: County, folder: Path) -> list[str]:
    header = [*AID_HEADER]
    header[AMOUNT_COL] = "资助金额"
    unit: Row = [None] * 10
    unit[AMOUNT_COL] = "（元）"
    save_xlsx(folder / FILES["aid"], [("资助发放台账", [header, unit, *aid_rows(c)])])
    return []


@case(
    "aid_wan_title",
    "aid",
    "publish",
    "unit only in the title area (单位：万元), header 金额, amounts in 万元 as numbers",
)
def _aid_wan_title(c: County, folder: Path) -> list[str]:
    header = [*AID_HEADER]
    header[AMOUNT_COL] = "金额"
    rows = aid_rows(c)
    for row, a in zip(rows, c.aid, strict=True):
        row[AMOUNT_COL] = a.fen / 1_000_000
    title: Row = [f"{COUNTY}{YEAR}年学生资助发放台账"]
    info: Row = ["填报单位：青禾县教育局（盖章）", *([None] * 7), "单位：万元"]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "资助发放台账"
    fill(ws, [title, info, header, *rows])
    ws.merge_cells("A1:J1")
    ws.merge_cells("A2:D2")
    save_workbook(wb, folder / FILES["aid"])
    return []


def _stage_sheets(c: County, with_stage: bool, off_by: dict[str, int]) -> list[tuple[str, list]]:
    sheets = []
    for stage in STAGES:
        recs = [a for a in c.aid if a.stage == stage]
        rows = [aid_row(i, a) for i, a in enumerate(recs, 1)]
        subtotal: Row = ["小计", *([None] * 9)]
        subtotal[AMOUNT_COL] = yuan_number(sum(a.fen for a in recs) + off_by.get(stage, 0))
        header = [*AID_HEADER]
        if not with_stage:
            header = header[:2] + header[3:]
            rows = [r[:2] + r[3:] for r in rows]
            subtotal = subtotal[:2] + subtotal[3:]
        sheets.append((stage, [header, *rows, subtotal]))
    return sheets


@case(
    "aid_sheet_per_stage",
    "aid",
    "publish",
    "one sheet per 学段 (学段 column kept), each ending in a correct 小计 row",
)
def _aid_sheet_per_stage(c: County, folder: Path) -> list[str]:
    save_xlsx(folder / FILES["aid"], _stage_sheets(c, with_stage=True, off_by={}))
    return []


# The contract lists "one sheet per 学段" as a shape offices produce. When the sheet name is
# the only place the stage is written, the tool may read it from the sheet name (exact figures)
# or refuse; it must never publish figures that lost or guessed the stage (国家助学金 exists in
# both 普通高中 and 中等职业教育).
@case(
    "aid_sheet_per_stage_no_column",
    "aid",
    "either",
    "one sheet per 学段, no 学段 column (the sheet name is the stage), 小计 rows",
)
def _aid_sheet_per_stage_no_column(c: County, folder: Path) -> list[str]:
    save_xlsx(folder / FILES["aid"], _stage_sheets(c, with_stage=False, off_by={}))
    return []


@case("aid_sheet_per_school", "aid", "publish", "one sheet per school, each with a 小计 row")
def _aid_sheet_per_school(c: County, folder: Path) -> list[str]:
    schools = list(dict.fromkeys(a.school for a in c.aid))
    sheets = []
    for school in schools:
        recs = [a for a in c.aid if a.school == school]
        subtotal: Row = ["小计", *([None] * 9)]
        subtotal[AMOUNT_COL] = yuan_number(sum(a.fen for a in recs))
        rows = [aid_row(i, a) for i, a in enumerate(recs, 1)]
        sheets.append((school, [AID_HEADER, *rows, subtotal]))
    save_xlsx(folder / FILES["aid"], sheets)
    return []


@case(
    "aid_excel_subtotals",
    "aid",
    "publish",
    "Excel 分类汇总 by school: 'XX 汇总' rows after each block and a 总计 row (values)",
)
def _aid_excel_subtotals(c: County, folder: Path) -> list[str]:
    out: list[Row] = [AID_HEADER]
    rows = aid_rows(c)
    for i, (row, a) in enumerate(zip(rows, c.aid, strict=True)):
        out.append(row)
        if i == len(rows) - 1 or c.aid[i + 1].school != a.school:
            summary: Row = [None] * 10
            summary[1] = f"{a.school} 汇总"
            summary[AMOUNT_COL] = yuan_number(sum(x.fen for x in c.aid if x.school == a.school))
            out.append(summary)
    total: Row = [None] * 10
    total[1] = "总计"
    total[AMOUNT_COL] = yuan_number(sum(a.fen for a in c.aid))
    out.append(total)
    save_xlsx(folder / FILES["aid"], [("资助发放台账", out)])
    return []


@case(
    "aid_hidden_old_sheet",
    "aid",
    "publish",
    "hidden first sheet 初稿 with an older, larger draft (dupes, other amounts) beside the real",
)
def _aid_hidden_old_sheet(c: County, folder: Path) -> list[str]:
    rng = _rng("aid_hidden_old_sheet")
    draft = [list(r) for r in aid_rows(c)]
    for row in draft[::9]:
        row[AMOUNT_COL] = float(row[AMOUNT_COL]) + 50  # type: ignore[arg-type]
    extra = [list(r) for r in rng.sample(draft, 25)]
    draft = draft + extra
    for i, row in enumerate(draft, 1):
        row[0] = i
    wb = openpyxl.Workbook()
    old = wb.active
    old.title = "初稿"
    fill(old, [AID_HEADER, *draft])
    old.sheet_state = "hidden"
    new = wb.create_sheet("终版")
    fill(new, [AID_HEADER, *aid_rows(c)])
    wb.active = 1
    save_workbook(wb, folder / FILES["aid"])
    return []


@case(
    "aid_instruction_sheet",
    "aid",
    "publish",
    "first sheet 填表说明 (a 栏目/填写要求 table naming the columns), data on the second",
)
def _aid_instruction_sheet(c: County, folder: Path) -> list[str]:
    notes: list[Row] = [
        ["填表说明"],
        [],
        ["栏目", "填写要求"],
        ["序号", "按顺序填写"],
        ["学校名称", "填写学校全称"],
        ["学段", "学前教育/义务教育/普通高中/中等职业教育"],
        ["资助项目", "按资助政策名称填写"],
        ["学生姓名", "与学籍系统一致"],
        ["身份证号", "18位居民身份证号码，末位X大写"],
        ["是否建档立卡", "是/否"],
        ["学期", "春季学期/秋季学期"],
        ["金额（元）", "保留两位小数"],
        ["发放日期", "年-月-日"],
        [],
        ["本表由各学校填报，学校资助中心审核后报县学生资助管理中心。"],
    ]
    save_xlsx(
        folder / FILES["aid"],
        [("填表说明", notes), ("资助发放台账", [AID_HEADER, *aid_rows(c)])],
    )
    return []


@case(
    "aid_csv_cp936_euro",
    "aid",
    "publish",
    "aid ledger as CSV saved as cp936 (no BOM) with a 备注 column, one cell holding €",
)
def _aid_csv_cp936_euro(c: County, folder: Path) -> list[str]:
    out: list[Row] = [[*AID_HEADER, "备注"]]
    for i, a in enumerate(c.aid, 1):
        row = aid_row(i, a)
        row[AMOUNT_COL] = yuan_text(a.fen)
        row[-1] = a.paid.isoformat()
        note = ""
        if i == 17:
            note = "家长在德国务工，另有境外汇款€200，不影响资助认定"
        elif i % 41 == 0:
            note = "补发"
        out.append([*row, note])
    (folder / FILES["aid"]).unlink(missing_ok=True)
    path = folder / "2023年学生资助发放台账（终版）.csv"
    # Windows code page 936 maps 0x80 to €; Python's "cp936" (an alias of gbk) does not
    path.write_bytes(b"\x80".join(part.encode("gbk") for part in csv_bytes(out).split("€")))
    assert b"\x80" in path.read_bytes()  # the € byte of cp936 (not valid GB18030)
    return []


@case("aid_date_numbers", "aid", "publish", "发放日期 typed as numbers (20230315 numeric cells)")
def _aid_date_numbers(c: County, folder: Path) -> list[str]:
    rows = aid_rows(c)
    for row, a in zip(rows, c.aid, strict=True):
        row[-1] = int(a.paid.strftime("%Y%m%d"))
    save_xlsx(folder / FILES["aid"], [("资助发放台账", [AID_HEADER, *rows])])
    return []


@case(
    "aid_float_noise",
    "aid",
    "publish",
    "amounts stored with binary formula noise (1000.0000000000001, 837.4999999999999)",
)
def _aid_float_noise(c: County, folder: Path) -> list[str]:
    rows = aid_rows(c)
    for i, (row, a) in enumerate(zip(rows, c.aid, strict=True)):
        toward = math.inf if i % 2 else -math.inf
        row[AMOUNT_COL] = math.nextafter(yuan_number(a.fen), toward)
    save_xlsx(folder / FILES["aid"], [("资助发放台账", [AID_HEADER, *rows])])
    with zipfile.ZipFile(folder / FILES["aid"]) as zf:
        xml = zf.read("xl/worksheets/sheet1.xml").decode()
    assert "<v>1000.0000000000001</v>" in xml and "<v>999.9999999999999</v>" in xml
    return []


@case(
    "aid_short_stage_names",
    "aid",
    "publish",
    "学段 written with short names (中职/职中/职业高中, 普高/高中, 学前/幼儿园, 义务/小学/初中)",
)
def _aid_short_stage_names(c: County, folder: Path) -> list[str]:
    rng = _rng("aid_short_stage_names")
    short = {
        "学前教育": ["学前", "幼儿园"],
        "普通高中": ["普高", "高中"],
        "中等职业教育": ["中职", "职中", "职业高中"],
    }
    rows = aid_rows(c)
    for row, a in zip(rows, c.aid, strict=True):
        if a.stage == "义务教育":
            row[2] = rng.choice(["义务", "初中" if "初级中学" in a.school else "小学"])
        else:
            row[2] = rng.choice(short[a.stage])
    save_xlsx(folder / FILES["aid"], [("资助发放台账", [AID_HEADER, *rows])])
    return []


def _excel_serial(d: date) -> int:
    return (d - date(1899, 12, 30)).days


@case(
    "aid_mixed_dates",
    "aid",
    "publish",
    "发放日期 mixed: 2023-03-05, 2023/3/5, 2023.3.5, 2023年3月5日, serial numbers, date cells",
)
def _aid_mixed_dates(c: County, folder: Path) -> list[str]:
    rows = aid_rows(c)
    forms: list[Callable[[date], object]] = [
        lambda d: d.isoformat(),
        lambda d: f"{d.year}/{d.month}/{d.day}",
        lambda d: f"{d.year}.{d.month}.{d.day}",
        lambda d: f"{d.year}年{d.month}月{d.day}日",
        _excel_serial,
        lambda d: d,
    ]
    for i, (row, a) in enumerate(zip(rows, c.aid, strict=True)):
        row[-1] = forms[i % len(forms)](a.paid)
    save_xlsx(folder / FILES["aid"], [("资助发放台账", [AID_HEADER, *rows])])
    return []


@case(
    "aid_text_amounts",
    "aid",
    "publish",
    "amounts stored as text: '1,000.00', '1000元', ' 837.50 ' (thousands separators, unit)",
)
def _aid_text_amounts(c: County, folder: Path) -> list[str]:
    rows = aid_rows(c)
    for i, (row, a) in enumerate(zip(rows, c.aid, strict=True)):
        y = yuan_text(a.fen)
        whole, cents = y.split(".")
        forms = [f"{int(whole):,}.{cents}", f"{y}元", f" {y} ", y]
        row[AMOUNT_COL] = forms[i % len(forms)]
    save_xlsx(folder / FILES["aid"], [("资助发放台账", [AID_HEADER, *rows])])
    return []


_FULL = str.maketrans("0123456789X.", "０１２３４５６７８９Ｘ．")


@case(
    "aid_fullwidth",
    "aid",
    "publish",
    "full-width digits in amounts (text) and in every 4th ID (incl. Ｘ), stray spaces/newlines",
)
def _aid_fullwidth(c: County, folder: Path) -> list[str]:
    rows = aid_rows(c)
    extras = []
    for i, (row, a) in enumerate(zip(rows, c.aid, strict=True)):
        row[AMOUNT_COL] = yuan_text(a.fen).translate(_FULL)
        if i % 4 == 0:
            row[5] = a.id.translate(_FULL)
            extras.append(row[5])
        if i % 7 == 0:
            row[1] = f" {a.school}\n"
            row[4] = f"{a.name} "
    save_xlsx(folder / FILES["aid"], [("资助发放台账", [AID_HEADER, *rows])])
    return [str(e) for e in extras]


@case(
    "aid_title_total_blank",
    "aid",
    "publish",
    "merged title row, 填报单位 line, blank rows inside, correct 合计 row at the bottom",
)
def _aid_title_total_blank(c: County, folder: Path) -> list[str]:
    out: list[Row] = [
        [f"{COUNTY}{YEAR}年学生资助发放台账"],
        [
            "填报单位：青禾县学生资助管理中心",
            None,
            None,
            None,
            None,
            None,
            "填报日期：2024年1月10日",
        ],
        [],
        AID_HEADER,
    ]
    for i, row in enumerate(aid_rows(c)):
        if i and i % 60 == 0:
            out.append([])
        out.append(row)
    total: Row = ["合计", *([None] * 9)]
    total[AMOUNT_COL] = yuan_number(sum(a.fen for a in c.aid))
    out.append(total)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    fill(ws, out)
    ws.merge_cells("A1:J1")
    save_workbook(wb, folder / FILES["aid"])
    return []


@case(
    "aid_header_synonyms",
    "aid",
    "publish",
    "headers 学校, 姓名, 证件号码, 金额(元) (half-width brackets), 发放 日期",
)
def _aid_header_synonyms(c: County, folder: Path) -> list[str]:
    header = [*AID_HEADER]
    header[1], header[4], header[5] = "学校", "姓名", "证件号码"
    header[AMOUNT_COL], header[9] = "金额(元)", "发放 日期"
    save_xlsx(folder / FILES["aid"], [("资助发放台账", [header, *aid_rows(c)])])
    return []


@case(
    "aid_header_wan",
    "aid",
    "publish",
    "header 金额（万元）, amounts in 万元 as numbers (0.08375 for 837.50 元)",
)
def _aid_header_wan(c: County, folder: Path) -> list[str]:
    header = [*AID_HEADER]
    header[AMOUNT_COL] = "金额（万元）"
    rows = aid_rows(c)
    for row, a in zip(rows, c.aid, strict=True):
        row[AMOUNT_COL] = a.fen / 1_000_000
    save_xlsx(folder / FILES["aid"], [("资助发放台账", [header, *rows])])
    return []


@case(
    "aid_excel_subtotals_by_stage",
    "aid",
    "publish",
    "Excel 分类汇总 by 学段: '学前教育 汇总' rows in the 学段 column and a 总计 row",
)
def _aid_excel_subtotals_by_stage(c: County, folder: Path) -> list[str]:
    out: list[Row] = [AID_HEADER]
    rows = aid_rows(c)
    for i, (row, a) in enumerate(zip(rows, c.aid, strict=True)):
        out.append(row)
        if i == len(rows) - 1 or c.aid[i + 1].stage != a.stage:
            summary: Row = [None] * 10
            summary[2] = f"{a.stage} 汇总"
            summary[AMOUNT_COL] = yuan_number(sum(x.fen for x in c.aid if x.stage == a.stage))
            out.append(summary)
    total: Row = [None] * 10
    total[2] = "总计"
    total[AMOUNT_COL] = yuan_number(sum(a.fen for a in c.aid))
    out.append(total)
    save_xlsx(folder / FILES["aid"], [("资助发放台账", out)])
    return []


# Per-school sheets preceded by a 汇总 sheet listing each school's 人次 and 金额 (a workbook
# shape offices produce; the contract names per-school sheets, not the summary sheet). The
# summary is not disbursements: exact figures, or refused; never the summary counted as data.
@case(
    "aid_per_school_with_summary_sheet",
    "aid",
    "either",
    "one sheet per school (小计 rows) plus a first sheet 汇总 of school totals with 合计",
)
def _aid_per_school_with_summary(c: County, folder: Path) -> list[str]:
    schools = list(dict.fromkeys(a.school for a in c.aid))
    summary: list[Row] = [["学校名称", "学段", "人次", "金额（元）"]]
    sheets = []
    for school in schools:
        recs = [a for a in c.aid if a.school == school]
        fen = sum(a.fen for a in recs)
        summary.append([school, recs[0].stage, len(recs), yuan_number(fen)])
        subtotal: Row = ["小计", *([None] * 9)]
        subtotal[AMOUNT_COL] = yuan_number(fen)
        rows = [aid_row(i, a) for i, a in enumerate(recs, 1)]
        sheets.append((school, [AID_HEADER, *rows, subtotal]))
    summary.append(["合计", None, len(c.aid), yuan_number(sum(a.fen for a in c.aid))])
    save_xlsx(folder / FILES["aid"], [("汇总", summary), *sheets])
    return []


# -- aid ledger: refusals and open cases -------------------------------------------------------


# One 1000-yuan 中职免学费 payment written "1.000,00". Read as 1.00 (or 1.00000) the total is
# wrong; read as 1000.00 the tool guessed a European number format. Set aside, the ledger no
# longer matches the control totals. Correct behaviour: refuse (exit 2 naming the cell, or 3).
@case("aid_european_amount", "aid", "refuse", "one amount written '1.000,00' (text)")
def _aid_european_amount(c: County, folder: Path) -> list[str]:
    rows = aid_rows(c)
    i = next(k for k, a in enumerate(c.aid) if a.key == "aid_vocational_tuition")
    assert c.aid[i].fen == 100000
    rows[i][AMOUNT_COL] = "1.000,00"
    save_xlsx(folder / FILES["aid"], [("资助发放台账", [AID_HEADER, *rows])])
    return []


# The 普通高中 sheet's 小计 is 100.00 more than its rows (the rows themselves agree with the
# control). The office's own sheet contradicts itself: which is right is not knowable from
# the files, so publishing is wrong. Correct behaviour: refuse.
@case(
    "aid_subtotal_disagrees",
    "aid",
    "refuse",
    "one sheet per 学段; the 普通高中 小计 row is 100.00 more than the rows above it",
)
def _aid_subtotal_disagrees(c: County, folder: Path) -> list[str]:
    save_xlsx(folder / FILES["aid"], _stage_sheets(c, with_stage=True, off_by={"普通高中": 10000}))
    return []


# A payment entered twice; the second copy's ID was typed into a General cell (an Excel number,
# digits after the 15th lost). The finance office's control counts the payment ONCE, so the
# truth is one payment. A tool may set the unreadable copy aside (the ledger then agrees with
# the control and the figures are the truth: publish exact) or refuse because an ID is
# unrecoverable. Publishing two payments would be wrong (and disagrees with the control).
@case(
    "aid_dup_numeric_id_control_once",
    "aid",
    "either",
    "a payment entered twice, the 2nd copy's ID an Excel number (15 digits); control counts once",
)
def _aid_dup_numeric_id(c: County, folder: Path) -> list[str]:
    rows = aid_rows(c)
    i = next(k for k, a in enumerate(c.aid) if a.id.isdigit() and a.key == "aid_compulsory_living")
    copy = aid_row(len(rows) + 1, c.aid[i])
    copy[5] = _truncated(c.aid[i].id)
    save_xlsx(folder / FILES["aid"], [("资助发放台账", [AID_HEADER, *rows, copy])])
    return []


# One student's ID has a wrong check digit (a typo). The contract: such rows are set aside,
# not fixed by guessing; the payment is real and the control counts it, so the ledger then
# disagrees with the control. Correct behaviour: refuse (validation fails), never publish.
@case(
    "aid_bad_check_digit",
    "aid",
    "refuse",
    "one ID with a wrong check digit; the control totals count that payment",
)
def _aid_bad_check_digit(c: County, folder: Path) -> list[str]:
    rows = aid_rows(c)
    i = 123
    good = c.aid[i].id
    bad = good[:17] + next(ch for ch in "0123456789X" if ch != good[17])
    rows[i][5] = bad
    save_xlsx(folder / FILES["aid"], [("资助发放台账", [AID_HEADER, *rows])])
    return [bad]


# An exact duplicate row (another 序号, every other cell equal); the control counts the
# payment once. The contract sets the copy aside and shows it: the figures are the truth. Whether
# a set-aside row blocks publication is not stated, so: exact figures, or refused.
@case(
    "aid_exact_duplicate",
    "aid",
    "either",
    "one payment entered twice (same student, programme, term, amount); control counts once",
)
def _aid_exact_duplicate(c: County, folder: Path) -> list[str]:
    rows = aid_rows(c)
    copy = aid_row(len(rows) + 1, c.aid[200])
    save_xlsx(folder / FILES["aid"], [("资助发放台账", [AID_HEADER, *rows, copy])])
    return []


# The aid ledger as CSV saved by Excel from a sheet whose digit-only IDs were Excel numbers:
# the CSV holds "1.10101E+17" (IDs ending in X stayed text). The identities are gone; the
# rows cannot be checked or de-duplicated, and set aside they leave the ledger short of the
# control. Correct behaviour: refuse.
@case(
    "aid_csv_numeric_ids_sci",
    "aid",
    "refuse",
    "aid ledger as CSV in which digit-only IDs read 1.10101E+17 (saved from numeric cells)",
)
def _aid_csv_numeric_ids_sci(c: County, folder: Path) -> list[str]:
    out: list[Row] = [AID_HEADER]
    for i, a in enumerate(c.aid, 1):
        row = aid_row(i, a)
        row[AMOUNT_COL] = yuan_text(a.fen)
        row[-1] = a.paid.isoformat()
        if a.id.isdigit():
            row[5] = f"{float(a.id):.5E}"
        out.append(row)
    (folder / FILES["aid"]).unlink(missing_ok=True)
    path = folder / "2023年学生资助发放台账（终版）.csv"
    path.write_bytes(csv_bytes(out).encode("utf-8-sig"))
    return []


# -- control totals ----------------------------------------------------------------------------


@case(
    "control_stage_merged_xlsx",
    "control",
    "publish",
    "control totals as xlsx with 学段 merged down its programmes",
)
def _control_stage_merged(c: County, folder: Path) -> list[str]:
    (folder / FILES["control"]).unlink(missing_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "拨付汇总"
    fill(ws, [CONTROL_HEADER])
    r = 2
    for stage in STAGES:
        lines = [x for x in control_rows(c) if x[0] == stage]
        for k, (_, programme, n, fen) in enumerate(lines):
            fill(ws, [[stage if k == 0 else None, programme, n, yuan_number(fen)]], start=r + k)
        if len(lines) > 1:
            ws.merge_cells(start_row=r, start_column=1, end_row=r + len(lines) - 1, end_column=1)
        r += len(lines)
    save_workbook(wb, folder / "2023年资助资金拨付汇总表.xlsx")
    return []


@case("control_total_row_ok", "control", "publish", "control CSV ending in a correct 合计 row")
def _control_total_ok(c: County, folder: Path) -> list[str]:
    lines = control_rows(c)
    total = ["合计", "", sum(x[2] for x in lines), yuan_text(sum(x[3] for x in lines))]
    text = csv_bytes([*control_table(c), total])
    (folder / FILES["control"]).write_bytes(text.encode("utf-8-sig"))
    return []


@case("control_ctrl_z", "control", "publish", "control CSV ending in a Ctrl-Z (0x1A) byte")
def _control_ctrl_z(c: County, folder: Path) -> list[str]:
    data = csv_bytes(control_table(c)).encode("utf-8-sig") + b"\x1a"
    (folder / FILES["control"]).write_bytes(data)
    return []


# The control sheet's own 合计 row is 1000.00 more than the sum of its lines (its lines agree
# with the aid ledger). The finance office's document contradicts itself; the tool cannot know
# which figure was paid. Correct behaviour: refuse.
@case(
    "control_total_disagrees",
    "control",
    "refuse",
    "control CSV whose 合计 row is 1000.00 more than the sum of its lines",
)
def _control_total_disagrees(c: County, folder: Path) -> list[str]:
    lines = control_rows(c)
    total = ["合计", "", sum(x[2] for x in lines), yuan_text(sum(x[3] for x in lines) + 100000)]
    text = csv_bytes([*control_table(c), total])
    (folder / FILES["control"]).write_bytes(text.encode("utf-8-sig"))
    return []


@case(
    "control_wan_title",
    "control",
    "publish",
    "control totals as xlsx: title, 单位：万元 in the title area, header 金额, amounts in 万元",
)
def _control_wan_title(c: County, folder: Path) -> list[str]:
    (folder / FILES["control"]).unlink(missing_ok=True)
    rows: list[Row] = [
        [f"{COUNTY}{YEAR}年学生资助资金拨付汇总表"],
        ["填报单位：青禾县学生资助管理中心", None, None, "单位：万元"],
        ["学段", "资助项目", "人次", "金额"],
        *([s, p, n, fen / 1_000_000] for s, p, n, fen in control_rows(c)),
    ]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "拨付汇总"
    fill(ws, rows)
    ws.merge_cells("A1:D1")
    save_workbook(wb, folder / "2023年资助资金拨付汇总表.xlsx")
    return []


# -- officer roster ----------------------------------------------------------------------------


def _roster_with_former(c: County, column: str, current: str | None) -> list[Row]:
    rows: list[Row] = [[*officer_row(o), current] for o in c.officers]
    # former officers' rows sit among the others, not at the end
    for pos, (o, status) in zip((3, 8), c.former_officers, strict=True):
        rows.insert(pos, [*officer_row(o), status])
    return [[*OFFICER_HEADER, column], *rows]


@case(
    "officers_remarks_retired",
    "officers",
    "publish",
    "roster with a 备注 column; two extra rows say 退休 / 调离 (not current officers)",
)
def _officers_remarks(c: County, folder: Path) -> list[str]:
    save_xlsx(folder / FILES["officers"], [("执法人员名册", _roster_with_former(c, "备注", None))])
    return []


@case(
    "officers_status_column",
    "officers",
    "publish",
    "roster with a 状态 column: 在职 for officers, 退休 / 调离 on two extra rows",
)
def _officers_status(c: County, folder: Path) -> list[str]:
    save_xlsx(
        folder / FILES["officers"], [("执法人员名册", _roster_with_former(c, "状态", "在职"))]
    )
    return []


@case("officers_longterm", "officers", "publish", "有效期至 written 长期 for three officers")
def _officers_longterm(c: County, folder: Path) -> list[str]:
    rows = [officer_row(o) for o in c.officers]
    for i in (1, 4, 8):
        rows[i][5] = "长期"
    save_xlsx(folder / FILES["officers"], [("执法人员名册", [OFFICER_HEADER, *rows])])
    return []


@case(
    "officers_header_synonyms",
    "officers",
    "publish",
    "headers 执法证件号码 (for 执法证号) and 证件有效期 (for 有效期至)",
)
def _officers_synonyms(c: County, folder: Path) -> list[str]:
    header = [*OFFICER_HEADER]
    header[3], header[5] = "执法证件号码", "证件有效期"
    rows = [officer_row(o) for o in c.officers]
    save_xlsx(folder / FILES["officers"], [("执法人员名册", [header, *rows])])
    return []


@case(
    "officers_same_name",
    "officers",
    "publish",
    "two different officers share a name (other 股室, distinct certificate numbers): both count",
)
def _officers_same_name(c: County, folder: Path) -> list[str]:
    rows = [officer_row(o) for o in c.officers]
    rows[6][0] = rows[0][0]
    assert rows[6][3] != rows[0][3] and rows[6][2] != rows[0][2]
    save_xlsx(folder / FILES["officers"], [("执法人员名册", [OFFICER_HEADER, *rows])])
    return []


@case("officers_staff_synonyms", "officers", "publish", "用工性质 written 正式 / 编内 for 在编")
def _officers_staff_synonyms(c: County, folder: Path) -> list[str]:
    rows = [officer_row(o) for o in c.officers]
    for i, row in enumerate(rows):
        row[6] = ["正式", "编内", "在编"][i % 3]
    save_xlsx(folder / FILES["officers"], [("执法人员名册", [OFFICER_HEADER, *rows])])
    return []


@case(
    "officers_two_row_header",
    "officers",
    "publish",
    "two-row header: 执法证件 merged over 执法证号/发证日期/有效期至",
)
def _officers_two_row_header(c: County, folder: Path) -> list[str]:
    top: Row = [*OFFICER_HEADER]
    top[3:6] = ["执法证件", None, None]
    second: Row = [None] * 8
    second[3:6] = OFFICER_HEADER[3:6]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "执法人员名册"
    fill(ws, [top, second, *(officer_row(o) for o in c.officers)])
    for col in (1, 2, 3, 7, 8):
        ws.merge_cells(start_row=1, start_column=col, end_row=2, end_column=col)
    ws.merge_cells("D1:F1")
    save_workbook(wb, folder / FILES["officers"])
    return []


@case(
    "officers_date_numbers",
    "officers",
    "publish",
    "发证日期 and 有效期至 typed as numbers (20190315 numeric cells)",
)
def _officers_date_numbers(c: County, folder: Path) -> list[str]:
    rows = [officer_row(o) for o in c.officers]
    for row, o in zip(rows, c.officers, strict=True):
        row[4], row[5] = int(o.issued.strftime("%Y%m%d")), int(o.expires.strftime("%Y%m%d"))
    save_xlsx(folder / FILES["officers"], [("执法人员名册", [OFFICER_HEADER, *rows])])
    return []


# -- exchange ledger ---------------------------------------------------------------------------


@case(
    "exchange_utf16_tab",
    "exchange",
    "publish",
    "exchange CSV as Excel 'Unicode 文本': UTF-16LE with BOM, tab-separated, CRLF",
)
def _exchange_utf16(c: County, folder: Path) -> list[str]:
    text = csv_bytes([EXCHANGE_HEADER, *exchange_rows(c)], delimiter="\t")
    (folder / FILES["exchange"]).write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    return []


@case("exchange_semicolon", "exchange", "publish", "exchange CSV separated by ';' (UTF-8 BOM)")
def _exchange_semicolon(c: County, folder: Path) -> list[str]:
    text = csv_bytes([EXCHANGE_HEADER, *exchange_rows(c)], delimiter=";")
    (folder / FILES["exchange"]).write_bytes(text.encode("utf-8-sig"))
    return []


# Month-only start dates (2023年9月): the contract lists full dates only. The figures do not
# depend on the day, so a tool may read the month (exact figures) or refuse; setting those rows
# aside and publishing fewer people would be wrong.
@case(
    "exchange_month_only",
    "exchange",
    "either",
    "开始日期 month-only (2023年9月) on every other row",
)
def _exchange_month_only(c: County, folder: Path) -> list[str]:
    rows = exchange_rows(c)
    for i, (row, e) in enumerate(zip(rows, c.exchange, strict=True)):
        if i % 2 == 0:
            row[-1] = f"{e.start.year}年{e.start.month}月"
    text = csv_bytes([EXCHANGE_HEADER, *rows])
    (folder / FILES["exchange"]).write_bytes(text.encode("utf-8-sig"))
    return []


# The exchange ledger as xlsx with digit-only IDs stored as Excel numbers (15 significant
# digits; IDs ending in X stay text, as Excel leaves them). The ledger's distinct-people
# figures rest on the ID; two real people (twins, IDs equal in their first 15 digits) become
# one number. The contract calls this unrecoverable. Correct behaviour: refuse.
@case(
    "exchange_ids_as_numbers",
    "exchange",
    "refuse",
    "exchange ledger as xlsx, 18-digit IDs stored as Excel numbers (digits after 15th lost)",
)
def _exchange_ids_as_numbers(c: County, folder: Path) -> list[str]:
    rows = exchange_rows(c)
    for row, e in zip(rows, c.exchange, strict=True):
        if e.id.isdigit():
            row[1] = _truncated(e.id)
        row[-1] = e.start
    (folder / FILES["exchange"]).unlink(missing_ok=True)
    save_xlsx(folder / "2023年教师校长交流台账.xlsx", [("交流台账", [EXCHANGE_HEADER, *rows])])
    return []


@case(
    "exchange_csv_title_lines",
    "exchange",
    "publish",
    "exchange CSV with a title line and a 填报单位 line above the header (padded with commas)",
)
def _exchange_csv_title_lines(c: County, folder: Path) -> list[str]:
    pad = [""] * (len(EXCHANGE_HEADER) - 1)
    rows: list[Row] = [
        [f"{COUNTY}{YEAR}年教师校长交流台账", *pad],
        ["填报单位：青禾县教育局人事股", *pad],
        EXCHANGE_HEADER,
        *exchange_rows(c),
    ]
    (folder / FILES["exchange"]).write_bytes(csv_bytes(rows).encode("utf-8-sig"))
    return []


@case(
    "exchange_multiline_note",
    "exchange",
    "publish",
    "exchange CSV with a 备注 column whose quoted cells hold line breaks",
)
def _exchange_multiline_note(c: County, folder: Path) -> list[str]:
    notes = {
        0: "支教两年\n（2023年9月至2025年8月）",
        5: "兼任\r\n教研组长",
        30: "每周二、四\n下午走教",
    }
    rows = [[*r, notes.get(i, "")] for i, r in enumerate(exchange_rows(c))]
    text = csv_bytes([[*EXCHANGE_HEADER, "备注"], *rows])
    (folder / FILES["exchange"]).write_bytes(text.encode("utf-8-sig"))
    return []


@case(
    "exchange_person_merged",
    "exchange",
    "publish",
    "exchange as xlsx; 走教 teacher's 姓名/身份证号/身份/交流类型/原学校 merged down",
)
def _exchange_person_merged(c: County, folder: Path) -> list[str]:
    (folder / FILES["exchange"]).unlink(missing_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "交流台账"
    fill(ws, [EXCHANGE_HEADER])
    recs = list(c.exchange)
    r = 2
    i = 0
    while i < len(recs):
        e = recs[i]
        block = [e]
        while e.kind == "走教" and i + len(block) < len(recs) and recs[i + len(block)].id == e.id:
            block.append(recs[i + len(block)])
        for k, x in enumerate(block):
            head = [x.name, x.id, x.role, x.kind, x.from_school] if k == 0 else [None] * 5
            fill(ws, [[*head, x.to_school, x.start]], start=r + k)
        if len(block) > 1:
            for col in range(1, 6):
                ws.merge_cells(
                    start_row=r, start_column=col, end_row=r + len(block) - 1, end_column=col
                )
        r += len(block)
        i += len(block)
    save_workbook(wb, folder / "2023年教师校长交流台账.xlsx")
    return []


# -- inspections and approvals -----------------------------------------------------------------


@case(
    "inspections_no_licence_marks",
    "inspections",
    "publish",
    "办学许可证号 written 无 / '/' / '—' for unlicensed institutions",
)
def _inspections_no_licence(c: County, folder: Path) -> list[str]:
    rows = inspection_rows(c)
    marks = ["无", "/", "—"]
    k = 0
    for row in rows:
        if row[2] is None:
            row[2] = marks[k % len(marks)]
            k += 1
    save_xlsx(folder / FILES["inspections"], [("检查台账", [INSPECTION_HEADER, *rows])])
    return []


@case(
    "approvals_date_numbers",
    "approvals",
    "publish",
    "审批日期 typed as numbers (20230315 numeric cells)",
)
def _approvals_date_numbers(c: County, folder: Path) -> list[str]:
    rows = approval_rows(c)
    for row, a in zip(rows, c.approvals, strict=True):
        row[2] = int(a.day.strftime("%Y%m%d"))
    save_xlsx(folder / FILES["approvals"], [("审批台账", [APPROVAL_HEADER, *rows])])
    return []


@case(
    "inspections_type_merged",
    "inspections",
    "publish",
    "rows grouped by 机构类型, the type merged down each group",
)
def _inspections_type_merged(c: County, folder: Path) -> list[str]:
    order = ["民办幼儿园", "民办中小学", "校外培训机构"]
    recs = sorted(c.inspections, key=lambda i: (order.index(i.type), i.day))
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "检查台账"
    fill(ws, [INSPECTION_HEADER])
    r = 2
    for kind in order:
        block = [i for i in recs if i.type == kind]
        for k, i in enumerate(block):
            row: Row = [i.inst, kind if k == 0 else None, i.licence or None, i.day, i.result]
            fill(ws, [row], start=r + k)
        ws.merge_cells(start_row=r, start_column=2, end_row=r + len(block) - 1, end_column=2)
        r += len(block)
    save_workbook(wb, folder / FILES["inspections"])
    return []
