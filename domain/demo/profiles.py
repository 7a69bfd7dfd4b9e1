"""The shape of the demo city: who is registered where, in which trade, how risky, and who supervises whom.

Plain tables the generator turns into numpy arrays. Industry codes follow GB/T 4754-2017 (E construction,
F wholesale and retail, G transport, H accommodation and catering); region codes GB/T 2260.
"""

from __future__ import annotations

__all__ = [
    "COMPLAINT_AFFINITY",
    "COMPLAINT_CHANNEL_WEIGHTS",
    "COMPLAINT_OUTCOMES",
    "COOPERATIVE_DIVISIONS",
    "CREDIT_REASONS",
    "DEPARTMENT_ABBREVIATIONS",
    "DEPARTMENT_DIVISION_FACTORS",
    "DEPARTMENT_SECTION_WEIGHTS",
    "DIVISION_RISK",
    "ENTERPRISE_SECTION_WEIGHTS",
    "ENTITY_TYPES",
    "ENTITY_TYPE_WEIGHTS",
    "INDIVIDUAL_DIVISIONS",
    "INDUSTRY_WORD_DIVISIONS",
    "KIND_DOCUMENT_CHARS",
    "REGION_RISK",
    "REGION_WEIGHTS",
    "SECTION_RISK",
    "SOURCES",
    "STATUSES",
]

# Entity types (主体类型: 企业, 个体工商户, 农民专业合作社) as stored; the generator's integer codes index this.
ENTITY_TYPES = ("enterprise", "individual", "cooperative")
ENTITY_TYPE_WEIGHTS = (0.60, 0.365, 0.035)
# Registration status (登记状态): in business (存续), deregistered (注销), licence revoked (吊销).
STATUSES = ("active", "cancelled", "revoked")

# Where entities are registered: a manufacturing-heavy prefecture with strong county-level cities.
REGION_WEIGHTS: dict[str, float] = {
    "320500": 0.02, "320505": 0.08, "320506": 0.11, "320507": 0.08, "320508": 0.08, "320509": 0.12,
    "320571": 0.11, "320581": 0.10, "320582": 0.09, "320583": 0.15, "320585": 0.06,
}
REGION_RISK: dict[str, float] = {
    "320500": -0.10, "320505": -0.10, "320506": 0.05, "320507": 0.10, "320508": 0.15, "320509": 0.05,
    "320571": -0.20, "320581": 0.00, "320582": 0.05, "320583": 0.10, "320585": -0.05,
}

# Enterprises by GB/T 4754 section: manufacturing and trade lead.
ENTERPRISE_SECTION_WEIGHTS: dict[str, float] = {
    "A": 0.012, "B": 0.003, "C": 0.25, "D": 0.006, "E": 0.07, "F": 0.24, "G": 0.05, "H": 0.04, "I": 0.05,
    "J": 0.01, "K": 0.03, "L": 0.10, "M": 0.07, "N": 0.012, "O": 0.025, "P": 0.01, "Q": 0.01, "R": 0.012,
}

# The trade word in a company name decides its division.
INDUSTRY_WORD_DIVISIONS: dict[str, str] = {
    "农业科技": "01", "生态农业": "01", "水产养殖": "04", "花卉苗木": "01", "茶业": "01", "农业发展": "05",
    "矿业": "10", "石材": "10", "建材开采": "10",
    "精密机械": "34", "电子科技": "39", "纺织": "17", "丝绸": "17", "服饰": "18", "新材料": "26",
    "光电科技": "39", "汽车零部件": "36", "智能装备": "35", "医疗器械": "35", "生物医药": "27", "塑胶制品": "29",
    "五金制品": "33", "食品": "14", "包装材料": "22", "电气": "38", "化工": "26", "模具": "35", "半导体": "39",
    "印刷": "23", "家具": "21",
    "能源": "44", "新能源": "44", "燃气": "45", "热电": "44", "水务": "46",
    "建设工程": "47", "建筑安装": "49", "装饰工程": "50", "市政工程": "48", "建筑劳务": "47", "钢结构工程": "48",
    "商贸": "51", "贸易": "51", "供应链管理": "51", "进出口": "51", "医药连锁": "52", "超市": "52",
    "汽车销售": "52", "电子商务": "52",
    "物流": "58", "运输": "54", "仓储服务": "59", "货运代理": "58", "客运": "54", "快递服务": "60",
    "餐饮管理": "62", "酒店管理": "61", "餐饮": "62", "食品餐饮": "62", "宾馆": "61",
    "信息技术": "65", "软件": "65", "网络科技": "64", "数据科技": "65", "智能科技": "65", "通信技术": "63",
    "投资管理": "67", "融资租赁": "66", "典当": "66", "小额贷款": "66", "保险代理": "68",
    "房地产开发": "70", "置业": "70", "物业管理": "70", "房产经纪": "70",
    "企业管理咨询": "72", "人力资源": "72", "广告": "72", "会展服务": "72", "商务咨询": "72", "设备租赁": "71",
    "旅行社": "72",
    "检测技术": "74", "工程设计": "74", "环保科技": "75", "技术服务": "75", "生物科技": "73", "检验认证": "74",
    "环境工程": "77", "园林绿化": "78", "水利工程": "76", "环卫服务": "78", "再生资源": "77",
    "家政服务": "80", "汽车维修": "81", "美容美发": "80", "洗涤服务": "80", "保洁服务": "82",
    "教育科技": "83", "培训": "83", "职业技能培训": "83", "文化艺术培训": "83",
    "医疗管理": "84", "门诊部": "84", "养老服务": "85", "健康管理": "84", "康复医疗": "84",
    "文化传媒": "86", "影视": "87", "体育发展": "89", "娱乐": "90", "文化旅游": "88", "演艺": "88",
}

COOPERATIVE_DIVISIONS: dict[str, str] = {
    "蔬菜种植": "01", "水产养殖": "04", "稻米": "01", "碧螺春茶叶": "01", "大闸蟹养殖": "04", "花卉苗木": "01",
    "果品": "01", "农机服务": "05", "土地股份": "05", "葡萄种植": "01", "枇杷种植": "01", "生猪养殖": "03",
}

# A sole trader's shop type decides its division.
INDIVIDUAL_DIVISIONS: dict[str, str] = {
    "小吃店": "62", "便利店": "52", "面馆": "62", "餐馆": "62", "理发店": "80", "五金店": "52", "水果店": "52",
    "服装店": "52", "烟酒店": "52", "超市": "52", "汽车维修部": "81", "副食品店": "52", "早餐店": "62",
    "茶叶店": "52", "药店": "52", "洗衣店": "80", "美容店": "80", "手机维修店": "81", "干洗店": "80",
    "熟食店": "52", "蔬菜店": "52", "生鲜店": "52", "棋牌室": "90", "奶茶店": "62", "烧烤店": "62",
    "家电维修部": "81", "装潢材料店": "52", "农资店": "52", "眼镜店": "52", "母婴用品店": "52",
}

# Hidden risk: food, catering, construction, chemicals, mining and hazardous goods run hotter.
SECTION_RISK: dict[str, float] = {
    "A": 0.10, "B": 0.60, "C": 0.15, "D": 0.10, "E": 0.55, "F": 0.05, "G": 0.30, "H": 0.55, "I": -0.55,
    "J": -0.20, "K": 0.15, "L": -0.20, "M": -0.45, "N": 0.05, "O": 0.10, "P": 0.05, "Q": 0.10, "R": 0.20,
}
DIVISION_RISK: dict[str, float] = {
    "13": 0.45, "14": 0.50, "15": 0.35, "25": 0.60, "26": 0.70, "27": 0.30, "42": 0.50, "45": 0.50,
    "47": 0.15, "59": 0.25, "62": 0.25, "61": -0.10, "39": -0.25, "65": -0.15,
}

# Which city department acts on which sections (relative weights); district branches act for them locally.
_ALL = "ABCDEFGHIJKLMNOPQR"
DEPARTMENT_SECTION_WEIGHTS: dict[str, dict[str, float]] = {
    "SZ-SCJG": {**dict.fromkeys(_ALL, 3.0), "F": 6.0, "H": 6.0, "C": 4.0},
    "SZ-YJGL": {"B": 5.0, "C": 1.5, "D": 2.0, "E": 1.0, "G": 1.0, "F": 0.3},
    "SZ-STHJ": {"B": 3.0, "C": 1.5, "D": 2.0, "N": 2.0, "A": 0.5, "H": 0.3, "E": 0.3},
    "SZ-ZJ": {"E": 6.0, "K": 4.0, "N": 1.0},
    "SZ-JT": {"G": 6.0},
    "SZ-WJ": {"Q": 5.0, "H": 0.8, "O": 1.0, "P": 0.5},
    "SZ-XF": {**dict.fromkeys(_ALL, 0.6), "H": 1.5, "F": 1.0, "R": 1.5, "C": 1.0, "G": 0.8},
    "SZ-SW": {"F": 1.2, "H": 0.5, "K": 0.2},
    "SZ-WGL": {"R": 4.0, "L": 0.4, "H": 0.4},
    "SZ-NY": {"A": 6.0},
    "SZ-CG": {"H": 1.2, "F": 0.6, "E": 0.8},
    "SZ-RS": {**dict.fromkeys(_ALL, 0.2), "C": 0.6, "E": 1.2},
    "SZ-SL": {"D": 1.5, "A": 0.3, "E": 0.3, "C": 0.2},
    "SZ-JY": {"P": 6.0},
    "SZ-YJ": {"Q": 1.0, "F": 0.2, "C": 0.1},
    "SZ-SWU": dict.fromkeys(_ALL, 0.4),
}
# Sharper remits inside a section: chemicals for emergency management, pharmacies for the drug agency, ...
DEPARTMENT_DIVISION_FACTORS: dict[tuple[str, str], float] = {
    ("SZ-YJGL", "26"): 4.0, ("SZ-YJGL", "25"): 4.0, ("SZ-YJGL", "59"): 3.0, ("SZ-YJGL", "45"): 3.0,
    ("SZ-YJGL", "39"): 0.3, ("SZ-STHJ", "26"): 3.0, ("SZ-STHJ", "17"): 2.5, ("SZ-STHJ", "22"): 2.0,
    ("SZ-STHJ", "23"): 1.5, ("SZ-STHJ", "42"): 3.0, ("SZ-STHJ", "77"): 2.0, ("SZ-YJ", "52"): 3.0,
    ("SZ-YJ", "27"): 10.0, ("SZ-YJ", "35"): 3.0, ("SZ-WJ", "61"): 3.0, ("SZ-WGL", "61"): 2.0,
    ("SZ-SCJG", "13"): 1.5, ("SZ-SCJG", "14"): 1.5, ("SZ-SCJG", "62"): 1.5,
}

# Document numbers: 苏市监罚〔2025〕123号 — issuing organ, kind character, year, sequence.
DEPARTMENT_ABBREVIATIONS: dict[str, str] = {
    "SZ-SCJG": "苏市监", "SZ-YJGL": "苏应急", "SZ-STHJ": "苏环", "SZ-ZJ": "苏住建", "SZ-JT": "苏交",
    "SZ-WJ": "苏卫", "SZ-XF": "苏消", "SZ-SW": "苏商务", "SZ-WGL": "苏文旅", "SZ-NY": "苏农", "SZ-CG": "苏城管",
    "SZ-RS": "苏人社", "SZ-SL": "苏水", "SZ-JY": "苏教", "SZ-YJ": "苏药监", "SZ-SWU": "苏税",
    "GS-SCJG": "姑市监", "WZ-SCJG": "吴中市监", "XC-SCJG": "相市监", "HQ-SCJG": "苏高新市监",
    "WJ-SCJG": "吴江市监", "SIP-SCJG": "苏园市监", "KS-SCJG": "昆市监", "CS-SCJG": "常市监",
    "ZJG-SCJG": "张市监", "TC-SCJG": "太市监", "WJ-YJGL": "吴江应急", "KS-YJGL": "昆应急",
    "ZJG-YJGL": "张应急", "WZ-STHJ": "苏环吴", "KS-STHJ": "苏环昆",
}
KIND_DOCUMENT_CHARS: dict[str, str] = {"inspection": "检", "penalty": "罚", "coercion": "强", "other": "告"}

# Complaints (投诉举报): how people reach the city, and what they complain about in each trade.
# channel codes: 12345 / 12315 hotlines, online (网络), letter (来信), visit (来访)
COMPLAINT_CHANNEL_WEIGHTS: dict[str, float] = {"12345": 0.50, "12315": 0.30, "online": 0.12, "letter": 0.05,
                                               "visit": 0.03}
COMPLAINT_AFFINITY: dict[str, dict[str, float]] = {
    "A": {"食品安全": 2, "环境污染": 2, "产品质量": 1},
    "B": {"环境污染": 3, "安全生产": 3, "噪音扰民": 1},
    "C": {"产品质量": 3, "环境污染": 2, "安全生产": 2, "劳动保障": 2, "噪音扰民": 1, "特种设备": 1},
    "D": {"燃气安全": 3, "价格": 2, "安全生产": 1},
    "E": {"违法建设": 2, "噪音扰民": 3, "劳动保障": 3, "房屋质量": 2, "安全生产": 1},
    "F": {"产品质量": 3, "价格": 3, "虚假宣传": 2, "网络购物": 2, "计量": 1, "预付卡消费": 1, "食品安全": 1},
    "G": {"交通运输": 4, "安全生产": 1, "价格": 1},
    "H": {"食品安全": 5, "餐饮油烟": 2, "价格": 1, "消防安全": 1, "预付卡消费": 1, "占道经营": 1},
    "I": {"网络购物": 2, "虚假宣传": 2, "预付卡消费": 1},
    "J": {"虚假宣传": 2, "价格": 1},
    "K": {"物业服务": 4, "房屋质量": 3, "虚假宣传": 1},
    "L": {"虚假宣传": 2, "旅游服务": 1, "劳动保障": 1},
    "M": {"虚假宣传": 1, "产品质量": 1},
    "N": {"环境污染": 2, "噪音扰民": 1},
    "O": {"预付卡消费": 3, "价格": 2, "无证无照经营": 1, "占道经营": 1},
    "P": {"校外培训": 4, "预付卡消费": 3},
    "Q": {"医疗服务": 4, "药品医疗器械": 2, "价格": 1},
    "R": {"噪音扰民": 2, "消防安全": 2, "旅游服务": 1, "预付卡消费": 1},
}
COMPLAINT_OUTCOMES = ("已办结，诉求已解决", "已转交相关部门办理", "调解成功", "经核查反映情况不属实", "已责令限期整改",
                      "已立案调查")

CREDIT_REASONS: dict[str, tuple[str, ...]] = {
    "abnormal_operation": ("未依照规定报送年度报告", "通过登记的住所或者经营场所无法联系", "未按规定公示即时信息"),
    "serious_violation": ("被列入经营异常名录届满3年仍未履行相关义务", "因食品安全违法行为受到较重行政处罚",
                          "因安全生产违法行为受到较重行政处罚"),
    "commendation": ("守合同重信用企业", "纳税信用A级纳税人", "诚信经营示范单位"),
}

# Connected systems (数据源): code, name, kind, owning city department, feeds it sends, and for how many nights it
# has not pushed (the 住建 system went quiet three weeks ago, so integration status has something to show).
# Actions of a city department (and its branches) arrive through that department's system when it has one,
# through the phase-one platform otherwise, and two small departments key them in by hand.
SOURCES: tuple[dict, ...] = (
    {"code": "phase-one", "name": "一期平台（互联网+监管系统）", "kind": "phase_one", "department": None,
     "feeds": ["items", "actions", "complaints"], "quiet_days": 0,
     "description": "一期平台汇聚的监管事项目录、未建系统部门的监管行为和12345/12315投诉举报，每晚推送"},
    {"code": "scjg-system", "name": "市场监管业务系统", "kind": "department_system", "department": "SZ-SCJG",
     "feeds": ["actions"], "quiet_days": 0, "description": "市、区两级市场监管部门的检查、处罚和强制措施"},
    {"code": "yjgl-system", "name": "应急管理综合执法系统", "kind": "department_system", "department": "SZ-YJGL",
     "feeds": ["actions"], "quiet_days": 1, "description": "应急管理部门的安全生产执法记录"},
    {"code": "sthj-system", "name": "生态环境移动执法系统", "kind": "department_system", "department": "SZ-STHJ",
     "feeds": ["actions"], "quiet_days": 2, "description": "生态环境部门的现场检查和行政处罚"},
    {"code": "zj-system", "name": "住建行政执法系统", "kind": "department_system", "department": "SZ-ZJ",
     "feeds": ["actions"], "quiet_days": 24, "description": "住房和城乡建设部门的执法记录（接口近期中断）"},
    {"code": "xf-system", "name": "消防监督管理系统", "kind": "department_system", "department": "SZ-XF",
     "feeds": ["actions"], "quiet_days": 4, "description": "消防救援部门的消防监督检查和处罚"},
    {"code": "dc-entity-base", "name": "数据中心法人库", "kind": "data_centre", "department": None,
     "feeds": ["entities"], "quiet_days": 0, "description": "市场主体登记信息（统一社会信用代码、行业、区划、状态）"},
    {"code": "dc-credit-base", "name": "数据中心信用库", "kind": "data_centre", "department": None,
     "feeds": ["credit"], "quiet_days": 0, "description": "经营异常名录、严重违法失信名单和守信激励"},
    # the same source the import page and `regwatch import` default to
    {"code": "MANUAL", "name": "手工导入", "kind": "manual", "department": None, "feeds": ["actions"],
     "quiet_days": 3, "description": "页面上传与命令行导入的默认数据源"},
)

# Which trades a catalogue item concerns, by a keyword of its name (section letters or two-digit divisions).
# Items that match no keyword (prices, advertising, fire duties, tax, labour...) concern every trade. An action
# picks, within its department and kind, an item that fits the entity's trade far more often than one that does not.
ITEM_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("学校食堂", ("83",)), ("学校食品", ("83",)), ("网络食品交易", ("64",)), ("电子商务", ("51", "52", "64")),
    ("食品", ("01", "04", "13", "14", "15", "51", "52", "61", "62")), ("饮用水", ("46", "61", "83", "84", "85")),
    ("集中交易市场", ("51", "52")), ("特种设备", ("C", "E", "G", "K", "61", "52")), ("检验检测机构", ("74",)),
    ("危险化学品", ("25", "26", "51", "59")), ("烟花爆竹", ("52",)), ("粉尘", ("C",)), ("有限空间", ("C", "D", "N")),
    ("排污", ("B", "C", "D", "N")), ("污染", ("B", "C", "D", "N", "42")), ("危险废物", ("C", "42", "77")),
    ("挥发性有机物", ("C",)), ("环境影响评价", ("B", "C", "D", "E")), ("固体废物", ("C", "42", "77")),
    ("机动车排放检验", ("74",)), ("核技术", ("73", "84")), ("建设工程", ("E",)), ("施工", ("E",)),
    ("建筑幕墙", ("70",)), ("房地产", ("70",)), ("商品房", ("70",)), ("物业", ("70",)), ("燃气", ("45",)),
    ("装修人", ("50",)), ("危险货物", ("54",)), ("网约车", ("54",)), ("网络预约出租汽车", ("54",)),
    ("机动车维修", ("81",)), ("港口", ("55", "59")), ("超限", ("54", "58")), ("道路运输", ("54", "58")),
    ("营运证", ("54",)), ("公共场所", ("61", "80", "88", "89", "90")), ("医疗", ("84",)), ("医师", ("84",)),
    ("职业病", ("B", "C")), ("传染病", ("61", "62", "83", "84", "85")), ("消毒产品", ("26", "27")),
    ("公众聚集场所", ("52", "61", "62", "88", "89", "90")),
    ("人员密集场所", ("52", "61", "62", "83", "84", "85", "90")),
    ("高层建筑", ("70", "72")), ("易燃易爆", ("25", "26", "51", "59")), ("预付卡", ("52", "62", "80", "83", "89")),
    ("发卡企业", ("52", "62", "80", "83", "89")), ("报废机动车", ("42", "77")), ("再生资源", ("42", "77")),
    ("拍卖", ("72",)), ("旅行社", ("72",)), ("导游", ("72",)), ("旅游景区", ("88", "89")), ("娱乐场所", ("90",)),
    ("上网服务", ("90",)), ("演出", ("88", "90")), ("农药", ("01", "52")), ("兽药", ("03", "52")),
    ("农产品", ("01", "03", "04", "05")), ("屠宰", ("13",)), ("种子", ("01", "05")), ("捕捞", ("04",)),
    ("禁捕", ("04",)), ("建筑垃圾", ("E",)), ("油烟", ("62",)), ("户外广告", ("72",)), ("店招", ("52", "62")),
    ("占道", ("52", "62")), ("城市道路", ("E",)), ("规划许可", ("E", "70")), ("工程建设领域", ("E",)),
    ("人力资源服务", ("72",)), ("取水", ("C", "D", "01")), ("河道", ("E", "76")), ("排水", ("C", "62", "61")),
    ("民办学校", ("83",)), ("校外培训", ("83",)), ("幼儿园", ("83",)), ("药品批发", ("51",)), ("药品生产", ("27",)),
    ("药品", ("27", "51", "52")), ("假药", ("27", "52")), ("劣药", ("27", "52")),
    ("医疗器械生产", ("35",)), ("医疗器械", ("35", "52")),
    ("化妆品", ("26",)),
)
