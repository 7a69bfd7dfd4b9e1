"""The disposal inbox in the API benchmark (issue 14): one department's 待签收 tab, first 50, with entity and
department names, beside PostGraphile on the same tables, order and selection; and the inbox page.

    python -m bench.api --queries-module bench.api.warnings_queries --queries-module bench.api.disposal_queries \
        --only inbox

The city gets the 100,000 warnings of bench.api.warnings_queries (one per entity, a fifth closed, a fifth in
progress), seeded here the same way when absent (with one issue event each).
"""

from __future__ import annotations

import sqlalchemy as sa

from bench.api.harness import Context, QueryPair, register, register_page
from bench.api.warnings_queries import DEPARTMENT, WARNINGS

PAGE = 50


def seed_warnings(ctx: Context) -> int:
    def seed() -> int:
        with ctx.engine.begin() as conn:
            have = int(conn.execute(sa.text("SELECT count(*) FROM risk_warning")).scalar_one())
            if have < WARNINGS:
                ids = [int(i) for i in conn.execute(sa.text("SELECT id FROM department ORDER BY id")).scalars()]
                depts = "ARRAY[" + ",".join(map(str, ids)) + "]"
                conn.execute(sa.text(f"""
                    INSERT INTO risk_warning (code, entity_id, level, source, reasons, explanation, score,
                        department_id, status, dispatched_at, receipt_due_at, disposal_due_at, created_by_name,
                        created_at, updated_at, row_version)
                    SELECT 'YJ-2025-' || lpad(e.id::text, 6, '0'), e.id,
                           (ARRAY['red','orange','yellow','blue'])[1 + e.id % 4], 'model', '[]', '{{}}', 0.5,
                           ({depts})[1 + (e.id % {len(ids)})],
                           CASE e.id % 5 WHEN 0 THEN 'closed' WHEN 1 THEN 'in_progress' ELSE 'issued' END,
                           t.at, t.at + interval '1 day', t.at + interval '7 days', 'bench', t.at, t.at, 1
                    FROM entity e CROSS JOIN LATERAL (SELECT now() - (e.id % 365) * interval '1 day'
                                                       - (e.id % 86400) * interval '1 second' AS at) t
                    WHERE NOT EXISTS (SELECT 1 FROM risk_warning w WHERE w.entity_id = e.id)
                    ORDER BY e.id LIMIT :n"""), {"n": WARNINGS - have})
                conn.execute(sa.text("""
                    INSERT INTO warning_event (warning_id, kind, to_status, actor_name, department_id, at, comment,
                        payload)
                    SELECT w.id, 'issue', 'issued', 'bench', w.department_id, w.created_at, '', '{}'::json
                    FROM risk_warning w WHERE NOT EXISTS (SELECT 1 FROM warning_event v WHERE v.warning_id = w.id)"""))
        with ctx.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE risk_warning, warning_event")
        return WARNINGS

    return int(ctx.once("seed warnings (disposal)", seed))


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
