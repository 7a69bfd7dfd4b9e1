from datetime import date

import pytest

from domain.analysis.periods import last_closed_half_year, parse_period
from domain.errors import InvalidInput


@pytest.mark.parametrize(("text", "start", "end", "code", "previous"), [
    ("2026H1", date(2026, 1, 1), date(2026, 7, 1), "2026H1", "2025H2"),
    ("2026h2", date(2026, 7, 1), date(2027, 1, 1), "2026H2", "2026H1"),
    ("2026Q3", date(2026, 7, 1), date(2026, 10, 1), "2026Q3", "2026Q2"),
    ("2026Q1", date(2026, 1, 1), date(2026, 4, 1), "2026Q1", "2025Q4"),
    ("2026-07", date(2026, 7, 1), date(2026, 8, 1), "2026-07", "2026-06"),
    ("2026-1", date(2026, 1, 1), date(2026, 2, 1), "2026-01", "2025-12"),
    ("2026-12", date(2026, 12, 1), date(2027, 1, 1), "2026-12", "2026-11"),
    ("2026", date(2026, 1, 1), date(2027, 1, 1), "2026", "2025"),
    ("2026-03-01~2026-03-10", date(2026, 3, 1), date(2026, 3, 11), "2026-03-01~2026-03-10", "2026-02-19~2026-02-28"),
])
def test_periods(text, start, end, code, previous):
    p = parse_period(text)
    assert (p.start, p.end, p.code, p.previous().code) == (start, end, code, previous)
    assert parse_period(p.code) == p


def test_labels_and_bounds():
    assert parse_period("2026H1").label == "2026年上半年"
    assert parse_period("2026Q3").label == "2026年第三季度"
    lo, hi = parse_period("2026-07").utc_bounds()
    assert lo.isoformat() == "2026-06-30T16:00:00+00:00" and hi.isoformat() == "2026-07-31T16:00:00+00:00"


@pytest.mark.parametrize(("text", "why"), [("", "请填写"), ("2026H3", "无法识别"), ("2026-13", "月份 13"),
                                          ("2026-02-30~2026-03-01", "日期不存在"),
                                          ("2026-03-10~2026-03-01", "结束日期早于开始日期")])
def test_bad_periods(text, why):
    with pytest.raises(InvalidInput, match=why):
        parse_period(text)


def test_last_closed_half_year():
    assert last_closed_half_year(date(2026, 7, 1)).code == "2026H1"
    assert last_closed_half_year(date(2026, 6, 30)).code == "2025H2"
    assert last_closed_half_year(date(2027, 1, 1)).code == "2026H2"
