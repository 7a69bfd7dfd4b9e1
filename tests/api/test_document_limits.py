"""Document limits before validation: linear in the document (fragments summarised once), query cost, translated
errors for unknown fragments, no schema suggestions for anonymous callers."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import httpx
import pytest
from graphql import parse

from api.limits import summarise
from tests.api.identity.factories import bearer


def _chain(levels: int, leaf: str = "version", on: str = "ServerInfo") -> str:
    fragments = [f"fragment F0 on {on} {{ {leaf} }}"]
    fragments += [f"fragment F{i} on {on} {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels + 1)]
    return " ".join(fragments)


async def _post(client, query, variables=None, headers=None, timeout=10.0):
    # A generous bound: an exponential walk of 2^200 fragment paths would never return; a linear one takes ms.
    return await asyncio.wait_for(client.post("/graphql", json={"query": query, "variables": variables or {}},
                                              headers=headers or {}), timeout)


def test_a_fragment_chain_is_summarised_once_per_fragment_with_expanded_counts():
    document = parse("{ serverInfo { ...F200 } } " + _chain(200, "v: version"))
    summary = summarise(document).operations[None]
    assert summary.cost == 1 + 2 ** 200  # serverInfo, and 2^200 leaves once expanded
    assert summary.aliases == 2 ** 200
    assert summary.depth == 1
    assert [f.name.value for f in summary.top_fields.values()] == ["serverInfo"]


async def test_an_anonymous_fragment_explosion_is_refused_as_too_costly_at_once(client):
    for levels in (20, 200):
        response = await _post(client, "{ serverInfo { ...F" + str(levels) + " } } " + _chain(levels))
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "query_too_costly"
        assert error["extensions"]["cost"] == 1 + 2 ** levels


async def test_the_anonymous_gate_sees_through_a_fragment_explosion(client):
    chain = _chain(200, "jobs { edges { cursor } }", on="Query")
    response = await _post(client, "{ ...F200 } " + chain)
    errors = response.json()["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["unauthenticated"]  # one refusal, not 2^200


async def test_a_signed_in_caller_cannot_multiply_the_page_alias_and_nested_limits(client, api_token):
    node = "edges { node { uscc actions(first: 100) { edges { node { id kind } } } } }"
    aliases = " ".join(f"a{i}: entities(first: 200) {{ {node} }}" for i in range(30))
    response = await _post(client, "{ " + aliases + " }", headers=bearer(api_token))
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "query_too_costly"
    cost, limit = error["extensions"]["cost"], error["extensions"]["limit"]
    assert cost > limit and f"query cost {cost} exceeds the limit of {limit}" in error["message"]
    assert "查询代价过高" in error["message"]
    # the same shape once, at a modest size, is answered
    modest = "{ entities(first: 20) { edges { node { uscc actions(first: 5) { edges { node { id } } } } } } }"
    small = await _post(client, modest, headers=bearer(api_token))
    assert "errors" not in small.json(), small.text


@pytest.fixture
async def cheap_client(settings, db):
    from regwatch_app import create_app

    app = create_app(dataclasses.replace(settings, graphql_max_cost=100), run_jobs=False, database=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield c


async def test_the_cost_ceiling_is_a_setting_and_counts_first_variables_and_the_default_page_size(cheap_client,
                                                                                                  api_token):
    auth = bearer(api_token)
    ok = await _post(cheap_client, "query($n: Int) { jobs(first: $n) { edges { cursor } } }", {"n": 10}, auth)
    assert "errors" not in ok.json(), ok.text
    over = await _post(cheap_client, "query($n: Int) { jobs(first: $n) { edges { cursor } } }", {"n": 60}, auth)
    assert over.json()["errors"][0]["extensions"] == {"code": "query_too_costly", "cost": 1 + 60 * 2, "limit": 100}
    default = await _post(cheap_client, "{ jobs { edges { cursor } } }", headers=auth)  # 50 a page by default
    assert default.json()["errors"][0]["extensions"]["cost"] == 1 + 50 * 2


async def test_depth_and_aliases_count_through_fragments(settings, db, client, api_token):
    from regwatch_app import create_app

    aliases = " ".join(f"a{i}: version" for i in range(settings.graphql_max_aliases // 2 + 1))
    response = await _post(client, "{ serverInfo { ...A ...A } } fragment A on ServerInfo { " + aliases + " }")
    assert response.json()["errors"][0]["extensions"]["code"] == "too_many_aliases"

    app = create_app(dataclasses.replace(settings, graphql_max_depth=2), run_jobs=False, database=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as shallow:
        query = "{ ...D } fragment D on Query { jobs { ...E } } fragment E on JobConnection { edges { node { kind } } }"
        response = await _post(shallow, query, headers=bearer(api_token))
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "too_deep", "depth": 3, "limit": 2}
    assert "查询嵌套过深" in error["message"]


async def test_an_undefined_fragment_gets_a_translated_message_not_a_raw_key(client, api_token):
    for headers in ({}, bearer(api_token)):
        response = await _post(client, "{ serverInfo { ...Nope } }", headers=headers)
        error = response.json()["errors"][0]
        assert error["message"] == "片段 Nope 未定义 (unknown fragment 'Nope')"
        assert error["extensions"]["code"] == "unknown_fragment"


async def test_anonymous_callers_get_no_schema_suggestions_signed_in_callers_do(client, api_token):
    anonymous = await _post(client, "{ serverInfo { versio } }")
    assert anonymous.json()["errors"][0]["message"] == "Cannot query field 'versio' on type 'ServerInfo'."
    top = await _post(client, "{ serverInf { version } }")
    assert "Did you mean" not in top.text and top.json()["errors"][0]["extensions"]["code"] == "unauthenticated"
    signed_in = await _post(client, "{ serverInfo { versio } }", headers=bearer(api_token))
    assert "Did you mean 'version'?" in signed_in.json()["errors"][0]["message"]


def test_the_readme_cost_example_costs_what_the_readme_says(settings):
    from api.schema import build_schema

    schema = build_schema(settings)
    query = "{ entities(first: 20) { edges { node { uscc actions(first: 5) { edges { node { id } } } } } } }"
    assert summarise(parse(query), schema._schema).operations[None].cost == 381
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert query in readme and "= 381" in readme


async def test_a_field_repeated_at_one_place_is_refused_before_graphql_cores_quadratic_overlap_check(client):
    from api.limits import MAX_REPEATS

    # 800 × serverInfo: graphql-core's OverlappingFieldsCanBeMerged alone took ~4 s on it (anonymous!)
    cases = {
        "{ " + "serverInfo { version } " * 800 + "}": "serverInfo",
        "{ " + "serverInfo { version } " * 3 + "}": None,  # a few repeats are harmless and answered
        "{ serverInfo { " + "...A " * 2400 + "} } fragment A on ServerInfo { version }": "...A",
        "{ serverInfo { " + " ".join(f"...A{i}" for i in range(200)) + " } } "
        + " ".join(f"fragment A{i} on ServerInfo {{ version }}" for i in range(200)): "version",
        "{ " + ("serverInfo { " + "version " * 3 + "} ") * 3 + "}": "version",  # 3 × 3 merge into 9 at one place
    }
    for query, refused in cases.items():
        body = (await _post(client, query)).json()
        if refused is None:
            assert "errors" not in body, body
            continue
        error = body["errors"][0]
        assert error["extensions"]["code"] == "repeated_selection", (refused, error)
        assert error["extensions"]["limit"] == MAX_REPEATS
        assert f"{refused} selected" in error["message"] and "重复了" in error["message"]


async def test_a_text_that_passed_the_limits_is_not_summarised_again_and_a_refused_one_always_is(client, api_token,
                                                                                                 monkeypatch):
    import api.limits as limits

    checked: list[bool] = []
    original = limits.check_document

    def spy(document, schema, variables, operation_name, *, anonymous, **limits_):
        checked.append(anonymous)
        return original(document, schema, variables, operation_name, anonymous=anonymous, **limits_)

    monkeypatch.setattr(limits, "check_document", spy)
    query = "{ serverInfo { version } me { username } }"  # passes for a signed-in caller, refused anonymously
    for _ in range(3):
        body = (await _post(client, query, headers=bearer(api_token))).json()
        assert "errors" not in body, body
    assert checked == [False]  # checked once, then remembered
    for _ in range(2):  # the same text anonymously: a key of its own, refused each time (refusals are not kept)
        body = (await _post(client, query)).json()
        assert [e["extensions"]["code"] for e in body["errors"]] == ["unauthenticated"], body
    assert checked == [False, True, True]
    with_variables = "query($n: Int) { jobs(first: $n) { edges { cursor } } }"
    for _ in range(2):  # variables can change the cost: checked every time
        body = (await _post(client, with_variables, {"n": 2}, headers=bearer(api_token))).json()
        assert "errors" not in body, body
    assert checked == [False, True, True, False, False]
