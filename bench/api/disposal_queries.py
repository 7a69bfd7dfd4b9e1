"""The disposal inbox in the API benchmark (issue 14): one department's 待签收 tab, first 50, with entity and
department names, beside PostGraphile on the same tables, order and selection; and the inbox page.

    python -m bench.api --queries-module bench.api.warnings_queries --queries-module bench.api.disposal_queries \
        --only inbox

The city gets the 100,000 warnings of bench.api.warnings_queries (one per entity, a fifth closed, a fifth in
progress), seeded by that module's `seed_warnings` when absent.
"""

from __future__ import annotations

from bench.api.harness import Context, QueryPair, register, register_page
from bench.api.warnings_queries import DEPARTMENT, seed_warnings

PAGE = 50


def _regwatch(ctx: Context) -> str:
    seed_warnings(ctx)
    return (f'{{ inbox(tab: "pending", departmentCode: "{DEPARTMENT}", first: {PAGE}) {{ nodes {{ code level status '
            "receiptDueAt disposalDueAt entityName departmentName } } }")


def _postgraphile(ctx: Context) -> str:
    seed_warnings(ctx)
    return (f'{{ allRiskWarnings(first: {PAGE}, condition: {{departmentId: {ctx.department_id(DEPARTMENT)}, '
            'status: "issued"}, orderBy: [CREATED_AT_DESC, ID_DESC]) { nodes { code level status receiptDueAt '
            "disposalDueAt entityByEntityId { name } departmentByDepartmentId { name } } } }")


register(QueryPair(f"inbox of {DEPARTMENT}, pending, first {PAGE}, entity + department", _regwatch, _postgraphile,
                   nodes=("inbox.nodes", "allRiskWarnings.nodes")))


def _page(ctx: Context) -> str:
    seed_warnings(ctx)
    return f"/disposal?tab=pending&department={ctx.department_id(DEPARTMENT)}"


register_page(_page)
