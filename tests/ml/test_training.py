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
from ml import service
from ml.labels import compute_labels
from ml.training import TrainingPlan, default_plan, latest_data_date, train
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
    assert plan.cutoffs[-1] == plan.validation_cutoff - timedelta(days=90) and len(plan.cutoffs) == 4
    assert list(plan.cutoffs) == sorted(plan.cutoffs)
    assert plan.check() == []
    leaky = TrainingPlan(cutoffs=(date(2025, 5, 1),), validation_cutoff=date(2025, 7, 4))
    assert leaky.check()[0][0] == "cutoffs"


def test_training_is_deterministic_for_a_seed_and_reports_metrics(db, synthetic):
    with db.engine.connect() as conn:
        plan = default_plan(conn, seed=11)
        first = train(conn, plan)
        second = train(conn, plan)
    assert first.artifact == second.artifact
    assert first.metrics["roc_auc"] == second.metrics["roc_auc"]
    assert first.fingerprint == second.fingerprint
    m = first.metrics
    for key in ("roc_auc", "pr_auc", "brier_score", "baseline_roc_auc", "baseline_pr_auc", "precision_at_k",
                "calibration", "roc_curve", "pr_curve", "importance"):
        assert key in m
    assert 0.5 < m["roc_auc"] <= 1 and 0 <= m["brier_score"] <= 1
    assert sum(row["count"] for row in m["calibration"]) == m["n_validation"]
    t = first.thresholds
    assert 1 > t["red"] > t["orange"] > t["yellow"] > t["blue"] > 0
    assert first.label_counts["train"]["historical"]["positive"] > 0


def test_the_train_job_records_a_version_and_can_make_the_first_champion(db, synthetic):
    job = run_job_now(db, SYSTEM, "train", {"seed": 5, "promote_if_no_champion": True})
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
        drift = service.champion_version(session, SYSTEM)
        assert drift is not None
