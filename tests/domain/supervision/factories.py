"""Supervision test data, declared explicitly: departments, users, data sources, items, entities."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from domain.identity.actor import Actor
from domain.identity.models import Department, User
from domain.integration.models import DataSource
from domain.supervision.models import Entity, SupervisionItem
from domain.supervision.uscc import make_uscc_from_int

__all__ = ["ADMIN", "actor_for", "seed_basics", "uscc"]

ADMIN = Actor(user_id=None, username="system", roles=frozenset({"admin", "analyst"}))


def uscc(n: int, region: str = "320505") -> str:
    return make_uscc_from_int(region, n)


def actor_for(user: User) -> Actor:
    return Actor(user_id=user.id, username=user.username, roles=frozenset(user.roles),
                 department_id=user.department_id)


def seed_basics(session: Session, *, entities: int = 3) -> dict[str, Any]:
    """Two departments, two sources with their integration users, two items, a few entities."""
    scjg = Department(code="SZ-SCJG", name="苏州市市场监督管理局")
    yjgl = Department(code="SZ-YJGL", name="苏州市应急管理局")
    session.add_all([scjg, yjgl])
    session.flush()
    user_a = User(username="feed-a", roles=["viewer"], department_id=scjg.id)
    user_b = User(username="feed-b", roles=["viewer"], department_id=yjgl.id)
    handler = User(username="handler", roles=["handler"], department_id=scjg.id)
    analyst = User(username="analyst", roles=["analyst"])
    session.add_all([user_a, user_b, handler, analyst])
    session.flush()
    source_a = DataSource(code="SCJG-SYS", name="市场监管业务系统", kind="department_system", department_id=scjg.id,
                          user_id=user_a.id, expected_feeds=["actions", "complaints"])
    source_b = DataSource(code="YJGL-SYS", name="应急管理业务系统", kind="department_system", department_id=yjgl.id,
                          user_id=user_b.id, expected_feeds=["actions"])
    manual = DataSource(code="MANUAL", name="手工导入", kind="manual")
    session.add_all([source_a, source_b, manual])
    session.flush()
    items = [SupervisionItem(code="320500-SCJG-JC-001", name="对食品生产经营者的监督检查", department_id=scjg.id,
                             kind="inspection"),
             SupervisionItem(code="320500-SCJG-CF-001", name="对无证经营的行政处罚", department_id=scjg.id,
                             kind="penalty")]
    session.add_all(items)
    rows = [Entity(uscc=uscc(i), name=f"苏州测试{i}号有限公司", entity_type="enterprise", industry_code="C",
                   region_code="320505") for i in range(entities)]
    session.add_all(rows)
    session.commit()
    return {"departments": [scjg, yjgl], "users": {"a": user_a, "b": user_b, "handler": handler,
                                                   "analyst": analyst},
            "sources": [source_a, source_b, manual], "items": items, "entities": rows}
