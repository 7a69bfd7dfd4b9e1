"""What the behaviour analysis measures against: required trace fields per kind, time limits, exclusion reasons.

The limits follow the laws departments work under: inspection results recorded (and published) within 20 days
(《国务院关于在市场监管领域全面推行部门联合"双随机、一公开"监管的意见》: 20 working days, taken here as 20
calendar days), a penalty decided within 90 days of filing (《行政处罚法》第六十条), a coercive measure
(查封、扣押) decided within 30 days (《行政强制法》第二十五条), a hotline complaint answered within 15 days.
"""

from __future__ import annotations

__all__ = [
    "COMPLAINT_RESPONSE_DAYS",
    "EXCLUSION_REASONS",
    "FIELD_LABELS",
    "FOLLOW_UP_DAYS",
    "REQUIRED_FIELDS",
    "TIMELINESS_LIMIT_DAYS",
    "TRIGGER_LABELS",
]

# 全留痕: the fields an action of each kind must carry for its process to be fully traced.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "inspection": ("result", "decided_on", "officers"),
    "penalty": ("decided_on", "document_number", "penalty_amount", "officers"),
    "coercion": ("decided_on", "document_number", "officers"),
    "other": ("officers",),
}
FIELD_LABELS = {"result": "检查结果", "decided_on": "决定/办结日期", "officers": "执法人员",
                "document_number": "文书编号", "penalty_amount": "罚没金额"}
TEXT_FIELDS = ("result", "document_number", "officers")  # blank text counts as missing

# 及时性: days from start (inspection, case filed) to the result or decision.
TIMELINESS_LIMIT_DAYS = {"inspection": 20, "penalty": 90, "coercion": 30}
COMPLAINT_RESPONSE_DAYS = 15
# 处罚后跟踪: an inspection of the same entity by the same department within this many days of the decision.
FOLLOW_UP_DAYS = 90

# Why a collected action is left out of the analysis (数据覆盖).
EXCLUSION_REASONS = {
    "no_item": "未关联监管事项目录（事项编码缺失或未登记），无法计入事项覆盖与留痕分析",
    "date_order": "决定日期早于开始日期，日期矛盾，无法计算及时性",
}

TRIGGER_LABELS = {"random": "双随机抽查", "complaint": "投诉举报", "clue": "线索/预警", "routine": "日常检查",
                  "campaign": "专项检查"}
