"""Document limits checked before GraphQL validation runs: depth, aliases, cost, the anonymous gate, unknown fragments.

One pass over the document, linear in its size: every fragment definition is summarised once (its depth, its
aliases, its cost, the top-level fields it contributes) and the summary is reused wherever the fragment is spread,
so `fragment F20 { ...F19 ...F19 }` chains cost twenty summaries, not 2^20 walks. The numbers themselves are the
*expanded* ones (a fragment spread twice counts twice), which is what execution would do.

Cost: every field costs 1; a connection (a type named `…Connection`) multiplies its children by its `first`/`last`
argument, or by the default page size when neither is given. The cost is computed once per document, before
execution, against `REGWATCH_GRAPHQL_MAX_COST`.

When a limit is passed, or an anonymous caller asks for more than `serverInfo`, the errors are set as the
document's pre-execution errors, so graphql-core's own validation (and its "Did you mean …" suggestions) never runs
for it. Anonymous callers, who may not introspect, never get suggestions from validation either.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    get_named_type,
)
from strawberry.extensions import SchemaExtension

from api.caching import BoundedLRU
from api.identity.gate import anonymous_refusals
from domain.identity.actor import ANONYMOUS
from domain.pagination import DEFAULT_PAGE_SIZE
from domain.text import SEARCH_MAX_LENGTH, control_character_message, search_too_long_message

__all__ = ["DocumentLimits", "Summary", "check_document", "limit_problems", "summarise", "text_problems",
           "without_suggestions"]

# The same field (or fragment) selected more often than this at one place is refused (no legitimate query repeats
# itself that much; graphql-core's overlap validation is quadratic in such repeats, and they compound with depth).
MAX_REPEATS = 5
_SUGGESTION = re.compile(r"\s*Did you mean .*\?\s*$", re.DOTALL)


@dataclass
class Summary:
    """What one selection (an operation, a fragment) asks for once expanded."""

    depth: int = 0
    aliases: int = 0
    cost: int = 0
    # distinct field nodes at the top of the selection (each node once, however often its fragment is spread)
    top_fields: dict[int, FieldNode] = field(default_factory=dict)


@dataclass
class DocumentSummary:
    operations: dict[str | None, Summary]
    unknown_fragments: list[FragmentSpreadNode]
    repeated: list[tuple[str, int, Any]] = field(default_factory=list)


class _Summariser:
    def __init__(self, document: DocumentNode, schema: GraphQLSchema | None, variables: dict[str, Any] | None,
                 default_page_size: int) -> None:
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.schema = schema
        self.variables = variables or {}
        self.default_page_size = default_page_size
        self.memo: dict[str, Summary] = {}
        self.visiting: set[str] = set()
        self.unknown: list[FragmentSpreadNode] = []

    def _type(self, name: str | None) -> GraphQLNamedType | None:
        return self.schema.get_type(name) if self.schema is not None and name else None

    def _field_type(self, parent: GraphQLNamedType | None, name: str) -> GraphQLNamedType | None:
        fields = getattr(parent, "fields", None)
        if not fields or name not in fields:
            return None
        return get_named_type(fields[name].type)

    def _multiplier(self, node: FieldNode, type_: GraphQLNamedType | None) -> int:
        for argument in node.arguments or ():
            if argument.name.value in ("first", "last"):
                value = argument.value
                if isinstance(value, IntValueNode):
                    return max(1, int(value.value))
                if isinstance(value, VariableNode):
                    given = self.variables.get(value.name.value)
                    if isinstance(given, int) and not isinstance(given, bool):
                        return max(1, given)
        if type_ is not None and type_.name.endswith("Connection"):
            return self.default_page_size
        return 1

    def fragment(self, spread: FragmentSpreadNode) -> Summary:
        name = spread.name.value
        if name in self.memo:
            return self.memo[name]
        definition = self.fragments.get(name)
        if definition is None:
            self.unknown.append(spread)
            return Summary()
        if name in self.visiting:  # a cycle: graphql's NoFragmentCycles rule reports it
            return Summary()
        self.visiting.add(name)
        summary = self.selection_set(definition.selection_set, self._type(definition.type_condition.name.value))
        self.visiting.discard(name)
        self.memo[name] = summary
        return summary

    def selection_set(self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None) -> Summary:
        out = Summary()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                out.top_fields[id(selection)] = selection
                if selection.alias is not None:
                    out.aliases += 1
                cost, depth = 1, 0
                if selection.selection_set is not None and not selection.name.value.startswith("__"):
                    type_ = self._field_type(parent, selection.name.value)
                    child = self.selection_set(selection.selection_set, type_)
                    out.aliases += child.aliases
                    cost += self._multiplier(selection, type_) * child.cost
                    depth = 1 + child.depth
                elif selection.selection_set is not None:  # introspection: counted, never deep or multiplied
                    child = self.selection_set(selection.selection_set, None)
                    out.aliases += child.aliases
                    cost += child.cost
                out.cost += cost
                out.depth = max(out.depth, depth)
            else:
                if isinstance(selection, InlineFragmentNode):
                    condition = selection.type_condition
                    part = self.selection_set(selection.selection_set,
                                              self._type(condition.name.value) if condition else parent)
                else:
                    assert isinstance(selection, FragmentSpreadNode)
                    part = self.fragment(selection)
                out.top_fields.update(part.top_fields)
                out.aliases += part.aliases
                out.cost += part.cost
                out.depth = max(out.depth, part.depth)
        return out


class _Repeats:
    """The first response name selected more than MAX_REPEATS times at one merged place (fields of the same name
    merge, as GraphQL executes them; inline fragments are transparent; a spread fragment adds its own top-level
    fields), or one fragment spread that often there.

    graphql-core's overlap check compares the fields merging at one place pairwise and again below them, so repeats
    compound; refusing them keeps validation linear. Each node is visited once (it belongs to one merged place) and
    each fragment's top-level names are counted once (memoised)."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.memo: dict[str, dict[str, int]] = {}

    def top_keys(self, name: str) -> dict[str, int]:
        if name in self.memo:
            return self.memo[name]
        self.memo[name] = {}  # a cycle counts nothing (NoFragmentCycles reports it)
        definition = self.fragments.get(name)
        counts: dict[str, int] = {}
        if definition is not None:
            stack = [definition.selection_set]
            while stack:
                for selection in stack.pop().selections:
                    if isinstance(selection, FieldNode):
                        key = (selection.alias or selection.name).value
                        counts[key] = counts.get(key, 0) + 1
                    elif isinstance(selection, InlineFragmentNode):
                        stack.append(selection.selection_set)
                    elif isinstance(selection, FragmentSpreadNode):
                        for key, n in self.top_keys(selection.name.value).items():
                            counts[key] = counts.get(key, 0) + n
        self.memo[name] = counts
        return counts

    def first(self, selection_set: SelectionSetNode) -> tuple[str, int, Any] | None:
        work = [[selection_set]]
        while work:
            sets = work.pop()
            fields: dict[str, list[FieldNode]] = {}
            through: dict[str, int] = {}
            spreads: dict[str, int] = {}
            stack = list(sets)
            while stack:
                for selection in stack.pop().selections:
                    if isinstance(selection, FieldNode):
                        fields.setdefault((selection.alias or selection.name).value, []).append(selection)
                    elif isinstance(selection, InlineFragmentNode):
                        stack.append(selection.selection_set)
                    elif isinstance(selection, FragmentSpreadNode):
                        name = selection.name.value
                        spreads[name] = spreads.get(name, 0) + 1
                        if spreads[name] > MAX_REPEATS:
                            return f"...{name}", spreads[name], selection
                        if spreads[name] == 1:
                            for key, n in self.top_keys(name).items():
                                through[key] = through.get(key, 0) + n
            for key in fields.keys() | through.keys():
                nodes = fields.get(key, [])
                times = len(nodes) + through.get(key, 0)
                if times > MAX_REPEATS:
                    return key, times, nodes[0] if nodes else selection_set
            for nodes in fields.values():
                children = [n.selection_set for n in nodes if n.selection_set is not None]
                if children:
                    work.append(children)
        return None


def summarise(document: DocumentNode, schema: GraphQLSchema | None = None, variables: dict[str, Any] | None = None,
              *, default_page_size: int = DEFAULT_PAGE_SIZE) -> DocumentSummary:
    """Depth, aliases, cost and top-level fields of every operation in `document`, in one linear pass."""
    walker = _Summariser(document, schema, variables, default_page_size)
    operations: dict[str | None, Summary] = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            root = None
            if schema is not None:
                root = {OperationType.QUERY: schema.query_type, OperationType.MUTATION: schema.mutation_type,
                        OperationType.SUBSCRIPTION: schema.subscription_type}.get(definition.operation)
            name = definition.name.value if definition.name else None
            operations[name] = walker.selection_set(definition.selection_set, root)
    for definition in walker.fragments.values():  # fragments no operation spreads still get their spreads checked
        walker.fragment(FragmentSpreadNode(name=definition.name))
    repeats = _Repeats(walker.fragments)
    repeated = [found for d in document.definitions
                if isinstance(d, OperationDefinitionNode | FragmentDefinitionNode)
                and (found := repeats.first(d.selection_set)) is not None]
    return DocumentSummary(operations, walker.unknown, repeated)


# Pushed records are judged by the importer one by one (a bad record is rejected, the rest kept), not refused whole.
_RECORD_ARGUMENTS = ("records",)
_SEARCH_ARGUMENTS = frozenset({"search"})


def _fields(selection_set: SelectionSetNode | None) -> Iterator[FieldNode]:
    """Every field node under `selection_set` once (fragment definitions are walked on their own)."""
    stack = [selection_set] if selection_set is not None else []
    while stack:  # iterative: nested generators would pass every field up through every level
        for selection in stack.pop().selections:
            if isinstance(selection, FieldNode):
                yield selection
                if selection.selection_set is not None:
                    stack.append(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                stack.append(selection.selection_set)


def _value_problems(value: Any, label: str, field: str, *, search: bool) -> str | None:
    if isinstance(value, str):
        problem = control_character_message(value, label, field)
        if problem is None and search:
            problem = search_too_long_message(value, "搜索内容", field, SEARCH_MAX_LENGTH)
        return problem
    if isinstance(value, dict):
        for key, item in value.items():
            problem = _value_problems(item, f"{label}.{key} ", f"{field}.{key}", search=search)
            if problem:
                return problem
    if isinstance(value, list):
        for index, item in enumerate(value):
            problem = _value_problems(item, f"{label}[{index}] ", f"{field}[{index}]", search=search)
            if problem:
                return problem
    return None


def _literal(node: ValueNode) -> Any:
    if isinstance(node, StringValueNode):
        return node.value
    if isinstance(node, ListValueNode):
        return [_literal(v) for v in node.values]
    if isinstance(node, ObjectValueNode):
        return {f.name.value: _literal(f.value) for f in node.fields}
    return None


def text_problems(document: DocumentNode, variables: dict[str, Any] | None) -> list[GraphQLError]:
    """Control characters in any string argument or variable, and over-long `search` arguments, as errors that
    name the argument (pushed records excepted: the importer rejects those one record at a time)."""
    errors: list[GraphQLError] = []
    exempt: set[str] = set()
    search_variables: set[str] = set()
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
            continue
        for node in _fields(definition.selection_set):
            for argument in node.arguments or ():
                name = argument.name.value
                is_records = node.name.value.startswith("ingest") and name in _RECORD_ARGUMENTS
                if isinstance(argument.value, VariableNode):
                    (exempt if is_records else search_variables if name in _SEARCH_ARGUMENTS else set()).add(
                        argument.value.name.value)
                    continue
                if is_records:
                    continue
                problem = _value_problems(_literal(argument.value), f"参数 {name} ", name,
                                          search=name in _SEARCH_ARGUMENTS)
                if problem:
                    errors.append(_text_error(problem, argument, name))
    for name, value in (variables or {}).items():
        if name in exempt:
            continue
        problem = _value_problems(value, f"变量 ${name} ", f"${name}", search=name in search_variables)
        if problem:
            errors.append(_text_error(problem, None, f"${name}"))
    return errors


def _text_error(message: str, node: ArgumentNode | None, field: str) -> GraphQLError:
    code = "search_too_long" if "search text longer" in message else "control_character"
    return GraphQLError(message, nodes=[node] if node is not None else None,
                        extensions={"code": code, "field": field})


def without_suggestions(errors: list[GraphQLError]) -> list[GraphQLError]:
    """The same errors without graphql-core's "Did you mean …?" hints (which reveal the schema)."""
    out = []
    for error in errors:
        message = _SUGGESTION.sub("", error.message)
        if message == error.message:
            out.append(error)
        else:
            out.append(GraphQLError(message, nodes=error.nodes, source=error.source, positions=error.positions,
                                    path=error.path, original_error=error.original_error,
                                    extensions=error.extensions))
    return out


_passed = BoundedLRU()  # keys of texts that passed the limits -> True


def limit_problems(query: str | None, document: DocumentNode, schema: GraphQLSchema, variables: dict[str, Any] | None,
                   operation_name: str | None, *, anonymous: bool, max_depth: int, max_aliases: int,
                   max_cost: int) -> list[GraphQLError]:
    """What the limits refuse in `document` for this caller (empty: nothing). A query text without variables that
    passed them once passes them again (integrators and pages send the same few texts); with variables, or once
    refused, it is checked every time. Used by `DocumentLimits` and by `api.prepared`."""
    key = ((id(schema), query, operation_name, anonymous, max_depth, max_aliases, max_cost)
           if not variables and query else None)
    if key is not None and _passed.get(key):
        return []
    errors = check_document(document, schema, variables, operation_name, anonymous=anonymous, max_depth=max_depth,
                            max_aliases=max_aliases, max_cost=max_cost)
    if not errors and key is not None:
        _passed.put(key, True)
    return errors


class DocumentLimits(SchemaExtension):
    """Refuse, before graphql-core validates a document, what an anonymous caller may not ask for and anything over
    the depth, alias or cost limits; strip validation suggestions for anonymous callers."""

    def __init__(self, *, max_depth: int, max_aliases: int, max_cost: int) -> None:
        super().__init__()
        self.max_depth = max_depth
        self.max_aliases = max_aliases
        self.max_cost = max_cost

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        actor = getattr(ctx.context, "actor", ANONYMOUS)
        document = ctx.graphql_document
        if document is not None and ctx.pre_execution_errors is None:
            errors = limit_problems(ctx.query, document, ctx.schema._schema, ctx.variables, ctx.operation_name,
                                    anonymous=not actor.is_authenticated, max_depth=self.max_depth,
                                    max_aliases=self.max_aliases, max_cost=self.max_cost)
            if errors:
                ctx.pre_execution_errors = errors
        yield
        if not actor.is_authenticated and ctx.pre_execution_errors:
            # in place: the result being returned already holds this list
            ctx.pre_execution_errors[:] = without_suggestions(list(ctx.pre_execution_errors))


def check_document(document: DocumentNode, schema: GraphQLSchema, variables: dict[str, Any] | None,
                   operation_name: str | None, *, anonymous: bool, max_depth: int, max_aliases: int,
                   max_cost: int) -> list[GraphQLError]:
    """The limits' checks of one document, every time (no cache)."""
    summary = summarise(document, schema, variables)
    chosen = ({operation_name: summary.operations[operation_name]}
              if operation_name in summary.operations else summary.operations)
    errors: list[GraphQLError] = []
    if anonymous:
        for op in chosen.values():
            errors += anonymous_refusals(op.top_fields.values())
        if errors:
            return errors
    problems = text_problems(document, variables)
    if problems:
        return problems
    if summary.unknown_fragments:
        return [GraphQLError(f"片段 {s.name.value} 未定义 (unknown fragment '{s.name.value}')", nodes=[s],
                             extensions={"code": "unknown_fragment"}) for s in summary.unknown_fragments]
    for name, op in chosen.items():
        label = name or "anonymous"
        if op.depth > max_depth:
            errors.append(GraphQLError(
                f"查询嵌套过深：最多 {max_depth} 层，此查询 {op.depth} 层 "
                f"('{label}' exceeds maximum operation depth of {max_depth})",
                extensions={"code": "too_deep", "depth": op.depth, "limit": max_depth}))
        if op.aliases > max_aliases:
            errors.append(GraphQLError(
                f"别名过多：最多 {max_aliases} 个，此查询 {op.aliases} 个 "
                f"({op.aliases} aliases found. Allowed: {max_aliases})",
                extensions={"code": "too_many_aliases", "aliases": op.aliases, "limit": max_aliases}))
        if op.cost > max_cost:
            errors.append(GraphQLError(
                f"查询代价过高：估算 {op.cost}，上限 {max_cost}；请减小 first/last、别名或嵌套的列表 "
                f"(query cost {op.cost} exceeds the limit of {max_cost}; connections multiply their "
                "children by first/last or the default page size)",
                extensions={"code": "query_too_costly", "cost": op.cost, "limit": max_cost}))
    if not errors and summary.repeated:
        what, times, node = summary.repeated[0]
        return [GraphQLError(
            f"同一层中 {what} 重复了 {times} 次（最多 {MAX_REPEATS} 次），请去掉重复的选择 "
            f"({what} selected {times} times in one selection set; at most {MAX_REPEATS})", nodes=[node],
            extensions={"code": "repeated_selection", "times": times, "limit": MAX_REPEATS})]
    return errors
