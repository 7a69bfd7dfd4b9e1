"""The audit trail as a Chinese administrator reads it: field labels, values as a person writes them, local times,
object types by name. The domain stores codes and raw values ({field: [before, after]}); only this layer words them."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from domain.identity.policy import ROLE_LABELS
from domain.types import LOCAL_TZ

__all__ = ["FIELD_LABELS", "OBJECT_TYPES", "change_rows", "field_label", "object_label", "show_value"]

OBJECT_TYPES: dict[str, str] = {
    "user": "用户", "department": "部门", "login": "登录", "api_token": "接口令牌", "job": "后台任务",
    "data_source": "数据源", "ingestion_batch": "导入批次", "demo": "演示数据", "model_version": "模型版本",
    "risk_rule": "预警规则", "scoring_run": "评分批次", "risk_clue": "风险线索", "risk_warning": "风险预警",
    "routing_rule": "派发规则", "warning_deadline_setting": "处置期限设置", "workday_override": "工作日调整",
    "evidence_file": "证据材料", "webhook_subscription": "事件订阅", "webhook_delivery": "事件推送",
    "indicator_set": "评价指标体系", "evaluation_run": "效能评价", "analysis_report": "分析报告",
}

FIELD_LABELS: dict[str, str] = {
    "username": "用户名", "display_name": "姓名", "department_id": "所属部门", "roles": "角色", "active": "状态",
    "password": "密码", "last_login_at": "上次登录", "locked_until": "锁定至", "reason": "原因",
    "code": "编码", "name": "名称", "level": "层级", "region_code": "行政区划", "parent_id": "上级部门",
    "kind": "类型", "params": "参数", "file_name": "文件名", "expires_at": "到期时间", "user_id": "用户",
    "prefix": "令牌前缀", "revoked_at": "吊销时间", "token_name": "令牌名称", "source": "数据源",
    "received": "收到", "accepted": "接收", "rejected": "拒收", "mode": "方式", "channel": "渠道",
    "alias": "别名", "version": "版本", "version_id": "模型版本", "thresholds": "等级阈值", "expression": "表达式",
    "min_level": "最低等级", "enabled": "启用", "entities": "监管对象数", "seed": "随机种子",
    "end_date": "截止日期", "status": "状态", "comment": "说明", "deadline": "期限", "note": "备注",
}

_REASONS = {"unknown_user": "用户名不存在", "bad_password": "密码错误", "inactive_user": "账户已停用"}
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def object_label(object_type: str | None) -> str:
    return OBJECT_TYPES.get(object_type or "", object_type or "—")


def field_label(field: str) -> str:
    return FIELD_LABELS.get(field, field)


def show_value(field: str, value: Any) -> str:
    """One stored value in words: empty as "（空）", yes/no, roles by name, times in Asia/Shanghai, lists with 、."""
    if value is None or value == "" or value == [] or value == {}:
        return "（空）"
    if field == "password":
        return {"***": "（已更改）", "set": "（已设置）"}.get(str(value), "（已设置）")
    if field == "active" and isinstance(value, bool):
        return "启用" if value else "停用"
    if isinstance(value, bool):
        return "是" if value else "否"
    if field == "roles" and isinstance(value, list):
        return "、".join(ROLE_LABELS.get(str(r), str(r)) for r in value)
    if field == "reason":
        return _REASONS.get(str(value), str(value))
    if isinstance(value, list):
        return "、".join(show_value("", v) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{field_label(str(k))}：{show_value(str(k), v)}" for k, v in value.items())
    if isinstance(value, str) and _ISO.match(value):
        try:
            return datetime.fromisoformat(value).astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S")
        except ValueError:
            return value
    return str(value)


def change_rows(changes: dict[str, Any] | None) -> list[tuple[str, str | None, str]]:
    """(label, before or None, after) for each changed field; a value without before/after shows alone."""
    rows: list[tuple[str, str | None, str]] = []
    for field, change in (changes or {}).items():
        if isinstance(change, list) and len(change) == 2:
            before, after = change
            rows.append((field_label(field), None if before is None else show_value(field, before),
                         show_value(field, after)))
        else:
            rows.append((field_label(field), None, show_value(field, change)))
    return rows
