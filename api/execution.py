"""graphql-core's executor with short paths for plain fields: leaves read as attributes, lists of objects in one loop.

A page of 50 actions with 13 fields is 650 leaf values; graphql-core resolves each one as a field of its own (a
path, a resolve-info object, the resolver, value completion), and completes each item of a list through five calls
(complete_list_item_value, complete_value twice, complete_object_value, collect_and_execute_subfields), which costs
more than the SQL of the page. `LeafFieldsExecutor` plans each grouped field set once per execution (what a schema
field allows is found once per field for the process; the operation's root fields are left to graphql-core):

* a *plain* field is one Strawberry resolves as an attribute (no resolver, no arguments, no extension, no directive
  on any of its nodes) and no field middleware is installed (a middleware sends everything to graphql-core);
* a plain leaf (scalar or enum) is read with getattr and coerced by the type's own `coerce_output_value`, with a
  shortcut for the values whose coercion is the identity (an exact `str` for String and ID, an exact `bool` for
  Boolean, an exact 32-bit `int` for Int, a finite exact `float` for Float; an exact `int` for ID is `str(v)`);
* a plain field of an object type without `is_type_of` (outside @defer) is read with getattr and its sub-selection
  executed directly, as graphql-core's complete_object_value would;
* every other field (resolvers, lists, arguments, directives, abstract types, `__schema`) goes to graphql-core's
  own `execute_field`; all fields are taken in the selection's order (so errors are reported in graphql-core's
  order), awaitables gathered as graphql-core gathers them;
* a list (possibly non-null) of a (possibly non-null) object type without `is_type_of`, returned as a Python list or
  tuple outside @defer and without any directive on the field (so never @stream), completes its items in one loop;
  an item that is awaitable, None or an exception goes through graphql-core's per-item path;
* an object value's type that has passed the awaitable and exception checks once is known plain for the process
  (`_PLAIN_TYPES`: classes of the default metaclass without `__await__`, `__getattr__` or a custom
  `__getattribute__`, so no instance of them can answer those checks otherwise); its later instances skip them.

Any value graphql-core would turn into an error (a null for a non-null field, a value the scalar refuses, an
exception raised by getattr or held as a value, an awaitable held by an attribute) sends that field back through
graphql-core's `execute_field` (for an item of an all-leaf list: the item through graphql-core's per-item path), so
errors, their paths and null propagation stay what graphql-core gives. A field sent back is read a second time.

`FAST = False` (or REGWATCH_PLAIN_FAST=0 at import) keeps only the object-level all-leaves path of the first version
with graphql-core's own coercion, for measuring."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

from graphql import DirectiveNode, DocumentNode, GraphQLObjectType, Node, is_leaf_type, is_non_null_type, is_object_type
from graphql.execution.collect_fields import FieldDetails
from graphql.execution.executor import collect_iterator_awaitables
from graphql.pyutils import Path, Undefined, gather_with_cancel
from graphql.type.scalars import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
    serialize_boolean,
    serialize_float,
    serialize_id,
    serialize_int,
    serialize_string,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

__all__ = ["FAST", "CollectedOnceExecutor", "LeafFieldsExecutor", "has_directives"]

FAST = os.environ.get("REGWATCH_PLAIN_FAST", "1") != "0"

_LEAF, _TYPENAME, _OBJECT, _FIELD = range(4)
# (kind, response key, attribute, identity type, coerce, non-null, field details, return type, object type, sub plan)
_Entry = tuple[int, str, str | None, type | None, Callable[[Any], Any] | None, bool, list[FieldDetails], Any, Any,
               Any]
_FAIL = object()
_NOT_PLAIN = object()


class _Never:  # no value's type is this one: a leaf without an identity shortcut
    pass


# exact types whose instances are neither awaitable nor exceptions
_INERT = frozenset({str, int, float, bool, Decimal, date, datetime, time, UUID, dict, list, tuple})
# object values' classes found neither awaitable nor exceptions (`_note_plain`): a node class, a record type
_PLAIN_TYPES: set[type] = set()
_PLAIN_TYPES_MAX = 4096


def _noted(value: Any) -> bool:
    _note_plain(value)
    return True


def _note_plain(value: Any) -> None:
    """Remember the class of an object value that passed the awaitable and exception checks, where its instances
    cannot answer them otherwise: the default metaclass (no custom isinstance), no `__await__` (awaitability is
    the type's), no `__getattr__` and the default `__getattribute__` (no attribute conjured per instance)."""
    cls = type(value)
    if (cls is not object and type(cls) is type and not hasattr(cls, "__await__") and not hasattr(cls, "__getattr__")
            and cls.__getattribute__ is object.__getattribute__ and not issubclass(cls, BaseException)
            and cls.__dict__.get("__class__") is None and len(_PLAIN_TYPES) < _PLAIN_TYPES_MAX):
        _PLAIN_TYPES.add(cls)


def _int(value: Any) -> Any:
    if type(value) is int and GRAPHQL_MIN_INT <= value <= GRAPHQL_MAX_INT:
        return value
    return serialize_int(value)


def _float(value: Any) -> Any:
    if type(value) is float and value - value == 0.0:  # finite (inf - inf and nan - nan are nan)
        return value
    return serialize_float(value)


def _id(value: Any) -> Any:
    if type(value) is int:  # serialize_id: str(int(value))
        return str(value)
    return serialize_id(value)


# graphql-core's own coercion -> (the type coerced to itself, the coercion for every other value)
_SHORTCUTS: dict[Any, tuple[type, Callable[[Any], Any]]] = {
    serialize_string: (str, serialize_string),
    serialize_id: (str, _id),
    serialize_boolean: (bool, serialize_boolean),
    serialize_int: (_Never, _int),
    serialize_float: (_Never, _float),
}


class _Plan:
    __slots__ = ("entries", "pure")

    def __init__(self, entries: tuple[_Entry, ...]) -> None:
        self.entries = entries
        self.pure = all(e[0] in (_LEAF, _TYPENAME) for e in entries)  # leaves only: no path, no graphql-core


class _ListPlan:
    __slots__ = ("item_type", "object_type", "plan")

    def __init__(self, item_type: Any, object_type: GraphQLObjectType, plan: _Plan) -> None:
        self.item_type = item_type
        self.object_type = object_type
        self.plan = plan


class LeafFieldsExecutor(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # per execution (sub-executors are shallow copies and share them); grouped field sets and field details lists
        # are memoized per execution by graphql-core, so a list's items share one plan; each key's object is kept
        # alive with its plan, so its id is not reused within the execution
        self._plans: dict[int, tuple[Any, GraphQLObjectType, Any]] = {}
        self._list_plans: dict[int, tuple[Any, Any, Any]] = {}
        middleware = self.middleware_manager  # Strawberry always passes one: empty unless a `resolve` hook
        self._wrapped = middleware is not None and bool(middleware.middlewares)

    # --- objects ------------------------------------------------------------------------------------------------

    def execute_fields(self, parent_type: GraphQLObjectType, source_value: Any, path: Any,
                       grouped_field_set: Any, position_context: Any) -> Any:
        # the operation's root fields (path None) have resolvers: graphql-core's own, without planning them
        plan = None if path is None else self._plan(parent_type, grouped_field_set)
        if plan is None:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        if plan.pure:
            results = _plain_leaves(plan.entries, parent_type.name, source_value, self.is_awaitable)
            if results is not None:
                return results
            if not FAST:
                return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        return self._execute_planned(plan, parent_type, source_value, path, position_context)

    def _execute_planned(self, plan: _Plan, parent_type: GraphQLObjectType, source: Any, path: Any,
                         position_context: Any) -> Any:
        """graphql-core's execute_fields with the plain fields read in place (the same results, errors and order)."""
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        type_name = parent_type.name
        try:
            for kind, key, attr, same, coerce, non_null, details, return_type, object_type, sub in plan.entries:
                if kind == _LEAF:
                    try:
                        value = getattr(source, attr)  # type: ignore[arg-type]
                        if type(value) is same:
                            results[key] = value
                            continue
                        value = _coerced(value, coerce, non_null, is_awaitable)  # type: ignore[arg-type]
                    except Exception:
                        value = _FAIL
                    if value is not _FAIL:
                        results[key] = value
                        continue
                elif kind == _TYPENAME:
                    results[key] = type_name
                    continue
                elif kind == _OBJECT and position_context is None:
                    try:
                        value = getattr(source, attr)  # type: ignore[arg-type]
                    except Exception:
                        value = _FAIL
                    if value is None or value is Undefined:
                        if not non_null:
                            results[key] = None
                            continue
                    elif value is not _FAIL and (type(value) in _PLAIN_TYPES or (
                            not isinstance(value, Exception) and not is_awaitable(value) and _noted(value))):
                        if sub.pure:  # its leaves in place: no path unless one of them needs graphql-core
                            leaves = _plain_leaves(sub.entries, object_type.name, value, is_awaitable)
                            if leaves is not None:
                                results[key] = leaves
                                continue
                        result = self._complete_object(value, object_type, sub, return_type, details,
                                                       Path(path, key, type_name))
                        results[key] = result
                        if is_awaitable(result):
                            awaitable_fields.append(key)
                        continue
                # graphql-core's own field execution
                result = self.execute_field(parent_type, source, details, Path(path, key, type_name),
                                            position_context)
                if result is not Undefined:
                    results[key] = result
                    if is_awaitable(result):
                        awaitable_fields.append(key)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise

        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                field = awaitable_fields[0]
                results[field] = await results[field]
            else:
                awaited = await gather_with_cancel(*(results[field] for field in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

    def _complete_object(self, value: Any, object_type: GraphQLObjectType, plan: _Plan, return_type: Any,
                         details: list[FieldDetails], field_path: Path) -> Any:
        """execute_field's completion of a plain object field's value (not None, not awaitable, no is_type_of)."""
        try:
            completed = self._execute_planned(plan, object_type, value, field_path, None)
            if self.is_awaitable(completed):
                return self._await_completed(completed, return_type, details, field_path)
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, details, field_path)
            return None
        return completed

    async def _await_completed(self, completed: Awaitable[Any], return_type: Any, details: list[FieldDetails],
                               path: Path) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, details, path)
            return None

    # --- lists --------------------------------------------------------------------------------------------------

    def complete_list_value(self, return_type: Any, field_details_list: Any, info: Any, path: Any, result: Any,
                            position_context: Any) -> Any:
        if FAST and position_context is None and (type(result) is list or type(result) is tuple):
            list_plan = self._list_plan(return_type, field_details_list)
            if list_plan is not None:
                return self._complete_plain_list(list_plan, field_details_list, info, path, result)
        return super().complete_list_value(return_type, field_details_list, info, path, result, position_context)

    def _complete_plain_list(self, list_plan: _ListPlan, details: Any, info: Any, path: Path, items: Any) -> Any:
        """graphql-core's complete_iterable_value for a list of plain objects, one loop for all the items."""
        is_awaitable = self.is_awaitable
        item_type = list_plan.item_type
        object_type = list_plan.object_type
        type_name = object_type.name
        plan = list_plan.plan
        entries = plan.entries
        pure = plan.pure
        plain_types = _PLAIN_TYPES
        completed: list[Any] = []
        append = completed.append
        awaitable_indices: list[int] = []
        iterator = iter(items)
        index = 0
        try:
            for item in iterator:
                if type(item) in plain_types or (item is not None and not is_awaitable(item)
                                                 and not isinstance(item, Exception) and _noted(item)):
                    if pure:
                        values = _plain_leaves(entries, type_name, item, is_awaitable)
                        if values is not None:
                            append(values)
                            index += 1
                            continue
                    else:
                        item_path = path.add_key(index, None)
                        try:
                            value = self._execute_planned(plan, object_type, item, item_path, None)
                            if is_awaitable(value):
                                value = self._await_completed(value, item_type, details, item_path)
                                awaitable_indices.append(index)
                            append(value)
                        except Exception as raw_error:
                            self.handle_field_error(raw_error, item_type, details, item_path)
                            append(None)
                        index += 1
                        continue
                # graphql-core's own completion of the item
                item_path = path.add_key(index, None)
                if is_awaitable(item):
                    append(self.complete_awaitable_list_item_value(item, item_type, details, info, item_path, None))
                    awaitable_indices.append(index)
                elif self.complete_list_item_value(item, completed, item_type, details, info, item_path, None):
                    awaitable_indices.append(index)
                index += 1
        except Exception:
            maybe_awaitables = [completed[i] for i in awaitable_indices]
            maybe_awaitables.extend(collect_iterator_awaitables(iterator, is_awaitable))
            if maybe_awaitables:
                self.settle_in_background(maybe_awaitables)
            raise

        if not awaitable_indices:
            return completed

        async def get_completed_results() -> list[Any]:
            if len(awaitable_indices) == 1:
                i = awaitable_indices[0]
                completed[i] = await completed[i]
            else:
                awaited = await gather_with_cancel(*(completed[i] for i in awaitable_indices))
                for i, sub_result in zip(awaitable_indices, awaited, strict=True):
                    completed[i] = sub_result
            return completed

        return get_completed_results()

    # --- plans --------------------------------------------------------------------------------------------------

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> _Plan | None:
        found = self._plans.get(id(grouped_field_set))
        if found is None or found[1] is not parent_type:
            plan = _NOT_PLAIN if self._wrapped else self._shared_plan(parent_type, grouped_field_set)
            found = (grouped_field_set, parent_type, plan)
            self._plans[id(grouped_field_set)] = found
        plan = found[2]
        return None if plan is _NOT_PLAIN else plan

    def _shared_plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> Any:
        """The plan of a grouped field set, shared by every execution of the same document (a prepared text runs
        over the same field nodes each time): keyed by the parent type and each response key's field nodes. The
        nodes are held by the entry, so their ids are not reused while it lives. A field inside @defer is planned
        per execution."""
        nodes: list[Any] = []
        for details in grouped_field_set.values():
            for d in details:
                if d.defer_usage is not None:
                    return self._build_plan(parent_type, grouped_field_set)
                nodes.append(d.node)
        key = (parent_type, tuple(grouped_field_set), tuple(map(id, nodes)))
        found = _SHARED_PLANS.get(key)
        if found is None:
            found = (nodes, self._build_plan(parent_type, grouped_field_set))
            if len(_SHARED_PLANS) >= _SHARED_PLANS_MAX:
                _SHARED_PLANS.clear()
            _SHARED_PLANS[key] = found
        return found[1]

    def _build_plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> Any:
        entries = [self._entry(parent_type, key, details) for key, details in grouped_field_set.items()]
        plan = _Plan(tuple(entries))
        if not FAST and not plan.pure:  # the first version: objects of plain leaves only
            return _NOT_PLAIN
        return plan

    def _entry(self, parent_type: GraphQLObjectType, key: str, details: list[FieldDetails]) -> _Entry:
        other: _Entry = (_FIELD, key, None, None, None, False, details, None, None, None)
        if any(d.node.arguments or d.node.directives for d in details):
            return other
        name = details[0].node.name.value
        if name == "__typename":
            return (_TYPENAME, key, None, None, None, True, details, None, None, None)
        if name.startswith("__"):
            return other
        field_def = parent_type.fields.get(name)
        if field_def is None:
            return other
        found = _FIELDS.get(id(field_def)) if FAST else None
        if found is None or found[0] is not field_def:
            found = (field_def, _plain_field(field_def))
            if FAST:
                _FIELDS[id(field_def)] = found
        plain = found[1]
        if plain is None:
            return other
        kind, attr, same, coerce, non_null, return_type, named = plain
        if kind == _LEAF:
            return (_LEAF, key, attr, same, coerce, non_null, details, return_type, None, None)
        sub = self._sub_plan(named, details)
        if sub is None:
            return other
        return (_OBJECT, key, attr, None, None, non_null, details, return_type, named, sub)

    def _sub_plan(self, object_type: GraphQLObjectType, details: list[FieldDetails]) -> _Plan | None:
        try:  # graphql-core's memoized collection, as complete_object_value would call it
            grouped_field_set, new_defer_usages, _forbidden = self.collect_subfields(object_type, details)
        except Exception:  # raised where graphql-core raises it
            return None
        if new_defer_usages:
            return None
        return self._plan(object_type, grouped_field_set)  # the set is kept alive in self._plans

    def _list_plan(self, return_type: Any, details: Any) -> _ListPlan | None:
        found = self._list_plans.get(id(details))
        if found is None or found[1] is not return_type:
            found = (details, return_type, self._build_list_plan(return_type, details))
            self._list_plans[id(details)] = found
        return found[2]  # type: ignore[no-any-return]

    def _build_list_plan(self, return_type: Any, details: Any) -> _ListPlan | None:
        if self._wrapped or any(d.node.directives for d in details):  # @stream, or a directive of ours
            return None
        item_type = return_type.of_type
        object_type = item_type.of_type if is_non_null_type(item_type) else item_type
        if not is_object_type(object_type) or object_type.is_type_of:
            return None
        plan = self._sub_plan(object_type, details)
        return None if plan is None else _ListPlan(item_type, object_type, plan)


class CollectedOnceExecutor(LeafFieldsExecutor):
    """`LeafFieldsExecutor` for a document without a single directive that is run again and again over the same
    nodes (`api.prepared` keeps each text's document): the sub-selection of each object field is collected once for
    the process instead of once per execution.

    graphql-core collects the fields of every object value's sub-selection (fragments expanded, @skip/@include
    evaluated against the variables, @defer usages noted) and memoizes that per execution by the identity of the
    field details list. Without any directive in the document the collection depends on nothing but the schema, the
    document's fragments, the type and the field nodes — never on the variables — so its result is the same for
    every execution: kept by (type, ids of the field nodes), the nodes held by the entry so their ids are not reused.
    Collected sets are only read by the executor. An entity with three nested windows collects seven sets per
    request."""

    def collect_subfields(self, return_type: GraphQLObjectType, field_details_list: Any) -> Any:
        memo = self._relevant_sub_fields  # graphql-core's per-execution memo, by the list's identity
        key = (return_type, id(field_details_list))
        cached = memo.get(key)
        if cached is not None:
            return cached[1]
        nodes = tuple(d.node for d in field_details_list)
        shared_key = (return_type, tuple(map(id, nodes)))
        found = _COLLECTED.get(shared_key)
        if found is None:
            found = (nodes, super().collect_subfields(return_type, field_details_list))
            if len(_COLLECTED) >= _COLLECTED_MAX:
                _COLLECTED.clear()
            _COLLECTED[shared_key] = found
        else:
            memo[key] = (field_details_list, found[1])
        return found[1]


def has_directives(document: DocumentNode) -> bool:
    """Whether any node of the document is a directive (on an operation, a field, a fragment, a variable)."""
    stack: list[Any] = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, DirectiveNode):
            return True
        if isinstance(value, Node):
            stack.extend(getattr(value, key) for key in value.keys if key != "loc")
        elif isinstance(value, (list, tuple)):
            stack.extend(value)
    return False


# collected sub-selections of directive-free documents (`CollectedOnceExecutor`): (type, ids of the field nodes) ->
# (the nodes, graphql-core's collected fields)
_COLLECTED: dict[tuple[Any, ...], tuple[tuple[Any, ...], Any]] = {}
_COLLECTED_MAX = 4096

# plans shared across executions (see `_shared_plan`): (type, keys, ids of the field nodes) -> (the nodes, plan)
_SHARED_PLANS: dict[tuple[Any, ...], tuple[list[Any], Any]] = {}
_SHARED_PLANS_MAX = 2048

# the schema's plain fields (schemas live as long as the process; the field is kept alive with its entry, so its
# id is not reused): id(field) -> (field, what _plain_field found)
_FIELDS: dict[int, tuple[Any, Any]] = {}


def _plain_field(field_def: Any) -> tuple[int, str, type, Any, bool, Any, Any] | None:
    """What a field's definition says about it: a plain leaf or a plain object field, or None (graphql-core's)."""
    if field_def.args or not getattr(field_def.resolve, "_is_default", False):
        return None
    definition = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if definition is None or not definition.is_basic_field or definition.default_resolver is not getattr:
        return None
    return_type = field_def.type
    non_null = is_non_null_type(return_type)
    named = return_type.of_type if non_null else return_type
    if is_leaf_type(named):
        coerce = named.coerce_output_value
        same, coerce = _SHORTCUTS.get(coerce, (_Never, coerce)) if FAST else (_Never, coerce)
        return (_LEAF, definition.python_name, same, coerce, non_null, return_type, named)
    if FAST and is_object_type(named) and not named.is_type_of:
        return (_OBJECT, definition.python_name, _Never, None, non_null, return_type, named)
    return None


def _coerced(value: Any, coerce: Callable[[Any], Any], non_null: bool, is_awaitable: Callable[[Any], bool]) -> Any:
    """A leaf's value as graphql-core completes it, or _FAIL where graphql-core raises (or awaits)."""
    if value is None or value is Undefined:
        return _FAIL if non_null else None
    if type(value) not in _INERT and (isinstance(value, Exception) or is_awaitable(value)):
        return _FAIL
    coerced = coerce(value)
    if coerced is None or coerced is Undefined:
        return _FAIL
    return coerced


def _plain_leaves(entries: tuple[_Entry, ...], type_name: str, source: Any,
                  is_awaitable: Callable[[Any], bool]) -> dict[str, Any] | None:
    """The object's values, or None when one of them needs graphql-core's own handling (an error to report)."""
    results: dict[str, Any] = {}
    try:
        for _kind, key, attr, same, coerce, non_null, _d, _r, _o, _s in entries:
            if attr is None:  # __typename
                results[key] = type_name
                continue
            value = getattr(source, attr)
            if type(value) is same:
                results[key] = value
            elif value is None or value is Undefined:
                if non_null:
                    return None
                results[key] = None
            elif type(value) not in _INERT and (isinstance(value, Exception) or is_awaitable(value)):
                return None
            else:
                value = coerce(value)  # type: ignore[misc]
                if value is None or value is Undefined:
                    return None
                results[key] = value
    except Exception:  # graphql-core reports it, with its path
        return None
    return results
