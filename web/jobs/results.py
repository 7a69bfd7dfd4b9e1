"""A finished job's result in words (not raw JSON): each known key with its Chinese label, values formatted,
links to what the job made (the import batch, the model version). Unknown keys still show, by their code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.risk.levels import LEVEL_LABELS

__all__ = ["ResultRow", "result_rows"]

LABELS: dict[str, str] = {
    "batch_id": "导入批次", "kind": "数据类别", "status": "结果", "received": "收到", "accepted": "接收",
    "rejected": "拒收", "encoding": "文件编码", "version_id": "模型版本", "version": "版本号",
    "roc_auc": "ROC-AUC", "pr_auc": "PR-AUC", "baseline_roc_auc": "基准模型 ROC-AUC",
    "new_events_roc_auc": "新发事件 ROC-AUC", "mean_predicted": "平均预测概率", "positive_rate": "正例比例",
    "promoted": "已自动启用", "run_id": "评分批次", "as_of": "评分日期", "scored": "已评分对象",
    "entities": "监管对象数", "seed": "随机种子", "end_date": "历史截止日期", "batches": "导入批次数",
    "seconds": "用时（秒）", "report_id": "分析报告", "period": "期间", "levels": "各等级数量",
    "level_counts": "各等级数量", "window_days": "窗口（天）", "receipt": "超期签收", "disposal": "超期处置",
}
RECORD_KINDS = {"entities": "监管对象", "items": "监管事项", "actions": "监管行为", "complaints": "投诉举报",
                "credit": "信用记录"}
BATCH_STATUS = {"accepted": "全部接收", "partial": "部分接收", "rejected": "全部拒收", "done": "完成",
                "succeeded": "完成", "failed": "失败"}
LEVELS = {**LEVEL_LABELS, "none": "无等级"}
HIDDEN = {"path", "schedule", "delete_after"}  # internal plumbing, not for people


@dataclass(frozen=True)
class ResultRow:
    label: str
    value: str
    link: str | None = None


def _words(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict):
        names = LEVELS if key in ("levels", "level_counts") else RECORD_KINDS
        return "；".join(f"{names.get(str(k), LABELS.get(str(k), str(k)))} {_words(str(k), v)}"
                        for k, v in value.items()) or "—"
    if isinstance(value, list):
        return "、".join(_words(key, v) for v in value) or "—"
    if key == "kind":
        return RECORD_KINDS.get(str(value), str(value))
    if key == "status":
        return BATCH_STATUS.get(str(value), str(value))
    return str(value)


def _link(key: str, value: Any) -> str | None:
    if not isinstance(value, int):
        return None
    return {"batch_id": f"/batches/{value}", "version_id": f"/models/{value}"}.get(key)


def result_rows(result: dict[str, Any] | None) -> list[ResultRow]:
    return [ResultRow(LABELS.get(key, key), _words(key, value), _link(key, value))
            for key, value in (result or {}).items() if key not in HIDDEN]
