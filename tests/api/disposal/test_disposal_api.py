"""The disposal workflow over real HTTP (the ASGI app): mutations, scoping, two truly concurrent requests,
the inbox, and the warningEvents subscription over graphql-transport-ws."""

from __future__ import annotations

import asyncio
import json

import pytest

from domain.identity.actor import Actor
from domain.notifications import webhooks as wh
from tests.api.identity.factories import bearer
from tests.domain.disposal.support import make_warning, make_world
from tests.domain.identity.factories import new_token


@pytest.fixture
def world(db):
    return make_world(db)


def token(db, actor: Actor) -> dict[str, str]:
    return bearer(new_token(db, actor.user_id, f"t-{actor.username}"))


async def gql(client, headers, query, **variables):
    response = await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


RECEIVE = """mutation($id: ID!, $v: Int) { receiveWarning(id: $id, rowVersion: $v) {
  warning { status rowVersion allowedActions events { kind label actorName } } errors { field code message } } }"""
FEEDBACK = """mutation($input: SubmitFeedbackInput!) { submitFeedback(input: $input) {
  warning { status feedback { outcome measures satisfaction } } errors { field code message } } }"""


async def test_handler_receives_and_gives_feedback_analyst_reworks_and_closes(client, db, world):
    w = make_warning(db, world.dept_a)
    handler, analyst = token(db, world.handler_a), token(db, world.analyst)
    data = await gql(client, handler, RECEIVE, id=str(w.id), v=1)
    result = data["receiveWarning"]
    assert result["errors"] == [] and result["warning"]["status"] == "in_progress"
    assert result["warning"]["rowVersion"] == 2
    assert result["warning"]["allowedActions"] == ["request_return", "request_extension", "submit_feedback"]
    assert [e["label"] for e in result["warning"]["events"]] == ["发布预警", "签收"]
    fb = {"warningId": str(w.id), "measures": ["onsite_inspection", "interview"], "outcome": "partly",
          "description": "约谈企业负责人，部分问题属实。", "satisfaction": 5, "rowVersion": 2}
    data = await gql(client, handler, FEEDBACK, input=fb)
    assert data["submitFeedback"]["warning"]["status"] == "feedback_submitted"
    data = await gql(client, analyst, """mutation($id: ID!) { reworkWarning(id: $id, reason: "请补充整改材料") {
        warning { status } errors { code } } }""", id=str(w.id))
    assert data["reworkWarning"]["warning"]["status"] == "in_progress"
    await gql(client, handler, FEEDBACK, input={**fb, "rowVersion": None})
    data = await gql(client, analyst, """mutation($id: ID!) { closeWarning(id: $id, comment: "同意") {
        warning { status events { kind } } } }""", id=str(w.id))
    assert [e["kind"] for e in data["closeWarning"]["warning"]["events"]] == [
        "issue", "receive", "feedback", "rework", "feedback", "close"]


async def test_refusals_are_specific_and_departments_are_isolated(client, db, world):
    w = make_warning(db, world.dept_a)
    other = token(db, world.handler_b)
    data = await gql(client, other, RECEIVE, id=str(w.id))
    assert data["receiveWarning"]["errors"][0]["code"] == "not_found"
    data = await gql(client, other, RECEIVE, id=str(w.id + 1000))  # a guessed id: the same answer
    assert data["receiveWarning"]["errors"][0]["code"] == "not_found"
    data = await gql(client, token(db, world.analyst), RECEIVE, id=str(w.id))
    assert data["receiveWarning"]["errors"][0]["code"] == "forbidden"
    assert "责任部门的处置人员" in data["receiveWarning"]["errors"][0]["message"]
    data = await gql(client, other, "query { inbox(tab: \"pending\") { edges { node { code } } } }")
    assert data["inbox"]["edges"] == []
    response = await client.post("/graphql", headers=other, json={
        "query": "query($id: ID!) { warningDisposal(id: $id) { code } }", "variables": {"id": str(w.id)}})
    assert response.json()["errors"][0]["extensions"]["code"] == "not_found"
    data = await gql(client, token(db, world.handler_a), """mutation($input: SubmitFeedbackInput!) {
        submitFeedback(input: $input) { errors { field code message } } }""",
                     input={"warningId": str(w.id), "measures": []})
    assert data["submitFeedback"]["errors"][0]["code"] == "bad_state"  # not received yet


async def test_two_truly_concurrent_requests_exactly_one_wins(client, db, world):
    w = make_warning(db, world.dept_a)
    first, second = token(db, world.handler_a), token(db, world.handler_a2)
    results = await asyncio.gather(*(client.post("/graphql", headers=h, json={
        "query": RECEIVE, "variables": {"id": str(w.id), "v": 1}}) for h in (first, second)))
    payloads = [r.json()["data"]["receiveWarning"] for r in results]
    won = [p for p in payloads if p["warning"]]
    lost = [p for p in payloads if p["errors"]]
    assert len(won) == 1 and len(lost) == 1, payloads
    assert lost[0]["errors"][0]["code"] == "stale" and "已被他人修改，请刷新" in lost[0]["errors"][0]["message"]


async def test_inbox_tabs_counts_and_bulk_receive(client, db, world):
    ids = [make_warning(db, world.dept_a, level=lvl).id for lvl in ("red", "orange", "red")]
    make_warning(db, world.dept_b)
    handler = token(db, world.handler_a)
    data = await gql(client, handler, """{ inboxCounts { pending inProgress review done overdue }
        inbox(tab: "pending", level: "red", first: 1) { totalCount edges { node { code level } }
        pageInfo { hasNextPage endCursor } } }""")
    assert data["inboxCounts"] == {"pending": 3, "inProgress": 0, "review": 0, "done": 0, "overdue": 0}
    assert data["inbox"]["totalCount"] == 2 and data["inbox"]["pageInfo"]["hasNextPage"]
    data = await gql(client, handler, """mutation($ids: [ID!]!) { bulkReceiveWarnings(ids: $ids) {
        received failed { field message } } }""", ids=[str(i) for i in ids])
    assert len(data["bulkReceiveWarnings"]["received"]) == 3
    data = await gql(client, handler, "{ inboxCounts { pending inProgress } }")
    assert data["inboxCounts"] == {"pending": 0, "inProgress": 3}


async def test_the_subscription_hears_its_department_only(live_server, db, world):
    import websockets

    from domain.notifications.pump import NotificationPump

    pump = NotificationPump(db, dispatch_seconds=0.1)
    pump.start()
    try:
        assert pump.listening.wait(10)
        url = live_server.replace("http://", "ws://") + "/graphql"
        headers = token(db, world.handler_a)
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"],
                                      additional_headers=headers) as ws:
            await ws.send(json.dumps({"type": "connection_init"}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
                "query": "subscription { warningEvents { kind warningCode departmentId toStatus } }"}}))
            await asyncio.sleep(0.5)
            make_warning(db, world.dept_b)  # another department's: not heard
            mine = make_warning(db, world.dept_a)
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert message["type"] == "next", message
            event = message["payload"]["data"]["warningEvents"]
            assert (event["kind"], event["warningCode"]) == ("issue", mine.code)
            await ws.send(json.dumps({"id": "2", "type": "subscribe", "payload": {
                "query": 'subscription { warningEvents(departmentCode: "SZ-YJJ") { kind } }'}}))
            refused = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert refused["type"] == "error" or "errors" in refused.get("payload", {}), refused
    finally:
        pump.stop()
    assert wh.dispatch_outbox(db) == []


async def test_my_notices_and_marking_them_read(client, db, world):
    from domain.disposal import service as d

    w = make_warning(db, world.dept_a)
    with db.unit_of_work() as s:
        d.urge_warning(s, world.analyst, w.id, "请尽快签收")
    handler = token(db, world.handler_a)
    data = await gql(client, handler, "{ myNotices(unreadOnly: true) { kind title warningId } }")
    assert data["myNotices"] == [{"kind": "urge", "title": f"预警 {w.code} 被督办（第 1 次），请尽快处置",
                                  "warningId": str(w.id)}]
    assert (await gql(client, handler, "mutation { markNoticesRead }"))["markNoticesRead"] == 1
    assert (await gql(client, handler, "{ myNotices(unreadOnly: true) { kind } }"))["myNotices"] == []
    assert (await gql(client, token(db, world.handler_b), "{ myNotices { kind } }"))["myNotices"] == []


async def test_a_step_reads_the_warning_back_only_when_the_answer_asks_for_it(client, db, world):
    """receiveWarning answering errors only does the step without reading the warning's disposal back (fewer
    statements); the warning is received all the same, its row version moved on, and the next step that names that
    version succeeds."""
    from tests.support import count_statements

    first, second = make_warning(db, world.dept_a), make_warning(db, world.dept_a)
    handler = token(db, world.handler_a)
    await gql(client, handler, "{ me { username } }")  # signed in, token checked once before counting
    slim = """mutation($id: ID!, $v: Int) { receiveWarning(id: $id, rowVersion: $v) { errors { code } } }"""
    with count_statements(db) as few:
        data = await gql(client, handler, slim, id=str(first.id), v=1)
    assert data["receiveWarning"] == {"errors": []}
    with count_statements(db) as many:
        full = (await gql(client, handler, RECEIVE, id=str(second.id), v=1))["receiveWarning"]
    assert full["warning"]["status"] == "in_progress" and full["warning"]["rowVersion"] == 2
    assert few.count < many.count
    seen = await gql(client, handler, """query($id: ID!) { warningDisposal(id: $id) { status rowVersion
        allowedActions } }""", id=str(first.id))
    assert seen["warningDisposal"] == {"status": "in_progress", "rowVersion": 2,
                                       "allowedActions": full["warning"]["allowedActions"]}
    back = await gql(client, handler, """mutation($id: ID!, $v: Int) { returnWarning(id: $id, reason: "不属本部门职责",
        rowVersion: $v) { warning { status rowVersion } errors { code } } }""", id=str(first.id), v=2)
    assert back["returnWarning"] == {"warning": {"status": "return_requested", "rowVersion": 3}, "errors": []}
