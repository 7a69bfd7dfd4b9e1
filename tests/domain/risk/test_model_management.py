"""Model versions: thresholds with validation and audit, aliases with their full history, permissions."""

from __future__ import annotations

import itertools

import pytest
from sqlmodel import select

from domain.audit.models import AuditLog
from domain.errors import Conflict, Forbidden, InvalidInput
from domain.identity.actor import SYSTEM, Actor
from domain.risk import versions
from domain.risk.models import ModelAlias, ModelAliasHistory
from domain.risk.queries import alias_history
from tests.ml.builders import tiny_version

GOOD = {"red": 0.8, "orange": 0.6, "yellow": 0.4, "blue": 0.2}
VIEWER = Actor(user_id=9002, username="viewer-wang", roles=frozenset({"viewer"}))


@pytest.mark.parametrize(("thresholds", "field", "code"), [
    ({**GOOD, "orange": 0.9}, "thresholds.red", "not_ordered"),
    ({**GOOD, "yellow": 0.6}, "thresholds.orange", "not_ordered"),
    ({**GOOD, "red": 1.5}, "thresholds.red", "out_of_range"),
    ({**GOOD, "blue": -0.1}, "thresholds.blue", "out_of_range"),
    ({k: v for k, v in GOOD.items() if k != "yellow"}, "thresholds.yellow", "required"),
    ({**GOOD, "blue": "abc"}, "thresholds.blue", "not_a_number"),
    ({**GOOD, "purple": 0.1}, "thresholds.purple", "unknown_level"),
])
def test_thresholds_must_be_complete_ordered_and_within_0_1(session, thresholds, field, code):
    version = tiny_version(session, thresholds=GOOD)
    with pytest.raises(InvalidInput) as caught:
        versions.set_level_thresholds(session, SYSTEM, version.id, thresholds)
    assert (caught.value.errors[0].field, caught.value.errors[0].code) == (field, code)
    assert version.thresholds == GOOD


def test_setting_thresholds_is_audited(session):
    version = tiny_version(session, thresholds=GOOD)
    versions.set_level_thresholds(session, SYSTEM, version.id, {**GOOD, "red": "0.9"})
    assert version.thresholds["red"] == 0.9
    audit = session.exec(select(AuditLog).where(AuditLog.action == "model.thresholds")).one()
    assert audit.changes == {"red": [0.8, 0.9]} and audit.object_id == str(version.id)


def test_alias_history_across_promote_and_rollback(session):
    v1 = tiny_version(session, thresholds=GOOD, version=1)
    v2 = tiny_version(session, thresholds=GOOD, version=2, seed=2)
    v3 = tiny_version(session, thresholds=GOOD, version=3, seed=3)
    versions.promote_model_version(session, SYSTEM, v1.id, reason="first")
    versions.promote_model_version(session, SYSTEM, v2.id, alias="challenger", reason="测试")
    versions.promote_model_version(session, SYSTEM, v2.id, reason="better")  # challenger becomes champion
    with pytest.raises(Conflict):
        versions.promote_model_version(session, SYSTEM, v2.id, reason="测试")
    versions.promote_model_version(session, SYSTEM, v3.id, reason="测试")
    versions.rollback_model(session, SYSTEM, reason="v3 misbehaves")
    assert session.get(ModelAlias, ("entity_risk", "champion")).version_id == v2.id
    assert session.get(ModelAlias, ("entity_risk", "challenger")) is None

    history = alias_history(session, SYSTEM)
    periods = [(h.entry.alias, h.version_number, h.entry.action, h.is_current) for h in reversed(history)]
    assert periods == [
        ("champion", 1, "promote", False),
        ("challenger", 2, "promote", False),
        ("champion", 2, "promote", False),
        ("champion", 3, "promote", False),
        ("champion", 2, "rollback", True),
    ]
    rows = session.exec(select(ModelAliasHistory).where(ModelAliasHistory.alias == "champion")
                        .order_by(ModelAliasHistory.id)).all()
    for earlier, later in itertools.pairwise(rows):
        assert earlier.valid_to == later.valid_from  # periods follow each other without gaps
    versions.rollback_model(session, SYSTEM)  # rolling back again returns to the one held just before: v3
    assert session.get(ModelAlias, ("entity_risk", "champion")).version_id == v3.id
    actions = [a.action for a in session.exec(select(AuditLog).order_by(AuditLog.id))]
    assert actions.count("model.promote") == 4 and actions.count("model.rollback") == 2


def test_rollback_without_an_earlier_champion_is_refused(session):
    v1 = tiny_version(session, thresholds=GOOD)
    with pytest.raises(Conflict, match="无可回滚"):
        versions.rollback_model(session, SYSTEM)
    versions.promote_model_version(session, SYSTEM, v1.id, reason="测试")
    assert versions.rollback_target(session, SYSTEM) is None  # the page offers no 回滚 then
    with pytest.raises(Conflict, match="此前没有其他可用版本担任过冠军模型"):
        versions.rollback_model(session, SYSTEM)
    v2 = tiny_version(session, thresholds=GOOD, version=2, seed=2)
    versions.promote_model_version(session, SYSTEM, v2.id, reason="更好")
    assert versions.rollback_target(session, SYSTEM).id == v1.id


def test_promoting_asks_for_a_reason_and_keeps_it(session):
    v1 = tiny_version(session, thresholds=GOOD)
    for blank in ("", "   "):
        with pytest.raises(InvalidInput, match="请填写原因") as exc:
            versions.promote_model_version(session, SYSTEM, v1.id, reason=blank)
        assert exc.value.field == "reason"
    assert session.get(ModelAlias, ("entity_risk", "champion")) is None  # nothing half-written
    with pytest.raises(InvalidInput, match="至多 500 字"):
        versions.promote_model_version(session, SYSTEM, v1.id, reason="长" * 501)
    versions.promote_model_version(session, SYSTEM, v1.id, reason="  首个模型，验证 AUC 0.84  ")
    (period,) = alias_history(session, SYSTEM)
    assert period.entry.reason == "首个模型，验证 AUC 0.84"


def test_demote_takes_the_challenger_away_but_never_the_champion(session):
    v1 = tiny_version(session, thresholds=GOOD)
    v2 = tiny_version(session, thresholds=GOOD, version=2, seed=2)
    versions.promote_model_version(session, SYSTEM, v1.id, reason="测试")
    versions.promote_model_version(session, SYSTEM, v2.id, alias="challenger", reason="测试")
    versions.demote_alias(session, SYSTEM, "challenger", reason="done comparing")
    assert session.get(ModelAlias, ("entity_risk", "challenger")) is None
    with pytest.raises(Conflict):
        versions.demote_alias(session, SYSTEM, "champion")
    last = next(h.entry for h in alias_history(session, SYSTEM) if h.entry.alias == "challenger")
    assert last.action == "demote" and last.valid_to is not None


def test_only_analysts_and_admins_change_models(session):
    v1 = tiny_version(session, thresholds=GOOD)
    with pytest.raises(Forbidden):
        versions.promote_model_version(session, VIEWER, v1.id, reason="测试")
    with pytest.raises(Forbidden):
        versions.set_level_thresholds(session, VIEWER, v1.id, GOOD)
