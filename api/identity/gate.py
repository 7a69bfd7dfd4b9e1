"""Anonymous callers may ask for `serverInfo` only: no introspection, no other field, no mutation.

The check runs in `api.limits.DocumentLimits` before validation, on the top-level fields of the operation as
summarised there (every fragment visited once), so it is linear in the document and an anonymous caller never
reaches graphql-core's validation and its schema-revealing suggestions for anything but `serverInfo`.
"""

from __future__ import annotations

from collections.abc import Iterable

from graphql import FieldNode, GraphQLError

__all__ = ["ANONYMOUS_FIELDS", "anonymous_refusals"]

ANONYMOUS_FIELDS = frozenset({"serverInfo", "__typename"})


def anonymous_refusals(top_level_fields: Iterable[FieldNode]) -> list[GraphQLError]:
    """One error per top-level field an anonymous caller may not ask for (each field name once)."""
    errors: list[GraphQLError] = []
    seen: set[str] = set()
    for node in top_level_fields:
        name = node.name.value
        if name in ANONYMOUS_FIELDS or name in seen:
            continue
        seen.add(name)
        what = "introspection" if name.startswith("__") else f"field {name}"
        errors.append(GraphQLError(
            f"请先登录：匿名调用只能查询 serverInfo (sign in or send a bearer token; {what} is refused "
            "to anonymous callers)",
            nodes=[node], path=[node.alias.value if node.alias else name], extensions={"code": "unauthenticated"}))
    return errors
