"""Departments, users and API tokens."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.types import UTCDateTime, utcnow

__all__ = ["DEPARTMENT_LEVELS", "ApiToken", "Department", "User"]

DEPARTMENT_LEVELS = {"city": "市级", "district": "区级"}


class Department(SQLModel, table=True):
    """部门: a supervising body."""

    __tablename__ = "department"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=100)
    level: str = Field(max_length=16, default="city")  # city (市级) / district (区级)
    region_code: str = Field(max_length=6, default="320500")
    parent_id: int | None = Field(default=None, foreign_key="department.id")
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class User(SQLModel, table=True):
    """用户: a member of staff or an integration account."""

    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=100, default="")
    department_id: int | None = Field(default=None, foreign_key="department.id", index=True)
    roles: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    password_hash: str | None = Field(default=None, max_length=255)
    active: bool = Field(default=True)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Bumped on logout, password change and deactivation: every session signed with an older value stops working.
    session_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ApiToken(SQLModel, table=True):
    """接口令牌: a bearer token for an integrator, stored only as a hash."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=128, unique=True)
    prefix: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
