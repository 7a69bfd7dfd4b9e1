"""GraphQL over HTTP: supervisionAnalysis, findings, indicatorSets, runEvaluation, evaluations, evaluationRun,
saveIndicatorSet, generateAnalysisReport, analysisReports; department scoping; bad input as typed errors."""

from __future__ import annotations

from domain.identity.actor import Actor
from tests.api.risk.factories import run_queued_job


async def gql(client, query, **variables):
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


ANALYSIS = """query($p: String!, $d: String) { supervisionAnalysis(period: $p, departmentCode: $d) {
  period { code label } collected used dataCoverage complaints disposalAvailable
  departments { departmentCode itemCoverage traceCompleteness randomShare followUpRate excluded
                disposal { warnings disposalRate satisfactionRate } disposalNote } } }"""


async def test_supervision_analysis(client, city):
    data = (await gql(client, ANALYSIS, p="2026H1"))["data"]["supervisionAnalysis"]
    assert data["period"] == {"code": "2026H1", "label": "2026年上半年"}
    assert (data["collected"], data["used"], data["complaints"], data["disposalAvailable"]) == (11, 9, 3, True)
    a = data["departments"][0]
    assert a["departmentCode"] == "SZ-A" and abs(a["itemCoverage"] - 2 / 3) < 1e-9 and a["randomShare"] == 0.5
    assert a["excluded"] == 2 and a["disposal"]["warnings"] == 3 and a["disposal"]["satisfactionRate"] == 0.5
    findings = await gql(client, """{ supervisionFindings(period: "2026H1", kind: "missing_trace") {
        totalCount rows { externalId entityUscc missing detail } } }""")
    rows = findings["data"]["supervisionFindings"]["rows"]
    assert [r["externalId"] for r in rows] == ["a3", "a5"] and rows[1]["missing"] == ["document_number"]


async def test_handler_sees_only_their_department(client, acting, city):
    acting.actor = Actor(user_id=None, username="handler-b", roles=frozenset({"handler"}), department_id=city["b"])
    data = (await gql(client, ANALYSIS, p="2026H1"))["data"]["supervisionAnalysis"]
    assert [d["departmentCode"] for d in data["departments"]] == ["SZ-B"] and data["complaints"] == 0
    body = await gql(client, ANALYSIS, p="2026H1", d="SZ-A")
    assert body["data"] is None and "不在您的查看范围内" in body["errors"][0]["message"]


async def test_bad_period_is_a_chinese_error(client, city):
    body = await gql(client, ANALYSIS, p="2026H9")
    assert "期间“2026H9”无效" in body["errors"][0]["message"]
    payload = await gql(client, 'mutation { runEvaluation(period: "2026-13") { run { id } '
                                'errors { field code message } } }')
    assert payload["data"]["runEvaluation"]["errors"][0]["code"] == "bad_period"


async def test_run_evaluation_and_read_it_back(client, city):
    sets = (await gql(client, "{ indicatorSets { id code version indicators { metric weight } } }"))["data"]
    assert sum(i["weight"] for i in sets["indicatorSets"][0]["indicators"]) == 100
    run = (await gql(client, """mutation { runEvaluation(period: "2026H1") { errors { message }
        run { id results { departmentCode total rank grade scores { metric points } } } } }"""))
    run = run["data"]["runEvaluation"]
    assert run["errors"] == []
    results = run["run"]["results"]
    assert [(r["departmentCode"], r["rank"], r["grade"]) for r in results] == [
        ("SZ-B", 1, "优秀"), ("SZ-A", 2, "不合格")]
    again = (await gql(client, "query($id: ID!) { evaluationRun(id: $id) { period { code } results { total } } }",
                       id=run["run"]["id"]))["data"]["evaluationRun"]
    assert again["period"]["code"] == "2026H1" and [r["total"] for r in again["results"]] == [96.25, 17.83]
    listed = (await gql(client, '{ evaluations(period: "2026H1") { id } }'))["data"]["evaluations"]
    assert [r["id"] for r in listed] == [run["run"]["id"]]


async def test_save_indicator_set_validates_weights(client, city):
    mutation = """mutation($i: [IndicatorInput!]!) {
      saveIndicatorSet(input: {code: "custom", name: "自定义", indicators: $i}) {
        indicatorSet { version } errors { field code message } } }"""
    bad = (await gql(client, mutation, i=[{"metric": "item_coverage", "weight": 60, "target": 1, "floor": 0.5}]))
    errors = bad["data"]["saveIndicatorSet"]["errors"]
    assert errors[0]["code"] == "weights_not_100" and "当前为 60" in errors[0]["message"]
    good = await gql(client, mutation, i=[{"metric": "item_coverage", "weight": 60, "target": 1, "floor": 0.5},
                                          {"metric": "trace_completeness", "weight": 40, "target": 1, "floor": 0.5}])
    assert good["data"]["saveIndicatorSet"] == {"indicatorSet": {"version": 1}, "errors": []}


async def test_generate_report_as_a_job(client, acting, db, city):
    body = await gql(client, 'mutation { generateAnalysisReport(period: "2026H1") { '
                             'job { id kind status } errors { message } } }')
    job = body["data"]["generateAnalysisReport"]["job"]
    assert job["kind"] == "analysis_report" and job["status"] == "queued"
    done = run_queued_job(db, int(job["id"]))
    assert done.status == "succeeded", done.error
    reports = (await gql(client, "{ analysisReports { id period docxUrl htmlUrl } }"))["data"]["analysisReports"]
    assert reports[0]["period"] == "2026H1"
    response = await client.get(reports[0]["docxUrl"])
    assert response.status_code == 200 and response.content[:2] == b"PK"
    acting.actor = Actor(user_id=None, username="viewer-wu", roles=frozenset({"viewer"}))
    refused = await gql(client, 'mutation { generateAnalysisReport(period: "2026H1") { '
                                'job { id } errors { code } } }')
    assert refused["data"]["generateAnalysisReport"]["errors"][0]["code"] == "forbidden"
