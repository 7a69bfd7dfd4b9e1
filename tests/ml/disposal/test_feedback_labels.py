"""Accepted feedback becomes the entity's training label over the historical outcome; counted per source."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from domain.disposal import service as d
from domain.types import LOCAL_TZ, utcnow
from ml.labels import compute_labels
from tests.domain.disposal.support import make_warning, make_world


@pytest.fixture
def world(db):
    return make_world(db)


def close_with(db, world, w, outcome, *, close=True):
    with db.unit_of_work() as s:
        d.receive_warning(s, world.handler_a, w.id)
        d.submit_feedback(s, world.handler_a, w.id, d.FeedbackInput(
            measures=["onsite_inspection"], outcome=outcome, description="现场核查情况说明。", satisfaction=3))
        if close:
            d.close_warning(s, world.analyst, w.id)


def test_closed_feedback_is_the_label_and_is_counted(db, world):
    confirmed = make_warning(db, world.dept_a)
    false_alarm = make_warning(db, world.dept_a)
    waiting = make_warning(db, world.dept_a)
    close_with(db, world, confirmed, "confirmed")
    close_with(db, world, false_alarm, "false_alarm")
    close_with(db, world, waiting, "partly", close=False)  # not accepted yet: no label
    ids = np.array(sorted([confirmed.entity_id, false_alarm.entity_id, waiting.entity_id]), dtype=np.int64)
    cutoff = (utcnow() - timedelta(days=3)).astimezone(LOCAL_TZ).date()
    with db.engine.connect() as conn:
        labels = compute_labels(conn, cutoff, 30, ids)
        later = compute_labels(conn, cutoff + timedelta(days=10), 30, ids)  # feedback before that cut-off
    by_entity = dict(zip(ids.tolist(), zip(labels.y.tolist(), labels.source.tolist(), strict=True), strict=True))
    assert by_entity[confirmed.entity_id] == (1, "feedback")
    assert by_entity[false_alarm.entity_id] == (0, "feedback")
    assert by_entity[waiting.entity_id] == (0, "historical")
    assert labels.counts["feedback"] == {"positive": 1, "negative": 1}
    assert "feedback" not in later.counts
