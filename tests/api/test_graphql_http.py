"""GraphQL over HTTP: media types and status codes, GET rules, batching, limits, error masking, pagination."""

from __future__ import annotations

import json

import pytest
import strawberry

from api.schema import build_schema
from domain.errors import InvalidInput
from domain.jobs.models import Job
from domain.settings import Settings
from tests.api.identity.factories import bearer

GQL_RESPONSE = "application/graphql-response+json"
SERVER_INFO = "{ serverInfo { version databaseBackend migrationHead } }"


async def post(client, query, *, accept="application/json", variables=None, headers=None):
    body = {"query": query, **({"variables": variables} if variables else {})}
    return await client.post("/graphql", json=body, headers={"accept": accept, **(headers or {})})


async def test_server_info_answers_with_backend_and_migration_head(client, db):
    response = await post(client, SERVER_INFO)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    info = response.json()["data"]["serverInfo"]
    assert info["databaseBackend"] == db.backend
    assert info["migrationHead"] == "0004" or info["migrationHead"].isdigit()
    assert info["version"]


async def test_graphql_response_json_is_used_when_accepted(client):
    response = await post(client, SERVER_INFO, accept=f"{GQL_RESPONSE}, application/json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GQL_RESPONSE)


@pytest.mark.parametrize("query", ["{ serverInfo { version ", "{ serverInfo { noSuchField } }"])
async def test_documents_that_fail_to_parse_or_validate_get_400_with_the_new_media_type(client, query):
    response = await post(client, query, accept=GQL_RESPONSE)
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body and body["errors"][0]["message"]


async def test_validation_errors_keep_200_for_legacy_json_clients(client):
    response = await post(client, "{ serverInfo { noSuchField } }")
    assert response.status_code == 200
    assert "noSuchField" in response.json()["errors"][0]["message"]


async def test_queries_may_use_get(client):
    response = await client.get("/graphql", params={"query": SERVER_INFO}, headers={"accept": "application/json"})
    assert response.status_code == 200
    assert response.json()["data"]["serverInfo"]["version"]


async def test_mutations_over_get_are_refused_with_405(client):
    response = await client.get("/graphql", params={"query": "mutation { anything }"},
                                headers={"accept": "application/json"})
    assert response.status_code == 405
    assert "not allowed" in response.json()["errors"][0]["message"]


async def test_batched_requests_are_refused(client):
    response = await client.post("/graphql", json=[{"query": SERVER_INFO}, {"query": SERVER_INFO}])
    assert response.status_code == 400
    assert "Batching" in response.text


async def test_query_depth_is_limited(settings, db, api_token):
    import httpx

    from regwatch_app import create_app

    app = create_app(Settings(**{**settings.__dict__, "graphql_max_depth": 2}), run_jobs=False, database=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        shallow = await post(c, "{ jobs { edges { cursor } } }", headers=bearer(api_token))  # depth 2
        deep = await post(c, "{ jobs { edges { node { kind } } } }", accept=GQL_RESPONSE, headers=bearer(api_token))
    assert "errors" not in shallow.json()
    assert deep.status_code == 400
    assert "exceeds maximum operation depth of 2" in deep.json()["errors"][0]["message"]


async def test_aliases_are_limited(client, settings):
    aliases = " ".join(f"a{i}: serverInfo {{ version }}" for i in range(settings.graphql_max_aliases + 1))
    response = await post(client, f"{{ {aliases} }}")
    assert f"{settings.graphql_max_aliases + 1} aliases found" in response.json()["errors"][0]["message"]
    assert "data" not in response.json() or response.json()["data"] is None


async def test_tokens_are_limited(client, settings):
    fields = " ".join("version" for _ in range(settings.graphql_max_tokens))
    response = await post(client, f"{{ serverInfo {{ {fields} }} }}")
    assert f"more than {settings.graphql_max_tokens} tokens" in response.json()["errors"][0]["message"]


async def test_page_size_above_the_maximum_is_a_clear_error(client, settings, api_token):
    query = f"{{ jobs(first: {settings.max_page_size + 1}) {{ totalCount }} }}"
    error = (await post(client, query, headers=bearer(api_token))).json()["errors"][0]
    assert error["extensions"]["code"] == "page_size_too_large"
    assert str(settings.max_page_size) in error["message"]


async def test_connections_page_forwards_and_backwards(client, session, api_token):
    client.headers.update(bearer(api_token))
    session.add_all([Job(kind=f"k{i}", status="succeeded") for i in range(5)])
    session.commit()
    query = """query($first: Int, $after: String, $last: Int, $before: String) {
      jobs(first: $first, after: $after, last: $last, before: $before) {
        totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } nodes { kind } } }"""
    first = (await post(client, query, variables={"first": 2})).json()["data"]["jobs"]
    assert first["totalCount"] == 5
    assert [n["kind"] for n in first["nodes"]] == ["k4", "k3"]  # newest first
    assert first["pageInfo"]["hasNextPage"] and not first["pageInfo"]["hasPreviousPage"]
    second = (await post(client, query, variables={"first": 2, "after": first["pageInfo"]["endCursor"]})).json()
    assert [n["kind"] for n in second["data"]["jobs"]["nodes"]] == ["k2", "k1"]
    back = (await post(client, query, variables={"last": 1, "before": second["data"]["jobs"]["pageInfo"]["startCursor"]}
                       )).json()["data"]["jobs"]
    assert [n["kind"] for n in back["nodes"]] == ["k3"]
    bad = (await post(client, query, variables={"first": 1, "after": "not-a-cursor"})).json()["errors"][0]
    assert bad["extensions"] == {"code": "bad_cursor", "field": "after"}


@strawberry.type
class FaultyQuery:
    @strawberry.field
    def explode(self) -> str | None:
        raise RuntimeError("secret database detail")

    @strawberry.field
    def refuse(self) -> str | None:
        raise InvalidInput("value is not acceptable", field="value", code="bad_value")


def _app_with_faults(settings: Settings, db, env: str):
    from regwatch_app import create_app

    cfg = Settings(**{**settings.__dict__, "env": env})
    return create_app(cfg, run_jobs=False, database=db, schema=build_schema(cfg, extra_queries=(FaultyQuery,)))


@pytest.mark.parametrize("env", ["dev", "prod"])
async def test_unexpected_errors_are_masked_in_prod_and_detailed_in_dev(settings, db, env, api_token):
    import httpx

    app = _app_with_faults(settings, db, env)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.post("/graphql", json={"query": "{ explode refuse }"},
                                headers={"x-request-id": "req-12345678", **bearer(api_token)})
    errors = {e["path"][0]: e for e in response.json()["errors"]}
    assert errors["refuse"]["message"] == "value is not acceptable"
    assert errors["refuse"]["extensions"] == {"code": "bad_value", "field": "value"}
    explode = errors["explode"]
    assert explode["extensions"]["code"] == "internal"
    assert explode["extensions"]["requestId"] == "req-12345678"
    if env == "prod":
        assert "secret" not in json.dumps(explode)
        assert "req-12345678" in explode["message"]
    else:
        assert "secret database detail" in explode["message"]


async def test_responses_are_utf8_json_and_what_orjson_refuses_still_encodes(client, api_token):
    from api.view import GraphQLView

    response = await client.post("/graphql", json={"query": '{ entity(uscc: "91320500MA1X0000XX") { name } }'},
                                 headers=bearer(api_token))
    message = response.json()["errors"][0]["message"]
    assert "不存在" in message  # the domain's Chinese message
    assert message.encode() in response.content and b"\\u" not in response.content  # UTF-8 on the wire
    huge = {"data": {"value": 2 ** 70, "name": "吴中区"}}  # beyond 64 bits: orjson refuses, json answers
    assert json.loads(GraphQLView.encode_json(None, huge)) == huge  # type: ignore[arg-type]
    assert json.loads(GraphQLView.encode_json(None, {"data": {"name": "吴中区"}})) == {"data": {"name": "吴中区"}}
