"""Rules in CEL: each kind of mistake is a specific error; matching runs over a whole feature matrix."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from domain.errors import InvalidInput
from ml.features import FEATURE_NAMES, FeatureMatrix
from ml.rules import compile_rule, match_rule


def _error(expression: str):
    with pytest.raises(InvalidInput) as caught:
        compile_rule(expression)
    return caught.value


@pytest.mark.parametrize(("expression", "code", "fragment"), [
    ("", "required", "请填写规则表达式"),
    ("penalties_365d >= ", "syntax", "第 1 行第"),
    ("penalties_365d >= 2 &&& serious_violation", "syntax", "表达式语法错误"),
    ("penalties_356d >= 2", "unknown_feature", "是否应为 penalties_365d"),
    ("penalties_365d > 2.5", "wrong_type", "近365天行政处罚次数（penalties_365d）为整数"),
    ("industry_section == 3", "wrong_type", "行业门类（industry_section）为文字"),
    ("penalties_365d + 1", "not_boolean", "真或假"),
])
def test_each_mistake_gets_its_own_error(expression, code, fragment):
    exc = _error(expression)
    assert exc.code == code
    assert exc.field == "expression"
    assert fragment in exc.message


def test_unknown_names_are_all_listed():
    exc = _error("foo > 1 && bar < 2")
    assert [e.code for e in exc.errors] == ["unknown_feature", "unknown_feature"]
    assert "bar" in exc.errors[0].message and "foo" in exc.errors[1].message


def test_a_valid_rule_knows_the_features_it_reads():
    rule = compile_rule("serious_violation || (penalties_365d >= 2 && industry_section == 'F')")
    assert rule.features == ("penalties_365d", "serious_violation", "industry_section")


def _matrix(rows: list[dict]) -> FeatureMatrix:
    values = np.zeros((len(rows), len(FEATURE_NAMES)), dtype=np.float32)
    for i, row in enumerate(rows):
        for name, v in row.items():
            values[i, FEATURE_NAMES.index(name)] = v
    return FeatureMatrix(date(2025, 6, 30), np.arange(1, len(rows) + 1), values)


def test_matching_over_a_matrix_follows_cel_semantics():
    m = _matrix([
        {"penalties_365d": 3, "industry_section": 6},  # F
        {"penalties_365d": 3, "industry_section": 3},  # C
        {"serious_violation": 1},
        {"penalties_365d": 1, "industry_section": 6},
        {"penalties_365d": 3, "industry_section": 6},
    ])
    m.values[3, FEATURE_NAMES.index("days_since_last_inspection")] = np.nan
    rule = compile_rule("serious_violation || (penalties_365d >= 2 && industry_section == 'F')")
    assert match_rule(rule, m).tolist() == [True, False, True, False, True]
    never = compile_rule("days_since_last_inspection == -1")  # missing reads as -1
    assert match_rule(never, m).tolist() == [False, False, False, True, False]
