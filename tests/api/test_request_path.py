"""What a GraphQL request costs besides its SQL (issue 9): one worker-thread hop and one session for the whole
request with a bearer token, `me` in one statement besides the token's, a list's fetch statement reused for windows
of the same shape with each window's own values, and plain leaf fields completed in one step with graphql-core's
own answers (errors included); tests/api/test_execution_fast_paths.py holds the rest of the executor's parity tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
import strawberry
from sqlmodel import select
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

import domain.pagination as pagination
from api.execution import LeafFieldsExecutor
from domain.db import Database
from domain.identity.actor import SYSTEM
from domain.identity.tokens import revoke_token
from domain.pagination import PageRequest, select_page
from domain.supervision import service
from domain.supervision.models import SupervisionAction
from tests.api.identity.factories import bearer
from tests.api.test_lists import add_actions
from tests.domain.supervision.factories import seed_basics
from tests.support import count_statements


@pytest.fixture
def basics(session):
    return seed_basics(session, entities=3)


async def test_a_request_with_a_bearer_token_is_one_worker_thread_hop(client, api_token, basics, session,
                                                                      monkeypatch):
    add_actions(session, basics, 5)
    query = {"query": '{ me { username } supervisionActions(departmentCode: "SZ-SCJG", first: 3) { totalCount '
                      "nodes { externalId } } entities(first: 2) { nodes { uscc } } }"}
    assert (await client.post("/graphql", json=query, headers=bearer(api_token))).status_code == 200  # warm
    hops = []
    original = Database._to_thread

    async def counted(self, call):
        hops.append(call)
        return await original(self, call)

    monkeypatch.setattr(Database, "_to_thread", counted)
    response = await client.post("/graphql", json=query, headers=bearer(api_token))
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    assert body["data"]["me"] == {"username": "admin"} and body["data"]["supervisionActions"]["totalCount"] == 5
    assert len(hops) == 1  # token check, three reads, closing the session: the same thread


async def test_me_is_one_statement_besides_the_token_check(client, db, api_token):
    await client.post("/graphql", json={"query": "{ me { username } }"}, headers=bearer(api_token))  # last use
    with count_statements(db) as counted:
        response = await client.post("/graphql", json={"query": "{ me { username department { code } } }"},
                                     headers=bearer(api_token))
    assert response.json() == {"data": {"me": {"username": "admin", "department": None}}}
    assert counted.count == 2


async def test_a_token_revoked_between_two_requests_is_refused_at_once(client, db, api_token):
    query = {"query": "{ me { username } }"}
    assert (await client.post("/graphql", json=query, headers=bearer(api_token))).status_code == 200
    with db.unit_of_work() as s:
        revoke_token(s, SYSTEM, 1)
    response = await client.post("/graphql", json=query, headers=bearer(api_token))
    assert response.status_code == 401 and "revoked" in response.headers["www-authenticate"]
    assert response.json()["errors"][0]["extensions"]["code"] == "unauthenticated"


def test_a_reused_list_statement_answers_with_the_windows_own_values(db, session, basics):
    """The second department's page runs the statement built for the first one's (same shape), with its own values:
    the same rows as a statement built afresh, never the first department's."""
    add_actions(session, basics, 6, department=0)
    add_actions(session, basics, 4, department=1, day0=date(2024, 6, 1))

    def page(code: str, after: str | None = None) -> tuple[list[str], int | None, list[str]]:
        with db.unit_of_work("read") as s:
            found = service.list_actions(s, SYSTEM, PageRequest(first=3, after=pagination.decode_cursor(after)),
                                         department_code=code)
        return [row.action.external_id for row in found.items], found.total, found.cursors

    pagination.forget_statements()
    fresh = {}
    for code in ("SZ-SCJG", "SZ-YJGL"):
        pagination.forget_statements()
        fresh[code] = page(code)
    pagination.forget_statements()
    first = page("SZ-SCJG")
    templates = dict(pagination._TEMPLATES)
    second = page("SZ-YJGL")
    assert templates == pagination._TEMPLATES and any(t is not None for t in templates.values())  # reused
    assert first == fresh["SZ-SCJG"] and second == fresh["SZ-YJGL"] and first[0] != second[0]
    assert second[1] == 4 and first[1] == 6
    # the next page by keyset cursor (another shape: the seek predicate), first built, then reused
    pagination.forget_statements()
    expected = page("SZ-SCJG", first[2][-1])
    assert page("SZ-SCJG", first[2][-1]) == expected and page("SZ-YJGL", second[2][-1])[0] == ["X-1-0"]
    assert len(expected[0]) == 3 and not set(expected[0]) & set(first[0])


def test_a_join_with_values_of_its_own_is_built_for_each_window(db, session, basics):
    add_actions(session, basics, 2)

    def marked(value: int) -> list[int]:
        def join(page):
            return sa.select(page, sa.literal(value).label("mark"))

        with db.unit_of_work("read") as s:
            found = select_page(s, select(SupervisionAction), PageRequest(first=5), max_size=10, join=join,
                                order_by=(SupervisionAction.id.desc(),),  # type: ignore[union-attr]
                                load=lambda rows: [row[1] for row in rows])
        return found.items

    assert marked(1) == [1, 1] and marked(2) == [2, 2]


# --- plain leaf fields -----------------------------------------------------------------------------------------

@dataclass
class Row:
    id: int
    name: str | None
    amount: Decimal | None
    day: date | None
    note: str | None = None


@strawberry.type
class Item:
    id: strawberry.ID
    name: str  # non-null: a None is graphql-core's error
    amount: Decimal | None
    day: date | None
    note: str | None

    @strawberry.field
    def shout(self) -> str:
        return (self.name or "").upper()


ROWS = [Row(1, "a", Decimal("1.50"), date(2026, 1, 2)), Row(2, None, None, None, "x"), Row(3, "c", None, None)]


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return ROWS  # type: ignore[return-value]

    @strawberry.field
    def good(self) -> list[Item]:
        return [r for r in ROWS if r.name]  # type: ignore[misc]

    @strawberry.field
    def odd(self) -> list[Item]:
        return [Row(9, "z", "not a number", None)]  # type: ignore[arg-type, list-item]


@pytest.mark.parametrize("query", [
    "{ good { id name amount day note __typename } }",
    "{ good { a: id b: name id ...F } } fragment F on Item { day name }",
    "{ good { id shout note } }",
    "{ good { id name @include(if: false) day } }",
    "{ items { id name amount } }",  # a null for the non-null name: an error and its path, the item nulled
    "{ odd { id amount } }",  # a value the scalar refuses
    "{ items { id } good { name } }",
])
async def test_plain_leaves_are_answered_as_graphql_core_answers_them(query):
    fast = strawberry.Schema(query=Query, execution_context_class=LeafFieldsExecutor)
    plain = strawberry.Schema(query=Query, execution_context_class=StrawberryGraphQLCoreExecutionContext)
    a, b = await fast.execute(query), await plain.execute(query)
    assert a.data == b.data
    assert [e.formatted for e in a.errors or []] == [e.formatted for e in b.errors or []]


async def test_the_short_path_is_taken_for_plain_leaves(monkeypatch):
    from api import execution

    taken = []
    original = execution._plain_leaves

    def spy(entries, type_name, source, is_awaitable):
        result = original(entries, type_name, source, is_awaitable)
        taken.append((type_name, result is not None))
        return result

    monkeypatch.setattr(execution, "_plain_leaves", spy)
    fast = strawberry.Schema(query=Query, execution_context_class=LeafFieldsExecutor)
    result = await fast.execute("{ good { id name day } }")
    assert result.errors is None and result.data == {"good": [{"id": "1", "name": "a", "day": "2026-01-02"},
                                                              {"id": "3", "name": "c", "day": None}]}
    assert taken == [("Item", True), ("Item", True)]
