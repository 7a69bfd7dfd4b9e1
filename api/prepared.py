"""Query texts answered without Strawberry's per-request pipeline: parsed, limited and validated once, then executed
by graphql-core directly.

Strawberry runs every request through its operation pipeline: an execution context, five extension instances
(token limit, document limits, error policy, parser cache, validation cache) and their hooks around parsing,
validation and execution, a middleware manager — about as much CPU as the SQL of a 50-row page, for work that is
the same for every request of a given text. Integrators and pages send the same few texts over and over.

`PreparedQueries.lookup` takes a *query* text (never a mutation or subscription) that parses within the token
limit, passes the document limits for this caller (`api.limits.limit_problems`, cached for texts without
variables, checked every time with variables) and graphql-core's validation (kept per text), and returns its
`PreparedText` — or the limits' refusal for this caller, answered here as the full pipeline answers it (the limits
are checked once per request either way). `execute` runs the document with the schema's own executor class
(`api.execution.LeafFieldsExecutor`; for a document without any directive its `CollectedOnceExecutor`, which
collects each sub-selection once for the process), logs and shapes its errors with the one error mapping
(`api.errors.shape_errors`) and returns Strawberry's `ExecutionResult`, which the view turns into a response with
its own `process_result` and JSON encoder.

Anything else — a text that does not parse or fails validation, an operation that is not a query, an ambiguous or
unknown operation name, a request body that is not a plain JSON object of query/variables/operationName — is left
to Strawberry's full pipeline, which reports the problem exactly as before.
REGWATCH_PREPARED=0 at import turns the short path off, for measuring."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from inspect import isawaitable
from typing import Any

from graphql import DocumentNode, GraphQLError, OperationDefinitionNode, OperationType, parse, specified_rules
from graphql import execute as graphql_execute
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionResult

from api import limits
from api.caching import BoundedLRU
from api.errors import shape_errors
from api.execution import CollectedOnceExecutor, LeafFieldsExecutor, has_directives
from domain.settings import Settings

__all__ = ["ENABLED", "PreparedQueries", "PreparedText"]

ENABLED = os.environ.get("REGWATCH_PREPARED", "1") != "0"
_RULES = tuple(specified_rules)  # Strawberry's default validation rules (no extension of ours adds any)


@dataclass
class PreparedText:
    """A query text that parsed and passed validation: its document, its operations by name, and whether it holds
    no directive at all (its sub-selections are then collected once for the process: `CollectedOnceExecutor`)."""

    document: DocumentNode
    operations: dict[str | None, OperationDefinitionNode] = field(default_factory=dict)
    directive_free: bool = False


class PreparedQueries:
    def __init__(self, schema: Any, settings: Settings, *, maxsize: int = 256) -> None:
        self.schema = schema  # the Strawberry schema (its graphql-core schema, executor class and process_errors)
        self.settings = settings
        self._texts = BoundedLRU(maxsize)  # query text -> PreparedText; invalid texts are never kept
        # (text, operation name) whose operation is not a query here (a mutation, an unknown or missing name): left
        # to the full pipeline at once, without parsing it a second time
        self._elsewhere = BoundedLRU(maxsize)

    def lookup(self, query: str, operation_name: str | None, variables: dict[str, Any] | None, *,
               anonymous: bool) -> PreparedText | list[GraphQLError] | None:
        """The prepared text of `query` when it may run here for this caller; the limits' refusal of it for this caller
        (answered as the full pipeline would answer it); else None (the full pipeline answers)."""
        text = self._texts.get(query)
        known = text is not None
        if not known and self._elsewhere.get((query, operation_name)):
            return None
        if text is None:
            try:
                document = parse(query, max_tokens=self.settings.graphql_max_tokens)
            except GraphQLError:
                return None
            text = PreparedText(document, directive_free=not has_directives(document))
            definitions = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            for definition in definitions:
                if definition.name is not None:
                    text.operations[definition.name.value] = definition
            if len(definitions) == 1:  # without an operation name, only a document of one operation is unambiguous
                text.operations[None] = definitions[0]
        operation = text.operations.get(operation_name)
        if operation is None or operation.operation is not OperationType.QUERY:
            if not known:
                self._elsewhere.put((query, operation_name), True)
            return None
        # the limits run before validation, as in the full pipeline: a costly text is refused before it is validated
        settings = self.settings
        refusals = limits.limit_problems(query, text.document, self.schema._schema, variables, operation_name,
                                         anonymous=anonymous, max_depth=settings.graphql_max_depth,
                                         max_aliases=settings.graphql_max_aliases, max_cost=settings.graphql_max_cost)
        if refusals:
            return limits.without_suggestions(refusals) if anonymous else refusals
        if not known:
            if validate_document(self.schema._schema, text.document, _RULES):
                return None
            self._texts.put(query, text)  # only a text that parsed and validated is kept
        return text

    async def execute(self, text: PreparedText | list[GraphQLError], *, context: Any,
                      variables: dict[str, Any] | None, operation_name: str | None) -> ExecutionResult:
        """Run the text's document (or answer the refusals `lookup` gave instead of one)."""
        schema = self.schema
        if isinstance(text, list):
            schema.process_errors(text)
            return ExecutionResult(data=None, errors=shape_errors(
                text, mask=self.settings.is_prod, request_id=getattr(context, "request_id", None)))
        executor = schema.execution_context_class
        if text.directive_free and executor is LeafFieldsExecutor:
            executor = CollectedOnceExecutor
        try:
            outcome = graphql_execute(schema._schema, text.document, root_value=None, context_value=context,
                                     variable_values=variables, operation_name=operation_name,
                                     executor_class=executor,
                                     is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
                                     operation_extensions=None)
            result = await outcome if isawaitable(outcome) else outcome
            data, errors = result.data, result.errors
        except Exception as exc:
            data, errors = None, [exc if isinstance(exc, GraphQLError) else GraphQLError(str(exc), original_error=exc)]
        if errors:
            schema.process_errors(errors)
            errors = shape_errors(errors, mask=self.settings.is_prod,
                                  request_id=getattr(context, "request_id", None))
        return ExecutionResult(data=data, errors=errors or None)
