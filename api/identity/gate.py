"""Anonymous callers may ask for `serverInfo` only: no introspection, no other field, no mutation."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension

from domain.identity.actor import ANONYMOUS

__all__ = ["ANONYMOUS_FIELDS", "SignedInOnly"]

ANONYMOUS_FIELDS = frozenset({"serverInfo", "__typename"})


def _top_level_fields(document: DocumentNode) -> Iterator[FieldNode]:
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}

    def walk(selection_set: SelectionSetNode, seen: frozenset[str]) -> Iterator[FieldNode]:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                yield from walk(selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                fragment = fragments.get(selection.name.value)
                if fragment is not None:
                    yield from walk(fragment.selection_set, seen | {selection.name.value})

    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            yield from walk(definition.selection_set, frozenset())


class SignedInOnly(SchemaExtension):
    """Refuse, before execution, any operation of an anonymous caller that asks for more than `serverInfo`."""

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        actor = getattr(ctx.context, "actor", ANONYMOUS)
        document = ctx.graphql_document
        if not actor.is_authenticated and document is not None:
            refused = [f for f in _top_level_fields(document) if f.name.value not in ANONYMOUS_FIELDS]
            if refused:
                errors = []
                for field in refused:
                    name = field.name.value
                    what = "introspection" if name.startswith("__") else f"field {name}"
                    errors.append(GraphQLError(
                        f"请先登录：匿名调用只能查询 serverInfo (sign in or send a bearer token; {what} is refused "
                        "to anonymous callers)",
                        nodes=[field], path=[field.alias.value if field.alias else name],
                        extensions={"code": "unauthenticated"}))
                ctx.result = ExecutionResult(data=None, errors=errors)
        yield
