"""Validation of a query text is done once: graphql-core's validation of a 13-field list query costs about as
much as the SQL of its page, and integrators send the same few texts over and over (PostGraphile caches too).

`ValidatedQueries` sits after `api.limits.DocumentLimits` in the schema's extensions: when the limits have not
refused the document and this query text passed validation before (bounded LRU, per schema), validation is not
run again; otherwise it runs, and a pass is remembered. The limits, which depend on the caller, still run on
every request."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from threading import Lock
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

__all__ = ["ValidatedQueries"]

_MAXSIZE = 256
_cache: OrderedDict[tuple[int, str, tuple[Any, ...]], list[GraphQLError]] = OrderedDict()  # valid texts: []
_lock = Lock()


class ValidatedQueries(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.pre_execution_errors is None and ctx.graphql_document is not None and ctx.query:
            rules = tuple(ctx.validation_rules)
            key = (id(ctx.schema._schema), ctx.query, rules)
            with _lock:
                errors = _cache.get(key)
                if errors is not None:
                    _cache.move_to_end(key)
            if errors is None:
                errors = validate_document(ctx.schema._schema, ctx.graphql_document, rules)
                if not errors:  # only a valid text is remembered; errors are reported afresh each time
                    with _lock:
                        _cache[key] = errors
                        while len(_cache) > _MAXSIZE:
                            _cache.popitem(last=False)
            ctx.pre_execution_errors = list(errors)  # a copy: later extensions may edit it in place
        yield
