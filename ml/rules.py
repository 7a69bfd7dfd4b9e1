"""Rules (预警规则): Common Expression Language over registered features, via cel-python (never `eval`).

`compile_rule` checks syntax, feature names and types, each failure a specific `FieldError`.
`match_rule` evaluates a rule over a whole feature matrix: CEL runs once per distinct combination of the
features the rule reads (usually a few hundred), and the answers spread back to every entity.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import celpy
import lark
import numpy as np
from celpy import celtypes

from domain.errors import FieldError, InvalidInput
from ml.features import FEATURE_NAMES, TYPE_LABELS, FeatureMatrix, feature

__all__ = ["CompiledRule", "compile_rule", "match_rule", "rule_activation"]

_CEL_TYPES = {"int": celtypes.IntType, "double": celtypes.DoubleType, "bool": celtypes.BoolType,
              "string": celtypes.StringType}
_ENV = celpy.Environment(annotations={f: _CEL_TYPES[feature(f).cel_type] for f in FEATURE_NAMES})


@dataclass(frozen=True)
class CompiledRule:
    expression: str
    features: tuple[str, ...]  # the registered features it reads, in registry order
    program: Any  # celpy Runner


def _identifiers(tree: lark.Tree) -> list[str]:
    names: list[str] = []
    for node in tree.iter_subtrees_topdown():
        if node.data == "ident" and node.children:
            names.append(str(node.children[0]))
    return names


def _sample(names: tuple[str, ...], flag: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for n in names:
        f = feature(n)
        if f.cel_type == "int":
            values[n] = celtypes.IntType(1)
        elif f.cel_type == "double":
            values[n] = celtypes.DoubleType(1.0)
        elif f.cel_type == "bool":
            values[n] = celtypes.BoolType(flag)
        else:
            values[n] = celtypes.StringType(f.vocabulary[0] if f.vocabulary else "")
    return values


_CEL_CLASS_LABELS = {"IntType": "整数", "UintType": "整数", "DoubleType": "小数", "BoolType": "是/否",
                     "StringType": "文字", "ListType": "列表", "MapType": "映射", "NullType": "空值"}


def _types_hint(names: tuple[str, ...]) -> str:
    return "；".join(f"{feature(n).label_zh}（{n}）为{TYPE_LABELS[feature(n).cel_type]}" for n in names)


def compile_rule(expression: str, *, field: str = "expression") -> CompiledRule:
    """Parse and check a rule; raise InvalidInput with one specific error (syntax, unknown feature, type)."""
    text = (expression or "").strip()
    if not text:
        raise InvalidInput("请填写规则表达式", field=field, code="required")
    try:
        tree = _ENV.compile(text)
    except celpy.CELParseError as exc:
        where = f"第 {exc.line} 行第 {exc.column} 列" if exc.line else "位置未知"
        pointer = str(exc.args[0]).rstrip() if exc.args else ""
        raise InvalidInput(f"表达式语法错误（{where}）：{pointer}", field=field, code="syntax") from exc
    idents = _identifiers(tree)
    unknown = sorted({n for n in idents if n not in FEATURE_NAMES and n not in ("true", "false", "null")})
    if unknown:
        errors = []
        for name in unknown:
            close = difflib.get_close_matches(name, FEATURE_NAMES, n=1)
            hint = f"（是否应为 {close[0]}？）" if close else ""
            errors.append(FieldError(field, "unknown_feature", f"未登记的特征“{name}”{hint}"))
        raise InvalidInput(errors[0].message if len(errors) == 1 else
                           f"未登记的特征：{'、'.join(unknown)}", field=field, code="unknown_feature",
                           errors=errors)
    names = tuple(n for n in FEATURE_NAMES if n in set(idents))
    program = _ENV.program(tree)
    for flag in (False, True):
        try:
            result = program.evaluate(_sample(names, flag))
        except celpy.CELEvalError as exc:
            detail = str(exc.args[0]) if exc.args else str(exc)
            if "overload" in detail or "TypeError" in repr(exc.args[1:2]):
                raise InvalidInput(f"“{text}”中的类型不匹配：{_types_hint(names)}"
                                   "（整数特征与整数比较，小数特征与数字比较，文字特征与带引号的文字比较，"
                                   "是/否特征与 true/false 比较）",
                                   field=field, code="wrong_type") from exc
            continue  # e.g. a division by zero on sample values: not a defect of the rule itself
        if isinstance(result, celpy.CELEvalError):
            raise InvalidInput(f"“{text}”中的类型不匹配：{_types_hint(names)}", field=field,
                               code="wrong_type")
        if not isinstance(result, celtypes.BoolType):
            kind = _CEL_CLASS_LABELS.get(type(result).__name__, "其他类型")
            raise InvalidInput(f"规则的结果须为真或假（true/false），而不是{kind}（{type(result).__name__}）",
                               field=field, code="not_boolean")
    return CompiledRule(expression=text, features=names, program=program)


def rule_activation(names: tuple[str, ...], row: np.ndarray) -> dict[str, Any]:
    """CEL values for one row of the rule's features (as the matrix stores them)."""
    values: dict[str, Any] = {}
    for name, raw in zip(names, row.tolist(), strict=True):
        f = feature(name)
        if f.is_category:
            k = int(raw)
            values[name] = celtypes.StringType(f.vocabulary[k - 1] if k > 0 else "")
        elif f.cel_type == "bool":
            values[name] = celtypes.BoolType(bool(raw))
        elif f.cel_type == "int":
            values[name] = celtypes.IntType(int(raw))
        else:
            values[name] = celtypes.DoubleType(float(raw))
    return values


def match_rule(rule: CompiledRule, matrix: FeatureMatrix) -> np.ndarray:
    """Boolean mask: which rows of `matrix` the rule matches (an evaluation error counts as no match)."""
    n = len(matrix)
    if n == 0:
        return np.zeros(0, dtype=bool)
    if not rule.features:
        return np.full(n, _truth(rule, {}), dtype=bool)
    cols = matrix.select(rule.features).astype(np.float64)
    for j, name in enumerate(rule.features):
        missing = feature(name).missing_in_rules
        cols[np.isnan(cols[:, j]), j] = 0 if missing is None else missing
    distinct, inverse = np.unique(cols, axis=0, return_inverse=True)
    answers = np.array([_truth(rule, rule_activation(rule.features, row)) for row in distinct], dtype=bool)
    return answers[inverse.reshape(-1)]


def _truth(rule: CompiledRule, activation: dict[str, Any]) -> bool:
    try:
        result = rule.program.evaluate(activation)
    except celpy.CELEvalError:
        return False
    return isinstance(result, celtypes.BoolType) and bool(result)
