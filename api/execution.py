"""graphql-core's executor with a short path for objects whose selected fields are all plain leaves.

A page of 50 actions with 13 fields is 650 leaf values; graphql-core resolves each one as a field of its own (a
path, a resolve-info object, the resolver, value completion), which costs more than the SQL of the page. When every
field selected on an object is a leaf (scalar or enum) that Strawberry resolves as a plain attribute (no resolver,
no arguments, no extension, no directive) and no field middleware is installed, `LeafFieldsExecutor` reads the
attributes and coerces them with the field type's own `coerce_output_value`, exactly as graphql-core would. Any
value graphql-core would turn into an error (a null for a non-null field, a value the scalar refuses) sends that
object back through graphql-core's own path, so errors, their paths and null propagation stay what they were."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLObjectType, is_leaf_type, is_non_null_type
from graphql.pyutils import Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

__all__ = ["LeafFieldsExecutor"]

# (response key, attribute, coerce, non-null); attribute None: the `__typename` meta field
_Leaf = tuple[str, str | None, Callable[[Any], Any] | None, bool]
_NOT_PLAIN = object()


class LeafFieldsExecutor(StrawberryGraphQLCoreExecutionContext):
    _leaf_plans: dict[tuple[str, int], tuple[Any, Any]]

    def execute_fields(self, parent_type: GraphQLObjectType, source_value: Any, path: Any,
                       grouped_field_set: Any, position_context: Any) -> Any:
        plan = self._leaf_plan(parent_type, grouped_field_set)
        if plan is not None:
            results = _plain_leaves(plan, parent_type, source_value)
            if results is not None:
                return results
        return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)

    def _leaf_plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> list[_Leaf] | None:
        # grouped field sets are memoized per execution (graphql-core's collect_subfields), so a list's items share
        # one plan; the set is kept alive with its plan, so its id is not reused within the execution
        plans: dict[tuple[str, int], tuple[Any, Any]] | None = getattr(self, "_leaf_plans", None)
        if plans is None:
            plans = {}
            self._leaf_plans = plans
        key = (parent_type.name, id(grouped_field_set))
        found = plans.get(key)
        if found is None:
            middleware = self.middleware_manager  # Strawberry always passes one: empty unless a `resolve` hook
            wrapped = middleware is not None and bool(middleware.middlewares)
            found = (grouped_field_set, _NOT_PLAIN if wrapped else _plan(parent_type, grouped_field_set))
            plans[key] = found
        plan = found[1]
        return None if plan is _NOT_PLAIN else plan


def _plan(parent_type: GraphQLObjectType, grouped_field_set: Any) -> Any:
    plan: list[_Leaf] = []
    for response_name, details in grouped_field_set.items():
        node = details[0].node
        if node.arguments or node.directives:
            return _NOT_PLAIN
        name = node.name.value
        if name == "__typename":
            plan.append((response_name, None, None, True))
            continue
        field_def = parent_type.fields.get(name)
        if field_def is None or field_def.args or not getattr(field_def.resolve, "_is_default", False):
            return _NOT_PLAIN
        definition = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
        if definition is None or not definition.is_basic_field or definition.default_resolver is not getattr:
            return _NOT_PLAIN
        non_null = is_non_null_type(field_def.type)
        leaf = field_def.type.of_type if non_null else field_def.type  # type: ignore[attr-defined]
        if not is_leaf_type(leaf):
            return _NOT_PLAIN
        plan.append((response_name, definition.python_name, leaf.coerce_output_value, non_null))
    return plan


def _plain_leaves(plan: list[_Leaf], parent_type: GraphQLObjectType, source: Any) -> dict[str, Any] | None:
    """The object's values, or None when one of them needs graphql-core's own handling (an error to report)."""
    results: dict[str, Any] = {}
    try:
        for response_name, attr, coerce, non_null in plan:
            if attr is None:
                results[response_name] = parent_type.name
                continue
            value = getattr(source, attr)
            if value is None or value is Undefined or isinstance(value, Exception):
                if non_null or isinstance(value, Exception):
                    return None
                results[response_name] = None
                continue
            coerced = coerce(value)  # type: ignore[misc]
            if coerced is None or coerced is Undefined:
                return None
            results[response_name] = coerced
    except Exception:  # graphql-core reports it, with its path
        return None
    return results
