"""The input record of each ingestion kind: field names, Chinese labels (file headers), enums and their aliases.

One table serves validation messages, file header mapping, the GraphQL descriptions and the README.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.supervision.models import ACTION_TRIGGERS, ITEM_KINDS

__all__ = [
    "ACTION_KIND_LABELS",
    "ACTION_TRIGGER_LABELS",
    "COMPLAINT_CHANNEL_LABELS",
    "CREDIT_KIND_LABELS",
    "ENTITY_STATUS_LABELS",
    "ENTITY_TYPE_LABELS",
    "INSPECTION_RESULT_LABELS",
    "ITEM_KIND_LABELS",
    "KIND_LABELS",
    "RECORD_FIELDS",
    "FieldSpec",
    "enum_aliases",
    "header_map",
]


@dataclass(frozen=True)
class FieldSpec:
    name: str  # snake_case input name
    label: str  # Chinese label, also accepted as a file header
    required: bool = False
    aliases: tuple[str, ...] = ()  # other Chinese headers seen in department exports


# Enum value -> Chinese label; inputs may give either.
# The kinds themselves are defined once, in `models.ITEM_KINDS`; these are their labels, in that order.
ITEM_KIND_LABELS = dict(zip(ITEM_KINDS, ("检查", "行政处罚", "行政强制", "其他"), strict=True))
ACTION_KIND_LABELS = ITEM_KIND_LABELS
ACTION_TRIGGER_LABELS = dict(zip(ACTION_TRIGGERS, ("双随机抽查", "投诉举报", "线索核查", "日常检查", "专项检查"),
                                 strict=True))
ENTITY_TYPE_LABELS = {"enterprise": "企业", "individual": "个体工商户", "cooperative": "农民专业合作社",
                      "other": "其他"}
ENTITY_STATUS_LABELS = {"active": "存续", "suspended": "停业", "revoked": "吊销", "cancelled": "注销"}
INSPECTION_RESULT_LABELS = {"pass": "合格", "fail": "不合格", "rectify": "责令整改"}
COMPLAINT_CHANNEL_LABELS = {"12345": "12345热线", "12315": "12315热线", "letter": "来信", "visit": "来访",
                            "online": "网络"}
CREDIT_KIND_LABELS = {"abnormal_operation": "经营异常名录", "serious_violation": "严重违法失信名单",
                      "commendation": "守信激励"}
KIND_LABELS = {"entities": "监管对象", "items": "监管事项", "actions": "监管行为", "complaints": "投诉举报",
               "credit": "信用记录", "clues": "风险线索"}

_EXTRA_ALIASES = {
    "entity_type": {"个体": "individual", "合作社": "cooperative", "公司": "enterprise"},
    "status": {"在营": "active", "开业": "active", "在业": "active"},
    "result": {"整改": "rectify", "通过": "pass", "未通过": "fail"},
    "channel": {"12345": "12345", "12315": "12315", "网上": "online"},
    "credit_kind": {"经营异常": "abnormal_operation", "严重违法失信": "serious_violation", "表彰": "commendation"},
    "kind": {"处罚": "penalty", "强制": "coercion", "检查": "inspection"},
    "trigger": {"双随机": "random", "随机抽查": "random", "双随机一公开": "random", "投诉": "complaint",
                "举报": "complaint", "线索": "clue", "预警": "clue", "转办": "clue", "日常": "routine",
                "日常巡查": "routine", "专项": "campaign", "专项整治": "campaign", "专项行动": "campaign"},
}


def enum_aliases(labels: dict[str, str], extra: str | None = None) -> dict[str, str]:
    """Every accepted spelling (code, Chinese label, common variants) -> the stored code."""
    mapping = {code: code for code in labels}
    mapping.update({label: code for code, label in labels.items()})
    if extra:
        mapping.update(_EXTRA_ALIASES.get(extra, {}))
    return mapping


_USCC = FieldSpec("uscc", "统一社会信用代码", True, ("社会信用代码", "信用代码"))

RECORD_FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "entities": (
        _USCC,
        FieldSpec("name", "名称", True, ("企业名称", "主体名称", "单位名称")),
        FieldSpec("entity_type", "主体类型", True, ("类型", "企业类型")),
        FieldSpec("industry_code", "行业代码", False, ("国民经济行业代码", "行业")),
        FieldSpec("region_code", "行政区划代码", False, ("区划代码", "所在区划")),
        FieldSpec("registered_capital", "注册资本（万元）", False, ("注册资本", "注册资本(万元)")),
        FieldSpec("founded_on", "成立日期", False, ("成立时间",)),
        FieldSpec("status", "登记状态", False, ("状态", "经营状态")),
        FieldSpec("status_changed_on", "状态变更日期", False, ("注销日期", "吊销日期", "注销/吊销日期", "状态日期")),
    ),
    "items": (
        FieldSpec("code", "监管事项编码", True, ("事项编码", "检查实施清单编码")),
        FieldSpec("name", "事项名称", True, ("名称", "监管事项名称")),
        FieldSpec("department_code", "实施部门编码", True, ("部门编码",)),
        FieldSpec("kind", "事项类别", True, ("类别", "事项类型")),
        FieldSpec("legal_basis", "设定依据", False, ("法律依据", "依据")),
    ),
    "actions": (
        FieldSpec("external_id", "行为编号", True, ("外部编号", "记录编号", "编号")),
        FieldSpec("kind", "行为类别", True, ("类别", "行为类型")),
        FieldSpec("item_code", "监管事项编码", True, ("事项编码", "检查实施清单编码")),
        FieldSpec("department_code", "实施部门编码", True, ("部门编码",)),
        _USCC,
        FieldSpec("started_on", "开始日期", True, ("检查日期", "立案日期", "开始时间")),
        FieldSpec("decided_on", "决定日期", False, ("办结日期", "结案日期", "决定时间")),
        FieldSpec("result", "结果", False, ("检查结果", "处理结果")),
        FieldSpec("penalty_amount", "罚没金额（元）", False, ("罚款金额", "罚没金额", "罚款金额（元）")),
        FieldSpec("document_number", "文书编号", False, ("决定书文号", "文书号")),
        FieldSpec("officers", "执法人员", False, ("检查人员",)),
        FieldSpec("trigger", "检查方式", False, ("触发方式", "检查来源", "任务来源")),
    ),
    "complaints": (
        FieldSpec("external_id", "投诉编号", True, ("外部编号", "工单编号", "编号")),
        _USCC,
        FieldSpec("received_on", "受理日期", True, ("受理时间", "投诉日期")),
        FieldSpec("channel", "渠道", True, ("来源渠道", "投诉渠道")),
        FieldSpec("category", "投诉类别", True, ("类别", "问题类别")),
        FieldSpec("responded_on", "答复日期", False, ("办结日期", "答复时间")),
        FieldSpec("outcome", "处理结果", False, ("办理结果", "结果")),
    ),
    "credit": (
        FieldSpec("external_id", "记录编号", True, ("外部编号", "编号")),
        _USCC,
        FieldSpec("kind", "信用类别", True, ("类别", "名单类别")),
        FieldSpec("listed_on", "列入日期", True, ("认定日期", "列入时间")),
        FieldSpec("removed_on", "移出日期", False, ("移出时间",)),
        FieldSpec("authority", "作出决定机关", False, ("决定机关", "认定机关")),
        FieldSpec("reason", "列入原因", False, ("原因", "事由")),
    ),
    # 风险线索: validated by domain.warnings.clues (unknown or invalid codes are kept and flagged, not rejected)
    "clues": (
        FieldSpec("external_id", "线索编号", True, ("外部编号", "编号", "工单编号")),
        FieldSpec("uscc", "统一社会信用代码", False, ("社会信用代码", "信用代码")),
        FieldSpec("entity_name", "监管对象名称", False, ("对象名称", "企业名称", "被反映单位")),
        FieldSpec("source", "线索来源", False, ("来源",)),
        FieldSpec("category", "线索类别", True, ("类别", "问题类别")),
        FieldSpec("description", "线索描述", True, ("描述", "内容", "反映内容")),
        FieldSpec("item_code", "监管事项编码", False, ("事项编码",)),
        FieldSpec("reporting_department_code", "报送部门编码", False, ("报送部门",)),
        FieldSpec("occurred_on", "发生日期", False, ("发生时间",)),
        FieldSpec("received_on", "接收日期", False, ("接收时间", "受理日期")),
        FieldSpec("attachments", "附件", False, ("附件地址",)),
    ),
}


def header_map(kind: str) -> dict[str, str]:
    """Every accepted column header for `kind` (English name, Chinese label, aliases) -> field name."""
    mapping: dict[str, str] = {}
    for spec in RECORD_FIELDS[kind]:
        for header in (spec.name, spec.label, *spec.aliases):
            mapping.setdefault(_normalise_header(header), spec.name)
    return mapping


def _normalise_header(text: str) -> str:
    return text.strip().replace("(", "（").replace(")", "）").replace(" ", "").lower()


def normalise_header(text: str) -> str:
    return _normalise_header(text)
