"""The prepared-query lane (api/prepared.py) answers what Strawberry's full pipeline answers, byte for byte, and only
for what it may take: a POST of a valid query text; everything else goes through the pipeline as before."""

from __future__ import annotations

import json

import httpx
import pytest
import strawberry

import api.view
from api.prepared import PreparedQueries
from api.schema import build_schema
from domain.errors import InvalidInput
from domain.settings import Settings
from tests.api.identity.factories import bearer

GQL_RESPONSE = "application/graphql-response+json"


@strawberry.type
class FaultyQuery:
    @strawberry.field
    def explode(self) -> str:
        raise RuntimeError("secret database detail")

    @strawberry.field
    def refuse(self) -> str:
        raise InvalidInput("value is not acceptable", field="value", code="bad_value")


def _client(settings: Settings, db, env: str = "dev", schema=None) -> httpx.AsyncClient:
    from regwatch_app import create_app

    cfg = Settings(**{**settings.__dict__, "env": env})
    schema = schema or build_schema(cfg, extra_queries=(FaultyQuery,))
    app = create_app(cfg, run_jobs=False, database=db, schema=schema)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


class _Lanes:
    """Counts which lane answered: `prepared` (api.prepared executed a document or a refusal) or `pipeline`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.prepared = 0
        self.pipeline = 0
        original_execute = PreparedQueries.execute
        original_run = api.view.GraphQLView.run
        lanes = self

        async def execute(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            lanes.prepared += 1
            return await original_execute(self, *args, **kwargs)

        async def run(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            lanes.pipeline += 1
            return await original_run(self, *args, **kwargs)

        monkeypatch.setattr(PreparedQueries, "execute", execute)
        monkeypatch.setattr(api.view.GraphQLView, "run", run)

    def take(self) -> str:
        answered = ("prepared" if self.prepared else "") + ("pipeline" if self.pipeline else "")
        self.prepared = self.pipeline = 0
        return answered


# (name, body, lane the second time it is sent signed in)
CASES: list[tuple[str, object, str]] = [
    ("a list", {"query": "{ departments(first: 3) { totalCount nodes { code name } pageInfo { hasNextPage } } }"},
     "prepared"),
    ("variables", {"query": "query($n: Int) { departments(first: $n) { nodes { code } } }", "variables": {"n": 2}},
     "prepared"),
    ("a named operation of two", {"query": "query A { serverInfo { version } } query B { me { username } }",
                                  "operationName": "B"}, "prepared"),
    ("a domain error", {"query": "{ refuse }"}, "prepared"),
    ("an unexpected error", {"query": "{ explode serverInfo { version } }"}, "prepared"),
    ("a domain error in a list field", {"query": '{ entity(uscc: "91320500MA1X0000XX") { name } }'}, "prepared"),
    ("a variable of the wrong type", {"query": "query($n: Int) { departments(first: $n) { nodes { code } } }",
                                      "variables": {"n": "many"}}, "prepared"),
    ("a missing required variable", {"query": 'query($u: String!) { entity(uscc: $u) { name } }'}, "prepared"),
    ("over the cost limit", {"query": "{ departments(first: 100000) { nodes { code name } } }"}, "prepared"),
    ("a control character", {"query": '{ entities(search: "a\\u0007b", first: 1) { nodes { name } } }'},
     "prepared"),
    ("no operation name for two", {"query": "query A { serverInfo { version } } query B { me { username } }"},
     "pipeline"),
    ("an unknown operation name", {"query": "{ serverInfo { version } }", "operationName": "Nope"}, "pipeline"),
    ("a syntax error", {"query": "{ serverInfo { version }"}, "pipeline"),
    ("a validation error", {"query": "{ serverInfo { versionn } }"}, "pipeline"),
    ("a mutation", {"query": 'mutation { revokeApiToken(id: "999999") { ok errors { code } } }'}, "pipeline"),
    ("extensions", {"query": "{ serverInfo { version } }", "extensions": {"x": 1}}, "pipeline"),
    ("a batch", [{"query": "{ serverInfo { version } }"}], "pipeline"),
    ("variables not an object", {"query": "{ serverInfo { version } }", "variables": [1]}, "pipeline"),
    ("no query", {"variables": {}}, "pipeline"),
]


async def _send(client: httpx.AsyncClient, body: object, headers: dict[str, str]) -> httpx.Response:
    return await client.post("/graphql", content=json.dumps(body), headers={"content-type": "application/json",
                                                                            "x-request-id": "req-prepared-1",
                                                                            **headers})


@pytest.mark.parametrize("env", ["dev", "prod"])
@pytest.mark.parametrize("accept", ["application/json", GQL_RESPONSE])
async def test_both_lanes_answer_the_same_status_headers_and_body(settings, db, api_token, monkeypatch, env, accept):
    lanes = _Lanes(monkeypatch)
    signed_in = {"accept": accept, **bearer(api_token)}
    anonymous = {"accept": accept}
    async with _client(settings, db, env) as client:
        for name, body, lane in CASES:
            for headers, who in ((signed_in, "signed in"), (anonymous, "anonymous")):
                monkeypatch.setattr(api.view, "PREPARED_ENABLED", False)
                expected = await _send(client, body, headers)
                assert lanes.take() == "pipeline", name
                monkeypatch.setattr(api.view, "PREPARED_ENABLED", True)
                first = await _send(client, body, headers)
                lanes.take()
                again = await _send(client, body, headers)
                answered = lanes.take()
                if who == "signed in":
                    assert answered == lane, (name, answered)
                for got in (first, again):
                    assert (got.status_code, got.headers["content-type"]) == (
                        expected.status_code, expected.headers["content-type"]), (name, who, got.text)
                    assert got.content == expected.content, (name, who, got.text, expected.text)


async def test_a_signed_in_text_sent_anonymously_is_refused_by_the_gate_in_either_lane(settings, db, api_token,
                                                                                       monkeypatch):
    lanes = _Lanes(monkeypatch)
    async with _client(settings, db) as client:
        query = {"query": "{ me { username } departments(first: 1) { nodes { code } } }"}
        ok = await _send(client, query, bearer(api_token))
        ok = await _send(client, query, bearer(api_token))
        assert lanes.take() == "prepared" and "errors" not in ok.json(), ok.text
        refused = await _send(client, query, {})
        assert lanes.take() == "prepared"  # the text is known: its refusal for this caller is answered at once
        codes = {e["extensions"]["code"] for e in refused.json()["errors"]}
        assert codes == {"unauthenticated"}, refused.text
        assert refused.json().get("data") is None


async def test_a_known_text_with_variables_is_checked_against_the_limits_every_time(settings, db, api_token,
                                                                                    monkeypatch):
    lanes = _Lanes(monkeypatch)
    query = "query($n: Int) { departments(first: $n) { nodes { code name } } }"
    async with _client(settings, db) as client:
        small = await _send(client, {"query": query, "variables": {"n": 2}}, bearer(api_token))
        assert "errors" not in small.json(), small.text
        lanes.take()
        costly = await _send(client, {"query": query, "variables": {"n": 100000}}, bearer(api_token))
        assert lanes.take() == "prepared"
        assert [e["extensions"]["code"] for e in costly.json()["errors"]] == ["query_too_costly"], costly.text


async def test_a_refused_or_invalid_text_is_never_kept(settings, db, api_token):
    schema = build_schema(settings)
    prepared = schema.prepared
    assert prepared is not None
    async with _client(settings, db, schema=schema) as client:
        for body in ({"query": "{ serverInfo { versionn } }"},
                     {"query": "{ departments(first: 100000) { nodes { code } } }"}):
            await _send(client, body, bearer(api_token))
            assert prepared._texts.get(body["query"]) is None
        await _send(client, {"query": "{ serverInfo { version } }"}, bearer(api_token))
        assert prepared._texts.get("{ serverInfo { version } }") is not None


async def test_a_mutation_text_is_parsed_by_the_prepared_lane_once_then_left_to_the_pipeline(settings, db, api_token,
                                                                                              monkeypatch):
    import api.prepared

    parsed: list[str] = []
    original = api.prepared.parse

    def spy(text, **kwargs):  # type: ignore[no-untyped-def]
        parsed.append(text)
        return original(text, **kwargs)

    monkeypatch.setattr(api.prepared, "parse", spy)
    lanes = _Lanes(monkeypatch)
    mutation = {"query": 'mutation { revokeApiToken(id: "999999") { ok errors { code } } }'}
    async with _client(settings, db) as client:
        answers = [(await _send(client, mutation, bearer(api_token))).json() for _ in range(3)]
    assert answers[0] == answers[1] == answers[2] and answers[0]["data"]["revokeApiToken"]["ok"] is False
    assert parsed == [mutation["query"]]  # looked at once; then known not to be a query
    assert lanes.take() == "pipeline"
