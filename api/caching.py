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

from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

__all__ = ["BoundedLRU", "ValidatedQueries"]

_MAXSIZE = 256


class BoundedLRU:
    """A thread-safe LRU of at most `maxsize` entries: what a query text earned once (its validation, its limits)."""

    def __init__(self, maxsize: int = _MAXSIZE) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[Any, Any] = OrderedDict()
        self._lock = Lock()

    def get(self, key: Any) -> Any:
        """The value kept for `key` (now the most recent), or None."""
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)


_cache = BoundedLRU()  # valid texts: [] (no errors)


class ValidatedQueries(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.pre_execution_errors is None and ctx.graphql_document is not None and ctx.query:
            rules = tuple(ctx.validation_rules)
            key = (id(ctx.schema._schema), ctx.query, rules)
            errors = _cache.get(key)
            if errors is None:
                errors = validate_document(ctx.schema._schema, ctx.graphql_document, rules)
                if not errors:  # only a valid text is remembered; errors are reported afresh each time
                    _cache.put(key, errors)
            ctx.pre_execution_errors = list(errors)  # a copy: later extensions may edit it in place
        yield
