"""Resolver fields called without Strawberry's per-call wrapping, where that wrapping does nothing for them.

For every field with a resolver, Strawberry's `from_resolver` installs a graphql-core resolve function that, on each
call, makes the Strawberry `Info`, converts each argument (`convert_arguments`: one `convert_argument` per argument,
a chain of isinstance checks), builds a chain of closures for the field's extensions (`reduce`/`partial`, even when
there are none), calls the resolver and, for an async one, awaits it inside one more coroutine (`await_maybe`). A
50-row list asked with eight arguments paid for all of that once at its root, and an entity with its three nested
windows eight times.

`lean_resolvers` replaces that function, once at schema build, on the fields where the conversion is the identity
and there is nothing to wrap: no field extensions (permissions are extensions), no exception handlers of the
schema, and every argument a scalar (`str`, `int`, `bool`, `float`, `ID`, `Date`, `DateTime`, `Decimal`, `JSON`…)
or an optional one — graphql-core has already parsed those into their Python values, which `convert_argument`
returns as they are. The replacement makes the same `Info`, renames the arguments to the resolver's parameter names
(`first`, `after`, `region_code`…), passes `self`/`root`/`parent`/`info` as Strawberry would, and returns what the
resolver returns (a coroutine is awaited by graphql-core itself). Input types, lists, enums, `Maybe` and global ids
keep Strawberry's function.

REGWATCH_LEAN_RESOLVERS=0 at import turns it off, for measuring."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from graphql import GraphQLObjectType, GraphQLResolveInfo
from strawberry.scalars import is_scalar
from strawberry.types.base import StrawberryMaybe, StrawberryOptional
from strawberry.types.field import StrawberryField

__all__ = ["ENABLED", "lean_resolvers"]

ENABLED = os.environ.get("REGWATCH_LEAN_RESOLVERS", "1") != "0"
BACKREF = "strawberry-definition"


def lean_resolvers(schema: Any) -> int:
    """Swap in the plain resolve function on every field of `schema` (a Strawberry schema) that qualifies; the
    number swapped."""
    if not ENABLED:
        return 0
    converter = schema.schema_converter
    swapped = 0
    for graphql_type in schema._schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        for graphql_field in graphql_type.fields.values():
            field = (graphql_field.extensions or {}).get(BACKREF)
            if not isinstance(field, StrawberryField) or graphql_field.resolve is None:
                continue
            resolve = _plain_resolver(field, converter)
            if resolve is not None:
                # Strawberry's own function, kept beside it (tests compare the two)
                resolve.strawberry_resolve = graphql_field.resolve  # type: ignore[attr-defined]
                graphql_field.resolve = resolve
                swapped += 1
    return swapped


def _is_plain_argument(type_: Any, scalar_registry: Any) -> bool:
    if isinstance(type_, StrawberryMaybe):
        return False
    if isinstance(type_, StrawberryOptional):
        type_ = type_.of_type
    return is_scalar(type_, scalar_registry)


def _plain_resolver(field: StrawberryField, converter: Any) -> Callable[..., Any] | None:
    resolver = field.base_resolver
    if resolver is None or field.is_subscription or field.extensions or field.permission_classes:
        return None
    if converter._get_field_exception_handlers(field):
        return None
    if not callable(resolver.wrapped_func):
        return None
    registry, config = converter.scalar_registry, converter.config
    names: dict[str, str] = {}  # GraphQL argument name -> the resolver's parameter
    for argument in field.arguments:
        if not _is_plain_argument(argument.type, registry) or argument.python_name is None:
            return None
        names[config.name_converter.from_argument(argument)] = argument.python_name
    function = resolver.wrapped_func
    takes_self = resolver.self_parameter is not None
    source_names = tuple(p.name for p in (resolver.parent_parameter, resolver.root_parameter) if p is not None)
    info_name = resolver.info_parameter.name if resolver.info_parameter is not None else None
    info_class = config.info_class

    def resolve(_source: Any, info: GraphQLResolveInfo, **kwargs: Any) -> Any:
        call = {names[name]: value for name, value in kwargs.items()}
        for name in source_names:
            call[name] = _source
        if info_name is not None:
            call[info_name] = info_class(_raw_info=info, _field=field)
        if takes_self:
            return function(_source, **call)
        return function(**call)

    return resolve
