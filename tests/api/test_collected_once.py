"""api/execution.py's CollectedOnceExecutor: a directive-free document run again collects no sub-selection a second
time and answers exactly as graphql-core does each time; a document with a directive is never run by it (its
collection depends on the variables), on the prepared lane over HTTP too."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from graphql import execute, parse
from graphql.execution import executor as graphql_executor

from api import execution
from api.execution import CollectedOnceExecutor, LeafFieldsExecutor, has_directives
from tests.api.test_execution_fast_paths import ALL, FAST, PLAIN, answers

DIRECTIVE_FREE = [
    "{ things { " + ALL + " } }",
    '{ page(kind: "null_owner_code") { total nodes { id name owner { code } } info { hasNext cursor } } }',
    "{ things { a: id b: name id __typename owner { __typename c: code } } }",
    "{ things { id ...F owner { ...O } } } fragment F on Thing { name label } fragment O on Owner { code name }",
    "{ things { id ... on Thing { name owner { code } } ... { level } } }",
    "{ things { id name owner { code } owner { name } } }",
    '{ nullableThings(kind: "null_owner_code") { id owner { code } } maybeThings(kind: "null_name") { id name } }',
    '{ maybeThings(kind: "raising") { id strictBoom label owner { code name } } }',
]


async def _run(document: Any, executor: type, variables: dict[str, Any] | None = None) -> tuple[str, Any]:
    outcome = execute(FAST._schema, document, variable_values=variables, executor_class=executor)
    result = await outcome if asyncio.iscoroutine(outcome) else outcome
    return json.dumps(result.data, ensure_ascii=False), [e.formatted for e in result.errors or []]


class _Collections:
    """Counts graphql-core's own collections of sub-selections."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = graphql_executor.collect_subfields

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(graphql_executor, "collect_subfields", counted)


@pytest.mark.parametrize("query", DIRECTIVE_FREE)
async def test_a_directive_free_document_run_again_is_collected_once_and_answered_as_graphql_core_does(
        query, monkeypatch):
    monkeypatch.setattr(execution, "_COLLECTED", {})
    collections = _Collections(monkeypatch)
    document = parse(query)
    assert not has_directives(document)
    expected = await answers(PLAIN, query)
    assert await _run(document, CollectedOnceExecutor) == expected
    first = collections.count
    assert first >= 1  # every query above has an object below its root field
    assert await _run(document, CollectedOnceExecutor) == expected
    assert collections.count == first  # nothing collected the second time
    # the schema's own executor collects again on every run (fewer where a shared plan already holds a nested
    # object's fields): what the shortcut saves
    assert await _run(document, LeafFieldsExecutor) == expected
    assert collections.count > first


async def test_another_document_of_the_same_text_is_collected_for_itself(monkeypatch):
    monkeypatch.setattr(execution, "_COLLECTED", {})
    query = "{ things { id name owner { code } } }"
    await _run(parse(query), CollectedOnceExecutor)
    kept = len(execution._COLLECTED)
    other = "{ things { name id owner { name } } }"
    got = await _run(parse(other), CollectedOnceExecutor)
    assert got == await answers(PLAIN, other)
    assert [list(item) for item in json.loads(got[0])["things"]] == [["name", "id", "owner"]] * 3
    assert len(execution._COLLECTED) == 2 * kept  # its own nodes: its own entries, never the first text's


@pytest.mark.parametrize(("query", "found"), [
    ("{ things { id name } }", False),
    ("{ things { id ...F } } fragment F on Thing { name }", False),
    ("{ things { id name @include(if: true) } }", True),
    ("{ things { id ...F } } fragment F on Thing { name @skip(if: false) }", True),
    ("{ things { id ... @include(if: true) { name } } }", True),
    ("{ things { id ...F @skip(if: false) } } fragment F on Thing { name }", True),
    ("query Q @deprecated { things { id } }", True),
    ("query Q($x: Int @deprecated) { things { id } }", True),
    ("{ things @stream { id } }", True),
])
def test_any_directive_anywhere_in_the_document_is_found(query, found):
    assert has_directives(parse(query)) is found


async def test_the_prepared_lane_collects_a_directive_free_text_once_and_a_text_with_directives_every_time(
        settings, db, api_token, monkeypatch):
    from tests.api.test_prepared import _client

    monkeypatch.setattr(execution, "_COLLECTED", {})
    collections = _Collections(monkeypatch)
    headers = {"authorization": f"Bearer {api_token}"}
    plain = "{ serverInfo { version databaseBackend } }"
    with_include = "query Q($names: Boolean!) { serverInfo { version databaseBackend @include(if: $names) } }"
    async with _client(settings, db) as client:
        first = await client.post("/graphql", json={"query": plain}, headers=headers)
        assert first.status_code == 200 and "errors" not in first.json(), first.text
        after_first = collections.count
        again = await client.post("/graphql", json={"query": plain}, headers=headers)
        assert again.json() == first.json() and collections.count == after_first
        answers_by_flag = {}
        for names in (True, False, True):
            before = collections.count
            r = await client.post("/graphql", json={"query": with_include, "variables": {"names": names}},
                                  headers=headers)
            assert r.status_code == 200 and "errors" not in r.json(), r.text
            assert collections.count > before  # collected again, against this request's variables
            answers_by_flag.setdefault(names, r.json())
            assert r.json() == answers_by_flag[names]
            assert ("databaseBackend" in r.json()["data"]["serverInfo"]) is names
