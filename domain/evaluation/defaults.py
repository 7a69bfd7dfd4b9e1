"""The metrics an indicator can refer to, and the default indicator set that ships with the product.

Plain data (no imports from the rest of the domain), so the migration that seeds the default set can use it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DEFAULT_GRADE_BANDS", "DEFAULT_INDICATORS", "DEFAULT_SET", "METRICS"]

# metric -> (label, unit, natural direction); values are ratios 0–1 unless the unit says otherwise
METRICS: dict[str, tuple[str, str, str]] = {
    "item_coverage": ("监管事项覆盖率", "ratio", "higher"),
    "trace_completeness": ("全过程留痕率", "ratio", "higher"),
    "inspection_timeliness": ("检查结果及时率", "ratio", "higher"),
    "penalty_timeliness": ("处罚决定及时率", "ratio", "higher"),
    "inspection_avg_days": ("检查平均办结天数", "days", "lower"),
    "penalty_avg_days": ("处罚平均办结天数", "days", "lower"),
    "random_share": ("双随机抽查占比", "ratio", "higher"),
    "problem_rate": ("检查问题发现率", "ratio", "higher"),
    "random_problem_rate": ("双随机问题发现率", "ratio", "higher"),
    "follow_up_rate": ("处罚后跟踪检查率", "ratio", "higher"),
    "data_coverage": ("数据纳入分析率", "ratio", "higher"),
    "warning_disposal_rate": ("预警处理率", "ratio", "higher"),
    "warning_overdue_rate": ("预警超期率", "ratio", "lower"),
    "satisfaction_rate": ("预警满意率", "ratio", "higher"),
}

DEFAULT_GRADE_BANDS: list[dict[str, Any]] = [
    {"grade": "优秀", "min": 90}, {"grade": "良好", "min": 75}, {"grade": "合格", "min": 60},
    {"grade": "不合格", "min": 0},
]

DEFAULT_SET: dict[str, Any] = {
    "code": "default", "name": "监管效能评价默认指标体系",
    "description": "覆盖、留痕、及时、双随机、跟踪与预警处置六个方面；权重合计 100。",
}

# metric, weight, target, floor, direction, rule, bands
DEFAULT_INDICATORS: list[dict[str, Any]] = [
    {"metric": "item_coverage", "weight": 20, "target": 1.0, "floor": 0.5, "direction": "higher", "rule": "linear"},
    {"metric": "trace_completeness", "weight": 20, "target": 1.0, "floor": 0.7, "direction": "higher",
     "rule": "linear"},
    {"metric": "inspection_timeliness", "weight": 10, "target": 0.95, "floor": 0.6, "direction": "higher",
     "rule": "linear"},
    {"metric": "penalty_timeliness", "weight": 10, "target": 0.95, "floor": 0.6, "direction": "higher",
     "rule": "linear"},
    {"metric": "random_share", "weight": 10, "target": 0.7, "floor": 0.3, "direction": "higher", "rule": "bands",
     "bands": [{"bound": 0.7, "percent": 100}, {"bound": 0.5, "percent": 70}, {"bound": 0.3, "percent": 40}]},
    {"metric": "follow_up_rate", "weight": 10, "target": 0.9, "floor": 0.5, "direction": "higher", "rule": "linear"},
    {"metric": "warning_disposal_rate", "weight": 10, "target": 0.9, "floor": 0.5, "direction": "higher",
     "rule": "linear"},
    {"metric": "warning_overdue_rate", "weight": 5, "target": 0.05, "floor": 0.3, "direction": "lower",
     "rule": "linear"},
    {"metric": "satisfaction_rate", "weight": 5, "target": 0.8, "floor": 0.5, "direction": "higher",
     "rule": "linear"},
]
assert sum(i["weight"] for i in DEFAULT_INDICATORS) == 100
