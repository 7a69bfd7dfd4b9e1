"""GraphQL changes to models and rules: aliases with history, thresholds, training and backtest jobs, rules."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import select

from domain.audit.models import AuditLog
from domain.risk.models import ModelVersion, RiskRule
from tests.api.risk.factories import VIEWER, add_user, add_version, run_queued_job, small_city

PROMOTE = """mutation($id: ID!, $alias: String!) {
  promoteModelVersion(input: {versionId: $id, alias: $alias, reason: "测试"}) {
  version { version aliases } errors { field code message } } }"""
ROLLBACK = """mutation { rollbackModel(input: {alias: "champion", reason: "v2 误报偏多"}) {
  version { version aliases } errors { field code message } } }"""


async def gql(client, query, variables=None):
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    return response.json()


async def test_promote_then_roll_back_keeps_the_whole_alias_history(client, session):
    v1, v2 = add_version(session, 1), add_version(session, 2)
    session.commit()
    first = await gql(client, PROMOTE, {"id": str(v1.id), "alias": "champion"})
    assert first["data"]["promoteModelVersion"] == {"version": {"version": 1, "aliases": ["champion"]}, "errors": []}
    await gql(client, PROMOTE, {"id": str(v2.id), "alias": "champion"})
    back = await gql(client, ROLLBACK)
    assert back["data"]["rollbackModel"] == {"version": {"version": 1, "aliases": ["champion"]}, "errors": []}

    history = (await gql(client, "{ modelAliasHistory { alias version action setBy reason validTo } }"))
    rows = [(h["version"], h["action"], h["validTo"] is None) for h in history["data"]["modelAliasHistory"]]
    assert rows == [(1, "rollback", True), (2, "promote", False), (1, "promote", False)]
    assert history["data"]["modelAliasHistory"][0]["reason"] == "v2 误报偏多"
    actions = session.exec(select(AuditLog.action).where(AuditLog.object_type == "model_version")
                           .order_by(AuditLog.id)).all()
    assert actions == ["model.promote", "model.promote", "model.rollback"]


async def test_rolling_back_with_no_earlier_champion_is_a_typed_error(client, session):
    v1 = add_version(session, 1)
    session.commit()
    await gql(client, PROMOTE, {"id": str(v1.id), "alias": "champion"})
    body = await gql(client, ROLLBACK)
    payload = body["data"]["rollbackModel"]
    assert payload["version"] is None
    assert payload["errors"][0]["code"] == "conflict" and "无可回滚" in payload["errors"][0]["message"]


async def test_promoting_an_unknown_version_or_alias_answers_with_errors(client, session):
    v1 = add_version(session, 1)
    session.commit()
    missing = await gql(client, PROMOTE, {"id": "999", "alias": "champion"})
    assert missing["data"]["promoteModelVersion"]["errors"][0]["code"] == "not_found"
    odd = await gql(client, PROMOTE, {"id": str(v1.id), "alias": "king"})
    assert odd["data"]["promoteModelVersion"]["errors"][0]["field"] == "alias"


async def test_thresholds_must_be_ordered_and_within_0_1(client, session):
    v = add_version(session, 1)
    session.commit()
    query = """mutation($id: ID!, $r: Float!, $o: Float!, $y: Float!, $b: Float!) {
      setLevelThresholds(input: {versionId: $id, red: $r, orange: $o, yellow: $y, blue: $b}) {
        version { thresholds { red orange yellow blue } } errors { field code message } } }"""
    bad = await gql(client, query, {"id": str(v.id), "r": 0.5, "o": 0.6, "y": 0.3, "b": 1.5})
    errors = bad["data"]["setLevelThresholds"]["errors"]
    assert {(e["field"], e["code"]) for e in errors} == {("thresholds.blue", "out_of_range")}
    unordered = await gql(client, query, {"id": str(v.id), "r": 0.5, "o": 0.6, "y": 0.3, "b": 0.1})
    assert [(e["field"], e["code"]) for e in unordered["data"]["setLevelThresholds"]["errors"]] == [
        ("thresholds.red", "not_ordered")]
    session.expire_all()
    assert session.get(ModelVersion, v.id).thresholds["red"] == 0.8  # nothing changed
    ok = await gql(client, query, {"id": str(v.id), "r": 0.9, "o": 0.7, "y": 0.5, "b": 0.3})
    assert ok["data"]["setLevelThresholds"] == {
        "version": {"thresholds": {"red": 0.9, "orange": 0.7, "yellow": 0.5, "blue": 0.3}}, "errors": []}
    audit = session.exec(select(AuditLog).where(AuditLog.action == "model.thresholds")).one()
    assert audit.changes["red"] == [0.8, 0.9]


SAVE_RULE = """mutation($in: SaveRiskRuleInput!) { saveRiskRule(input: $in) {
  rule { id code revision expression enabled minLevel } errors { field code message } } }"""


async def test_saving_a_rule_reports_each_specific_problem(client, session):
    base = {"code": "R001", "name": "多次处罚", "minLevel": "orange", "enabled": True}
    syntax = await gql(client, SAVE_RULE, {"in": {**base, "expression": "penalties_365d >= "}})
    assert syntax["data"]["saveRiskRule"]["errors"][0]["code"] == "syntax"
    unknown = await gql(client, SAVE_RULE, {"in": {**base, "expression": "penalty_365d >= 2"}})
    err = unknown["data"]["saveRiskRule"]["errors"][0]
    assert err["code"] == "unknown_feature" and "penalties_365d" in err["message"]  # did you mean ...
    typed = await gql(client, SAVE_RULE, {"in": {**base, "expression": "penalties_365d >= \"2\""}})
    assert typed["data"]["saveRiskRule"]["errors"][0]["code"] == "wrong_type"
    several = await gql(client, SAVE_RULE, {"in": {**base, "code": "", "minLevel": "purple",
                                                    "expression": "penalties_365d >= 2"}})
    assert {e["field"] for e in several["data"]["saveRiskRule"]["errors"]} == {"code", "minLevel"}  # as sent
    assert session.exec(select(RiskRule)).all() == []


async def test_a_rule_is_saved_and_revised(client, session):
    base = {"code": "R001", "name": "多次处罚", "minLevel": "orange", "enabled": False,
            "expression": "penalties_365d >= 2"}
    created = (await gql(client, SAVE_RULE, {"in": base}))["data"]["saveRiskRule"]
    assert created["errors"] == [] and created["rule"]["revision"] == 1
    revised = (await gql(client, SAVE_RULE, {"in": {**base, "id": created["rule"]["id"], "enabled": True,
                                                   "expression": "penalties_365d >= 3"}}))["data"]["saveRiskRule"]
    assert revised["rule"]["revision"] == 2 and revised["rule"]["enabled"] is True
    revisions = await gql(client, "query($id: ID!) { riskRuleRevisions(ruleId: $id) { revision expression } }",
                          {"id": created["rule"]["id"]})
    assert revisions["data"]["riskRuleRevisions"] == [{"revision": 2, "expression": "penalties_365d >= 3"},
                                                      {"revision": 1, "expression": "penalties_365d >= 2"}]


async def test_trying_a_rule_counts_the_matching_entities(client, session, db):
    small_city(db, 400)
    expected = session.execute(sa.text(
        "SELECT COUNT(DISTINCT entity_id) FROM complaint WHERE received_on > :a AND received_on <= :b"),
        {"a": "2024-12-31", "b": "2025-12-31"}).scalar()
    body = await gql(client, """mutation { testRiskRule(input: {expression: "complaints_365d >= 1",
        asOf: "2025-12-31", sampleSize: 3}) { result { entities matched sample { uscc features } }
        errors { code } } }""")
    result = body["data"]["testRiskRule"]["result"]
    assert result["entities"] == 400 and result["matched"] == expected > 0
    assert len(result["sample"]) == 3 and all(s["features"]["complaints_365d"] >= 1 for s in result["sample"])
    wrong = await gql(client, 'mutation { testRiskRule(input: {expression: "nope > 1"}) { errors { code } } }')
    assert wrong["data"]["testRiskRule"]["errors"] == [{"code": "unknown_feature"}]


async def test_train_model_starts_a_job_that_records_a_new_version(client, acting, session, db):
    small_city(db, 1500)
    acting.actor = add_user(session, "analyst-zhou", ["analyst"])
    session.commit()
    body = await gql(client, """mutation { trainModel(input: {seed: 3, nCutoffs: 4, stepDays: 60}) {
        job { id kind status } errors { code } } }""")
    job = body["data"]["trainModel"]["job"]
    assert job["kind"] == "train" and job["status"] == "queued"
    done = run_queued_job(db, int(job["id"]))
    assert done.status == "succeeded", done.error
    listing = "{ modelVersions { totalCount nodes { trainedBy metrics { rocAuc baselineRocAuc } } } }"
    versions = await gql(client, listing)
    node = versions["data"]["modelVersions"]["nodes"][0]
    assert versions["data"]["modelVersions"]["totalCount"] == 1 and node["trainedBy"] == "analyst-zhou"
    assert 0.5 < node["metrics"]["rocAuc"] <= 1 and node["metrics"]["baselineRocAuc"] is not None

    bad = await gql(client, "mutation { trainModel(input: {nCutoffs: 0, labelWindowDays: 731}) "
                            "{ job { id } errors { field code message } } }")
    assert bad["data"]["trainModel"]["job"] is None
    assert [(e["field"], e["code"]) for e in bad["data"]["trainModel"]["errors"]] == [
        ("labelWindowDays", "out_of_range"), ("nCutoffs", "out_of_range")]  # the input's names, as sent
    assert "标签窗口天数须在 1–730 之间" in bad["data"]["trainModel"]["errors"][0]["message"]


async def test_backtest_counts_entities_per_level_and_their_outcomes(client, acting, session, db):
    from domain.identity.actor import SYSTEM
    from ml.model_training import TrainOptions, train_model

    small_city(db, 1500)
    version = train_model(session, SYSTEM, options=TrainOptions(n_cutoffs=4, step_days=60, seed=5))
    acting.actor = add_user(session, "analyst-zhou", ["analyst"])
    session.commit()
    body = await gql(client, """mutation($id: ID!) { backtestModelVersion(input: {versionId: $id, asOf: "2025-03-31",
        windowDays: 180}) { job { id } errors { field code message } } }""", {"id": str(version.id)})
    job = body["data"]["backtestModelVersion"]["job"]
    assert run_queued_job(db, int(job["id"])).status == "succeeded"
    result = await gql(client, """query($id: ID!) { modelBacktests(versionId: $id) {
        run { role asOf entities } levels { level entities withOutcome outcomeRate } } }""", {"id": str(version.id)})
    bt = result["data"]["modelBacktests"][0]
    assert bt["run"]["role"] == "backtest" and bt["run"]["asOf"] == "2025-03-31"
    # entities founded after the backtest date did not exist then
    assert sum(level["entities"] for level in bt["levels"]) == bt["run"]["entities"]
    assert 1000 < bt["run"]["entities"] < 1500
    assert [lv["level"] for lv in bt["levels"]] == ["red", "orange", "yellow", "blue", "none"]
    assert all(0 <= lv["withOutcome"] <= lv["entities"] for lv in bt["levels"])
    missing = await gql(client, """mutation { backtestModelVersion(input: {versionId: "999", asOf: "2025-03-31"}) {
        job { id } errors { code } } }""")
    assert missing["data"]["backtestModelVersion"] == {"job": None, "errors": [{"code": "not_found"}]}


async def test_viewers_cannot_change_models(client, acting, session):
    v = add_version(session, 1)
    session.commit()
    acting.actor = VIEWER
    await gql(client, "{ modelVersions { totalCount } }")  # signed in: making the users and the sign-in are audited
    before = session.exec(select(AuditLog)).all()
    body = await gql(client, PROMOTE, {"id": str(v.id), "alias": "champion"})
    assert body["errors"][0]["extensions"]["code"] == "forbidden"
    assert session.exec(select(AuditLog)).all() == before  # the refused change wrote nothing
