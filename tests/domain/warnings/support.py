"""Test data for clues and warnings: departments, a scored city, routing rules, real users as actors."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from domain.identity.actor import Actor
from domain.identity.models import Department, User
from domain.integration.models import DataSource
from domain.risk.models import RiskScore, ScoringRun
from domain.supervision.models import Entity
from domain.warnings.models import RoutingRule
from tests.api.risk.factories import add_alias, add_entity, add_run, add_version

__all__ = ["City", "actor", "build_city", "score"]


def actor(session: Session, username: str, roles: list[str], department_id: int | None = None) -> Actor:
    user = User(username=username, display_name=username, roles=roles, department_id=department_id)
    session.add(user)
    session.flush()
    return Actor(user_id=user.id, username=username, roles=frozenset(roles), department_id=department_id)


def score(session: Session, run: ScoringRun, entity: Entity, value: float, level: str | None, *,
          model_level: str | None = None, rules: list[str] | None = None) -> RiskScore:
    row = RiskScore(run_id=run.id, entity_id=entity.id, score=value, model_level=model_level or level, level=level,
                    rules_matched=rules or [],
                    contributions=[["failed_inspections_90d", 2.0, 0.42], ["complaints_90d", 3.0, 0.21]])
    session.add(row)
    session.flush()
    return row


@dataclass
class City:
    market: Department  # default department
    health: Department  # industry C13
    wuzhong: Department  # district 320506
    entities: list[Entity]
    run: ScoringRun
    version_id: int
    source: DataSource
    analyst: Actor
    handler: Actor


def build_city(session: Session, n: int = 6) -> City:
    market = Department(code="SZ-SCJG", name="苏州市市场监督管理局")
    health = Department(code="SZ-WJW", name="苏州市卫生健康委员会")
    wuzhong = Department(code="WZ-SCJG", name="吴中区市场监督管理局", level="district", region_code="320506")
    session.add_all([market, health, wuzhong])
    session.flush()
    entities = [add_entity(session, i + 1) for i in range(n)]
    version = add_version(session, 1)
    add_alias(session, version)
    run = add_run(session, version)
    session.add(RoutingRule(kind="default", department_id=market.id, note="默认"))
    source = DataSource(code="dept-push", name="部门推送", kind="department_system", department_id=market.id)
    session.add(source)
    session.flush()
    analyst = actor(session, "analyst-li", ["analyst"])
    handler = actor(session, "handler-zhao", ["handler"], department_id=health.id)
    return City(market, health, wuzhong, entities, run, version.id, source, analyst, handler)
