"""The demo city's routing table (派发规则): by trade to the city department that supervises it, else by district to
the district market-supervision bureau, else the default rule — so automatic warnings spread over departments
instead of all landing on 苏州市市场监督管理局. Only rules whose condition is not configured yet are added."""

from __future__ import annotations

from sqlmodel import Session, select

from domain.identity.actor import Actor
from domain.identity.models import Department
from domain.warnings.models import RoutingRule
from domain.warnings.routing import RoutingRuleInput, save_routing_rule

__all__ = ["DEMO_DISTRICT_ROUTES", "DEMO_INDUSTRY_ROUTES", "ensure_demo_routing", "is_demo_city"]

NOTE = "演示城市派发规则（初始化时设置，可在派发规则页修改）"

# GB/T 4754 section letters or division prefixes (entities carry the two-digit division; a letter covers its
# divisions) -> the department code of domain/demo/data/departments.csv. The longest prefix wins.
DEMO_INDUSTRY_ROUTES: tuple[tuple[str, str], ...] = (
    ("13", "SZ-SCJG"),  # 农副食品加工：市场监管（食品生产）
    ("14", "SZ-SCJG"),  # 食品制造：市场监管
    ("27", "SZ-YJ"),  # 医药制造：药监
    ("Q", "SZ-WJ"),  # 卫生和社会工作（门诊部、康复医疗、养老）：卫健
    ("E", "SZ-ZJ"),  # 建筑业：住建
    ("K", "SZ-ZJ"),  # 房地产：住建
    ("G", "SZ-JT"),  # 交通运输、仓储和邮政：交通
    ("59", "SZ-YJGL"),  # 仓储（危险品仓储）：应急管理
    ("B", "SZ-YJGL"),  # 采矿业：应急管理
    ("25", "SZ-YJGL"),  # 石油、煤炭加工：应急管理
    ("26", "SZ-YJGL"),  # 化学原料和化学制品：应急管理
    ("D", "SZ-SL"),  # 电力、燃气及水的生产和供应：水务
    ("N", "SZ-STHJ"),  # 水利、环境和公共设施管理：生态环境
    ("A", "SZ-NY"),  # 农林牧渔：农业农村
    ("P", "SZ-JY"),  # 教育：教育
    ("R", "SZ-WGL"),  # 文化、体育和娱乐：文广旅
    ("61", "SZ-WGL"),  # 住宿（酒店、宾馆）：文广旅
)

# Everything else (manufacturing, trade, catering, services …) goes to the district's market-supervision bureau.
DEMO_DISTRICT_ROUTES: tuple[tuple[str, str], ...] = (
    ("320508", "GS-SCJG"), ("320506", "WZ-SCJG"), ("320507", "XC-SCJG"), ("320505", "HQ-SCJG"),
    ("320509", "WJ-SCJG"), ("320571", "SIP-SCJG"), ("320583", "KS-SCJG"), ("320581", "CS-SCJG"),
    ("320582", "ZJG-SCJG"), ("320585", "TC-SCJG"),
)


def is_demo_city(session: Session) -> bool:
    """The demo directory is loaded: its city and district departments are there."""
    wanted = {code for _, code in DEMO_INDUSTRY_ROUTES + DEMO_DISTRICT_ROUTES}
    found = set(session.exec(select(Department.code).where(Department.code.in_(wanted))).all())  # type: ignore[attr-defined]
    return found == wanted


def ensure_demo_routing(session: Session, actor: Actor) -> int:
    """Add the demo routing rules whose condition (industry prefix, district) has no rule yet — whatever department
    an existing rule names, it is kept — through `save_routing_rule` (validated, audited). Returns how many were
    added; nothing when the demo departments are missing or every condition is configured (safe to re-run)."""
    if not is_demo_city(session):
        return 0
    rules = session.exec(select(RoutingRule.kind, RoutingRule.industry_prefix, RoutingRule.region_code)).all()
    have_industry = {prefix for kind, prefix, _ in rules if kind == "industry"}
    have_district = {region for kind, _, region in rules if kind == "district"}
    added = 0
    for prefix, code in DEMO_INDUSTRY_ROUTES:
        if prefix not in have_industry:
            save_routing_rule(session, actor, RoutingRuleInput(kind="industry", department_code=code,
                                                               industry_prefix=prefix, note=NOTE))
            added += 1
    for region, code in DEMO_DISTRICT_ROUTES:
        if region not in have_district:
            save_routing_rule(session, actor, RoutingRuleInput(kind="district", department_code=code,
                                                               region_code=region, note=NOTE))
            added += 1
    return added
