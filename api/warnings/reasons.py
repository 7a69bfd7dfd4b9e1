"""Reasons in plain Chinese (e.g. “近90天检查不合格次数 2（+0.42）”) from a score's top contributions and the rules
that matched; the feature names come from the engine's registry, so GraphQL and the pages say the same."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Reason", "feature_label", "reasons_of", "warning_reasons"]


@dataclass(frozen=True)
class Reason:
    text: str
    feature: str | None = None
    value: float | None = None
    contribution: float | None = None


def feature_label(name: str) -> str:
    try:
        from ml.features import feature

        return feature(name).label_zh
    except (ImportError, KeyError, ValueError):
        return name


def _value_text(name: str, value: float | None) -> str:
    if value is None:
        return "缺失"
    try:
        from ml.features import feature

        kind = feature(name).cel_type
    except (ImportError, KeyError, ValueError, AttributeError):
        kind = "double"
    if kind == "bool":
        return "是" if value else "否"
    if float(value).is_integer():
        return f"{int(value)}"
    return f"{value:.2f}"


def _triples(contributions: Iterable[Any]) -> list[tuple[str, float | None, float]]:
    out = []
    for item in contributions or []:
        if isinstance(item, list | tuple) and len(item) >= 3 and item[2] is not None:
            out.append((str(item[0]), None if item[1] is None else float(item[1]), float(item[2])))
        elif isinstance(item, Mapping) and item.get("contribution") is not None:
            value = item.get("value")
            out.append((str(item.get("feature") or item.get("name")), None if value is None else float(value),
                        float(item["contribution"])))
    return out


def reasons_of(contributions: Iterable[Any], rules_matched: Iterable[str] | None = None, *,
               top: int = 5, positive_only: bool = True) -> list[Reason]:
    """The top contributions that raised the score, then the rules that matched."""
    reasons = []
    for name, value, contribution in _triples(contributions):
        if positive_only and contribution <= 0:
            continue
        reasons.append(Reason(f"{feature_label(name)} {_value_text(name, value)}（{contribution:+.2f}）", name, value,
                              contribution))
        if len(reasons) >= top:
            break
    for code in rules_matched or []:
        reasons.append(Reason(f"命中预警规则 {code}"))
    return reasons


def warning_reasons(reasons: Iterable[Any], explanation: Mapping[str, Any] | None, *, top: int = 5) -> list[Reason]:
    """A warning's reasons: what the analyst wrote, then the explanation snapshot in words."""
    out = [Reason(str(r.get("text") if isinstance(r, Mapping) else r)) for r in reasons or []]
    exp = explanation or {}
    out.extend(reasons_of(exp.get("contributions") or [], exp.get("rules_matched") or [], top=top))
    return out
