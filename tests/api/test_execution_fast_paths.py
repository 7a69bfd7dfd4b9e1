"""api/execution.py's short paths (plain leaves, plain nested objects, lists of plain objects, mixed objects) answer
exactly as graphql-core answers on its own: the same data (compared as JSON text, so 1, 1.0, True and "1" differ),
the same errors with the same paths and locations, the same null propagation; and the short paths are taken."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any, NewType

import pytest
import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from api import execution
from api.execution import LeafFieldsExecutor


@strawberry.enum
class Level(Enum):
    HIGH = "high"
    LOW = "low"


class Named:
    """Not a builtin: String and ID serialize it by its __str__."""

    def __str__(self) -> str:
        return "named"


class Oops(Exception):
    """Not a builtin: String would serialize it by its __str__, were it not an exception graphql-core raises."""


class Later:
    """An awaitable held by an attribute: graphql-core awaits it (String would serialize it by its __str__)."""

    def __await__(self):  # type: ignore[no-untyped-def]
        yield from asyncio.sleep(0).__await__()
        return "awaited"

    def __str__(self) -> str:
        return "not awaited"


Odd = NewType("Odd", str)
SCALARS: dict[object, Any] = {
    Odd: strawberry.scalar(name="Odd", serialize=lambda v: None if v == "none" else f"odd {v}", parse_value=str)}


@dataclass
class OwnerRow:
    code: Any = "D1"
    name: Any = "部门"


@dataclass
class Rec:
    id: Any = 1
    name: Any = "a"
    label: Any = None
    count: Any = 1
    ratio: Any = 0.5
    flag: Any = True
    level: Any = Level.HIGH
    day: Any = None
    amount: Any = None
    odd: Any = "fine"
    owner: Any = field(default_factory=OwnerRow)
    maybe: Any = None


class Raising(Rec):
    @property  # type: ignore[override]
    def label(self) -> Any:
        raise RuntimeError("label unavailable")

    @label.setter
    def label(self, _value: Any) -> None:
        pass


@strawberry.type(name="Owner")
class OwnerType:
    code: str
    name: str | None


@strawberry.type(name="Thing")
class ThingType:
    id: strawberry.ID
    name: str
    label: str | None
    count: int | None
    ratio: float | None
    flag: bool | None
    level: Level | None
    day: date | None
    amount: Decimal | None
    odd: Odd | None
    owner: OwnerType
    maybe: OwnerType | None

    @strawberry.field
    def shout(self) -> str:
        return str(self.name).upper()

    @strawberry.field
    async def later(self) -> str | None:
        await asyncio.sleep(0)
        return f"later {self.id}"

    @strawberry.field
    async def later_owner(self) -> OwnerType | None:
        await asyncio.sleep(0)
        return OwnerRow(code=f"L{self.id}", name=None)  # type: ignore[return-value]

    @strawberry.field
    def boom(self) -> str | None:
        if self.id == 2:
            raise ValueError("boom on 2")
        return "ok"

    @strawberry.field
    def strict_boom(self) -> str:
        if self.id == 2:
            raise ValueError("strict boom on 2")
        return "ok"

    @strawberry.field
    def echo(self, text: str = "x") -> str:
        return text


@strawberry.type(name="Info")
class InfoType:
    has_next: bool
    cursor: str | None


@strawberry.type(name="Page")
class PageType:
    total: int
    nodes: list[ThingType]
    info: InfoType


@dataclass
class PageRow:
    total: int
    nodes: list[Any]
    info: Any


@dataclass
class InfoRow:
    has_next: bool = True
    cursor: str | None = "c1"


GOOD = [Rec(1, "a", day=date(2026, 1, 2), amount=Decimal("1.50")),
        Rec(2, "b", label="x", maybe=OwnerRow("M", None)),
        Rec(3, "c", level=Level.LOW)]


def rows(kind: str) -> list[Any]:
    good: list[Any] = [replace(r) for r in GOOD]
    bad: list[Any] = {  # type: ignore[assignment]
        "good": [],
        "null_name": [Rec(4, None)],  # non-null String
        "null_owner": [Rec(4, "d", owner=None)],  # non-null object
        "null_owner_code": [Rec(4, "d", owner=OwnerRow(None))],  # non-null leaf inside a nested object
        "refused": [Rec(4, "d", label=[1], count=2**40, ratio=float("inf"), flag="yes")],  # nullable, refused
        "refused_id": [Rec([4], "d")],  # ID refuses a list: non-null
        "raising": [Raising(4, "d")],  # getattr raises
        "exception_value": [Rec(4, "d", label=ValueError("held"))],  # an exception as the value
        "held_exception": [Rec(4, "d", label=Oops("held"))],  # one String would serialize
        "held_awaitable": [Rec(4, "d", label=Later())],  # graphql-core awaits it
        "null_coerced": [Rec(4, "d", odd="none")],  # the scalar's coercion answers None
        "coerce": [Rec(7, "e", label=5, count=True, ratio=3, flag=0, level="low"),
                   Rec(8.0, "f", label=True, count=3.0, ratio="2.5", flag=1.0),
                   Rec("9", "g", label=1.5, count="12", ratio=True, flag=Decimal("0")),
                   Rec(Named(), "h", label=Named(), count=Decimal("4"), ratio=Decimal("0.25"), flag=2),
                   Rec(10, "i", label=Decimal("1.0"), count=-(2**31), ratio=float("nan"), amount=3),
                   Rec(11, "j", label="", count=2**31 - 1, ratio=-0.0, day="2026-01-01")],
    }[kind]
    return good[:1] + bad + good[1:]


@strawberry.type
class Query:
    @strawberry.field
    def things(self, kind: str = "good") -> list[ThingType]:
        return rows(kind)  # type: ignore[return-value]

    @strawberry.field
    def nullable_things(self, kind: str = "good") -> list[ThingType] | None:
        return rows(kind)  # type: ignore[return-value]

    @strawberry.field
    def maybe_things(self, kind: str = "good") -> list[ThingType | None] | None:
        found: list[Any] = rows(kind)
        return [found[0], None, *found[1:]]

    @strawberry.field
    def tuple_things(self) -> list[ThingType]:
        return tuple(rows("good"))  # type: ignore[return-value]

    @strawberry.field
    def awaited_things(self) -> list[ThingType | None]:
        async def one(r: Any) -> Any:
            await asyncio.sleep(0)
            return r

        return [one(r) if r.id == 2 else r for r in rows("null_name")]  # type: ignore[misc]

    @strawberry.field
    def exception_things(self) -> list[ThingType | None]:
        found: list[Any] = rows("good")
        return [found[0], ValueError("an exception item"), *found[1:]]

    @strawberry.field
    def thing(self, kind: str = "good") -> ThingType | None:
        return rows(kind)[1]  # type: ignore[return-value]

    @strawberry.field
    def page(self, kind: str = "good") -> PageType | None:
        found = rows(kind)
        return PageRow(len(found), found, InfoRow())  # type: ignore[return-value]


def schemas(**kwargs: Any) -> tuple[strawberry.Schema, strawberry.Schema]:
    kwargs.setdefault("config", StrawberryConfig(scalar_map=SCALARS))
    fast = strawberry.Schema(query=Query, execution_context_class=LeafFieldsExecutor, **kwargs)
    plain = strawberry.Schema(query=Query, execution_context_class=StrawberryGraphQLCoreExecutionContext, **kwargs)
    return fast, plain


FAST, PLAIN = schemas()
ALL = "id name label count ratio flag level day amount odd"
KINDS = ["good", "null_name", "null_owner", "null_owner_code", "refused", "refused_id", "raising", "exception_value",
         "held_exception", "held_awaitable", "null_coerced", "coerce"]


async def answers(schema: strawberry.Schema, query: str, variables: dict[str, Any] | None = None) -> tuple[str, Any]:
    result = await schema.execute(query, variable_values=variables)
    return json.dumps(result.data, ensure_ascii=False), [e.formatted for e in result.errors or []]


async def assert_same(query: str, variables: dict[str, Any] | None = None, *,
                      fast: strawberry.Schema = FAST, plain: strawberry.Schema = PLAIN) -> tuple[str, Any]:
    got = await answers(fast, query, variables)
    expected = await answers(plain, query, variables)
    assert got == expected
    return got


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("template", [
    "{{ things(kind: \"{k}\") {{ " + ALL + " }} }}",  # a plain list: non-null items
    "{{ nullableThings(kind: \"{k}\") {{ " + ALL + " }} }}",  # the null stops at the list
    "{{ maybeThings(kind: \"{k}\") {{ " + ALL + " }} }}",  # nullable items: the null stops at the item
    "{{ maybeThings(kind: \"{k}\") {{ id owner {{ code name }} maybe {{ code name }} }} }}",  # nested objects
    "{{ nullableThings(kind: \"{k}\") {{ id label owner {{ code }} shout boom }} }}",  # mixed objects
    "{{ maybeThings(kind: \"{k}\") {{ id strictBoom label }} }}",  # a resolver raising, non-null: the item nulled
    "{{ maybeThings(kind: \"{k}\") {{ id later laterOwner {{ code name }} owner {{ code }} level }} }}",  # async
    "{{ thing(kind: \"{k}\") {{ " + ALL + " owner {{ code name }} maybe {{ name }} }} }}",  # one object
    "{{ page(kind: \"{k}\") {{ total nodes {{ id name label owner {{ code }} }} info {{ hasNext cursor }} }} }}",
])
async def test_fast_paths_answer_as_graphql_core_does(template, kind):
    await assert_same(template.format(k=kind))


@pytest.mark.parametrize("query", [
    "{ things { a: id b: name id __typename owner { __typename c: code } } }",  # aliases and __typename
    "{ things { id ...F owner { ...O } } } fragment F on Thing { name label } fragment O on Owner { code name }",
    "{ things { id ... on Thing { name owner { code } } ... { level } } }",  # inline fragments
    "{ things { id name owner { code } owner { name } } }",  # one field twice: the selections merged
    "{ things { id name @include(if: false) label @skip(if: true) day @include(if: true) } }",
    "{ things { id owner @skip(if: false) { code } maybe @include(if: false) { code } } }",
    "{ things { id echo echo2: echo(text: \"y\") } }",  # arguments
    "{ tupleThings { id name owner { code } } }",
    "{ awaitedThings { id name later } }",  # an awaitable item (its name null: nulled after awaiting)
    "{ exceptionThings { id name } }",  # an exception as an item
    "{ things(kind: \"null_name\") { id } maybeThings(kind: \"null_name\") { name } thing { id } }",
    "{ things { id } __typename }",
    "{ __schema { queryType { name } } }",
])
async def test_selections_are_answered_as_graphql_core_answers_them(query):
    await assert_same(query)


async def test_variables_in_include_and_skip_are_answered_as_graphql_core_answers_them():
    query = ("query Q($yes: Boolean!, $kind: String!) { maybeThings(kind: $kind) { id name @include(if: $yes) "
             "owner @skip(if: $yes) { code } label } }")
    for yes in (True, False):
        for kind in ("good", "null_name", "null_owner"):
            await assert_same(query, {"yes": yes, "kind": kind})


async def test_errors_keep_their_paths_and_null_propagation():
    data, errors = await assert_same('{ nullableThings(kind: "null_owner_code") { id owner { code } } '
                                     'maybeThings(kind: "null_name") { id name } things { id } }')
    assert json.loads(data)["nullableThings"] is None and json.loads(data)["maybeThings"][2] is None
    assert [e["path"] for e in errors] == [["nullableThings", 1, "owner", "code"], ["maybeThings", 2, "name"]]


class Passthrough(SchemaExtension):
    def resolve(self, _next, root, info, *args, **kwargs):  # type: ignore[no-untyped-def]
        return _next(root, info, *args, **kwargs)


async def test_field_middleware_sends_everything_to_graphql_core(monkeypatch):
    fast, plain = schemas(extensions=[Passthrough])
    calls = []
    monkeypatch.setattr(execution, "_plain_leaves", lambda *a: calls.append(a))
    monkeypatch.setattr(LeafFieldsExecutor, "_complete_plain_list", lambda *a: calls.append(a))
    for kind in ("good", "null_name"):
        await assert_same(f'{{ maybeThings(kind: "{kind}") {{ id name owner {{ code }} later }} }}',
                          fast=fast, plain=plain)
    assert calls == []


class Spy:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.counts: dict[str, int] = {}
        for name in ("execute_field", "complete_list_item_value", "complete_object_value", "_complete_plain_list"):
            self._wrap(monkeypatch, name)

    def _wrap(self, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
        original = getattr(LeafFieldsExecutor, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.counts[name] = self.counts.get(name, 0) + 1
            return original(*args, **kwargs)

        monkeypatch.setattr(LeafFieldsExecutor, name, counted)


async def test_a_list_of_plain_objects_is_completed_in_one_loop(monkeypatch):
    spy = Spy(monkeypatch)
    data, errors = await answers(FAST, "{ things { id name owner { code } maybe { name } } }")
    assert errors == [] and json.loads(data)["things"][1] == {"id": "2", "name": "b", "owner": {"code": "D1"},
                                                               "maybe": {"name": None}}
    # the root field only: no graphql-core field, item or object completion for the three items
    assert spy.counts == {"execute_field": 1, "_complete_plain_list": 1}


async def test_only_the_item_that_needs_it_goes_through_graphql_core(monkeypatch):
    spy = Spy(monkeypatch)
    data, errors = await answers(FAST, '{ maybeThings(kind: "null_name") { id name } }')
    assert json.loads(data)["maybeThings"] == [{"id": "1", "name": "a"}, None, None,
                                               {"id": "2", "name": "b"}, {"id": "3", "name": "c"}]
    assert [e["path"] for e in errors] == [["maybeThings", 2, "name"]]
    # the None item and the item with a null name: graphql-core's per-item path; of that item's fields only the
    # name goes to execute_field
    assert spy.counts["complete_list_item_value"] == 2 and spy.counts["execute_field"] == 1 + 1


async def test_mixed_objects_hand_only_their_other_fields_to_graphql_core(monkeypatch):
    spy = Spy(monkeypatch)
    data, errors = await answers(FAST, "{ page { total nodes { id shout owner { code } later } info { hasNext } } }")
    assert errors == [] and json.loads(data)["page"]["nodes"][2] == {"id": "3", "shout": "C", "owner": {"code": "D1"},
                                                                      "later": "later 3"}
    # page, nodes, and shout and later for each of the three nodes; owner and info read in place
    assert spy.counts["execute_field"] == 2 + 3 * 2 and spy.counts["_complete_plain_list"] == 1
    assert "complete_list_item_value" not in spy.counts and spy.counts.get("complete_object_value", 0) == 1  # page


async def test_without_the_fast_paths_the_answers_are_the_same(monkeypatch):
    monkeypatch.setattr(execution, "FAST", False)
    for kind in ("good", "null_owner_code", "coerce"):
        await assert_same(f'{{ page(kind: "{kind}") {{ total nodes {{ {ALL} owner {{ code }} }} }} }}')


async def incremental_answers(schema: strawberry.Schema, query: str) -> list[Any]:
    result = await schema.execute(query)
    if not hasattr(result, "initial_result"):  # nothing left to deliver later (an error nulled it)
        return [json.dumps(result.data), [e.formatted for e in result.errors or []]]
    answers = [result.initial_result.formatted]
    async for later in result.subsequent_results:  # type: ignore[attr-defined]
        answers.append(later.formatted)
    return answers


@pytest.mark.parametrize("query", [
    '{ things(kind: "null_name") { id ... @defer { name owner { code } } } }',
    '{ maybeThings(kind: "null_owner_code") { id ... @defer(label: "d") { owner { code } later } label } }',
    '{ page { total ... @defer { nodes { id name owner { code } } } info { hasNext } } }',
    '{ page(kind: "null_name") { nodes @stream(initialCount: 1) { id name ... @defer { label owner { name } } } } }',
    '{ things { id owner { ... @defer { code } name } } }',
    '{ page { nodes @stream(initialCount: 1) { id name } } }',
    '{ page { nodes { id } ... @defer { nodes { id name } total } } }',
    '{ things { id owner { code } ... @defer { owner { code name } } } }',
    '{ page(kind: "null_owner") { nodes { id owner { code } } ... @defer { nodes { owner { code name } } } } }',
])
async def test_defer_and_stream_are_answered_as_graphql_core_answers_them(query):
    config = StrawberryConfig(enable_experimental_incremental_execution=True, scalar_map=SCALARS)
    fast, plain = schemas(config=config)
    assert await incremental_answers(fast, query) == await incremental_answers(plain, query)


# --- plans shared across executions -------------------------------------------------------------------------------

@strawberry.type
class SharedItem:
    code: str
    name: str
    note: str | None


@strawberry.type
class SharedQuery:
    @strawberry.field
    def items(self) -> list[SharedItem]:
        return [SharedItem(code=f"C{i}", name=f"名称{i}", note=None if i % 2 else f"注{i}") for i in range(3)]


async def test_a_document_run_again_reuses_its_plans_and_other_documents_get_their_own():
    schema = strawberry.Schema(SharedQuery)
    from graphql import parse

    first = parse("query Q($withNote: Boolean!) { items { code name note @include(if: $withNote) } }")
    other = parse("{ items { name code } }")
    execution._SHARED_PLANS.clear()

    async def run(document: Any, variables: dict[str, Any] | None = None) -> Any:
        from graphql import execute

        outcome = execute(schema._schema, document, variable_values=variables, executor_class=LeafFieldsExecutor)
        result = await outcome if asyncio.iscoroutine(outcome) else outcome
        assert result.errors is None
        return result.data["items"]

    with_note = await run(first, {"withNote": True})
    assert with_note == [{"code": f"C{i}", "name": f"名称{i}", "note": None if i % 2 else f"注{i}"} for i in range(3)]
    planned = len(execution._SHARED_PLANS)
    assert planned >= 1
    assert await run(first, {"withNote": True}) == with_note
    assert len(execution._SHARED_PLANS) == planned  # the same document and variables: the same plans
    # the same text without the note: another field set (graphql-core collected it without `note`), its own plan
    assert await run(first, {"withNote": False}) == [{"code": f"C{i}", "name": f"名称{i}"} for i in range(3)]
    assert len(execution._SHARED_PLANS) == planned + 1
    # another document of the same fields in another order: its own nodes, its own plan, its own order
    got = await run(other)
    assert [list(item) for item in got] == [["name", "code"]] * 3
    assert len(execution._SHARED_PLANS) == planned + 2


class _Meta(type):
    pass


class _MetaMade(metaclass=_Meta):
    pass


class _Conjures:
    """An attribute for any name, `__await__` included: graphql-core's check asks each instance."""

    def __getattr__(self, name: str) -> Any:
        return lambda: iter(())


class _Guarded:
    def __getattribute__(self, name: str) -> Any:
        return object.__getattribute__(self, name)


async def test_object_classes_are_known_plain_only_where_no_instance_can_answer_otherwise(monkeypatch):
    # a list of plain items, then one object field: both remembered by class, and later items skip the checks
    monkeypatch.setattr(execution, "_PLAIN_TYPES", set())
    await assert_same("{ things { id owner { code } } }")
    assert {Rec, OwnerRow} <= execution._PLAIN_TYPES
    checked: list[Any] = []
    original = LeafFieldsExecutor.__init__

    def counting(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        is_awaitable = self.is_awaitable
        self.is_awaitable = lambda value: checked.append(type(value)) or is_awaitable(value)

    monkeypatch.setattr(LeafFieldsExecutor, "__init__", counting)
    await assert_same("{ things { id owner { code } } }")
    assert Rec not in checked and OwnerRow not in checked
    # never remembered: classes whose instances may answer the checks otherwise, exceptions, awaitables, `object`
    for value in (_Conjures(), _Guarded(), _MetaMade(), ValueError("x"), Oops("y"), Later(), object()):
        execution._note_plain(value)
        assert type(value) not in execution._PLAIN_TYPES, type(value)
