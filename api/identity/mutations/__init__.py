"""Identity mutations, one module each."""

from __future__ import annotations

import strawberry

from api.identity.mutations.department_create import CreateDepartmentPayload, create_department_mutation
from api.identity.mutations.department_update import UpdateDepartmentPayload, update_department_mutation
from api.identity.mutations.password_change import ChangeMyPasswordPayload, change_my_password_mutation
from api.identity.mutations.token_create import CreateApiTokenPayload, create_api_token_mutation
from api.identity.mutations.token_revoke import RevokeApiTokenPayload, revoke_api_token_mutation
from api.identity.mutations.user_create import CreateUserPayload, create_user_mutation
from api.identity.mutations.user_reset_password import ResetUserPasswordPayload, reset_user_password_mutation
from api.identity.mutations.user_update import UpdateUserPayload, update_user_mutation

__all__ = ["IdentityMutation"]


@strawberry.type
class IdentityMutation:
    create_department: CreateDepartmentPayload = strawberry.mutation(
        resolver=create_department_mutation, description="Create a department (新建部门); admins only.")
    update_department: UpdateDepartmentPayload = strawberry.mutation(
        resolver=update_department_mutation, description="Change or deactivate a department (修改部门); admins only.")
    create_user: CreateUserPayload = strawberry.mutation(
        resolver=create_user_mutation, description="Create a user (新建用户); admins only.")
    update_user: UpdateUserPayload = strawberry.mutation(
        resolver=update_user_mutation, description="Change or deactivate a user (修改用户); admins only.")
    reset_user_password: ResetUserPasswordPayload = strawberry.mutation(
        resolver=reset_user_password_mutation, description="Set a user's password (重置密码); admins only.")
    change_my_password: ChangeMyPasswordPayload = strawberry.mutation(
        resolver=change_my_password_mutation, description="Change your own password (修改密码).")
    create_api_token: CreateApiTokenPayload = strawberry.mutation(
        resolver=create_api_token_mutation, description="Issue an API token (签发接口令牌); admins only.")
    revoke_api_token: RevokeApiTokenPayload = strawberry.mutation(
        resolver=revoke_api_token_mutation, description="Revoke an API token at once (撤销接口令牌); admins only.")
