"""Identity commands: first-run admin, users, departments and tokens (the token alone on the last line)."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from domain.audit.models import AuditLog
from domain.identity.models import User
from domain.identity.passwords import verify_password
from domain.identity.tokens import token_actor
from tests.cli.factories import regwatch


def test_first_run_creates_admin_once_with_the_given_password(cli_env, db, monkeypatch, capsys):
    from cli.identity import ensure_admin

    monkeypatch.setenv("REGWATCH_ADMIN_PASSWORD", "First-Ops-2026!")
    ensure_admin()
    ensure_admin()  # idempotent
    with db.unit_of_work() as s:
        users = list(s.exec(select(User)))
        assert [u.username for u in users] == ["admin"] and users[0].roles == ["admin"]
        assert verify_password(users[0].password_hash, "First-Ops-2026!")
    assert "First-Ops-2026!" not in capsys.readouterr().out


def test_a_refused_admin_password_names_the_setting(cli_env, db, monkeypatch, capsys):
    import typer

    from cli.identity import ensure_admin

    monkeypatch.setenv("REGWATCH_ADMIN_PASSWORD", "admin-Password-2026!")  # contains the username
    with pytest.raises(typer.Exit) as exited:
        ensure_admin()
    assert exited.value.exit_code == 1
    err = capsys.readouterr().err
    assert "REGWATCH_ADMIN_PASSWORD 不符合密码规则" in err.replace("\n", "")
    with db.unit_of_work() as s:
        assert list(s.exec(select(User))) == []


def test_first_run_without_a_password_prints_a_generated_one_once(cli_env, db, monkeypatch, capsys):
    from cli.identity import ensure_admin

    monkeypatch.delenv("REGWATCH_ADMIN_PASSWORD", raising=False)
    ensure_admin()
    printed = capsys.readouterr().out.strip().splitlines()[-1]
    with db.unit_of_work() as s:
        assert verify_password(s.exec(select(User)).one().password_hash, printed)


def test_departments_users_and_tokens_from_the_console(cli_env, db):
    run = regwatch
    assert run("departments", "create", "SZ-GS", "姑苏区市场监督管理局", "--level", "district",
               "--region", "320508").exit_code == 0
    bad = run("users", "create", "han", "-r", "handler", "-d", "SZ-GS", "--password", "weak")
    assert bad.exit_code == 1 and "密码强度不足" in bad.output
    assert run("users", "create", "portal", "-r", "analyst", "--no-password").exit_code == 0
    created = run("tokens", "create", "--user", "portal", "--name", "phase-one portal", "--expires-in-days", "30")
    assert created.exit_code == 0, created.output
    token = created.output.strip().splitlines()[-1]
    assert token.startswith("rw_") and " " not in token
    listing = run("tokens", "list").output
    assert "phase-one portal" in listing and token[:10] in listing and token not in listing
    with db.unit_of_work() as s:
        assert token_actor(s, token).actor.username == "portal"
    assert run("users", "deactivate", "portal").exit_code == 0
    with db.unit_of_work() as s:
        assert token_actor(s, token).problem == "inactive_user"
        acts = list(s.exec(select(AuditLog.action).order_by(AuditLog.id)))
    assert acts == ["department.create", "user.create", "token.create", "user.deactivate"]


def test_the_first_run_admin_is_created_even_when_demo_integration_accounts_came_first(cli_env, db, make_user,
                                                                                        monkeypatch, capsys):
    """`regwatch demo` before `regwatch setup` leaves svc-* viewer accounts behind; setup still creates admin."""
    from cli.identity import ensure_admin

    make_user("svc-portal", ["viewer"], password=None)
    monkeypatch.setenv("REGWATCH_ADMIN_PASSWORD", "First-Ops-2026!")
    ensure_admin()
    with db.unit_of_work() as s:
        admin = s.exec(select(User).where(User.username == "admin")).one()
        assert admin.roles == ["admin"] and verify_password(admin.password_hash, "First-Ops-2026!")
    ensure_admin()
    assert "admin not created" in capsys.readouterr().out


def test_users_create_rejects_a_bad_role_or_missing_department_before_asking_for_a_password(cli_env, db):
    from cli import app

    def create(*args: str):
        # no --password: a prompt would read this input; it must never be reached
        return CliRunner().invoke(app, ["users", "create", *args], input="Secret-Pass-2026!\nSecret-Pass-2026!\n",
                                  env={"COLUMNS": "200"})

    bad_role = create("zhang", "-r", "boss")
    assert bad_role.exit_code == 1 and "未知角色 boss" in bad_role.output and "password" not in bad_role.output
    no_dept = create("han", "-r", "handler")
    assert no_dept.exit_code == 1 and "必须属于一个部门" in no_dept.output and "password" not in no_dept.output
    unknown_dept = create("han", "-r", "handler", "-d", "SZ-NONE")
    assert unknown_dept.exit_code == 1 and "SZ-NONE" in unknown_dept.output and "password" not in unknown_dept.output
    good = create("zhang", "-r", "analyst")
    assert good.exit_code == 0 and "password for zhang" in good.output, good.output
    with db.unit_of_work() as s:
        assert [u.username for u in s.exec(select(User))] == ["zhang"]


def test_users_list_tells_integration_accounts_and_locks_apart_in_local_time(cli_env, db, make_user):
    from domain.identity.sessions import USER_FAILURE_LIMIT, login

    make_user("svc-portal", ["viewer"], password=None)
    make_user("lead", ["viewer"])
    with db.unit_of_work() as s:
        for _ in range(USER_FAILURE_LIMIT):
            login(s, "lead", "wrong")
    listing = regwatch("users", "list").output
    portal = next(line for line in listing.splitlines() if "svc-portal" in line)
    lead = next(line for line in listing.splitlines() if " lead " in line)
    assert "接口账号" in portal and "staff" in lead
    assert re.search(r"locked until \d{4}-\d{2}-\d{2} \d{2}:\d{2}", lead), lead
