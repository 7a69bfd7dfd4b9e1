"""The query pairs and pages of the API benchmark (issue 9). Add yours with `register` / `register_page`."""

from __future__ import annotations

from bench.api.harness import Context, QueryPair, register, register_page

DEPARTMENT = "SZ-SCJG"
REGION = "320506"  # 吴中区
DEEP_PAGE = 100
PAGE = 50

_R_ACTION = ("id externalId kind itemCode itemName departmentCode departmentName uscc entityName startedOn "
             "decidedOn result penaltyAmount")
_P_ACTION = ("id externalId kind startedOn decidedOn result penaltyAmount supervisionItemByItemId { code name } "
             "departmentByDepartmentId { code name } entityByEntityId { uscc name }")


def _r_actions(after: str | None = None) -> str:
    cursor = f', after: "{after}"' if after else ""
    return (f'{{ supervisionActions(departmentCode: "{DEPARTMENT}", first: {PAGE}{cursor}) {{ totalCount '
            f'nodes {{ {_R_ACTION} }} }} }}')


def _p_actions(ctx: Context, after: str | None = None) -> str:
    cursor = f', after: "{after}"' if after else ""
    return (f"{{ allSupervisionActions(first: {PAGE}{cursor}, condition: {{departmentId: "
            f"{ctx.department_id(DEPARTMENT)}}}, orderBy: [STARTED_ON_DESC, ID_DESC]) {{ totalCount "
            f"nodes {{ {_P_ACTION} }} }} }}")


FIRST_PAGE = register(QueryPair(f"actions of {DEPARTMENT}, first {PAGE}, totalCount", lambda ctx: _r_actions(),
                                _p_actions, nodes=("supervisionActions.nodes", "allSupervisionActions.nodes")))


def _regwatch_deep_cursor(ctx: Context) -> str:
    def walk() -> str:
        after = None
        for _ in range(DEEP_PAGE - 1):
            cursor = f', after: "{after}"' if after else ""
            data = ctx.regwatch(f'{{ supervisionActions(departmentCode: "{DEPARTMENT}", first: {PAGE}{cursor}) '
                                f'{{ pageInfo {{ endCursor }} }} }}')
            after = data["supervisionActions"]["pageInfo"]["endCursor"]
        assert after is not None
        return after

    return ctx.once("regwatch deep cursor", walk)


def _postgraphile_deep_cursor(ctx: Context) -> str:
    def find() -> str:
        data = ctx.postgraphile(
            f"{{ allSupervisionActions(first: 1, offset: {(DEEP_PAGE - 1) * PAGE - 1}, condition: {{departmentId: "
            f"{ctx.department_id(DEPARTMENT)}}}, orderBy: [STARTED_ON_DESC, ID_DESC]) {{ edges {{ cursor }} }} }}")
        return str(data["allSupervisionActions"]["edges"][0]["cursor"])

    return ctx.once("postgraphile deep cursor", find)


register(QueryPair(f"actions of {DEPARTMENT}, page {DEEP_PAGE} (cursor), totalCount",
                   lambda ctx: _r_actions(_regwatch_deep_cursor(ctx)),
                   lambda ctx: _p_actions(ctx, _postgraphile_deep_cursor(ctx)),
                   nodes=("supervisionActions.nodes", "allSupervisionActions.nodes"), deeper_than=FIRST_PAGE.name))

_ENTITY = "uscc name entityType industryCode regionCode registeredCapital foundedOn status"
register(QueryPair(
    f"entities of region {REGION}, first {PAGE}, totalCount",
    f'{{ entities(regionCode: "{REGION}", first: {PAGE}) {{ totalCount nodes {{ {_ENTITY} }} }} }}',
    f'{{ allEntities(first: {PAGE}, condition: {{regionCode: "{REGION}"}}, orderBy: [NAME_ASC, ID_ASC]) '
    f'{{ totalCount nodes {{ {_ENTITY} }} }} }}',
    nodes=("entities.nodes", "allEntities.nodes")))
register(QueryPair(
    f"entities, first {PAGE}, no totalCount",
    f"{{ entities(first: {PAGE}) {{ nodes {{ {_ENTITY} }} pageInfo {{ hasNextPage endCursor }} }} }}",
    f"{{ allEntities(first: {PAGE}, orderBy: [NAME_ASC, ID_ASC]) {{ nodes {{ {_ENTITY} }} "
    f"pageInfo {{ hasNextPage endCursor }} }} }}",
    nodes=("entities.nodes", "allEntities.nodes")))


def busiest_entity(ctx: Context) -> str:
    return str(ctx.once("busiest", lambda: ctx.scalar(
        "SELECT e.uscc FROM entity e JOIN (SELECT entity_id, count(*) n FROM supervision_action GROUP BY entity_id "
        "ORDER BY n DESC, entity_id LIMIT 1) a ON a.entity_id = e.id")))


register(QueryPair(
    "one entity with its actions, complaints, credit records (20 each)",
    lambda ctx: (f'{{ entity(uscc: "{busiest_entity(ctx)}") {{ uscc name status '
                 "actions(first: 20) { totalCount nodes { externalId kind startedOn result itemName departmentName } } "
                 "complaints(first: 20) { totalCount nodes { receivedOn channel category outcome } } "
                 "creditRecords(first: 20) { totalCount nodes { kind listedOn authority } } } }"),
    lambda ctx: (f'{{ entityByUscc(uscc: "{busiest_entity(ctx)}") {{ uscc name status '
                 "supervisionActionsByEntityId(first: 20, orderBy: [STARTED_ON_DESC, ID_DESC]) { totalCount "
                 "nodes { externalId kind startedOn result supervisionItemByItemId { name } "
                 "departmentByDepartmentId { name } } } "
                 "complaintsByEntityId(first: 20, orderBy: [RECEIVED_ON_DESC, ID_DESC]) { totalCount "
                 "nodes { receivedOn channel category outcome } } "
                 "creditRecordsByEntityId(first: 20, orderBy: [LISTED_ON_DESC, ID_DESC]) { totalCount "
                 "nodes { kind listedOn authority } } } }"),
    nodes=("entity.actions.nodes", "entityByUscc.supervisionActionsByEntityId.nodes")))

register_page("/entities")
register_page(f"/entities?region={REGION}")
register_page(lambda ctx: f"/entities/{busiest_entity(ctx)}")
register_page("/items")
register_page("/sources")
register_page("/admin/audit")

# diagnostics for the gap: the floor of a request, and the same page with one field per node
register(QueryPair("floor: a trivial query (Regwatch `me`, PostGraphile `__typename`)", "{ me { username } }",
                   "{ __typename }"))
register(QueryPair(
    f"actions of {DEPARTMENT}, first {PAGE}, totalCount, ids only",
    f'{{ supervisionActions(departmentCode: "{DEPARTMENT}", first: {PAGE}) {{ totalCount nodes {{ id }} }} }}',
    lambda ctx: (f"{{ allSupervisionActions(first: {PAGE}, condition: {{departmentId: "
                 f"{ctx.department_id(DEPARTMENT)}}}, orderBy: [STARTED_ON_DESC, ID_DESC]) "
                 "{ totalCount nodes { id } } }"),
    nodes=("supervisionActions.nodes", "allSupervisionActions.nodes")))
