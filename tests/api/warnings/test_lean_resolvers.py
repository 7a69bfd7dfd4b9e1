"""Resolvers called without Strawberry's per-call wrapping (api/resolvers.py) answer exactly what Strawberry's own
resolve functions answer: data, errors and their paths, renamed arguments (`from`), variables, defaults."""

from __future__ import annotations

import pytest
from starlette.routing import Route

from api.view import GraphQLView
from tests.domain.warnings.support import build_city, score


@pytest.fixture
def city(db, acting):
    with db.unit_of_work() as session:
        c = build_city(session, n=6)
        for i, e in enumerate(c.entities):
            score(session, c.run, e, 0.9 - i * 0.1, ["red", "orange", "orange", "yellow", "blue", None][i])
    acting.actor = c.analyst
    return c


def _graphql_schema(app):
    view = next(r.endpoint for r in app.routes if isinstance(r, Route) and isinstance(r.endpoint, GraphQLView))
    return view.schema._schema


def _swapped(schema):
    return [(f"{t.name}.{n}", f, f.resolve) for t in schema.type_map.values() if hasattr(t, "fields")
            and not t.name.startswith("__") and hasattr(t, "is_type_of") for n, f in t.fields.items()
            if hasattr(f.resolve, "strawberry_resolve")]


def _queries(uscc: str) -> list[tuple[str, dict]]:
    return [
        ("{ entities(first: 3) { totalCount nodes { uscc name } pageInfo { hasNextPage endCursor } } }", {}),
        ("query($n: Int, $r: String) { entities(first: $n, regionCode: $r) { nodes { uscc } } }", {"n": 2}),
        (f'{{ entity(uscc: "{uscc}") {{ uscc name actions(first: 2) {{ totalCount nodes {{ kind startedOn }} }} '
         "complaints(first: 1) { totalCount } creditRecords { nodes { kind } } riskScore { level score } } }", {}),
        ('{ supervisionActions(first: 2, from: "2000-01-01") { nodes { kind startedOn uscc } } }', {}),
        ("{ riskWarnings(first: 5) { nodes { code level entity { uscc } } } }", {}),
        ("{ riskScores(first: 3) { totalCount nodes { level score entity { uscc } } } }", {}),
        ("{ me { username roles } }", {}),
        ('{ entity(uscc: "91320500MA1X0000XX") { name } }', {}),  # an error with its path
        ("{ entities(first: -1) { nodes { name } } }", {}),  # an invalid argument
        ('query($u: String!) { entity(uscc: $u) { name } }', {"u": uscc.lower()}),
    ]


async def test_lean_resolvers_answer_as_strawberrys_own(client, app, city):
    schema = _graphql_schema(app)
    swapped = _swapped(schema)
    names = {name for name, _, _ in swapped}
    assert len(swapped) > 50 and {"Query.entities", "Query.entity", "Query.supervisionActions", "Query.me",
                                  "Entity.actions", "EntityConnection.nodes"} <= names, sorted(names)
    for query, variables in _queries(city.entities[0].uscc):
        answers = []
        for lean in (False, True):
            for _, field, resolve in swapped:
                field.resolve = resolve if lean else resolve.strawberry_resolve
            response = await client.post("/graphql", json={"query": query, "variables": variables})
            answers.append((response.status_code, response.json()))
        assert answers[0] == answers[1], query
        assert "data" in answers[1][1], query
    assert all(field.resolve is resolve for _, field, resolve in swapped)


def test_fields_whose_arguments_need_converting_keep_strawberrys_resolver(app):
    schema = _graphql_schema(app)
    lean = {name for name, _, _ in _swapped(schema)}
    assert "Query.entities" in lean and "Query.entity" in lean
    assert "Mutation.submitRiskClues" not in lean  # a list of input objects
    assert not any(name.startswith("Subscription.") for name in lean)
