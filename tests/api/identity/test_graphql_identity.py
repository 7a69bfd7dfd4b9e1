"""GraphQL and identity: who may call what, tokens, sessions with CSRF, the role table, department scope."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from domain.audit.models import AuditLog
from domain.identity.actor import SYSTEM
from domain.identity.tokens import revoke_token
from domain.identity.users import deactivate_user
from domain.types import utcnow
from tests.api.identity.factories import bearer
from tests.domain.identity.factories import new_department, new_token, new_user


async def gql(client, query, variables=None, headers=None):
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}},
                                 headers={"accept": "application/json", **(headers or {})})
    return response


def codes(body) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def test_anonymous_callers_get_server_info_only(client):
    ok = (await gql(client, "{ serverInfo { version } }")).json()
    assert ok["data"]["serverInfo"]["version"] and "errors" not in ok
    refused = (await gql(client, "{ serverInfo { version } me { username } }")).json()
    assert refused["data"] is None and codes(refused) == ["unauthenticated"]
    assert refused["errors"][0]["path"] == ["me"]
    sneaky = (await gql(client, "query { ...F } fragment F on Query { departments { totalCount } }")).json()
    assert codes(sneaky) == ["unauthenticated"]
    mutation = (await gql(client, 'mutation { createDepartment(input: {code: "X1", name: "x"}) { errors { code } } }'
                          )).json()
    assert codes(mutation) == ["unauthenticated"]


async def test_introspection_is_refused_to_anonymous_callers_and_open_to_signed_in_ones(client, api_token):
    query = "{ __schema { queryType { name } } }"
    assert codes((await gql(client, query)).json()) == ["unauthenticated"]
    assert codes((await gql(client, '{ __type(name: "User") { name } }')).json()) == ["unauthenticated"]
    signed_in = (await gql(client, query, headers=bearer(api_token))).json()
    assert signed_in["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_a_token_acts_as_its_user_and_records_last_use(client, db, admin_user, api_token):
    me = (await gql(client, "{ me { username roles department { code } } }", headers=bearer(api_token))).json()
    assert me["data"]["me"] == {"username": "admin", "roles": ["admin"], "department": None}
    with db.unit_of_work() as s:
        from domain.identity.models import ApiToken

        assert s.exec(select(ApiToken.last_used_at)).one() is not None


@pytest.mark.parametrize("problem", ["revoked", "expired", "deactivated", "unknown", "malformed"])
async def test_bad_tokens_are_refused_with_401(client, db, problem):
    user = new_user(db, "portal", ["analyst"], password=None)
    token = new_token(db, user.id, "phase-one portal", expires_at=utcnow() + timedelta(days=1))
    headers = bearer(token)
    with db.unit_of_work() as s:
        if problem == "revoked":
            revoke_token(s, SYSTEM, 1)
        elif problem == "expired":
            from domain.identity.models import ApiToken

            s.get(ApiToken, 1).expires_at = utcnow() - timedelta(seconds=1)
        elif problem == "deactivated":
            deactivate_user(s, SYSTEM, user.id)
        elif problem == "unknown":
            headers = bearer(token[:-2] + "xx")
        else:
            headers = {"authorization": f"Basic {token}"}
    response = await gql(client, "{ serverInfo { version } }", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert codes(response.json()) == ["unauthenticated"]


async def test_the_session_cookie_works_for_graphql_but_only_with_the_csrf_header(client, admin_user, login, csrf):
    await login(client, "admin")
    without = await gql(client, "{ me { username } }")
    assert without.status_code == 403 and codes(without.json()) == ["csrf"]
    token = await csrf(client)
    me = (await gql(client, "{ me { username } }", headers={"x-csrf-token": token})).json()
    assert me["data"]["me"]["username"] == "admin"
    # GET queries are not state-changing and need no header
    got = await client.get("/graphql", params={"query": "{ me { username } }"}, headers={"accept": "application/json"})
    assert got.json()["data"]["me"]["username"] == "admin"


CREATE_DEPT = """mutation($code: String!, $name: String!, $region: String!) {
  createDepartment(input: {code: $code, name: $name, regionCode: $region}) {
    department { id code } errors { field code message } } }"""
CREATE_USER = """mutation($username: String!, $roles: [String!]!, $dept: ID) {
  createUser(input: {username: $username, roles: $roles, departmentId: $dept, password: "Strong-Pass-2026"}) {
    user { id username department { code } } errors { field code } } }"""
OPERATIONS = {
    "me": ("{ me { username } }", {}),
    "departments": ("{ departments { totalCount } }", {}),
    "users": ("{ users { totalCount } }", {}),
    "auditLog": ("{ auditLog { totalCount } }", {}),
    "createDepartment": (CREATE_DEPT, {"code": "NEW-1", "name": "新部门", "region": "320500"}),
    "createUser": (CREATE_USER, {"username": "newbie", "roles": ["viewer"]}),
}
# role -> operations it may run (the README table, as seen through GraphQL)
ALLOWED = {
    "admin": {"me", "departments", "users", "auditLog", "createDepartment", "createUser"},
    "analyst": {"me", "departments"},
    "handler": {"me", "departments"},
    "viewer": {"me", "departments"},
}
ROLE_ROWS = [(role, op) for role in ALLOWED for op in OPERATIONS]


@pytest.mark.parametrize(("role", "operation"), ROLE_ROWS, ids=[f"{r}-{o}" for r, o in ROLE_ROWS])
async def test_role_by_operation_through_graphql(client, db, role, operation):
    dept = new_department(db, "DEPT-A", "部门甲")
    user = new_user(db, f"{role}-user", [role], department_id=dept.id, password=None)
    query, variables = OPERATIONS[operation]
    body = (await gql(client, query, variables, headers=bearer(new_token(db, user.id)))).json()
    if operation in ALLOWED[role]:
        assert "errors" not in body, body
        field = next(iter(body["data"].values()))
        assert field is not None and not (isinstance(field, dict) and field.get("errors"))
    else:
        assert codes(body) == ["forbidden"], body
        with db.unit_of_work() as s:  # a refused change leaves nothing behind, not even an audit row
            assert s.exec(select(AuditLog).where(AuditLog.action.in_(["department.create", "user.create"]),
                                                 AuditLog.actor_name == user.username)).all() == []


async def test_a_handler_of_department_a_cannot_see_b_by_guessing_ids(client, db):
    a, b = new_department(db, "DEPT-A", "部门甲"), new_department(db, "DEPT-B", "部门乙")
    handler = new_user(db, "han-a", ["handler"], department_id=a.id, password=None)
    colleague = new_user(db, "col-a", ["handler"], department_id=a.id, password=None)
    stranger = new_user(db, "han-b", ["handler"], department_id=b.id, password=None)
    headers = bearer(new_token(db, handler.id))
    query = "query($id: ID!) { user(id: $id) { username department { code } } }"
    mine = (await gql(client, query, {"id": str(colleague.id)}, headers)).json()
    assert mine["data"]["user"] == {"username": "col-a", "department": {"code": "DEPT-A"}}
    for guess in (stranger.id, stranger.id + 100):
        theirs = (await gql(client, query, {"id": str(guess)}, headers)).json()
        assert theirs["data"] is None and codes(theirs) == ["not_found"]  # the same answer as a missing id
    update = 'mutation($id: ID!) { updateUser(input: {id: $id, displayName: "x"}) { errors { code } } }'
    edit = (await gql(client, update, {"id": str(stranger.id)}, headers)).json()
    assert codes(edit) == ["forbidden"]


async def test_mutations_answer_bad_input_with_typed_errors(client, db, api_token):
    bad = (await gql(client, CREATE_DEPT, {"code": "?", "name": "", "region": "000000"}, bearer(api_token))).json()
    payload = bad["data"]["createDepartment"]
    assert payload["department"] is None
    assert {(e["field"], e["code"]) for e in payload["errors"]} == {
        ("code", "bad_format"), ("name", "required"), ("regionCode", "unknown_region")}  # GraphQL names, camelCase
    ok = (await gql(client, CREATE_DEPT, {"code": "sz-gs", "name": "姑苏区", "region": "320508"}, bearer(api_token))
          ).json()["data"]["createDepartment"]
    assert ok["errors"] == [] and ok["department"]["code"] == "SZ-GS"
    weak = (await gql(client, CREATE_USER.replace("Strong-Pass-2026", "weak"), {"username": "zz9", "roles": ["viewer"]},
                      bearer(api_token))).json()["data"]["createUser"]
    assert weak["user"] is None and weak["errors"] == [{"field": "password", "code": "weak_password"}]


async def test_users_and_audit_log_are_connections_with_fixed_statement_counts(client, db, admin_user, api_token):
    from tests.support import count_statements

    dept = new_department(db, "DEPT-A", "部门甲")
    for i in range(12):
        new_user(db, f"user{i:02d}", ["viewer"], department_id=dept.id, password=None)
    query = "{ users(first: 10) { totalCount nodes { username department { name } } } }"
    await gql(client, "{ me { username } }", headers=bearer(api_token))  # first use of the token records it
    with count_statements(db) as small:
        await gql(client, query.replace("10", "2"), headers=bearer(api_token))
    with count_statements(db) as big:
        body = (await gql(client, query, headers=bearer(api_token))).json()
    assert body["data"]["users"]["totalCount"] == 13 and len(body["data"]["users"]["nodes"]) == 10
    assert big.count == small.count
    audit = (await gql(client, '{ auditLog(first: 3, action: "user.create") { totalCount nodes { action actorName '
                               'objectType changes } } }', headers=bearer(api_token))).json()["data"]["auditLog"]
    assert audit["totalCount"] == 13 and audit["nodes"][0]["actorName"] == "system"


async def test_tokens_are_issued_once_and_revoked_through_graphql(client, db, api_token):
    portal = new_user(db, "portal", ["analyst"], password=None)
    issue = """mutation($user: ID!) { createApiToken(input: {userId: $user, name: "portal"}) {
      id token errors { field code } } }"""
    issued = (await gql(client, issue, {"user": str(portal.id)}, bearer(api_token))).json()["data"]["createApiToken"]
    assert issued["errors"] == [] and issued["token"].startswith("rw_")
    me = (await gql(client, "{ me { username } }", headers=bearer(issued["token"]))).json()
    assert me["data"]["me"]["username"] == "portal"
    revoke = 'mutation($id: ID!) { revokeApiToken(id: $id) { ok errors { code } } }'
    done = (await gql(client, revoke, {"id": issued["id"]}, bearer(api_token))).json()["data"]["revokeApiToken"]
    assert done == {"ok": True, "errors": []}
    assert (await gql(client, "{ me { username } }", headers=bearer(issued["token"]))).status_code == 401
    again = (await gql(client, revoke, {"id": issued["id"]}, bearer(api_token))).json()["data"]["revokeApiToken"]
    assert again == {"ok": False, "errors": [{"code": "revoked"}]}
    # a non-admin cannot issue tokens, not even for itself
    refused = (await gql(client, issue, {"user": str(portal.id)}, bearer(new_token(db, portal.id)))).json()
    assert codes(refused) == ["forbidden"]


async def test_change_my_password_through_graphql(client, db):
    user = new_user(db, "ana", ["analyst"])
    change = ('mutation($c: String!, $n: String!) { changeMyPassword(currentPassword: $c, newPassword: $n) '
              '{ ok errors { field code } } }')
    headers = bearer(new_token(db, user.id))
    weak = (await gql(client, change, {"c": "Regwatch-Test-2026!", "n": "weak"}, headers)).json()
    assert weak["data"]["changeMyPassword"] == {"ok": False,
                                                "errors": [{"field": "newPassword", "code": "weak_password"}]}
    ok = (await gql(client, change, {"c": "Regwatch-Test-2026!", "n": "Brand-New-2026"}, headers)).json()
    assert ok["data"]["changeMyPassword"] == {"ok": True, "errors": []}


async def test_users_tell_integration_accounts_and_sign_in_locks_as_the_pages_do(client, db, api_token):
    from domain.identity.sessions import USER_FAILURE_LIMIT, login

    new_user(db, "svc-portal", ["viewer"], password=None)
    new_user(db, "lead", ["viewer"])
    with db.unit_of_work() as s:
        for _ in range(USER_FAILURE_LIMIT):
            login(s, "lead", "wrong")
    query = """query($integration: Boolean) { users(integrationAccount: $integration) {
                 nodes { username integrationAccount signInLockedUntil } } }"""
    body = (await gql(client, query, {"integration": True}, bearer(api_token))).json()
    assert body["data"]["users"]["nodes"] == [
        {"username": "svc-portal", "integrationAccount": True, "signInLockedUntil": None}]
    staff = (await gql(client, query, {"integration": False}, bearer(api_token))).json()["data"]["users"]["nodes"]
    lead = next(n for n in staff if n["username"] == "lead")
    assert lead["integrationAccount"] is False and lead["signInLockedUntil"] is not None
    assert "svc-portal" not in {n["username"] for n in staff}


async def test_me_answers_the_users_own_row_with_its_department(client, db):
    from domain.identity.actor import SYSTEM
    from domain.identity.models import Department
    from domain.identity.tokens import create_token
    from domain.identity.users import UserInput, create_user

    with db.unit_of_work() as s:
        dept = Department(code="SZ-TEST", name="测试局", level="city")
        s.add(dept)
        s.flush()
        user = create_user(s, SYSTEM, UserInput(username="svc-portal", display_name="门户接口", department_id=dept.id,
                                                roles=["viewer", "analyst"]))
        token = create_token(s, SYSTEM, user.id, "portal")[1]
    query = ("{ me { id username displayName roles active integrationAccount lastLoginAt "
             "department { code name level active } } }")
    me = (await gql(client, query, headers=bearer(token))).json()["data"]["me"]
    assert me == {"id": str(user.id), "username": "svc-portal", "displayName": "门户接口",
                  "roles": ["analyst", "viewer"], "active": True, "integrationAccount": True, "lastLoginAt": None,
                  "department": {"code": "SZ-TEST", "name": "测试局", "level": "city", "active": True}}
