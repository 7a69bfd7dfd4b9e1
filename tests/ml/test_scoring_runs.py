"""Scoring, rules and backtests on a known dataset: levels from thresholds, raised by rules; counts per level."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from domain.errors import Conflict, InvalidInput
from domain.identity.actor import SYSTEM
from domain.risk import versions
from domain.risk.models import RiskRuleRevision, RiskScore, ScoringRun
from ml import rule_actions, runs
from tests.ml.builders import World, tiny_version

AS_OF = date(2025, 6, 30)
# Every score reaches blue; nothing this tiny model gives reaches yellow: the levels come from the rule.
ALL_BLUE = {"red": 0.9999, "orange": 0.9998, "yellow": 0.9997, "blue": 0.0}


@pytest.fixture
def city(session):
    w = World(session)
    e1, e2, e3, e4 = (w.entity(i) for i in range(1, 5))
    w.action(e1, "penalty", date(2025, 3, 1), amount="1000")
    w.action(e1, "inspection", date(2025, 8, 1), result="fail")  # outcome after the date
    w.action(e2, "penalty", date(2025, 2, 1), amount="500")
    w.action(e3, "penalty", date(2025, 9, 1), amount="800")  # outcome after the date
    w.action(e4, "inspection", date(2025, 5, 1), result="pass")
    version = tiny_version(session, thresholds=ALL_BLUE)
    versions.promote_model_version(session, SYSTEM, version.id, reason="测试")
    return {"entities": (e1, e2, e3, e4), "version": version}


def test_rules_save_validates_everything_at_once(session):
    with pytest.raises(InvalidInput) as caught:
        rule_actions.save_risk_rule(session, SYSTEM, code="bad code!", name="", expression="penalties_356d > 1",
                               min_level="purple")
    assert {(e.field, e.code) for e in caught.value.errors} == {
        ("code", "invalid"), ("name", "required"), ("min_level", "unknown_level"), ("expression", "unknown_feature")}


def test_rules_are_versioned(session):
    rule = rule_actions.save_risk_rule(session, SYSTEM, code="repeat_penalty", name="屡罚", min_level="orange",
                                  expression="penalties_365d >= 2")
    rule_actions.save_risk_rule(session, SYSTEM, rule_id=rule.id, code="repeat_penalty", name="屡罚", min_level="red",
                           expression="penalties_365d >= 3", enabled=True)
    revisions = session.exec(select(RiskRuleRevision).order_by(RiskRuleRevision.revision)).all()
    assert [(r.revision, r.expression, r.min_level, r.enabled) for r in revisions] == [
        (1, "penalties_365d >= 2", "orange", False), (2, "penalties_365d >= 3", "red", True)]
    with pytest.raises(InvalidInput) as caught:
        rule_actions.save_risk_rule(session, SYSTEM, code="repeat_penalty", name="x", min_level="red",
                               expression="penalties_365d >= 1")
    assert caught.value.errors[0].code == "duplicate"


def test_a_rule_can_be_tried_before_it_is_enabled(session, city):
    result = rule_actions.try_risk_rule(session, SYSTEM, "penalties_365d >= 1", as_of=AS_OF)
    e1, e2, _, _ = city["entities"]
    assert (result.entities, result.matched) == (4, 2)
    assert {s["uscc"] for s in result.sample} == {e1.uscc, e2.uscc}
    assert result.sample[0]["features"] == {"penalties_365d": 1}


def test_scoring_levels_come_from_thresholds_and_rules_raise_them(session, city):
    rule_actions.save_risk_rule(session, SYSTEM, code="penalised", name="近一年受过处罚", min_level="red",
                           expression="penalties_365d >= 1", enabled=True)
    rule_actions.save_risk_rule(session, SYSTEM, code="disabled", name="未启用", min_level="red",
                           expression="inspections_365d >= 1", enabled=False)
    (run,) = runs.score_all(session, SYSTEM, as_of=AS_OF)
    scores = {s.entity_id: s for s in session.exec(select(RiskScore).where(RiskScore.run_id == run.id))}
    e1, e2, e3, e4 = city["entities"]
    assert {e.id: (scores[e.id].model_level, scores[e.id].level) for e in city["entities"]} == {
        e1.id: ("blue", "red"), e2.id: ("blue", "red"), e3.id: ("blue", "blue"), e4.id: ("blue", "blue")}
    assert scores[e1.id].rules_matched == ["penalised"] and scores[e3.id].rules_matched is None
    assert run.level_counts == {"red": 2, "orange": 0, "yellow": 0, "blue": 2, "none": 0}
    assert all(scores[e.id].contributions for e in city["entities"])  # blue or above: explained
    top = scores[e1.id].contributions[0]
    assert len(top) == 3 and isinstance(top[2], float)
    assert run.role == "champion" and run.entities == 4


def test_below_blue_is_not_explained_in_bulk(session, city):
    versions.set_level_thresholds(session, SYSTEM, city["version"].id,
                                 {"red": 0.9999, "orange": 0.9998, "yellow": 0.9997, "blue": 0.9996})
    (run,) = runs.score_all(session, SYSTEM, as_of=AS_OF)
    scores = session.exec(select(RiskScore).where(RiskScore.run_id == run.id)).all()
    assert {(s.level, s.contributions) for s in scores} == {(None, None)}


def test_the_challenger_is_scored_in_shadow(session, city):
    challenger = tiny_version(session, thresholds=ALL_BLUE, version=2, seed=5)
    versions.promote_model_version(session, SYSTEM, challenger.id, alias="challenger", reason="测试")
    done = runs.score_all(session, SYSTEM, as_of=AS_OF)
    assert [(r.role, r.version_id) for r in done] == [("champion", city["version"].id),
                                                      ("challenger", challenger.id)]
    assert session.exec(select(RiskScore).where(RiskScore.run_id == done[1].id)).all().__len__() == 4


def test_one_entity_on_demand_gets_exact_contributions(session, city):
    e1 = city["entities"][0]
    score = runs.score_entity(session, SYSTEM, e1.id, as_of=AS_OF)
    assert score.entity_id == e1.id and score.level == "blue" and score.contributions
    run = session.get(ScoringRun, score.run_id)
    assert run.role == "on_demand" and run.entities == 1


def test_scoring_needs_a_champion(session):
    with pytest.raises(Conflict, match="还没有冠军模型"):
        runs.score_all(session, SYSTEM, as_of=AS_OF)


def test_backtest_counts_per_level_and_outcomes_after(session, city):
    rule_actions.save_risk_rule(session, SYSTEM, code="penalised", name="近一年受过处罚", min_level="red",
                           expression="penalties_365d >= 1", enabled=True)
    run = runs.backtest_model_version(session, SYSTEM, city["version"].id, as_of=AS_OF, window_days=180)
    assert run.role == "backtest" and run.entities == 4
    assert run.level_counts == {"red": 2, "orange": 0, "yellow": 0, "blue": 2, "none": 0}  # as every run's
    levels = run.backtest["levels"]
    assert levels["red"] == {"entities": 2, "outcomes": 1, "rate": 0.5}
    assert levels["blue"] == {"entities": 2, "outcomes": 1, "rate": 0.5}
    assert levels["orange"]["entities"] == 0 and levels["none"]["entities"] == 0
    assert run.backtest["outcomes"] == 2 and run.backtest["window_complete"] is False  # data ends 2025-09-01
    assert run.drift == {}
    assert session.exec(select(RiskScore).where(RiskScore.run_id == run.id)).first() is None
    with pytest.raises(InvalidInput) as caught:
        runs.backtest_model_version(session, SYSTEM, city["version"].id, as_of=date(2025, 9, 1))
    assert caught.value.code == "not_in_past"


def test_a_backtest_whose_window_overlaps_training_is_flagged_as_optimistic(session, city):
    version = city["version"]
    version.train_from, version.train_to, version.label_window_days = date(2025, 1, 1), date(2025, 3, 1), 180
    session.add(version)
    session.flush()
    inside = runs.backtest_model_version(session, SYSTEM, version.id, as_of=AS_OF, window_days=30)
    assert inside.backtest["in_training_window"] is True  # 2025-06-30 < 2025-03-01 + 180 days
    version.train_from, version.train_to = date(2024, 1, 1), date(2024, 6, 1)  # outcomes known until 2024-11-28
    session.add(version)
    session.flush()
    after = runs.backtest_model_version(session, SYSTEM, version.id, as_of=AS_OF, window_days=30)
    assert after.backtest["in_training_window"] is False
    with pytest.raises(InvalidInput) as caught:
        runs.backtest_model_version(session, SYSTEM, version.id, as_of=AS_OF, window_days=0)
    assert (caught.value.field, caught.value.code) == ("window_days", "out_of_range")


def test_scores_stored_are_the_versions_calibrated_probabilities(session, city):
    version = city["version"]
    version.calibration = {"method": "platt", "a": 0.0, "b": -1.0986123}  # every raw score maps to 0.25
    version.thresholds = {"red": 0.9, "orange": 0.5, "yellow": 0.3, "blue": 0.2}
    session.add(version)
    session.flush()
    (run,) = runs.score_all(session, SYSTEM, as_of=AS_OF)
    scores = session.exec(select(RiskScore).where(RiskScore.run_id == run.id)).all()
    assert {round(s.score, 4) for s in scores} == {0.25}
    assert {s.model_level for s in scores} == {"blue"}  # graded on the calibrated score


def test_steps_registered_after_scoring_run_once_the_scoring_job_committed(db, session, city):
    import ml.jobs  # noqa: F401  (registers the score job)
    from domain.jobs.service import run_job_now
    from ml.runs import after_scoring, forget_after_scoring

    seen: list[tuple[list[int], int]] = []

    def count_committed(db_, actor, run_ids):
        with db_.unit_of_work() as s:  # a new unit of work sees the runs: they are committed
            seen.append((run_ids, len(s.exec(select(ScoringRun).where(ScoringRun.id.in_(run_ids))).all())))

    session.commit()
    after_scoring(count_committed)
    try:
        job = run_job_now(db, SYSTEM, "score", {"as_of": AS_OF.isoformat()})
    finally:
        forget_after_scoring(count_committed)
    assert job.status == "succeeded", job.error
    assert seen == [([job.result["runs"][0]["id"]], 1)]


def test_a_run_stores_its_score_summary_as_the_dashboard_would_count_it(session, city):
    from domain.risk.score_summary import SCORE_BINS, summarise, summary_sql
    from domain.statistics.service import _run_scores

    version = city["version"]
    version.calibration = {"method": "platt", "a": 0.0, "b": -1.0986123}  # every raw score maps to 0.25
    session.add(version)
    session.flush()
    (run,) = runs.score_all(session, SYSTEM, as_of=AS_OF)
    counted = summary_sql(session, run.id)
    assert run.score_summary["bins"] == counted["bins"] and sum(counted["bins"]) == 4
    assert run.score_summary["bins"][5] == 4  # 0.25 lies in [0.25, 0.30)
    assert run.score_summary["mean"] == pytest.approx(counted["mean"], abs=1e-9)
    assert _run_scores(session, run) == (run.score_summary["mean"], run.score_summary["bins"])
    # the binning rule at the edges, as SQL counts them: 1.0 in the last bin, a bin's lower edge in that bin
    assert summarise([0.0, 0.05, 0.049999, 1.0])["bins"][:2] == [2, 1]
    assert summarise([1.0])["bins"][SCORE_BINS - 1] == 1 and summarise([])["mean"] is None
