"""The words and amounts generated ledgers are made of: stages, programmes, standards, names,
places, headers."""

from __future__ import annotations

from edureport.ingest.specs import all_specs

# ------------------------------------------------------------------ vocabulary


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


STAGES = ("学前教育", "义务教育", "普通高中", "中等职业教育")
PROGRAMMES: dict[str, tuple[str, ...]] = {
    "学前教育": ("学前教育资助",),
    "义务教育": ("家庭经济困难学生生活费补助",),
    "普通高中": ("国家助学金", "建档立卡学生免学费、免书费、免住宿费"),
    "中等职业教育": ("国家助学金", "免学费", "免书费、免住宿费"),
}
# Programmes paid at a national standard per disbursement (fen).
UNIT_FEN: dict[tuple[str, str], int] = {
    ("普通高中", "国家助学金"): 100_000,
    ("中等职业教育", "国家助学金"): 100_000,
    ("中等职业教育", "免学费"): 100_000,
    ("中等职业教育", "免书费、免住宿费"): 40_000,
}
# Programmes whose amount varies per student: allowed range per row (fen).
VARYING_RANGE_FEN: dict[tuple[str, str], tuple[int, int]] = {
    ("学前教育", "学前教育资助"): (30_000, 60_000),
    ("义务教育", "家庭经济困难学生生活费补助"): (25_000, 62_500),
    ("普通高中", "建档立卡学生免学费、免书费、免住宿费"): (100_000, 180_000),
}
# Programmes only registered-poor (建档立卡) students receive.
POOR_ONLY = frozenset(
    {("普通高中", "建档立卡学生免学费、免书费、免住宿费"), ("中等职业教育", "免书费、免住宿费")}
)
STAGE_AGES = {
    "学前教育": (3, 6),
    "义务教育": (6, 15),
    "普通高中": (15, 18),
    "中等职业教育": (15, 19),
}

KEYWORDS = {name: s.keyword for name, s in all_specs().items()}  # resources/ledgers/
STYLES = ("canonical", "messy_xlsx", "messy_csv")
N_TOWNS = 16  # towns per county; each has two village schools (so up to 32 走教 schools)
BAD_KINDS = ("duplicate", "zero_amount", "bad_check_digit", "wrong_year")
_BAD_REASON = {
    "duplicate": ("exact copy of the good row just above it", None),
    "zero_amount": ("amount 0", "金额（元）"),
    "bad_check_digit": ("ID number with a wrong GB 11643 check digit", "身份证号"),
    "wrong_year": ("发放日期 on 28 December of the previous year", "发放日期"),
}
# The stage whose block receives each kind of bad row (any stage if that one is absent).
_BAD_STAGE = {
    "duplicate": "义务教育",
    "zero_amount": "学前教育",
    "bad_check_digit": "普通高中",
    "wrong_year": "中等职业教育",
}

AID_HEADER = _words(
    "序号 学校名称 学段 资助项目 学生姓名 身份证号 是否建档立卡 学期 金额（元） 发放日期"
)
CONTROL_HEADER = ("学段", "资助项目", "人次", "金额（元）")
OFFICER_HEADER = _words("姓名 性别 所在股室 执法证号 发证日期 有效期至 用工性质 年度培训学时")
EXCHANGE_HEADER = ("姓名", "身份证号", "身份", "交流类型", "原学校", "交流学校", "开始日期")
INSPECTION_HEADER = ("机构名称", "机构类型", "办学许可证号", "检查日期", "检查结论")
APPROVAL_HEADER = ("机构名称", "机构类型", "审批日期", "办学许可证号")

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
)
_GIVEN = (
    "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华玉萍红玲芬燕彬鹏辉宇浩凯健俊帆旭宁林欣怡"
    "佳雨涵梓轩子晨博文思诗雪琪瑶婷悦嘉一馨梦可睿泽航宸锦逸诺昊然豪鑫晓雅欢志海波建国兰春丹"
)
_TOWNS = _words(
    "河西镇 白石镇 青龙镇 龙泉镇 新华镇 大坪镇 马场镇 石门乡 桃源乡 松林乡 "
    "清水乡 高峰乡 柳溪乡 枫木乡 金竹乡 长岭乡 黄土镇 双河口镇 茶山乡 太平镇"
)
_VILLAGES = _words(
    "杨家 李家 大湾 石桥 柏树 双河 新村 红星 长冲 坪上 塘坊 竹园 王家 岩口 "
    "沙坝 茶园 高桥 水井 枫树 观音 田坝 桂花 龙潭 马鞍 樟树 凉亭 白果 铁炉 "
    "黄泥 青山 杉木 楠竹 梨子 板桥 油坊 槐树"
)
_UNITS = _words(
    "政策法规股 安全稳定股 基础教育股 民办教育管理股 学生资助管理中心 教育督导室 计划财务股"
)
_INST_WORDS = _words(
    "阳光 小太阳 童心 蓓蕾 春苗 金色童年 快乐宝贝 启明星 育英 贝贝 爱心 彩虹 "
    "小天使 七彩 博苑 智慧树 新苗 晨曦 星光 小博士 苗苗 雏鹰 向日葵 蒲公英 "
    "乐乐 明珠 东方 未来 欣欣 卓越 育才 博雅 英才 明德 启智 华英 "
    "思源 求实 立人 启航 飞跃 翰墨 艺馨 天天向上 金话筒 小画家 名师 状元 "
    "博学"
)
_INST_SUFFIX = {
    "民办幼儿园": ("幼儿园", "双语幼儿园"),
    "民办中小学": ("学校", "实验学校", "外国语学校"),
    "校外培训机构": _words(
        "艺术培训学校 体育培训中心 书画培训中心 舞蹈培训学校 音乐培训中心 美术培训学校 科技培训中心"
    ),
}
_UNLICENSED_SUFFIX = ("辅导班", "托管班", "补习班", "教育咨询工作室", "培优中心")
_LICENCE_CODE = {"民办幼儿园": "10", "民办中小学": "20", "校外培训机构": "30"}
_AID_NOTES = (
    "填表说明",
    "1. 本表由各学校填报，县教育局学生资助管理中心汇总，每发放一次填一行（一人次）。",
    "2. 同一学生同一资助项目同一学期只能填报一次。",
    "3. 身份证号填写18位居民身份证号码，末位为X的用大写。",
    "4. 金额单位为元，保留两位小数；发放日期填写资金实际发放（或减免）的日期。",
    "5. 本表数据须与资助资金拨付汇总表一致。",
)
