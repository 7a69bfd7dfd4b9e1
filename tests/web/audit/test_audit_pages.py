"""The audit trail browser as a Chinese administrator reads it: filters, field labels, values in words, local time."""

from __future__ import annotations

import re

from tests.domain.identity.factories import new_department, new_user
from tests.support import count_statements
from tests.web.identity.factories import login

HTML = {"accept": "text/html"}


async def test_audit_page_filters_and_reports_bad_dates(auth_client, db):
    new_department(db, "DEPT-A", "部门甲")
    page = await auth_client.get("/admin/audit?action=department.create", headers=HTML)
    assert "department.create" in page.text and "编码：" in page.text and "DEPT-A" in page.text
    assert "新建部门" in page.text  # actions are named in Chinese, with the code beside them
    rows = re.findall(r"<tr>\s*<td class=\"text-nowrap\">", page.text)
    assert len(rows) == 1
    bad = await auth_client.get("/admin/audit?date_from=2026-13-01", headers=HTML)
    assert bad.status_code == 200 and "日期格式应为 YYYY-MM-DD" in bad.text


async def test_changes_read_as_a_person_writes_them(auth_client, client, db):
    dept = new_department(db, "SZ-GS", "姑苏区市场监督管理局")
    new_user(db, "lead", ["viewer"], department_id=dept.id)
    await login(client, "lead", password="wrong-password")  # a failed sign-in (same client, then admin again)
    await login(client, "admin")
    html = (await auth_client.get("/admin/audit?object_type=user", headers=HTML)).text
    body = html[html.index('id="audit-table"'):]
    assert "角色：</span>领导/考核人员" in body and "['viewer']" not in body
    assert "所属部门：</span>SZ-GS 姑苏区市场监督管理局" in body
    assert "密码：</span>（已设置）" in body and "None" not in body
    assert "<td>用户 " in body  # the object type by name
    logins = (await auth_client.get("/admin/audit?object_type=login", headers=HTML)).text
    table = logins[logins.index('id="audit-table"'):]
    assert "原因：</span>密码错误" in table and "bad_password" not in table
    stamps = re.findall(r"上次登录：</span>(?:[^<]*→ )?([^<]+)</div>", table)
    assert stamps and all(re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", s.strip()) for s in stamps), stamps
    assert "+00:00" not in table and not re.search(r"\d{2}:\d{2}:\d{2}\.\d{6}", table)


async def test_the_object_filter_offers_object_types_by_chinese_name(auth_client):
    html = (await auth_client.get("/admin/audit", headers=HTML)).text
    assert '<option value="user" >用户</option>' in html or '<option value="user">用户</option>' in html
    assert ">部门</option>" in html and ">登录</option>" in html and ">接口令牌</option>" in html
    assert 'placeholder="对象类型，如 user"' not in html


async def test_the_filters_offer_the_actions_present_and_cost_the_same_as_the_trail_grows(auth_client, db):
    from sqlmodel import col, select

    from domain.audit.models import AuditLog

    new_department(db, "DEPT-A", "部门甲")
    with count_statements(db) as small:
        await auth_client.get("/admin/audit", headers=HTML)
    for i in range(4):
        new_department(db, f"DEPT-{i}", f"部门{i}")
        new_user(db, f"clerk{i}", ["viewer"])
    with count_statements(db) as large:
        html = (await auth_client.get("/admin/audit", headers=HTML)).text
    assert large.count == small.count
    with db.unit_of_work() as s:
        present = list(s.exec(select(col(AuditLog.action)).distinct().order_by(col(AuditLog.action))))
    choices = html[html.index('name="action"'):html.index('name="object_type"')]
    assert re.findall(r'<option value="([^"]+)"', choices) == present and "user.create" in present
