"""Labels, time-split training, determinism for a seed, the version record, and the train job."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from sqlmodel import select

import ml.jobs  # noqa: F401  (registers the risk job handlers)
from domain.audit.models import AuditLog
from domain.identity.actor import SYSTEM
from domain.jobs.runner import run_job_now
from domain.risk.models import ModelAlias, ModelVersion
from domain.risk.versions import champion_version
from ml.calibration import apply_calibration, fit_calibration
from ml.features import model_features
from ml.labels import FOLLOW_UP_DAYS, compute_labels
from ml.model_training import TRAIN_DEFAULTS
from ml.training import TrainingPlan, default_plan, fair_baseline, latest_data_date, train
from tests.ml.builders import World
from tests.ml.synthetic import synthetic_city

CUTOFF = date(2025, 6, 30)


def test_labels_are_the_outcome_in_the_window_after_the_cutoff(db, session):
    w = World(session)
    fail_in = w.entity(1)
    w.action(fail_in, "inspection", date(2025, 8, 1), decided_on=date(2025, 8, 3), result="fail")
    pass_in = w.entity(2)
    w.action(pass_in, "inspection", date(2025, 8, 1), result="pass")
    penalty_in = w.entity(3)
    w.action(penalty_in, "penalty", date(2025, 6, 1), decided_on=date(2025, 7, 10), amount="100")  # decided after
    too_late = w.entity(4)
    w.action(too_late, "penalty", date(2026, 1, 5), amount="100")  # after the 180-day window
    before = w.entity(5)
    w.action(before, "penalty", date(2025, 6, 1), decided_on=date(2025, 6, 30), amount="100")  # on the cut-off
    session.commit()
    ids = np.array([e.id for e in (fail_in, pass_in, penalty_in, too_late, before)])
    with db.engine.connect() as conn:
        labels = compute_labels(conn, CUTOFF, 180, ids)
    assert labels.y.tolist() == [1, 0, 1, 0, 0]
    assert labels.counts == {"historical": {"positive": 2, "negative": 3}}


@pytest.fixture
def synthetic(db):
    with db.engine.begin() as conn:
        synthetic_city(conn, 2500, seed=3, end=date(2025, 12, 31))


def test_default_plan_splits_by_time_without_overlap(db, synthetic):
    with db.engine.connect() as conn:
        plan = default_plan(conn)
        latest = latest_data_date(conn)
    assert plan.validation_cutoff == latest - timedelta(days=90)  # one label window before the last data day
    assert plan.cutoffs[-1] == plan.validation_cutoff - timedelta(days=90)
    assert len(plan.cutoffs) == TRAIN_DEFAULTS.n_cutoffs == 15  # the action's defaults: 15 cut-offs, 28 days apart
    assert {(b - a).days for a, b in zip(plan.cutoffs, plan.cutoffs[1:], strict=False)} == {28}
    assert list(plan.cutoffs) == sorted(plan.cutoffs)
    assert plan.check() == []
    leaky = TrainingPlan(cutoffs=(date(2025, 5, 1),), validation_cutoff=date(2025, 7, 4))
    assert leaky.check()[0][0] == "cutoffs"


def test_training_is_deterministic_for_a_seed_and_reports_metrics(db, synthetic):
    with db.engine.connect() as conn:
        plan = default_plan(conn, seed=11, n_cutoffs=4, step_days=60)  # small: the defaults are tested above
        first = train(conn, plan)
        second = train(conn, plan)
    assert first.artifact == second.artifact
    assert first.metrics["roc_auc"] == second.metrics["roc_auc"]
    assert first.fingerprint == second.fingerprint
    m = first.metrics
    for key in ("roc_auc", "pr_auc", "brier_score", "baseline_roc_auc", "baseline_pr_auc", "precision_at_k",
                "calibration", "calibration_before", "roc_curve", "pr_curve", "importance", "mean_predicted",
                "ece", "ece_before", "lift", "roc_auc_ci", "new_events", "baseline_new_events", "top_1000"):
        assert key in m
    assert 0.5 < m["roc_auc"] <= 1 and 0 <= m["brier_score"] <= 1
    assert sum(row["count"] for row in m["calibration"]) == m["n_validation"]
    low, high = m["roc_auc_ci"]
    assert low < m["roc_auc"] < high  # bootstrap 95% interval around the headline
    assert [r["decile"] for r in m["lift"]] == list(range(1, 11))
    assert sum(r["count"] for r in m["lift"]) == m["n_validation"]
    assert sum(r["positives"] for r in m["lift"]) == m["validation_positives"]
    assert m["lift"][0]["lift"] > 1 > m["lift"][-1]["lift"]  # the top decile holds more than its share
    assert m["new_events"]["validation_positives"] == m["validation_positives"] - m["follow_up_positives"]
    assert m["new_events"]["n_validation"] == m["n_validation"] - m["follow_up_positives"]
    expected_ece = sum(r["count"] * abs(r["mean_predicted"] - r["observed_rate"]) for r in m["calibration"])
    assert m["ece"] == pytest.approx(expected_ece / m["n_validation"])
    assert first.calibration["method"] == "platt"
    t = first.thresholds
    assert 1 > t["red"] > t["orange"] > t["yellow"] > t["blue"] > 0
    assert first.label_counts["train"]["historical"]["positive"] > 0


def test_the_train_job_records_a_version_and_can_make_the_first_champion(db, synthetic):
    job = run_job_now(db, SYSTEM, "train", {"seed": 5, "n_cutoffs": 4, "step_days": 60,
                                            "promote_if_no_champion": True})
    assert job.status == "succeeded", job.error
    with db.unit_of_work() as session:
        version = session.get(ModelVersion, job.result["version_id"])
        assert version.version == 1 and version.job_id == job.id and version.trained_by_name == "system"
        assert version.train_to < version.validation_cutoff and version.artifact
        assert version.features and version.data_fingerprint and version.training_summary["score"]["edges"]
        assert session.get(ModelAlias, ("entity_risk", "champion")).version_id == version.id
        assert session.exec(select(AuditLog).where(AuditLog.action == "model.train")).one()
    score = run_job_now(db, SYSTEM, "score", {"as_of": "2025-12-31"})
    assert score.status == "succeeded", score.error
    (run,) = score.result["runs"]
    assert run["entities"] == 2500 and sum(run["levels"].values()) == 2500
    with db.unit_of_work() as session:
        drift = champion_version(session, SYSTEM)
        assert drift is not None


def test_follow_up_penalties_are_told_apart_from_new_events(db, session):
    w = World(session)
    followed = w.entity(1)  # failed before the cut-off, penalised after: the penalty closes a case on record
    w.action(followed, "inspection", date(2025, 6, 1), decided_on=date(2025, 6, 10), result="fail")
    w.action(followed, "penalty", date(2025, 7, 1), decided_on=date(2025, 8, 20), amount="100")
    rectified = w.entity(2)  # ordered to rectify before, penalised after
    w.action(rectified, "inspection", date(2025, 5, 1), decided_on=date(2025, 5, 2), result="rectify")
    w.action(rectified, "penalty", date(2025, 7, 1), decided_on=date(2025, 7, 15), amount="100")
    fresh_penalty = w.entity(3)  # a penalty with no open case before the cut-off
    w.action(fresh_penalty, "penalty", date(2025, 7, 1), decided_on=date(2025, 7, 20), amount="100")
    fresh_fail = w.entity(4)  # failed before AND failed again after: a new failure is a new event
    w.action(fresh_fail, "inspection", date(2025, 6, 1), decided_on=date(2025, 6, 10), result="fail")
    w.action(fresh_fail, "inspection", date(2025, 8, 1), decided_on=date(2025, 8, 2), result="fail")
    stale = w.entity(5)  # the failure was long before: the penalty is not its follow-up
    w.action(stale, "inspection", date(2024, 12, 1), decided_on=date(2024, 12, 1), result="fail")
    w.action(stale, "penalty", date(2025, 7, 1), decided_on=date(2025, 7, 10), amount="100")
    quiet = w.entity(6)  # failed before, nothing after: a negative
    w.action(quiet, "inspection", date(2025, 6, 1), decided_on=date(2025, 6, 10), result="fail")
    session.commit()
    assert (date(2025, 7, 10) - date(2024, 12, 1)).days > FOLLOW_UP_DAYS
    ids = np.array([e.id for e in (followed, rectified, fresh_penalty, fresh_fail, stale, quiet)])
    with db.engine.connect() as conn:
        labels = compute_labels(conn, CUTOFF, 90, ids)
    assert labels.y.tolist() == [1, 1, 1, 1, 1, 0]
    assert labels.follow_up.tolist() == [True, True, False, False, False, False]


def test_the_fair_baseline_logs_counts_and_one_hot_encodes_categories():
    names = ["penalties_365d", "industry_section", "abnormal_operation", "days_since_last_inspection"]
    e = np.e
    rows = [[0.0, 1, 0, np.nan], [e - 1, 2, 1, 9.0], [e * e - 1, 3, 0, 9.0]] * 20  # each category 20 times
    x = np.array(rows, dtype=np.float64)
    transform = fair_baseline(names)[0].fit(x)
    out = transform.transform(x)
    logged = out[:3, 0]  # log1p(0, e-1, e²-1) = 0, 1, 2, then standardised
    assert logged == pytest.approx(np.array([-1.2247449, 0.0, 1.2247449]), abs=1e-6)
    categories = transform.named_transformers_["category"][-1]
    assert [list(c) for c in categories.categories_] == [[1.0, 2.0, 3.0]]  # one column per section, not a number
    assert out.shape[1] == 2 + 1 + 3 + 1  # 2 numeric + 1 missing indicator + 3 one-hot + 1 flag
    assert out[:3, 3:6].tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert out[:3, -1].tolist() == [0, 1, 0]  # the flag as it is


def test_calibration_never_sees_the_validation_window(db, session, synthetic):
    with db.engine.connect() as conn:
        plan = default_plan(conn, n_cutoffs=3, step_days=60, seed=3)
        before = train(conn, plan)
    # Outcomes inside the validation window change the held-out labels, nothing the training or its calibration
    # may see: records dated after the validation cut-off never enter a training cut-off's features or labels.
    from domain.supervision.models import Entity

    w = World(session)
    entities = session.exec(select(Entity).order_by(Entity.id).limit(300)).all()
    for e in entities:
        w.action(e, "penalty", plan.validation_cutoff + timedelta(days=5), amount="100")
    session.commit()
    with db.engine.connect() as conn:
        after = train(conn, plan)
    assert after.metrics["validation_positives"] > before.metrics["validation_positives"]  # the window changed
    assert after.calibration == before.calibration  # ...the calibration did not
    assert after.artifact == before.artifact
    assert before.metrics["n_calibration"] > 0


def test_calibration_maps_raw_scores_monotonically():
    rng = np.random.default_rng(0)
    raw = rng.uniform(0.01, 0.6, 5000)
    y = (rng.uniform(size=5000) < raw * 0.5).astype(int)  # the raw scores over-predict by half
    platt = fit_calibration(raw, y, "platt")
    calibrated = apply_calibration(platt, raw)
    assert calibrated.mean() == pytest.approx(y.mean(), abs=0.01)
    assert raw.mean() > 1.5 * y.mean()
    order = np.argsort(raw)
    assert np.all(np.diff(calibrated[order]) >= 0)  # rankings (and ROC-AUC) unchanged
    iso = fit_calibration(raw, y, "isotonic")
    assert apply_calibration(iso, raw).mean() == pytest.approx(y.mean(), abs=0.01)
    assert apply_calibration(None, raw).tolist() == raw.astype(np.float32).tolist()  # versions before calibration
    assert model_features()  # the registry is non-empty
