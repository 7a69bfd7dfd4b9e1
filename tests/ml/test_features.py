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
    }
    assert a["entity_age_years"] == pytest.approx((CUTOFF - date(2015, 1, 1)).days / 365.25, abs=1e-4)
    b = _row(matrix, world["b"].id)
    assert b["inspections_365d"] == 0 and b["complaints_365d"] == 0
    assert b["days_since_last_inspection"] is None  # never inspected: missing for the model
    assert b["entity_age_years"] is None and b["registered_capital"] is None
    assert b["industry_section"] == "C" and b["industry_division"] == "13"  # division 13 is in section C
    assert b["region_code"] == ""  # outside Suzhou


def test_a_record_after_the_cutoff_never_changes_that_cutoffs_features(db, session, world):
    with db.engine.connect() as conn:
        before = compute_features(conn, CUTOFF)
    w = world["world"]
    a = world["a"]
    w.action(a, "inspection", date(2025, 7, 1), decided_on=date(2025, 7, 2), result="fail")
    w.action(a, "penalty", date(2025, 6, 29), decided_on=date(2025, 7, 1), amount="123456")
    w.complaint(a, date(2025, 7, 1))
    w.credit(a, "serious_violation", date(2025, 7, 1))
    w.credit(world["b"], "abnormal_operation", date(2025, 8, 1))
    session.commit()
    with db.engine.connect() as conn:
        after = compute_features(conn, CUTOFF)
        later = compute_features(conn, date(2025, 7, 31))
    assert np.array_equal(before.entity_ids, after.entity_ids)
    assert np.array_equal(np.nan_to_num(before.values, nan=-9), np.nan_to_num(after.values, nan=-9))
    # ...while a later cut-off does see them
    assert _row(later, a.id)["serious_violation"] is True
    assert _row(later, a.id)["penalty_amount_90d"] == 999.0 + 123456.0  # the April penalty has left the 90 days


def test_features_for_chosen_entities_match_the_whole_population(db, world):
    with db.engine.connect() as conn:
        everyone = compute_features(conn, CUTOFF)
        one = compute_features(conn, CUTOFF, entity_ids=[world["a"].id])
    assert one.entity_ids.tolist() == [world["a"].id]
    assert np.array_equal(one.values[0], everyone.values[0])
