"""The inbox through GraphQL and as a page: the statements one request sends do not grow with the page size (the
window and every row's names are one statement, every tab's count one more); an unknown department code is still
named."""

from __future__ import annotations

import pytest

from tests.api.identity.factories import bearer
from tests.domain.disposal.support import make_warning, make_world
from tests.domain.identity.factories import new_token
from tests.support import count_statements

INBOX = """query($n: Int, $code: String) { inbox(tab: "pending", departmentCode: $code, first: $n) {
  nodes { code level status receiptDueAt disposalDueAt entityName departmentName overdue urgeCount } } }"""


@pytest.fixture
def world(db):
    return make_world(db)


async def _count(db, client, **request):
    with count_statements(db) as counter:
        response = await client.request(**request)
    assert response.status_code == 200, response.text
    return response, len(counter.statements)


async def test_graphql_inbox_statements_do_not_grow_with_the_page(client, db, world):
    for _ in range(12):
        make_warning(db, world.dept_a)
    make_warning(db, world.dept_b)
    headers = bearer(new_token(db, world.admin.user_id, "t-admin"))
    sent = []
    await client.post("/graphql", json={"query": "{ me { username } }"}, headers=headers)  # the token's first use
    for n in (2, 12):
        response, statements = await _count(db, client, method="POST", url="/graphql", headers=headers,
                                            json={"query": INBOX, "variables": {"n": n, "code": "SZ-SCJG"}})
        nodes = response.json()["data"]["inbox"]["nodes"]
        assert len(nodes) == n and {x["departmentName"] for x in nodes} == {"苏州市市场监督管理局"}
        sent.append(statements)
    assert sent[0] == sent[1], sent
    unknown = await client.post("/graphql", json={"query": INBOX, "variables": {"n": 5, "code": "SZ-NONE"}},
                                headers=headers)
    error = unknown.json()["errors"][0]
    assert error["extensions"]["code"] == "unknown_department" and "SZ-NONE" in error["message"]


async def test_the_inbox_page_statements_do_not_grow_with_the_page(client, db, world):
    headers = {**bearer(new_token(db, world.handler_a.user_id, "p-zhang")), "accept": "text/html"}
    make_warning(db, world.dept_a)
    await client.get("/disposal", headers=headers)  # the token's first use
    _, few = await _count(db, client, method="GET", url="/disposal?tab=pending", headers=headers)
    for _ in range(24):
        make_warning(db, world.dept_a)
    response, many = await _count(db, client, method="GET", url="/disposal?tab=pending", headers=headers)
    assert 'id="tab-count-pending">25<' in response.text and response.text.count("data-warning=") == 20
    assert few == many, (few, many)
