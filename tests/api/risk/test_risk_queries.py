"""GraphQL reads of model management: versions newest first with metrics, aliases and history, scores, rules."""

from __future__ import annotations

from datetime import date

from tests.api.risk.factories import (
    FEATURES,
    HANDLER,
    VIEWER,
    add_alias,
    add_entity,
    add_rule,
    add_run,
    add_score,
    add_version,
)
from tests.support import count_statements

VERSIONS = """query($first: Int, $after: String) { modelVersions(first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { node { id version aliases trainedBy features
    metrics { rocAuc prAuc brierScore baselineRocAuc rocCurve { x y } prCurve { x y }
              calibration { meanPredicted observedRate count } featureImportance { feature importance }
              atK { k precision recall }
              overall { meanPredicted positiveRate rocAuc rocAucLow rocAucHigh lift { decile count positives lift } }
              newEvents { rocAuc positives entities } baselineNewEvents { rocAuc } followUpPositives
              expectedCalibrationError expectedCalibrationErrorBefore calibrationBefore { meanPredicted }
              calibrationMethod top1000Positives }
    thresholds { red orange yellow blue } } } } }"""


async def gql(client, query, variables=None):
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    return response.json()


async def test_model_versions_are_newest_first_with_key_metrics_and_aliases(client, session):
    v1 = add_version(session, 1, roc_auc=0.81)
    v2 = add_version(session, 2, roc_auc=0.84)
    add_version(session, 3, roc_auc=0.79)
    add_alias(session, v1, "champion", days_ago=10)
    add_alias(session, v2, "challenger")
    session.commit()

    body = await gql(client, VERSIONS, {"first": 2})
    conn = body["data"]["modelVersions"]
    assert conn["totalCount"] == 3 and conn["pageInfo"]["hasNextPage"] is True
    nodes = [e["node"] for e in conn["edges"]]
    assert [n["version"] for n in nodes] == [3, 2]
    assert nodes[1]["aliases"] == ["challenger"] and nodes[0]["aliases"] == []
    m = nodes[1]["metrics"]
    assert m["rocAuc"] == 0.84 and 0 < m["prAuc"] <= 1 and 0 < m["brierScore"] < 1 and 0.5 < m["baselineRocAuc"] <= 1
    assert m["rocCurve"][0] == {"x": 0.0, "y": 0.0} and m["rocCurve"][-1] == {"x": 1.0, "y": 1.0}
    assert len(m["prCurve"]) > 5 and len(m["calibration"]) == 10 == len(m["calibrationBefore"])  # score deciles
    assert m["featureImportance"][0]["importance"] >= m["featureImportance"][-1]["importance"]
    assert [r["k"] for r in m["atK"]] == [2, 10, 20, 40]  # 1%, 5%, 10%, 20% of the 200 held-out entities
    o = m["overall"]
    assert o["rocAucLow"] < m["rocAuc"] < o["rocAucHigh"] or m["rocAuc"] == 0.84  # the factory overrides rocAuc
    assert [r["decile"] for r in o["lift"]] == list(range(1, 11)) and sum(r["count"] for r in o["lift"]) == 200
    assert 0 < o["meanPredicted"] < 1 and 0 < o["positiveRate"] < 1
    ne = m["newEvents"]
    assert m["followUpPositives"] == 10 and ne["entities"] == 190 and 0.5 < ne["rocAuc"] <= 1
    assert m["baselineNewEvents"]["rocAuc"] is not None and m["calibrationMethod"] == "platt"
    assert m["expectedCalibrationError"] >= 0 and m["expectedCalibrationErrorBefore"] >= 0
    assert m["top1000Positives"] == sum(r["positives"] for r in o["lift"])  # fewer than 1,000: all of them
    assert nodes[0]["thresholds"] == {"red": 0.8, "orange": 0.6, "yellow": 0.4, "blue": 0.2}

    rest = await gql(client, VERSIONS, {"first": 2, "after": conn["pageInfo"]["endCursor"]})
    last = rest["data"]["modelVersions"]["edges"]
    assert [(e["node"]["version"], e["node"]["aliases"]) for e in last] == [(1, ["champion"])]


async def test_a_page_of_versions_costs_the_same_statements_whatever_its_size(client, session, db):
    for n in range(1, 4):
        add_alias(session, add_version(session, n), "champion")
    session.commit()
    await gql(client, VERSIONS, {"first": 1})  # the first request also checks the schema version
    with count_statements(db) as small:
        await gql(client, VERSIONS, {"first": 1})
    for n in range(4, 25):
        add_alias(session, add_version(session, n), "challenger" if n % 2 else "champion")
    session.commit()
    with count_statements(db) as large:
        body = await gql(client, VERSIONS, {"first": 20})
    assert len(body["data"]["modelVersions"]["edges"]) == 20
    assert large.count == small.count <= 3


async def test_risk_models_show_the_champion_challenger_and_newest_version(client, session):
    v1, v2, _v3 = (add_version(session, n) for n in (1, 2, 3))
    add_alias(session, v1, "champion")
    add_alias(session, v2, "challenger")
    session.commit()
    body = await gql(client, """{ riskModels { name versionCount latestVersion { version }
        champion { version aliases } challenger { version } aliases { alias version { version } } } }""")
    assert body["data"]["riskModels"] == [{
        "name": "entity_risk", "versionCount": 3, "latestVersion": {"version": 3},
        "champion": {"version": 1, "aliases": ["champion"]}, "challenger": {"version": 2},
        "aliases": [{"alias": "challenger", "version": {"version": 2}},
                    {"alias": "champion", "version": {"version": 1}}]}]


async def test_alias_history_says_who_held_which_alias_from_when_to_when(client, session):
    v1, v2 = add_version(session, 1), add_version(session, 2)
    add_alias(session, v1, "champion", days_ago=30, by="analyst-li")
    add_alias(session, v2, "champion", days_ago=3, by="analyst-chen")
    session.commit()
    body = await gql(client, "{ modelAliasHistory { alias version setBy validFrom validTo action } }")
    history = body["data"]["modelAliasHistory"]
    assert [(h["version"], h["setBy"], h["validTo"] is None) for h in history] == [
        (2, "analyst-chen", True), (1, "analyst-li", False)]
    assert history[1]["validTo"] == history[0]["validFrom"]


async def test_model_version_by_id_and_unknown_ids_are_not_found(client, session):
    v = add_version(session, 1)
    session.commit()
    body = await gql(client, "query($id: ID!) { modelVersion(id: $id) { version dataFingerprint labelCounts } }",
                     {"id": str(v.id)})
    assert body["data"]["modelVersion"]["version"] == 1
    assert body["data"]["modelVersion"]["labelCounts"] == {"history": {"positive": 120, "negative": 480}}
    missing = await gql(client, '{ modelVersion(id: "999") { version } }')
    assert missing["errors"][0]["extensions"]["code"] == "not_found"
    assert "999" in missing["errors"][0]["message"]
    bad = await gql(client, '{ modelVersion(id: "abc") { version } }')
    assert bad["errors"][0]["extensions"] == {"code": "bad_id", "field": "id"}


async def test_compare_two_versions_side_by_side(client, session):
    a = add_version(session, 1, roc_auc=0.80)
    b = add_version(session, 2, roc_auc=0.85, features=[*FEATURES[:-1], "open_clues"])
    session.commit()
    body = await gql(client, """query($a: ID!, $b: ID!) { compareModelVersions(a: $a, b: $b) {
        a { version } b { version } metrics { key a b delta higherIsBetter } featuresAdded featuresRemoved } }""",
                     {"a": str(a.id), "b": str(b.id)})
    cmp = body["data"]["compareModelVersions"]
    roc = next(m for m in cmp["metrics"] if m["key"] == "roc_auc")
    assert roc["a"] == 0.80 and roc["b"] == 0.85 and abs(roc["delta"] - 0.05) < 1e-9
    assert cmp["featuresAdded"] == ["open_clues"] and cmp["featuresRemoved"] == ["abnormal_operation"]


async def test_drift_is_flagged_above_the_threshold(client, session):
    v = add_version(session, 1)
    add_run(session, v, drift={"score": 0.05, "features": {"complaints_90d": 0.31, "penalties_365d": 0.02}})
    session.commit()
    query = "query($v: ID!) { modelDrift(versionId: $v) { threshold flagged items { name psi flagged } } }"
    body = await gql(client, query, {"v": str(v.id)})
    drift = body["data"]["modelDrift"]
    assert drift["threshold"] == 0.2 and drift["flagged"] is True
    assert drift["items"] == [{"name": "score", "psi": 0.05, "flagged": False},
                              {"name": "complaints_90d", "psi": 0.31, "flagged": True},
                              {"name": "penalties_365d", "psi": 0.02, "flagged": False}]


async def test_risk_scores_of_an_entity_newest_first_from_champion_runs(client, session):
    v = add_version(session, 1)
    entity = add_entity(session, 1)
    old = add_run(session, v, as_of=date(2026, 1, 31))
    new = add_run(session, v, as_of=date(2026, 2, 28))
    shadow = add_run(session, v, role="challenger", as_of=date(2026, 3, 1))
    add_score(session, old, entity, 0.31, "blue")
    add_score(session, new, entity, 0.83, "red")
    add_score(session, shadow, entity, 0.5, "yellow")
    session.commit()
    # an entity's history is entity.riskScores (riskScores is the risk list, issue 13)
    query = """query($u: String!, $n: Int!) { entity(uscc: $u) { riskScores(first: $n) {
        uscc score level asOf role modelVersion contributions { feature value contribution } } } }"""
    scores = (await gql(client, query, {"u": entity.uscc, "n": 5}))["data"]["entity"]["riskScores"]
    assert [(s["asOf"], s["level"]) for s in scores] == [("2026-02-28", "red"), ("2026-01-31", "blue")]
    assert scores[0]["contributions"][0] == {"feature": "complaints_90d", "value": 3.0, "contribution": 0.42}
    one = (await gql(client, query, {"u": entity.uscc, "n": 1}))["data"]["entity"]["riskScores"]
    assert len(one) == 1 and one[0]["score"] == 0.83


async def test_rules_are_listed_enabled_first(client, session):
    add_rule(session, "R002", "complaints_90d > 5", enabled=False)
    add_rule(session, "R001")
    session.commit()
    body = await gql(client, "{ riskRules { code enabled minLevel expression } }")
    assert [(r["code"], r["enabled"]) for r in body["data"]["riskRules"]] == [("R001", True), ("R002", False)]


async def test_viewers_read_but_handlers_and_strangers_do_not(client, acting, session):
    add_version(session, 1)
    session.commit()
    acting.actor = VIEWER
    assert (await gql(client, "{ modelVersions { totalCount } }"))["data"]["modelVersions"]["totalCount"] == 1
    acting.actor = HANDLER
    body = await gql(client, "{ modelVersions { totalCount } }")
    assert body["errors"][0]["extensions"]["code"] == "forbidden"
    from domain.identity.actor import ANONYMOUS

    acting.actor = ANONYMOUS
    client.cookies.clear()  # a caller with no session and no token
    body = await gql(client, "{ riskRules { code } }")
    assert body["errors"][0]["extensions"]["code"] == "unauthenticated"


async def test_risk_models_and_scores_cost_a_fixed_number_of_statements(client, session, db):
    query = """query($u: String!) { riskModels { name champion { version } challenger { version } latestVersion { id } }
               entity(uscc: $u) { riskScores(first: 50) { score level contributions { feature } } } }"""
    v1 = add_version(session, 1)
    add_alias(session, v1, "champion")
    entity = add_entity(session, 1)
    add_score(session, add_run(session, v1, as_of=date(2026, 1, 1)), entity, 0.5, "blue")
    session.commit()
    await gql(client, query, {"u": entity.uscc})
    with count_statements(db) as few:
        await gql(client, query, {"u": entity.uscc})
    for n in range(2, 12):
        v = add_version(session, n)
        add_alias(session, v, "challenger" if n % 2 else "champion")
        add_score(session, add_run(session, v, as_of=date(2026, 1, n)), entity, 0.1 * (n % 9), "blue")
    session.commit()
    with count_statements(db) as many:
        body = await gql(client, query, {"u": entity.uscc})
    assert len(body["data"]["entity"]["riskScores"]) == 11 and body["data"]["riskModels"][0]["latestVersion"]
    assert many.count == few.count
