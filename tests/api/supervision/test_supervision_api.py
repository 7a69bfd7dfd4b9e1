"""GraphQL over HTTP: the ingest mutations with tokens, the record limit, and reading the data back."""

from __future__ import annotations

import pytest

from domain.supervision.ingest import MAX_RECORDS_PER_CALL
from tests.api.identity.factories import bearer
from tests.domain.identity.factories import new_token
from tests.domain.supervision.factories import seed_basics, uscc
from tests.support import count_statements

INGEST_ACTIONS = """
mutation($source: String!, $records: [SupervisionActionInput!]!, $mode: IngestMode) {
  ingestSupervisionActions(source: $source, records: $records, mode: $mode) {
    batchId status received accepted rejected errors { index field code message }
  }
}"""


def action(n: int, **overrides):
    record = {"externalId": f"A-{n}", "kind": "inspection", "itemCode": "320500-SCJG-JC-001",
              "departmentCode": "SZ-SCJG", "uscc": uscc(n % 3), "startedOn": "2025-03-01", "result": "pass"}
    record.update(overrides)
    return record


@pytest.fixture
def basics(session):
    return seed_basics(session)


async def gql(client, query, variables=None, token=None):
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}},
                                 headers=bearer(token) if token else {})
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_source_pushes_actions_with_its_token_and_gets_per_record_errors(client, db, basics):
    token = new_token(db, basics["users"]["a"].id, "feed")
    body = await gql(client, INGEST_ACTIONS, {"source": "SCJG-SYS", "records": [
        action(0), action(1, startedOn="2025-13-01"), action(2, uscc="91320505MA1234567")]}, token)
    result = body["data"]["ingestSupervisionActions"]
    assert (result["status"], result["accepted"], result["rejected"]) == ("done", 1, 2)
    assert [(e["index"], e["field"], e["code"]) for e in result["errors"]] == [
        (1, "startedOn", "invalid_date"), (2, "uscc", "uscc_length")]
    assert result["batchId"]


async def test_a_token_of_source_a_cannot_write_as_source_b(client, db, basics):
    token = new_token(db, basics["users"]["a"].id, "feed")
    body = await gql(client, INGEST_ACTIONS, {"source": "YJGL-SYS", "records": [action(0)]}, token)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "forbidden_source"


async def test_handlers_read_but_cannot_write(client, db, basics):
    token = new_token(db, basics["users"]["handler"].id, "handler")
    body = await gql(client, INGEST_ACTIONS, {"source": "MANUAL", "records": [action(0)]}, token)
    assert body["errors"][0]["extensions"]["code"] == "forbidden"
    read = await gql(client, "{ entities(first: 10) { totalCount nodes { uscc } } }", token=token)
    assert read["data"]["entities"]["totalCount"] == 3


async def test_all_or_nothing_and_the_record_limit(client, db, basics, api_token):
    body = await gql(client, INGEST_ACTIONS, {"source": "MANUAL", "mode": "ALL_OR_NOTHING",
                                              "records": [action(0), action(1, kind="bad")]}, api_token)
    result = body["data"]["ingestSupervisionActions"]
    assert (result["status"], result["accepted"], result["rejected"]) == ("rejected", 0, 1)
    too_many = [action(i) for i in range(MAX_RECORDS_PER_CALL + 1)]
    body = await gql(client, INGEST_ACTIONS, {"source": "MANUAL", "records": too_many}, api_token)
    result = body["data"]["ingestSupervisionActions"]
    assert result["batchId"] is None and result["status"] == "refused"
    assert result["errors"][0]["code"] == "too_many_records" and result["errors"][0]["field"] == "records"
    read = await gql(client, "{ ingestionBatches { totalCount nodes { status accepted rejected } } }",
                     token=api_token)
    assert read["data"]["ingestionBatches"]["totalCount"] == 1


async def test_entities_and_the_other_kinds_through_graphql(client, db, basics, api_token):
    entities = await gql(client, """mutation($r: [EntityInput!]!) { ingestEntities(source: "MANUAL", records: $r)
        { accepted errors { index field code } } }""", {"r": [
        {"uscc": uscc(50), "name": "苏州园区新材料有限公司", "entityType": "企业", "industryCode": "39",
         "regionCode": "320571", "registeredCapital": "1000", "foundedOn": "2020-01-01"},
        {"uscc": uscc(51)[:17] + "I", "name": "x", "entityType": "enterprise"}]}, api_token)
    assert entities["data"]["ingestEntities"] == {"accepted": 1, "errors": [
        {"index": 1, "field": "uscc", "code": "uscc_alphabet"}]}
    complaints = await gql(client, """mutation($r: [ComplaintInput!]!) { ingestComplaints(source: "MANUAL",
        records: $r) { accepted } }""", {"r": [{"externalId": "C1", "uscc": uscc(50), "receivedOn": "2025-01-01",
                                                "channel": "12345", "category": "食品安全"}]}, api_token)
    assert complaints["data"]["ingestComplaints"]["accepted"] == 1
    credit = await gql(client, """mutation($r: [CreditRecordInput!]!) { ingestCreditRecords(source: "MANUAL",
        records: $r) { accepted } }""", {"r": [{"externalId": "K1", "uscc": uscc(50), "kind": "serious_violation",
                                                "listedOn": "2024-01-01"}]}, api_token)
    assert credit["data"]["ingestCreditRecords"]["accepted"] == 1
    items = await gql(client, """mutation($r: [SupervisionItemInput!]!) { ingestSupervisionItems(source: "MANUAL",
        records: $r) { accepted } }""", {"r": [{"code": "I-9", "name": "新事项", "departmentCode": "SZ-YJGL",
                                                "kind": "other"}]}, api_token)
    assert items["data"]["ingestSupervisionItems"]["accepted"] == 1
    await gql(client, INGEST_ACTIONS, {"source": "MANUAL", "records": [action(7, uscc=uscc(50))]}, api_token)

    detail = await gql(client, """query($u: String!) { entity(uscc: $u) { name regionCode
        actions { totalCount nodes { externalId itemName departmentName result } }
        complaints { totalCount nodes { channel category } }
        creditRecords { totalCount nodes { kind } } } }""", {"u": uscc(50)}, api_token)
    entity = detail["data"]["entity"]
    assert entity["name"] == "苏州园区新材料有限公司" and entity["regionCode"] == "320571"
    assert entity["actions"]["nodes"] == [{"externalId": "A-7", "itemName": "对食品生产经营者的监督检查",
                                           "departmentName": "苏州市市场监督管理局", "result": "pass"}]
    assert entity["complaints"]["totalCount"] == 1 and entity["creditRecords"]["nodes"] == [
        {"kind": "serious_violation"}]
    search = await gql(client, '{ entities(search: "园区") { totalCount nodes { uscc } } }', token=api_token)
    assert search["data"]["entities"]["nodes"] == [{"uscc": uscc(50)}]
    by_code = await gql(client, f'{{ entities(search: "{uscc(50)[:10]}") {{ totalCount }} }}', token=api_token)
    assert by_code["data"]["entities"]["totalCount"] >= 1
    catalogue = await gql(client, '{ supervisionItems(departmentCode: "SZ-SCJG") { totalCount nodes { code '
                                  'actionCount } } }', token=api_token)
    assert catalogue["data"]["supervisionItems"]["totalCount"] == 2


async def test_nested_connections_cost_a_fixed_number_of_statements(client, db, basics, api_token):
    records = [action(i, uscc=uscc(i % 3)) for i in range(30)]
    await gql(client, INGEST_ACTIONS, {"source": "MANUAL", "records": records}, api_token)
    query = """{ entities(first: 50) { nodes { uscc actions(first: 5) { totalCount nodes { externalId
        departmentName itemName } } complaints { totalCount } creditRecords { totalCount } } } }"""
    with count_statements(db) as counter:
        body = await gql(client, query, token=api_token)
    nodes = body["data"]["entities"]["nodes"]
    assert [n["actions"]["totalCount"] for n in nodes] == [10, 10, 10]
    assert all(len(n["actions"]["nodes"]) == 5 for n in nodes)
    small = counter.count
    await gql(client, INGEST_ACTIONS, {"source": "MANUAL", "records": [action(100 + i) for i in range(3)]},
              api_token)
    with db.unit_of_work() as s:
        seed_more(s, 20)
    with count_statements(db) as counter:
        body = await gql(client, query, token=api_token)
    assert len(body["data"]["entities"]["nodes"]) == 23
    assert counter.count == small


def seed_more(session, n):
    from domain.supervision.models import Entity

    session.add_all([Entity(uscc=uscc(1000 + i), name=f"追加{i}", entity_type="enterprise") for i in range(n)])


async def test_actions_filters_and_handler_scope(client, db, basics, api_token):
    await gql(client, INGEST_ACTIONS, {"source": "MANUAL", "records": [
        action(1, startedOn="2025-01-10"), action(2, startedOn="2025-02-10"),
        action(3, departmentCode="SZ-YJGL", startedOn="2025-03-10")]}, api_token)
    query = """query($d: String, $from: Date, $to: Date) { supervisionActions(departmentCode: $d, from: $from,
        to: $to) { totalCount nodes { externalId } } }"""
    assert (await gql(client, query, {"d": "SZ-SCJG"}, api_token))["data"]["supervisionActions"]["totalCount"] == 2
    ranged = await gql(client, query, {"from": "2025-02-01", "to": "2025-03-31"}, api_token)
    assert [n["externalId"] for n in ranged["data"]["supervisionActions"]["nodes"]] == ["A-3", "A-2"]
    handler = new_token(db, basics["users"]["handler"].id, "handler")
    scoped = await gql(client, query, {}, handler)
    assert scoped["data"]["supervisionActions"]["totalCount"] == 2  # SZ-SCJG only


async def test_integration_status_and_data_sources(client, db, basics, api_token):
    await gql(client, INGEST_ACTIONS, {"source": "SCJG-SYS", "records": [action(0), action(1, kind="x")]},
              api_token)
    body = await gql(client, """{ integrationStatus { completion expected connectedFresh sources { source { code }
        integrationUser fresh lastPushAt rejectionRate records { kind count } feeds { kind expected fresh }
        latestBatches { kind accepted rejected } } } dataSources { code kind expectedFeeds } }""", token=api_token)
    status = body["data"]["integrationStatus"]
    assert (status["expected"], status["connectedFresh"]) == (2, 0)  # SCJG-SYS lacks complaints; YJGL-SYS silent
    scjg = next(s for s in status["sources"] if s["source"]["code"] == "SCJG-SYS")
    assert scjg["rejectionRate"] == 0.5 and scjg["records"] == [{"kind": "actions", "count": 1}]
    assert scjg["integrationUser"] == "feed-a"
    assert {f["kind"]: f["fresh"] for f in scjg["feeds"]} == {"actions": True, "complaints": False}
    await gql(client, """mutation($u: String!) { ingestComplaints(source: "SCJG-SYS", records: [{externalId: "C",
        uscc: $u, receivedOn: "2025-01-01", channel: "12345", category: "价格"}]) { accepted } }""", {"u": uscc(0)},
              api_token)
    again = await gql(client, "{ integrationStatus { completion connectedFresh } }", token=api_token)
    assert again["data"]["integrationStatus"] == {"completion": 0.5, "connectedFresh": 1}
    created = await gql(client, """mutation { createDataSource(input: {code: "DC-CREDIT", name: "数据中心信用库",
        kind: "data_centre", expectedFeeds: ["credit"]}) { dataSource { code } errors { field code } } }""",
                        token=api_token)
    assert created["data"]["createDataSource"] == {"dataSource": {"code": "DC-CREDIT"}, "errors": []}
    dup = await gql(client, """mutation { createDataSource(input: {code: "DC-CREDIT", name: "x",
        kind: "manual"}) { dataSource { code } errors { field code } } }""", token=api_token)
    assert dup["data"]["createDataSource"]["errors"] == [{"field": "code", "code": "duplicate"}]


async def test_reference_data_is_queryable(client, db, api_token):
    body = await gql(client, '{ regions(parentCode: "320500") { code name } industries(level: "section") '
                             '{ code } }', token=api_token)
    assert {"code": "320583", "name": "昆山市"} in body["data"]["regions"]
    assert len(body["data"]["regions"]) == 10
    assert [i["code"] for i in body["data"]["industries"]] == list("ABCDEFGHIJKLMNOPQRST")


INGEST_ENTITIES = """
mutation($records: [EntityInput!]!) {
  ingestEntities(source: "MANUAL", records: $records) {
    status outcome outcomeLabel accepted rejected errors { index field code message }
  }
}"""


async def test_an_omitted_input_field_keeps_the_stored_value_and_an_explicit_null_clears_it(client, db, basics):
    from sqlmodel import select

    from domain.supervision.models import Entity

    token = new_token(db, basics["users"]["analyst"].id, "analyst")
    base = {"uscc": uscc(0), "name": "苏州测试0号有限公司", "entityType": "enterprise"}
    full = {**base, "industryCode": "C1310", "regionCode": "320505", "registeredCapital": "300",
            "foundedOn": "2012-02-02"}
    body = await gql(client, INGEST_ENTITIES, {"records": [full]}, token)
    assert body.get("errors") is None, body
    result = body["data"]["ingestEntities"]
    assert (result["outcome"], result["outcomeLabel"], result["accepted"]) == ("done", "全部接收", 1)
    body = await gql(client, INGEST_ENTITIES, {"records": [{**base, "name": "新名称"}]}, token)
    assert body["data"]["ingestEntities"]["accepted"] == 1
    with db.unit_of_work() as s:
        row = s.exec(select(Entity).where(Entity.uscc == uscc(0))).one()
        assert (row.name, row.industry_code, row.industry_class_code, row.region_code, str(row.registered_capital),
                str(row.founded_on)) == ("新名称", "13", "1310", "320505", "300.00", "2012-02-02")
    body = await gql(client, INGEST_ENTITIES, {"records": [{**base, "registeredCapital": None,
                                                           "status": "注销", "statusChangedOn": "2024-01-31"}]},
                     token)
    assert body["data"]["ingestEntities"]["accepted"] == 1
    with db.unit_of_work() as s:
        row = s.exec(select(Entity).where(Entity.uscc == uscc(0))).one()
        assert (row.registered_capital, row.region_code, row.status, str(row.deregistered_on)) == (
            None, "320505", "cancelled", "2024-01-31")


async def test_all_rejected_pushes_say_so_and_the_trigger_is_an_input_field(client, db, basics):
    from sqlmodel import select

    from domain.supervision.models import SupervisionAction

    token = new_token(db, basics["users"]["a"].id, "feed")
    body = await gql(client, INGEST_ACTIONS.replace("errors {", "outcome outcomeLabel errors {"), {
        "source": "SCJG-SYS", "records": [action(0, startedOn="bad"), action(1, trigger="抽签")]}, token)
    result = body["data"]["ingestSupervisionActions"]
    assert (result["outcome"], result["outcomeLabel"]) == ("all_rejected", "全部拒收")
    assert [(e["index"], e["field"]) for e in result["errors"]] == [(0, "startedOn"), (1, "trigger")]
    body = await gql(client, INGEST_ACTIONS.replace("errors {", "outcome errors {"), {
        "source": "SCJG-SYS", "records": [action(0, trigger="双随机"), action(1)]}, token)
    assert body["data"]["ingestSupervisionActions"]["outcome"] == "done"
    with db.unit_of_work() as s:
        assert sorted(s.exec(select(SupervisionAction.external_id, SupervisionAction.trigger)).all()) == [
            ("A-0", "random"), ("A-1", None)]


async def test_entities_and_actions_read_back_the_new_fields(client, db, basics):
    token = new_token(db, basics["users"]["analyst"].id, "analyst")
    await gql(client, INGEST_ENTITIES, {"records": [{"uscc": uscc(1), "name": "乙", "entityType": "enterprise",
                                                     "industryCode": "C1310", "status": "revoked",
                                                     "statusChangedOn": "2024-05-01"}]}, token)
    feed = new_token(db, basics["users"]["a"].id, "feed")
    await gql(client, INGEST_ACTIONS, {"source": "SCJG-SYS", "records": [action(1, trigger="专项")]}, feed)
    body = await gql(client, """query($u: String!) { entity(uscc: $u) { industryCode industryClassCode status
        statusChangedOn deregisteredOn actions(first: 5) { nodes { externalId trigger } } } }""", {"u": uscc(1)}, token)
    entity = body["data"]["entity"]
    assert (entity["industryCode"], entity["industryClassCode"], entity["statusChangedOn"],
            entity["deregisteredOn"]) == ("13", "1310", "2024-05-01", "2024-05-01")
    assert entity["actions"]["nodes"] == [{"externalId": "A-1", "trigger": "campaign"}]
