"""Features per entity as of a cut-off: exact values on a hand-built dataset, and no leakage."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from ml.features import FEATURE_NAMES, FEATURES, compute_features, model_features
from tests.ml.builders import World

CUTOFF = date(2025, 6, 30)


@pytest.fixture
def world(session):
    w = World(session)
    a = w.entity(1, founded_on=date(2015, 1, 1), industry="C", region="320508", capital="100")
    w.action(a, "inspection", date(2025, 6, 1), result="pass")
    w.action(a, "inspection", date(2025, 1, 10), decided_on=date(2025, 1, 12), result="fail")
    w.action(a, "inspection", date(2025, 5, 1), decided_on=date(2025, 5, 3), result="fail")
    w.action(a, "inspection", date(2024, 1, 1), result="pass")
    w.action(a, "penalty", date(2025, 3, 15), decided_on=date(2025, 4, 10), amount="5000")
    w.action(a, "penalty", date(2024, 9, 1), decided_on=date(2024, 9, 20), amount="2000.50")
    w.action(a, "penalty", date(2025, 6, 20), decided_on=date(2025, 7, 5), amount="999")  # decided after
    w.action(a, "inspection", date(2025, 7, 2), result="fail")  # after the cut-off
    for day in (date(2025, 6, 15), date(2025, 5, 15), date(2024, 12, 1), date(2024, 6, 30), date(2025, 7, 1)):
        w.complaint(a, day)
    w.credit(a, "abnormal_operation", date(2025, 1, 1))
    w.credit(a, "serious_violation", date(2024, 1, 1), removed_on=date(2025, 2, 1))
    b = w.entity(2, founded_on=None, industry="13", region="110101", capital=None)
    w.entity(3, founded_on=date(2025, 7, 15))  # founded after the cut-off
    session.commit()
    return {"a": a, "b": b, "world": w}


def _row(matrix, entity_id):
    i = int(np.flatnonzero(matrix.entity_ids == entity_id)[0])
    return {n: matrix.display_value(n, matrix.values[i, j]) for j, n in enumerate(matrix.names)}


def test_registry_describes_every_feature_in_both_languages():
    assert len(set(FEATURE_NAMES)) == len(FEATURES)
    for f in FEATURES:
        assert f.label_zh and f.label_en and f.computation
        assert f.cel_type in ("int", "double", "bool", "string")
    assert "open_clues" in FEATURE_NAMES and "open_clues" not in model_features()


def test_feature_values_on_a_hand_built_dataset(db, world):
    with db.engine.connect() as conn:
        matrix = compute_features(conn, CUTOFF)
    assert matrix.entity_ids.tolist() == [world["a"].id, world["b"].id]  # entity 3 did not exist yet
    a = _row(matrix, world["a"].id)
    assert {k: a[k] for k in a if k != "entity_age_years"} == {
        "inspections_90d": 2, "inspections_365d": 3,
        "failed_inspections_90d": 1, "failed_inspections_365d": 2, "rectify_inspections_365d": 0,
        "coercions_365d": 0, "inspections_730d": 4, "failed_inspections_730d": 2, "penalties_730d": 2,
        "complaints_730d": 4,
        "penalties_90d": 1, "penalties_365d": 2,
        "penalty_amount_90d": 5000.0, "penalty_amount_365d": 7000.5,
        "complaints_30d": 1, "complaints_90d": 2, "complaints_365d": 3,
        "days_since_last_inspection": 29,
        "abnormal_operation": True, "serious_violation": False,
        "registered_capital": 100.0, "industry_section": "C", "industry_division": "", "entity_type": "",
        "region_code": "320508",
        "open_clues": 0, "prior_warnings": 0, "confirmed_warnings": 0,
        # issue 12: recency, short windows, lifetime counts, ratios, history and rates per observed year
        "days_since_last_failed_inspection": 58,  # failed inspection decided 2025-05-03
        "days_since_last_penalty": 81,  # decided 2025-04-10 (the one decided 2025-07-05 is after the cut-off)
        "days_since_last_complaint": 15,
        "failed_inspections_15d": 0, "failed_inspections_30d": 0, "failed_inspections_60d": 1,
        "rectify_inspections_30d": 0, "rectify_inspections_90d": 0,
        "inspections_total": 4, "failed_inspections_total": 2, "rectify_inspections_total": 0,
        "penalties_total": 2, "complaints_total": 4,
        "failed_inspection_ratio": 0.5, "failed_inspection_ratio_365d": 0.6667,
        "history_days": 546,  # the oldest record (2024-01-01) to the cut-off; the entity is older than that
        "inspections_per_year": 2.6758, "failed_inspections_per_year": 1.3379, "penalties_per_year": 1.3379,
        "complaints_per_year": 2.6758,  # counts / (546 / 365.25)
        "commendations": 0, "ever_listed": True,  # serious_violation was removed, but it was listed
        "registered_at_cutoff": True,
    }
    assert a["entity_age_years"] == pytest.approx((CUTOFF - date(2015, 1, 1)).days / 365.25, abs=1e-4)
    b = _row(matrix, world["b"].id)
    assert b["inspections_365d"] == 0 and b["complaints_365d"] == 0
    assert b["days_since_last_inspection"] is None  # never inspected: missing for the model
    assert b["entity_age_years"] is None and b["registered_capital"] is None
    assert b["industry_section"] == "C" and b["industry_division"] == "13"  # division 13 is in section C
    assert b["region_code"] == ""  # outside Suzhou
    assert b["failed_inspection_ratio"] is None and b["days_since_last_penalty"] is None  # never: missing
    assert b["history_days"] == 546 and b["inspections_per_year"] == 0.0 and b["ever_listed"] is False


def test_history_is_bounded_by_the_founding_date_and_registration_by_the_deregistration_date(db, session, world):
    w = world["world"]
    young = w.entity(4, founded_on=date(2025, 5, 1))
    w.action(young, "inspection", date(2025, 6, 1), decided_on=date(2025, 6, 2), result="fail")
    gone = w.entity(5, deregistered_on=date(2025, 3, 1))
    later_gone = w.entity(6, deregistered_on=date(2025, 6, 30))  # deregistered on the cut-off itself
    w.credit(young, "commendation", date(2025, 6, 1))
    session.commit()
    with db.engine.connect() as conn:
        matrix = compute_features(conn, CUTOFF)
    y = _row(matrix, young.id)
    assert y["history_days"] == 60 and y["failed_inspections_15d"] == 0 and y["failed_inspections_30d"] == 1
    assert y["failed_inspections_per_year"] == round(365.25 / 60, 4) and y["commendations"] == 1
    assert y["ever_listed"] is False  # a commendation is not a listing
    assert _row(matrix, gone.id)["registered_at_cutoff"] is False
    assert _row(matrix, later_gone.id)["registered_at_cutoff"] is False
    with db.engine.connect() as conn:
        earlier = compute_features(conn, date(2025, 2, 28))
    assert _row(earlier, gone.id)["registered_at_cutoff"] is True  # still registered then


def test_a_record_after_the_cutoff_never_changes_that_cutoffs_features(db, session, world):
    with db.engine.connect() as conn:
        before = compute_features(conn, CUTOFF)
    w = world["world"]
    a = world["a"]
    w.action(a, "inspection", date(2025, 7, 1), decided_on=date(2025, 7, 2), result="fail")
    w.action(a, "penalty", date(2025, 6, 29), decided_on=date(2025, 7, 1), amount="123456")
    w.complaint(a, date(2025, 7, 1))
    w.credit(a, "serious_violation", date(2025, 7, 1))
    w.credit(world["b"], "abnormal_operation", date(2025, 7, 20))
    w.credit(a, "commendation", date(2025, 7, 1))
    w.action(a, "inspection", date(2025, 7, 3), decided_on=date(2025, 7, 5), result="rectify")
    world["b"].deregistered_on = date(2025, 7, 10)
    session.add(world["b"])
    session.commit()
    with db.engine.connect() as conn:
        after = compute_features(conn, CUTOFF)
        later = compute_features(conn, date(2025, 7, 31))
    assert np.array_equal(before.entity_ids, after.entity_ids)
    assert np.array_equal(np.nan_to_num(before.values, nan=-9), np.nan_to_num(after.values, nan=-9))
    # ...while a later cut-off does see them
    assert _row(later, a.id)["serious_violation"] is True
    assert _row(later, a.id)["penalty_amount_90d"] == 999.0 + 123456.0  # the April penalty has left the 90 days
    seen = _row(later, a.id)
    assert seen["days_since_last_failed_inspection"] == 29 and seen["days_since_last_complaint"] == 30
    assert seen["rectify_inspections_30d"] == 1 and seen["commendations"] == 1 and seen["penalties_total"] == 4
    assert _row(later, world["b"].id)["registered_at_cutoff"] is False
    assert _row(later, world["b"].id)["ever_listed"] is True


def test_features_for_chosen_entities_match_the_whole_population(db, world):
    with db.engine.connect() as conn:
        everyone = compute_features(conn, CUTOFF)
        one = compute_features(conn, CUTOFF, entity_ids=[world["a"].id])
    assert one.entity_ids.tolist() == [world["a"].id]
    assert np.array_equal(one.values[0], everyone.values[0])
