"""First-run setup on a small demo city: the routing table by trade and district is created once, and automatic
warnings reach many departments rather than only the default one."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlmodel import select

from domain.demo.routing import DEMO_DISTRICT_ROUTES, DEMO_INDUSTRY_ROUTES
from domain.demo.service import build_demo_city
from domain.identity.actor import SYSTEM
from domain.identity.models import Department
from domain.risk.models import RiskScore
from domain.supervision.models import Entity
from domain.warnings.auto_issue import auto_issue_warnings
from domain.warnings.models import RoutingRule, Warning
from tests.api.risk.factories import add_run, add_version


def test_setup_routes_the_demo_city_by_trade_and_district_once(cli_env, db):
    from cli.warnings import default_route

    build_demo_city(db, SYSTEM, entities=300, seed=4, end_date=date(2026, 1, 31))
    default_route()
    with db.unit_of_work() as s:
        kinds = Counter(r.kind for r in s.exec(select(RoutingRule)))
    assert kinds == {"industry": len(DEMO_INDUSTRY_ROUTES), "district": len(DEMO_DISTRICT_ROUTES), "default": 1}
    default_route()  # a re-run adds nothing
    with db.unit_of_work() as s:
        assert len(s.exec(select(RoutingRule)).all()) == sum(kinds.values())
        run = add_run(s, add_version(s, 1))
        entities = s.exec(select(Entity.id)).all()
        s.add_all([RiskScore(run_id=run.id, entity_id=e, score=0.9, model_level="red", level="red")
                   for e in entities])
        s.flush()
        result = auto_issue_warnings(s, SYSTEM, run.id, min_level="yellow")
        assert result.issued == len(entities) and result.unrouted == 0
        per_department = Counter(s.exec(select(Department.code).join(
            Warning, Warning.department_id == Department.id)).all())
    assert len(per_department) >= 8, per_department
    assert max(per_department.values()) < len(entities) / 2, per_department  # no department takes most of them
    assert any(code.startswith(("WZ-", "KS-", "WJ-", "GS-")) for code in per_department)  # district bureaus
    assert {"SZ-ZJ", "SZ-JT"} <= set(per_department)  # construction, transport
