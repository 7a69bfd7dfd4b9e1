"""users, departments, tokens; and the first-run admin. The console operator acts as SYSTEM (audited as "system")."""

from __future__ import annotations

import os
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
import typer
from rich.table import Table
from sqlmodel import Session, col, select

from cli.common import console, database, explain, fail, local_time, setup_step
from domain.errors import DomainError
from domain.identity import departments as depts
from domain.identity import tokens as toks
from domain.identity import users
from domain.identity.actor import SYSTEM
from domain.identity.models import Department, User
from domain.identity.passwords import generate_password
from domain.pagination import PageRequest
from domain.types import LOCAL_TZ

__all__ = ["register"]

ADMIN_PASSWORD_ENV = "REGWATCH_ADMIN_PASSWORD"


def register(app: typer.Typer) -> None:
    users_app = typer.Typer(help="Users (用户).", no_args_is_help=True)
    users_app.command("create")(users_create)
    users_app.command("list")(users_list)
    users_app.command("set-password")(users_set_password)
    users_app.command("deactivate")(users_deactivate)
    app.add_typer(users_app, name="users")
    departments_app = typer.Typer(help="Departments (部门).", no_args_is_help=True)
    departments_app.command("create")(departments_create)
    departments_app.command("list")(departments_list)
    app.add_typer(departments_app, name="departments")
    tokens_app = typer.Typer(help="API tokens for integrators (接口令牌).", no_args_is_help=True)
    tokens_app.command("create")(tokens_create)
    tokens_app.command("list")(tokens_list)
    tokens_app.command("revoke")(tokens_revoke)
    app.add_typer(tokens_app, name="tokens")


def _department_id(session, code: str | None) -> int | None:
    if not code:
        return None
    dept_id = session.exec(select(Department.id).where(Department.code == code.strip().upper())).first()
    if dept_id is None:
        fail(f"no department with code {code!r} (see `regwatch departments list`)")
    return dept_id


def _user_id(session: Session, username: str) -> int:
    user_id = session.exec(select(col(User.id)).where(User.username == username.strip().lower())).first()
    if user_id is None:
        fail(f"no user named {username!r} (see `regwatch users list`)")
    return user_id


def _password(value: str | None, username: str) -> str:
    if value:
        return value
    return typer.prompt(f"password for {username}", hide_input=True, confirmation_prompt=True)


def users_create(
    username: str = typer.Argument(..., help="Login name: 3–64 lowercase letters, digits, . - _"),
    role: list[str] = typer.Option(..., "--role", "-r", help="admin, analyst, handler or viewer; repeat for more."),
    department: str = typer.Option(None, "--department", "-d", help="Department code (required for handlers)."),
    name: str = typer.Option("", "--name", help="Display name (姓名)."),
    password: str = typer.Option(None, "--password", help="Initial password (prompted when omitted)."),
    no_password: bool = typer.Option(False, "--no-password", help="Token-only integration account."),
) -> None:
    """Create a user."""
    db = database()

    def data(session) -> users.UserInput:
        return users.UserInput(username=username, display_name=name, roles=role,
                               department_id=_department_id(session, department))

    try:  # name, roles and department first, so a typo is reported before the password is asked for
        with db.unit_of_work("dry_run") as session:
            users.create_user(session, SYSTEM, data(session), None)
    except DomainError as exc:
        explain(exc)
    pw = None if no_password else _password(password, username)
    try:
        with db.unit_of_work() as session:
            user = users.create_user(session, SYSTEM, data(session), pw)
    except DomainError as exc:
        explain(exc)
    console.print(f"created user [bold]{user.username}[/] (id {user.id}, roles {', '.join(user.roles)})")


def users_list(
    search: str = typer.Option(None, "--search", "-s", help="Part of a username or name."),
    include_inactive: bool = typer.Option(False, "--all", help="Include deactivated users."),
) -> None:
    """List users."""
    db = database()
    with db.unit_of_work() as session:
        page = users.list_users(session, SYSTEM, PageRequest(first=10_000), search=search,
                                active=None if include_inactive else True, max_size=10_000)
    table = Table("id", "username", "name", "department", "roles", "kind", "state", "last login")
    for row in page.items:
        u = row.user
        state = ("inactive" if not u.active else f"locked until {local_time(row.locked_until)}" if row.locked_until
                 else "active")
        table.add_row(str(u.id), u.username, u.display_name, row.department.code if row.department else "-",
                      ",".join(u.roles), "接口账号 integration" if row.is_integration_account else "staff", state,
                      local_time(u.last_login_at))
    console.print(table)


def users_set_password(
    username: str = typer.Argument(...),
    password: str = typer.Option(None, "--password", help="New password (prompted when omitted)."),
) -> None:
    """Set a user's password; their sessions end."""
    db = database()
    pw = _password(password, username)
    try:
        with db.unit_of_work() as session:
            users.reset_password(session, SYSTEM, _user_id(session, username), pw)
    except DomainError as exc:
        explain(exc)
    console.print(f"password of {username} changed; their sessions have ended")


def users_deactivate(username: str = typer.Argument(...)) -> None:
    """Deactivate a user: their sessions and tokens stop working at once."""
    db = database()
    try:
        with db.unit_of_work() as session:
            users.deactivate_user(session, SYSTEM, _user_id(session, username))
    except DomainError as exc:
        explain(exc)
    console.print(f"deactivated {username}")


def departments_create(
    code: str = typer.Argument(..., help="Unique code, e.g. SZ-SCJG."),
    name: str = typer.Argument(..., help="Name (部门名称)."),
    level: str = typer.Option("city", help="city (市级) or district (区级)."),
    region: str = typer.Option("320500", help="GB/T 2260 region code."),
    parent: str = typer.Option(None, help="Parent department code."),
) -> None:
    """Create a department."""
    db = database()
    try:
        with db.unit_of_work() as session:
            dept = depts.create_department(session, SYSTEM, depts.DepartmentInput(
                code=code, name=name, level=level, region_code=region, parent_id=_department_id(session, parent)))
    except DomainError as exc:
        explain(exc)
    console.print(f"created department [bold]{dept.code}[/] {dept.name} (id {dept.id})")


def departments_list(include_inactive: bool = typer.Option(False, "--all", help="Include deactivated ones.")) -> None:
    """List departments."""
    db = database()
    with db.unit_of_work() as session:
        page = depts.list_departments(session, SYSTEM, PageRequest(first=10_000),
                                      active=None if include_inactive else True, max_size=10_000)
    table = Table("id", "code", "name", "level", "region", "active")
    for d in page.items:
        table.add_row(str(d.id), d.code, d.name, d.level, d.region_code, "yes" if d.active else "no")
    console.print(table)


def tokens_create(
    user: str = typer.Option(..., "--user", "-u", help="The user the token acts as."),
    name: str = typer.Option(..., "--name", "-n", help="A label, e.g. the connected system."),
    expires_in_days: int = typer.Option(None, "--expires-in-days", min=1, help="Expire after N days."),
    expires: str = typer.Option(None, "--expires", help="Expire on this local date (YYYY-MM-DD)."),
) -> None:
    """Issue an API token. It is shown once, alone on the last line."""
    expires_at = None
    if expires_in_days:
        expires_at = datetime.now(UTC) + timedelta(days=expires_in_days)
    elif expires:
        try:
            day = datetime.strptime(expires, "%Y-%m-%d").date()
        except ValueError:
            fail(f"--expires must be a date like 2026-12-31, got {expires!r}")
        expires_at = datetime.combine(day, time.max, tzinfo=LOCAL_TZ)
    db = database()
    try:
        with db.unit_of_work() as session:
            token, raw = toks.create_token(session, SYSTEM, _user_id(session, user), name, expires_at)
    except DomainError as exc:
        explain(exc)
    when = f", expires {token.expires_at.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}" if token.expires_at else ""
    console.print(f"token {token.id} '{token.name}' for {user}{when}; store it now, it is not shown again:")
    print(raw)


def tokens_list(user: str = typer.Option(None, "--user", "-u", help="Only this user's tokens.")) -> None:
    """List tokens (never the tokens themselves: only their first characters)."""
    db = database()
    with db.unit_of_work() as session:
        rows = toks.list_tokens(session, SYSTEM, user_id=_user_id(session, user) if user else None)
    table = Table("id", "user", "name", "prefix", "created", "expires", "last used", "status")

    now = datetime.now(UTC)
    for token, owner in rows:
        status = ("revoked" if token.revoked_at else "expired" if token.expires_at and token.expires_at <= now
                  else "user inactive" if not owner.active else "active")
        table.add_row(str(token.id), owner.username, token.name, token.prefix + "…", local_time(token.created_at),
                      local_time(token.expires_at), local_time(token.last_used_at), status)
    console.print(table)


def tokens_revoke(token_id: int = typer.Argument(..., help="Token id (see `regwatch tokens list`).")) -> None:
    """Revoke a token at once."""
    db = database()
    try:
        with db.unit_of_work() as session:
            toks.revoke_token(session, SYSTEM, token_id)
    except DomainError as exc:
        explain(exc)
    console.print(f"revoked token {token_id}")


@setup_step(10, "admin user")
def ensure_admin() -> None:
    """Create `admin` while no active administrator exists (whatever else — demo integration accounts — does):
    password from REGWATCH_ADMIN_PASSWORD, or generated and shown once."""
    db = database()
    given = os.environ.get(ADMIN_PASSWORD_ENV, "").strip()
    password = given or generate_password()
    with db.unit_of_work() as session:
        admins = [u.username for u in session.exec(select(User).where(User.active == sa.true()))
                  if "admin" in (u.roles or [])]
        if admins:
            console.print(f"an administrator exists ({', '.join(sorted(admins))}); admin not created")
            return
        taken = session.exec(select(User).where(User.username == "admin")).first()
        if taken is not None:
            fail("no active administrator, but the username admin is taken by an inactive or non-admin account: "
                 "give a user the admin role with the GraphQL API or reactivate it, then run setup again")
        try:
            users.create_user(session, SYSTEM, users.UserInput(username="admin", display_name="系统管理员",
                                                               roles=["admin"]), password)
        except DomainError as exc:
            if given:  # the operator's setting is what was refused: say which one
                details = "; ".join(e.message for e in exc.errors)
                fail(f"{ADMIN_PASSWORD_ENV} 不符合密码规则：{details}（请换一个密码后重新运行 regwatch setup）")
            explain(exc)
    if given:
        console.print(f"created user [bold]admin[/] with the password from {ADMIN_PASSWORD_ENV}")
    else:
        console.print("created user [bold]admin[/]; its password (shown only this once):")
        print(password)
