"""GraphQL over HTTP: submitRiskClues, judgeRiskClue, issueWarning, riskWarnings / riskWarning, riskScores,
riskClues — typed errors, idempotency, nesting at a fixed statement count, department scoping."""

import pytest

from tests.domain.warnings.support import build_city, score
from tests.support import count_statements


async def gql(client, query, variables=None):
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def city(db, acting):
    with db.unit_of_work() as session:
        c = build_city(session, n=8)
        for i, e in enumerate(c.entities):
            score(session, c.run, e, 0.95 - i * 0.1, ["red", "red", "orange", "orange", "yellow", "blue", None,
                                                      None][i])
    acting.actor = c.analyst
    return c


SUBMIT = """mutation($s: String!, $c: [RiskClueInput!]!) { submitRiskClues(source: $s, clues: $c) {
  received created updated unchanged rejected duplicates errors { code message }
  results { index clueId result duplicateOfId errors { field code message } } } }"""


async def test_submit_is_idempotent_with_typed_errors(client, city):
    clues = [{"externalId": "X1", "uscc": city.entities[0].uscc, "category": "食品安全", "description": "过期食品",
              "receivedOn": "2026-03-01"},
             {"externalId": "X2", "uscc": "91320505MA1XXXXXXX", "category": "价格", "description": "价格欺诈",
              "receivedOn": "2026-03-02"},
             {"externalId": "X3", "category": "", "description": "缺少对象", "receivedOn": "2026/3/2"}]
    first = (await gql(client, SUBMIT, {"s": "dept-push", "c": clues}))["data"]["submitRiskClues"]
    assert (first["created"], first["rejected"]) == (2, 1)
    bad = first["results"][2]["errors"]
    assert {(e["field"], e["code"]) for e in bad} == {("category", "required"), ("uscc", "required")}
    assert all(e["message"][0] > "\u4e00" for e in bad)  # Chinese, naming the field
    again = (await gql(client, SUBMIT, {"s": "dept-push", "c": clues[:2]}))["data"]["submitRiskClues"]
    assert (again["created"], again["unchanged"]) == (0, 2)
    assert [r["clueId"] for r in again["results"]] == [r["clueId"] for r in first["results"][:2]]
    unknown_source = (await gql(client, SUBMIT, {"s": "nope", "c": clues[:1]}))["data"]["submitRiskClues"]
    assert unknown_source["errors"][0]["code"] == "unknown_source"
    listed = await gql(client, "{ riskClues(unmatched: true) { totalCount nodes { externalId entityProblem } } }")
    assert listed["data"]["riskClues"]["nodes"] == [{"externalId": "X2", "entityProblem": "invalid"}]


async def test_judge_into_a_warning_then_read_it_nested(client, city):
    clues = [{"externalId": "J1", "uscc": city.entities[2].uscc, "category": "食品安全", "description": "过期食品"}]
    body = await gql(client, SUBMIT, {"s": "dept-push", "c": clues})
    clue_id = body["data"]["submitRiskClues"]["results"][0]["clueId"]
    judge = """mutation($i: JudgeRiskClueInput!) { judgeRiskClue(input: $i) {
      clue { status warningCode } warning { id code level source status department { code name } }
      errors { field code message } } }"""
    refused = (await gql(client, judge, {"i": {"clueId": clue_id, "decision": "DISMISS"}}))["data"]["judgeRiskClue"]
    assert refused["errors"][0]["field"] == "comment" and refused["clue"] is None
    # the push scored the entity on demand (below blue with the tiny test model): the analyst picks the level
    no_level = (await gql(client, judge, {"i": {"clueId": clue_id, "decision": "ISSUE"}}))["data"]["judgeRiskClue"]
    assert no_level["errors"][0]["field"] == "level" and "低于蓝色阈值" in no_level["errors"][0]["message"]
    done = (await gql(client, judge, {"i": {"clueId": clue_id, "decision": "ISSUE", "level": "orange",
                                            "reasons": ["群众举报"]}}))
    payload = done["data"]["judgeRiskClue"]
    assert payload["errors"] == [] and payload["warning"]["level"] == "orange"
    assert payload["warning"]["department"]["code"] == "SZ-SCJG" and payload["clue"]["status"] == "warned"
    detail = await gql(client, """query($id: ID!) { riskWarning(id: $id) { code reasons score explanation
      entity { uscc riskScore { role } riskScores { role } } clues { id status }
      events { kind toStatus actorName } } }""",
                       {"id": payload["warning"]["id"]})
    w = detail["data"]["riskWarning"]
    assert w["reasons"][0] == "群众举报" and w["entity"]["uscc"] == city.entities[2].uscc
    assert w["entity"]["riskScore"]["role"] == "on_demand" and w["clues"][0]["status"] == "warned"
    assert [s["role"] for s in w["entity"]["riskScores"]] == ["on_demand", "champion"]
    assert w["events"] == [{"kind": "issue", "toStatus": "issued", "actorName": "analyst-li"}]
    assert w["explanation"]["contributions"] and w["explanation"]["level"] is None  # the on-demand score's


async def test_issue_warning_and_the_list_costs_a_fixed_number_of_statements(client, db, city):
    issue = """mutation($u: String!) { issueWarning(input: {uscc: $u, reasons: ["人工研判"]}) {
      warning { code level } errors { code message } } }"""
    first = (await gql(client, issue, {"u": city.entities[0].uscc}))["data"]["issueWarning"]
    assert first["warning"]["level"] == "red" and first["warning"]["code"].startswith("YJ-")
    twice = (await gql(client, issue, {"u": city.entities[0].uscc}))["data"]["issueWarning"]
    assert twice["errors"][0]["code"] == "open_warning_exists" and "已有未办结的预警" in twice["errors"][0]["message"]
    query = """{ riskWarnings(first: 50) { edges { node { code level status overdue receiptDueAt
      entity { uscc name } department { name } lastEvent { kind at } } } pageInfo { hasNextPage } } }"""
    with count_statements(db) as one:
        body = await gql(client, query)
    assert len(body["data"]["riskWarnings"]["edges"]) == 1
    for e in city.entities[1:6]:
        await gql(client, issue, {"u": e.uscc})
    with count_statements(db) as six:
        body = await gql(client, query)
    assert len(body["data"]["riskWarnings"]["edges"]) == 6
    assert six.count == one.count
    filtered = await gql(client, '{ riskWarnings(level: "orange") { totalCount } }')
    assert filtered["data"]["riskWarnings"]["totalCount"] == 2
    bad = await gql(client, '{ riskWarnings(level: "purple") { totalCount } }')
    assert bad["errors"][0]["extensions"]["code"] == "unknown_level"


async def test_the_list_answers_what_the_detail_answers_whatever_is_selected(client, db, city):
    """riskWarnings reads its rows in one statement with what the selection asks for (the snapshots, the entity's
    columns and the last event's text only when selected, through fragments too): the same statements for a
    slim and a full selection, and every value the same as riskWarning(id) gives."""
    issue = """mutation($u: String!) { issueWarning(input: {uscc: $u, reasons: ["人工研判"]}) { warning { id } } }"""
    for e in city.entities[:3]:
        await gql(client, issue, {"u": e.uscc})
    fields = """code level source status reasons explanation score modelVersion overdue createdBy rowVersion
      department { id code name } entity { id uscc name status registeredCapital }
      lastEvent { id kind toStatus actorName comment payload at }"""
    slim = "{ riskWarnings(first: 10) { nodes { code level lastEvent { kind } } } }"
    full = ("{ riskWarnings(first: 10) { edges { node { id ...W } } } } fragment W on RiskWarning { " + fields
            + " }")
    with count_statements(db) as few:
        slim_body = await gql(client, slim)
    with count_statements(db) as many:
        body = await gql(client, full)
    assert "errors" not in body and "errors" not in slim_body
    assert many.count == few.count
    nodes = [edge["node"] for edge in body["data"]["riskWarnings"]["edges"]]
    assert len(nodes) == 3 and [n["code"] for n in slim_body["data"]["riskWarnings"]["nodes"]] == [
        n["code"] for n in nodes]
    for node in nodes:
        one = (await gql(client, "query($id: ID!) { riskWarning(id: $id) { " + fields + " } }",
                         {"id": node["id"]}))["data"]["riskWarning"]
        assert {k: v for k, v in node.items() if k != "id"} == one
        assert node["reasons"][0] == "人工研判" and node["entity"]["uscc"] and node["lastEvent"]["kind"] == "issue"


async def test_a_nested_entity_asked_for_its_id_code_and_name_only_is_made_of_the_row(client, db, city):
    """riskWarnings' rows always carry the entity's id, code and name: a selection of no more than those (also through
    a fragment) reads none of the entity's own columns, and answers what the full entity answers."""
    issue = """mutation($u: String!) { issueWarning(input: {uscc: $u, reasons: ["人工研判"]}) { warning { id } } }"""
    for e in city.entities[:3]:
        await gql(client, issue, {"u": e.uscc})
    lean = ("{ riskWarnings(first: 10) { nodes { code entity { __typename id ...E } } } } "
            "fragment E on Entity { uscc name }")
    full = "{ riskWarnings(first: 10) { nodes { code entity { __typename id uscc name status } } } }"
    with count_statements(db) as lean_sql:
        lean_body = await gql(client, lean)
    with count_statements(db) as full_sql:
        full_body = await gql(client, full)
    assert "errors" not in lean_body and "errors" not in full_body
    lean_nodes = lean_body["data"]["riskWarnings"]["nodes"]
    full_nodes = full_body["data"]["riskWarnings"]["nodes"]
    assert len(lean_nodes) == 3
    assert lean_nodes == [{**n, "entity": {k: v for k, v in n["entity"].items() if k != "status"}} for n in full_nodes]
    assert {n["entity"]["uscc"] for n in lean_nodes} == {e.uscc for e in city.entities[:3]}
    assert lean_nodes[0]["entity"]["__typename"] == "Entity" and lean_nodes[0]["entity"]["id"].isdigit()

    def reads_entity_columns(counter):
        return any("entity.entity_type" in s and "risk_warning" in s for s in counter.statements)

    assert not reads_entity_columns(lean_sql) and reads_entity_columns(full_sql)
    assert lean_sql.count == full_sql.count


async def test_risk_scores_connection_filters_and_scopes(client, db, acting, city):
    body = await gql(client, """{ riskScores(level: "red", first: 10) { totalCount
      nodes { uscc level reasons entity { name } openWarningCode } } }""")
    nodes = body["data"]["riskScores"]["nodes"]
    assert body["data"]["riskScores"]["totalCount"] == 2 and [n["level"] for n in nodes] == ["red", "red"]
    assert nodes[0]["reasons"][0] == "近90天检查不合格次数 2（+0.42）"
    page1 = await gql(client, "{ riskScores(first: 3) { pageInfo { endCursor hasNextPage } nodes { uscc } } }")
    cursor = page1["data"]["riskScores"]["pageInfo"]["endCursor"]
    page2 = await gql(client, 'query($a: String) { riskScores(first: 3, after: $a) { nodes { uscc } } }', {"a": cursor})
    seen = [n["uscc"] for n in page1["data"]["riskScores"]["nodes"] + page2["data"]["riskScores"]["nodes"]]
    assert seen == [e.uscc for e in city.entities[:6]]

    from domain.warnings.service import issue_warning

    with db.unit_of_work() as s:
        issue_warning(s, city.analyst, entity_id=city.entities[3].id, level="orange", reasons=["x"],
                      department_id=city.health.id)
    acting.actor = city.handler
    scoped = await gql(client, "{ riskScores { nodes { uscc } } riskWarnings { nodes { code } } }")
    assert [n["uscc"] for n in scoped["data"]["riskScores"]["nodes"]] == [city.entities[3].uscc]
    assert len(scoped["data"]["riskWarnings"]["nodes"]) == 1
    refused = await gql(client, '{ riskClues { totalCount } }')
    assert refused["errors"][0]["extensions"]["code"] == "forbidden"
