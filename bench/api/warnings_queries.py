"""Warnings in the API benchmark (issue 13): `riskWarnings(first: 50)` of one department with entity, department and
last event nested, beside PostGraphile on the same tables and selection, and the warnings page.

    python -m bench.api --queries-module bench.api.warnings_queries --only warnings

The city gets 100,000 warnings once (one per entity, spread over the departments and the last year, a fifth closed,
one to two events each), inserted set-based the first time a query needs them.
"""

from __future__ import annotations

import sqlalchemy as sa

from bench.api.harness import Context, QueryPair, register, register_page

DEPARTMENT = "SZ-SCJG"
PAGE = 50
WARNINGS = 100_000


def seed_warnings(ctx: Context) -> int:
    def seed() -> int:
        with ctx.engine.begin() as conn:
            have = int(conn.execute(sa.text("SELECT count(*) FROM risk_warning")).scalar_one())
            if have >= WARNINGS:
                return have
            ids = [int(i) for i in conn.execute(sa.text("SELECT id FROM department ORDER BY id")).scalars()]
            depts = "ARRAY[" + ",".join(map(str, ids)) + "]"
            # the events come from the rows the INSERT returns: no anti join over tables the planner has not seen
            conn.execute(sa.text(f"""
                WITH w AS (
                    INSERT INTO risk_warning (code, entity_id, level, source, reasons, explanation, score,
                        department_id, status, dispatched_at, receipt_due_at, disposal_due_at, created_by_name,
                        created_at, updated_at, row_version)
                    SELECT 'YJ-2019-' || lpad(e.id::text, 6, '0'), e.id,
                           (ARRAY['red','orange','yellow','blue'])[1 + e.id % 4], 'model', '[]', '{{}}', 0.5,
                           ({depts})[1 + (e.id % {len(ids)})],
                           CASE e.id % 5 WHEN 0 THEN 'closed' WHEN 1 THEN 'in_progress' ELSE 'issued' END,
                           t.at, t.at + interval '1 day', t.at + interval '7 days', 'bench', t.at, t.at, 1
                    FROM entity e CROSS JOIN LATERAL (SELECT now() - (e.id % 365) * interval '1 day'
                                                       - (e.id % 86400) * interval '1 second' AS at) t
                    WHERE NOT EXISTS (SELECT 1 FROM risk_warning w WHERE w.entity_id = e.id)
                    ORDER BY e.id LIMIT :n
                    RETURNING id, department_id, created_at, status)
                INSERT INTO warning_event (warning_id, kind, to_status, actor_name, department_id, at, comment, payload)
                SELECT w.id, 'issue', 'issued', 'bench', w.department_id, w.created_at, '', '{{}}'::json FROM w
                UNION ALL
                SELECT w.id, 'receive', 'in_progress', 'bench', w.department_id, w.created_at + interval '2 hours',
                       '签收', '{{}}'::json FROM w WHERE w.status <> 'issued'"""), {"n": WARNINGS - have})
        with ctx.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE risk_warning, warning_event")
        return WARNINGS

    return int(ctx.once("seed warnings", seed))


def _regwatch(ctx: Context) -> str:
    seed_warnings(ctx)
    return (f'{{ riskWarnings(departmentId: "{ctx.department_id(DEPARTMENT)}", first: {PAGE}) {{ nodes {{ code level '
            "status receiptDueAt disposalDueAt entity { uscc name } department { code name } "
            "lastEvent { kind at actorName } } } }")


def _postgraphile(ctx: Context) -> str:
    seed_warnings(ctx)
    return (f"{{ allRiskWarnings(first: {PAGE}, condition: {{departmentId: {ctx.department_id(DEPARTMENT)}}}, "
            "orderBy: [CREATED_AT_DESC, ID_DESC]) { nodes { code level status receiptDueAt disposalDueAt "
            "entityByEntityId { uscc name } departmentByDepartmentId { code name } "
            "warningEventsByWarningId(first: 1, orderBy: [AT_DESC, ID_DESC]) { nodes { kind at actorName } } } } }")


register(QueryPair(f"warnings of {DEPARTMENT}, first {PAGE}, entity + department + last event", _regwatch,
                   _postgraphile, nodes=("riskWarnings.nodes", "allRiskWarnings.nodes")))
def _page(ctx: Context) -> str:
    seed_warnings(ctx)
    return f"/warnings?department={ctx.department_id(DEPARTMENT)}"


register_page(_page)
