"""Domain errors → GraphQL, in one place: typed user errors in payloads, coded errors elsewhere."""

from __future__ import annotations

import logging

import strawberry
from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors

from domain.errors import DomainError

__all__ = ["ErrorPolicy", "UserError", "camel_field", "shape_errors", "user_errors"]

log = logging.getLogger("regwatch.graphql")


@strawberry.type(description="A problem with a mutation's input (输入错误): which field, a stable code, a message.")
class UserError:
    field: str | None
    code: str
    message: str


def camel_field(name: str | None) -> str | None:
    """A domain field name (snake_case, possibly dotted: "thresholds.min_level") as GraphQL names it (camelCase).
    The one place the transport translates field names; names already in camelCase pass unchanged."""
    if name is None:
        return None
    return ".".join(_camel_part(part) for part in name.split("."))


def _camel_part(part: str) -> str:
    head, *rest = part.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def user_errors(exc: DomainError) -> list[UserError]:
    return [UserError(field=camel_field(e.field), code=e.code, message=e.message) for e in exc.errors]


def shape_errors(errors: list[GraphQLError], *, mask: bool, request_id: str | None) -> list[GraphQLError]:
    """Domain errors keep their message and gain `extensions.code`; anything else is logged, and masked when `mask`
    (production). The one error mapping of GraphQL, used by `ErrorPolicy` and by `api.prepared`."""
    processed: list[GraphQLError] = []
    for error in errors:
        original = error.original_error
        if isinstance(original, DomainError):
            processed.append(GraphQLError(
                original.message, nodes=error.nodes, source=error.source, positions=error.positions,
                path=error.path, original_error=None,
                extensions={"code": original.code,
                            **({"field": camel_field(original.field)} if original.field else {})}))
        elif original is None or isinstance(original, GraphQLError):
            processed.append(error)  # syntax, validation and limit errors speak for themselves
        else:
            log.error("unexpected error in GraphQL (request %s)", request_id, exc_info=original)
            if mask:
                processed.append(GraphQLError(
                    f"Unexpected error (request id {request_id}).", nodes=error.nodes, source=error.source,
                    positions=error.positions, path=error.path,
                    extensions={"code": "internal", "requestId": request_id}))
            else:
                processed.append(GraphQLError(
                    f"{type(original).__name__}: {original}", nodes=error.nodes, source=error.source,
                    positions=error.positions, path=error.path, original_error=original,
                    extensions={"code": "internal", "requestId": request_id}))
    return processed


class ErrorPolicy(MaskErrors):
    """`shape_errors` as Strawberry's extension."""

    def __init__(self, *, mask: bool) -> None:
        super().__init__()
        self.mask = mask

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        context = getattr(self.execution_context, "context", None)
        return shape_errors(errors, mask=self.mask, request_id=getattr(context, "request_id", None))
