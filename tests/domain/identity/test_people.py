"""Departments and users: validation with specific messages, the audit row of every change, the admin guard rails."""

from __future__ import annotations

import pytest
from sqlmodel import select

from domain.audit.models import AuditLog
from domain.errors import Conflict, Forbidden, InvalidInput
from domain.identity.actor import SYSTEM, Actor
from domain.identity.departments import DepartmentInput, create_department, update_department
from domain.identity.models import User
from domain.identity.passwords import check_strength, generate_password, strength_problems, verify_password
from domain.identity.users import (
    UserInput,
    actor_for_user,
    change_own_password,
    create_user,
    deactivate_user,
    reset_password,
    update_user,
)
from tests.domain.identity.factories import PASSWORD, new_department, new_user


def audit_rows(db, action: str | None = None) -> list[AuditLog]:
    with db.unit_of_work() as s:
        stmt = select(AuditLog).order_by(AuditLog.id)
        return list(s.exec(stmt.where(AuditLog.action == action) if action else stmt))


@pytest.mark.parametrize(("password", "problem"), [
    ("Short1!", "至少 10 个字符"),
    ("alllowercaseletters", "至少三类"),
    ("Password123", "过于常见"),
    ("Aaaaaaaaaa1!", None),
    ("Zhang-San-2026", "不能包含用户名"),
])
def test_password_rules_say_what_is_missing(password, problem):
    problems = " ".join(strength_problems(password, username="zhang-san"))
    if problem is None:
        assert problems == ""
    else:
        assert problem in problems
        with pytest.raises(InvalidInput) as info:
            check_strength(password, username="zhang-san")
        assert info.value.errors[0].field == "password" and info.value.errors[0].code == "weak_password"


def test_generated_passwords_meet_the_rule():
    assert all(not strength_problems(generate_password()) for _ in range(20))


def test_creating_a_department_validates_every_field_at_once(db, session):
    with pytest.raises(InvalidInput) as info:
        create_department(session, SYSTEM, DepartmentInput(code="!", name="", level="province", region_code="999999"))
    fields = {e.field: e.code for e in info.value.errors}
    assert fields == {"code": "bad_format", "name": "required", "level": "bad_choice", "region_code": "unknown_region"}
    assert session.exec(select(AuditLog)).all() == []


def test_a_department_change_is_audited_with_before_and_after(db):
    dept = new_department(db, "SZ-GS", "姑苏区市场监管局", level="district", region_code="320508")
    with db.unit_of_work() as s:
        update_department(s, SYSTEM, dept.id, DepartmentInput(name="姑苏区市场监督管理局"))
    created, updated = audit_rows(db, "department.create"), audit_rows(db, "department.update")
    assert created[0].changes["code"] == [None, "SZ-GS"] and created[0].object_id == str(dept.id)
    assert updated[0].changes == {"name": ["姑苏区市场监管局", "姑苏区市场监督管理局"]}
    assert updated[0].actor_name == "system"


def test_duplicate_codes_and_parent_cycles_are_refused(db):
    city = new_department(db, "SZ-SCJG", "市局")
    district = new_department(db, "SZ-GS", "区局", parent_id=city.id)
    with pytest.raises(InvalidInput) as info, db.unit_of_work() as s:
        create_department(s, SYSTEM, DepartmentInput(code="sz-scjg", name="重复"))
    assert info.value.errors[0].code == "duplicate"
    with pytest.raises(InvalidInput) as info, db.unit_of_work() as s:
        update_department(s, SYSTEM, city.id, DepartmentInput(parent_id=district.id))
    assert info.value.errors[0].code == "cycle"


def test_handlers_need_a_department_and_roles_must_be_known(db, session):
    with pytest.raises(InvalidInput) as info:
        create_user(session, SYSTEM, UserInput(username="Bad Name", roles=["handler", "boss"]), PASSWORD)
    fields = {e.field: e.code for e in info.value.errors}
    assert fields == {"username": "bad_format", "roles": "bad_choice", "department_id": "required"}
    with pytest.raises(InvalidInput) as info:
        create_user(session, SYSTEM, UserInput(username="han", roles=["handler"]), PASSWORD)
    assert {e.field for e in info.value.errors} == {"department_id"}


def test_a_failed_change_leaves_no_audit_row_and_a_successful_one_always_has_one(db):
    admin = new_user(db, "boss", ["admin"])
    before = len(audit_rows(db))
    with pytest.raises(InvalidInput), db.unit_of_work() as s:
        update_user(s, actor_for_user(admin), admin.id, UserInput(roles=["nobody"]))
    assert len(audit_rows(db)) == before
    # a change that passes validation but fails later in the same transaction takes its audit row with it
    with pytest.raises(RuntimeError), db.unit_of_work() as s:
        update_user(s, actor_for_user(admin), admin.id, UserInput(display_name="老板"))
        raise RuntimeError("the rest of the unit of work failed")
    assert len(audit_rows(db)) == before
    with db.unit_of_work() as s:
        update_user(s, actor_for_user(admin), admin.id, UserInput(display_name="老板"))
    row = audit_rows(db, "user.update")[-1]
    assert row.changes == {"display_name": ["", "老板"]} and row.actor_name == "boss" and row.actor_id == admin.id


def test_only_admins_manage_users(db, session):
    viewer = Actor(user_id=7, username="v", roles=frozenset({"viewer"}))
    with pytest.raises(Forbidden):
        create_user(session, viewer, UserInput(username="x-user", roles=["viewer"]), PASSWORD)


def test_the_last_admin_cannot_be_removed_and_admins_cannot_lock_themselves_out(db):
    admin = new_user(db, "admin", ["admin"])
    other = new_user(db, "admin2", ["admin"])
    with pytest.raises(Conflict) as info, db.unit_of_work() as s:
        deactivate_user(s, actor_for_user(admin), admin.id)
    assert info.value.code == "self_lockout"
    with db.unit_of_work() as s:
        deactivate_user(s, actor_for_user(admin), other.id)
    with pytest.raises(Conflict) as info, db.unit_of_work() as s:
        update_user(s, SYSTEM, admin.id, UserInput(roles=["viewer"]))
    assert info.value.code == "last_admin"


def test_passwords_are_stored_as_argon2_hashes_and_changes_are_audited_without_them(db):
    user = new_user(db, "ana", ["analyst"])
    with db.unit_of_work() as s:
        stored = s.get(User, user.id)
        assert stored.password_hash.startswith("$argon2id$") and PASSWORD not in stored.password_hash
        assert verify_password(stored.password_hash, PASSWORD)
    with pytest.raises(InvalidInput) as info, db.unit_of_work() as s:
        change_own_password(s, actor_for_user(user), "wrong", "Another-Pass-99")
    assert info.value.errors[0].field == "current_password"
    with db.unit_of_work() as s:
        changed = change_own_password(s, actor_for_user(user), PASSWORD, "Another-Pass-99")
        assert changed.session_version == user.session_version + 1
    with db.unit_of_work() as s:
        reset_password(s, SYSTEM, user.id, "Reset-By-Admin-1")
    rows = audit_rows(db, "user.password_change") + audit_rows(db, "user.password_reset")
    assert len(rows) == 2 and all("Another" not in str(r.changes) and "Reset" not in str(r.changes) for r in rows)
