"""The vocabulary of warning events (处置记录) as people read it, and the kinds webhooks may subscribe to."""

from __future__ import annotations

__all__ = ["EVENT_KINDS", "event_label"]

EVENT_KINDS = {
    # the warnings engineer's steps
    "issue": "发布预警",
    "raise_level": "提升等级",
    "merge_clue": "并入线索",
    # disposal
    "receive": "签收",
    "return_request": "申请退回",
    "return_approve": "同意退回并改派",
    "return_reject": "驳回退回申请",
    "reassign": "改派",
    "assist_add": "增加协办部门",
    "assist_feedback": "协办部门反馈",
    "feedback": "提交处置反馈",
    "extension_request": "申请延期",
    "extension_approve": "同意延期",
    "extension_reject": "驳回延期",
    "urge": "督办",
    "rework": "退回重办",
    "close": "办结",
    "dismiss": "撤销预警",
    "overdue": "超期",
}


def event_label(kind: str) -> str:
    return EVENT_KINDS.get(kind, kind)
