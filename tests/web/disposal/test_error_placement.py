"""Domain errors name their fields in snake_case; each message lands next to its own input in the panel."""

from __future__ import annotations

import pytest

from tests.api.identity.factories import bearer
from tests.domain.disposal.support import make_warning, make_world
from tests.domain.identity.factories import new_token

HTMX = {"hx-request": "true", "accept": "text/html"}


@pytest.fixture
def world(db):
    return make_world(db)


def as_(db, actor):
    return {**bearer(new_token(db, actor.user_id, f"e-{actor.username}")), **HTMX}


async def test_extension_and_assist_errors_sit_next_to_their_inputs(client, db, world):
    w = make_warning(db, world.dept_a)
    handler, analyst = as_(db, world.handler_a), as_(db, world.analyst)
    act = f"/disposal/warnings/{w.id}/act"
    empty = await client.post(f"{act}/request_extension", headers=handler,
                              data={"new_due_date": "", "reason": "需要补充材料", "row_version": "1"})
    assert 'data-error-for="new_due_date">请选择申请延期至的日期<' in empty.text
    typo = await client.post(f"{act}/request_extension", headers=handler,
                             data={"new_due_date": "2026-13-01", "reason": "需要补充材料", "row_version": "1"})
    assert 'data-error-for="new_due_date">延期日期“2026-13-01”不是有效日期' in typo.text
    early = await client.post(f"{act}/request_extension", headers=handler,
                              data={"new_due_date": "2020-01-01", "reason": "需要补充材料", "row_version": "1"})
    assert 'data-error-for="new_due_date">延期日期须晚于当前处置期限' in early.text
    same = await client.post(f"{act}/add_assist", headers=analyst,
                             data={"department_id": str(world.dept_a), "row_version": "1"})
    assert 'data-error-for="department_id">“苏州市市场监督管理局”是责任部门，不能同时作为协办部门<' in same.text
    stale = await client.post(f"{act}/add_assist", headers=analyst,
                              data={"department_id": str(world.dept_b), "row_version": "99"})
    assert "已被他人修改，请刷新" in stale.text and 'data-error-for="row_version"' not in stale.text
