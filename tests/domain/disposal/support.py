"""A small world for disposal tests: two departments, their people, an analyst, and warnings inserted directly
(the warnings engineer's issue path is tested there; here only the disposal steps are under test)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.db import Database
from domain.identity.actor import Actor
from domain.identity.models import User
from domain.supervision.models import Entity
from domain.types import utcnow
from domain.warnings.models import Warning, WarningEvent
from tests.domain.identity.factories import new_department, new_user

__all__ = ["World", "actor_of", "make_warning", "make_world"]

_seq = itertools.count(1)


def actor_of(user: User) -> Actor:
    return Actor(user_id=user.id, username=user.username, roles=frozenset(user.roles),
                 department_id=user.department_id)


@dataclass
class World:
    db: Database
    dept_a: int
    dept_b: int
    handler_a: Actor
    handler_a2: Actor
    handler_b: Actor
    lead_a: Actor
    analyst: Actor
    admin: Actor
    viewer: Actor


def make_world(db: Database, *, password: str | None = None) -> World:
    """Without a password (no argon2 hashing: fast); pages and the API tests pass one to sign in."""
    a = new_department(db, "SZ-SCJG", "苏州市市场监督管理局")
    b = new_department(db, "SZ-YJJ", "苏州市应急管理局")
    def person(username: str, role: str, name: str, dept: int | None = None) -> Actor:
        return actor_of(new_user(db, username, [role], department_id=dept, display_name=name, password=password))

    return World(
        db=db, dept_a=a.id, dept_b=b.id,
        handler_a=person("zhang", "handler", "张处置", a.id),
        handler_a2=person("zhou", "handler", "周处置", a.id),
        handler_b=person("liwei", "handler", "李处置", b.id),
        lead_a=person("lead-a", "viewer", "市场局领导", a.id),
        analyst=person("wang", "analyst", "王研判"),
        admin=person("root", "admin", "管理员"),
        viewer=person("kaohe", "viewer", "考核"),
    )


def make_warning(db: Database, department_id: int, *, level: str = "orange", status: str = "issued",
                 dispatched_at: datetime | None = None, receipt_days: float = 1, disposal_days: float = 10,
                 name: str | None = None) -> Warning:
    n = next(_seq)
    now = dispatched_at or utcnow()
    with db.unit_of_work() as s:
        entity = Entity(uscc=f"91320500MA{n:07d}X"[:18], name=name or f"苏州测试企业{n}有限公司",
                        entity_type="enterprise")
        s.add(entity)
        s.flush()
        w = Warning(code=f"YJ-2026-{n:06d}", entity_id=entity.id, level=level, source="manual",
                    department_id=department_id, status=status, dispatched_at=now,
                    receipt_due_at=now + timedelta(days=receipt_days),
                    disposal_due_at=now + timedelta(days=disposal_days), created_at=now, updated_at=now,
                    reasons=[{"text": "投诉量激增"}])
        s.add(w)
        s.flush()
        s.add(WarningEvent(warning_id=w.id, kind="issue", to_status="issued", actor_name="wang",
                           department_id=department_id, at=now))
        return w
