"""A small hand-built city for the statistics tests: departments, entities, warnings in every state, feedback,
events, extensions and clues — every figure of the dashboard can be worked out by hand from it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlmodel import Session

from domain.disposal.models import WarningExtension, WarningFeedback
from domain.identity.models import Department
from domain.supervision.models import Entity
from domain.warnings.models import RiskClue, Warning, WarningEvent
from tests.domain.warnings.support import actor as real_actor

__all__ = ["NOW", "City", "at"]

NOW = datetime(2026, 6, 30, 4, 0, tzinfo=UTC)  # 12:00 in Suzhou


def at(day: str, hour: int = 2) -> datetime:
    """02:00 UTC = 10:00 local on that day."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


class City:
    def __init__(self, session: Session) -> None:
        self.market = Department(code="SZ-SCJG", name="苏州市市场监督管理局")
        self.health = Department(code="SZ-WJW", name="苏州市卫生健康委员会")
        session.add_all([self.market, self.health])
        session.flush()
        self.food = Entity(uscc="91320505MA1TEST001", name="食品厂", entity_type="company", industry_code="13",
                           region_code="320505", registered_capital=Decimal("10"))
        self.shop = Entity(uscc="91320506MA1TEST002", name="超市", entity_type="company", industry_code="52",
                           region_code="320506")
        self.clinic = Entity(uscc="91320506MA1TEST003", name="诊所", entity_type="company", industry_code="84",
                             region_code="320506")
        self.other = Entity(uscc="91320506MA1TEST004", name="另一家", entity_type="company", industry_code=None,
                            region_code="320508")
        session.add_all([self.food, self.shop, self.clinic, self.other])
        session.flush()
        self.warnings: dict[str, Warning] = {}
        n = 0

        def warn(name: str, entity: Entity, dept: Department, level: str, status: str, dispatched: str, *,
                 received: str | None = None, closed: str | None = None, disposal_days: int = 7,
                 source: str = "model") -> Warning:
            nonlocal n
            n += 1
            d = at(dispatched)
            w = Warning(code=f"YJ-2026-{n:06d}", entity_id=entity.id, level=level, source=source,
                        department_id=dept.id, status=status, dispatched_at=d, created_at=d,
                        receipt_due_at=d + timedelta(days=1), disposal_due_at=d + timedelta(days=disposal_days),
                        received_at=at(received) if received else None, closed_at=at(closed) if closed else None)
            session.add(w)
            session.flush()
            self.warnings[name] = w
            return w

        # 2026H1, market: 4 warnings (+1 dismissed); health: 2 warnings
        warn("m1", self.food, self.market, "red", "closed", "2026-01-05", received="2026-01-05", closed="2026-01-08",
             disposal_days=3)  # closed on time (3 days)
        warn("m2", self.shop, self.market, "orange", "closed", "2026-02-02", received="2026-02-03", closed="2026-02-16")
        # ^ closed 14 days after dispatch, due after 7: overdue
        warn("m3", self.food, self.market, "yellow", "in_progress", "2026-06-01", received="2026-06-02",
             disposal_days=15)  # due 06-16, still open at NOW: overdue
        warn("m4", self.shop, self.market, "blue", "feedback_submitted", "2026-06-20", received="2026-06-20",
             disposal_days=30)
        warn("m5", self.other, self.market, "blue", "dismissed", "2026-03-01", disposal_days=30)
        warn("h1", self.clinic, self.health, "red", "issued", "2026-06-29", disposal_days=3)  # receipt due 06-30 02:00
        # ^ not received at NOW (06-30 04:00), receipt deadline passed: overdue
        warn("h2", self.clinic, self.health, "orange", "closed", "2026-04-01", received="2026-04-01",
             closed="2026-04-05", source="clue")
        # a warning of the previous half-year (2025H2): not in the period
        warn("old", self.food, self.market, "red", "closed", "2025-12-20", received="2025-12-20", closed="2025-12-21")

        w = self.warnings
        session.add_all([
            # main feedback, latest round counts: m1 rated 5 (confirmed), m2 rated 2 then 4 after rework (partly),
            # h2 rated 3 (false alarm), m4 rated 5 (confirmed); assisting parts never count
            WarningFeedback(warning_id=w["m1"].id, department_id=self.market.id, part="main", round=1,
                            outcome="confirmed", satisfaction=5),
            WarningFeedback(warning_id=w["m2"].id, department_id=self.market.id, part="main", round=1,
                            outcome="false_alarm", satisfaction=2),
            WarningFeedback(warning_id=w["m2"].id, department_id=self.market.id, part="main", round=2,
                            outcome="partly", satisfaction=4),
            WarningFeedback(warning_id=w["m2"].id, department_id=self.health.id, part="assist", round=2,
                            satisfaction=1),
            WarningFeedback(warning_id=w["h2"].id, department_id=self.health.id, part="main", round=1,
                            outcome="false_alarm", satisfaction=3),
            WarningFeedback(warning_id=w["m4"].id, department_id=self.market.id, part="main", round=1,
                            outcome="confirmed", satisfaction=5),
            WarningEvent(warning_id=w["m2"].id, kind="return_request", department_id=self.market.id),
            WarningEvent(warning_id=w["m2"].id, kind="return_reject", department_id=self.market.id),
            WarningEvent(warning_id=w["m3"].id, kind="return_request", department_id=self.market.id),
            WarningEvent(warning_id=w["m3"].id, kind="urge", department_id=self.market.id),
            WarningEvent(warning_id=w["m3"].id, kind="urge", department_id=self.market.id),
            WarningEvent(warning_id=w["h1"].id, kind="urge", department_id=self.health.id),
            WarningExtension(warning_id=w["m3"].id, department_id=self.market.id, previous_due_at=at("2026-06-16"),
                             requested_due_at=at("2026-06-26"), reason="需要补充检查", status="approved"),
            WarningExtension(warning_id=w["m4"].id, department_id=self.market.id, previous_due_at=at("2026-07-20"),
                             requested_due_at=at("2026-07-30"), reason="等待检测报告", status="rejected"),
        ])
        # clues: two 12345, one of them a duplicate; one department push, warned
        session.add_all([
            RiskClue(entity_id=self.food.id, uscc=self.food.uscc, source="hotline_12345", category="食品安全",
                     received_on=date(2026, 3, 1)),
            RiskClue(entity_id=self.food.id, uscc=self.food.uscc, source="hotline_12345", category="食品安全",
                     received_on=date(2026, 3, 2), status="duplicate"),
            RiskClue(entity_id=self.clinic.id, uscc=self.clinic.uscc, source="department", category="医疗",
                     received_on=date(2026, 4, 1), status="warned", reporting_department_id=self.health.id),
            RiskClue(entity_id=self.clinic.id, uscc=self.clinic.uscc, source="department", category="医疗",
                     received_on=date(2025, 4, 1)),  # another period
        ])
        session.flush()
        self.analyst = real_actor(session, "analyst-li", ["analyst"])
        self.viewer = real_actor(session, "viewer-wang", ["viewer"])
        self.handler = real_actor(session, "handler-zhao", ["handler"], department_id=self.health.id)
