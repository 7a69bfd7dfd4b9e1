"""The charts are counted from the covering indexes of migration 0018 (SQLite's plans; PostgreSQL picks an
index-only scan or a sequential scan by the table's width, both without per-row lookups), and the trend's buckets
are ranges over the dispatch, closure and deadline indexes."""

from __future__ import annotations

from datetime import date

import pytest

from domain.statistics import service as stats
from tests.domain.statistics.factories import NOW, City
from tests.support import backend, explain


def _plans(db, session, run, table: str = "risk_warning") -> list[str]:
    """SQLite's EXPLAIN QUERY PLAN of every SELECT on `table` that `run(session)` sends."""
    return explain(db, session, run, table=table)


@pytest.mark.skipif(backend() != "sqlite", reason="SQLite plans")
def test_each_chart_reads_a_covering_index(db, session):
    city = City(session)
    f = stats.make_filter(session, city.analyst, period="2026H1")
    for group in stats.GROUP_BY:
        (plan,) = _plans(db, session, lambda s, g=group: stats.warning_groups(s, city.analyst, f, g, now=NOW))
        # never a single-column index walked for its order with a lookup of every row
        assert "USING COVERING INDEX ix_risk_warning_stats_dispatched" in plan, (group, plan)
    (trend,) = _plans(db, session, lambda s: stats.warning_trend(s, city.analyst, f, "month", now=NOW))
    for index in ("ix_risk_warning_stats_dispatched", "ix_risk_warning_stats_closed", "ix_risk_warning_stats_due"):
        assert f"USING COVERING INDEX {index}" in trend, trend
    assert "USING INDEX" not in trend.replace("USING COVERING INDEX", ""), trend
    ranking = _plans(db, session, lambda s: stats.disposal_ranking(s, city.analyst, f, now=NOW))
    assert "USING COVERING INDEX ix_risk_warning_stats_dispatched" in ranking[0], ranking[0]
    (precision,) = _plans(db, session, lambda s: stats.model_statistics(s, city.analyst, f))
    # the join order follows the tables' sizes; the latest-round check is always a probe of the feedback index
    assert "newer_feedback USING COVERING INDEX ix_warning_feedback_stats" in precision, precision
    (clues,) = _plans(db, session, lambda s: stats.clue_volume(s, city.analyst, f), table="risk_clue")
    assert "USING COVERING INDEX ix_risk_clue_stats" in clues, clues


def test_the_trend_buckets_are_cut_by_a_custom_range(session):
    city = City(session)
    # 01-07 (a Wednesday) to 02-10: the first week runs from the range's start, the last to its end
    f = stats.make_filter(session, city.analyst, period="2026-01-07~2026-02-10")
    points = stats.warning_trend(session, city.analyst, f, "week", now=NOW)
    assert points[0].start == date(2026, 1, 5) and len(points) == 6
    assert [p.issued for p in points] == [0, 0, 0, 0, 1, 0]  # m1 (01-05) is before the range, m2 on 02-02
    assert [p.closed for p in points] == [1, 0, 0, 0, 0, 0]  # m1 closed 01-08; m2 closed 02-16, after the range
    assert [p.overdue for p in points] == [0, 0, 0, 0, 0, 1]  # m2 due 02-09, closed after it; m1 closed on time
    # a deadline still ahead of `now` is not overdue yet: m3 (due 06-16) seen from 06-10
    june = stats.make_filter(session, city.analyst, period="2026-06")
    early = stats.warning_trend(session, city.analyst, june, "month", now=NOW.replace(day=10))
    assert early[0].overdue == 0
    assert stats.warning_trend(session, city.analyst, june, "month", now=NOW)[0].overdue == 1  # m3 (h1 due 07-02)
