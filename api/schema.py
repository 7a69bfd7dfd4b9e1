"""The root schema, assembled from each feature's Query and Mutation classes.

A new feature adds its `<Feature>Query` / `<Feature>Mutation` to the lists below.
"""

from __future__ import annotations

import logging
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxTokensLimiter, ParserCache
from strawberry.schema.config import StrawberryConfig

from api.analysis.mutations import AnalysisMutation
from api.analysis.queries import AnalysisQuery
from api.audit.queries import AuditQuery
from api.caching import ValidatedQueries
from api.disposal.mutations import DisposalMutation
from api.disposal.queries import DisposalQuery
from api.disposal.subscriptions import DisposalSubscription
from api.errors import ErrorPolicy
from api.execution import LeafFieldsExecutor
from api.identity.mutations import IdentityMutation
from api.identity.queries import IdentityQuery
from api.integration.mutations import IntegrationMutation
from api.integration.queries import IntegrationQuery
from api.jobs.queries import JobsQuery
from api.limits import DocumentLimits
from api.platform.queries import PlatformQuery
from api.prepared import PreparedQueries
from api.reference.queries import ReferenceQuery
from api.resolvers import lean_resolvers
from api.risk.mutations import RiskMutation
from api.risk.queries import RiskQuery
from api.statistics.queries import StatisticsQuery
from api.supervision.mutations import SupervisionMutation
from api.supervision.queries import SupervisionQuery
from api.warnings.mutations import WarningsMutation
from api.warnings.queries import WarningsQuery
from domain.settings import Settings

__all__ = ["Schema", "build_schema"]

log = logging.getLogger("regwatch.graphql")

QUERIES: list[type] = [PlatformQuery, JobsQuery, RiskQuery, IdentityQuery, AuditQuery,
                       SupervisionQuery, IntegrationQuery, ReferenceQuery, AnalysisQuery, StatisticsQuery,
                       WarningsQuery, DisposalQuery]
MUTATIONS: list[type] = [IdentityMutation, RiskMutation, SupervisionMutation, IntegrationMutation, AnalysisMutation,
                          WarningsMutation, DisposalMutation]
SUBSCRIPTIONS: list[type] = [DisposalSubscription]


def _merge(name: str, parts: list[type]) -> type | None:
    if not parts:
        return None
    return strawberry.type(type(name, tuple(parts), {}))


class Schema(strawberry.Schema):
    prepared: PreparedQueries | None = None  # query texts answered without the per-request pipeline (api.prepared)

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Answers to the caller (bad input, refused access, limits) are not server errors: log them quietly.
        Unexpected errors are logged with their traceback and request id by ErrorPolicy."""
        for error in errors:
            log.debug("graphql error: %s", error.message)


def build_schema(settings: Settings, *, extra_queries: tuple[type, ...] = ()) -> Schema:
    query = _merge("Query", [*QUERIES, *extra_queries])
    assert query is not None, "the schema needs at least one Query class"
    mutation = _merge("Mutation", MUTATIONS)
    subscription = _merge("Subscription", SUBSCRIPTIONS)
    schema = Schema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        config=StrawberryConfig(auto_camel_case=True),
        # plain leaf fields of an object read in one step, not one graphql-core field each (api/execution.py)
        execution_context_class=LeafFieldsExecutor,
        # Factories, so each request gets fresh extension instances.
        extensions=[
            # Tokens are counted by the parser; depth, aliases, cost and the anonymous gate in one linear pass
            # before validation (api/limits.py).
            lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
            lambda: DocumentLimits(max_depth=settings.graphql_max_depth, max_aliases=settings.graphql_max_aliases,
                                   max_cost=settings.graphql_max_cost),
            lambda: ErrorPolicy(mask=settings.is_prod),
            # after the limits: a query text that passed graphql-core's validation once is not validated again,
            # and its parse is reused (api/caching.py; bounded LRUs)
            lambda: ParserCache(maxsize=256),
            ValidatedQueries,
        ],
    )
    schema.prepared = PreparedQueries(schema, settings)
    lean_resolvers(schema)  # resolvers of scalar arguments called without Strawberry's per-call wrapping
    return schema
