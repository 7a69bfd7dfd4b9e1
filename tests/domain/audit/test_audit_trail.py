"""The audit trail is append-only (in the app and in the database) and can be filtered by admins only."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from domain.audit.models import AuditImmutable, AuditLog
from domain.audit.queries import AuditFilter, list_audit
from domain.audit.service import record_audit
from domain.errors import Forbidden, InvalidInput
from domain.identity.actor import SYSTEM, Actor
from domain.pagination import PageRequest
from domain.types import local_today, utcnow


def test_the_app_cannot_change_or_delete_an_audit_row(db):
    with db.unit_of_work() as s:
        row = record_audit(s, SYSTEM, "thing.create", "thing", 1, {"name": [None, "a"]})
    with pytest.raises(AuditImmutable), db.unit_of_work() as s:
        stored = s.get(AuditLog, row.id)
        stored.action = "thing.forged"
        s.flush()
    with pytest.raises(AuditImmutable), db.unit_of_work() as s:
        s.delete(s.get(AuditLog, row.id))
        s.flush()
    with pytest.raises(AuditImmutable), db.unit_of_work() as s:
        s.execute(sa.update(AuditLog).values(action="x"))
    with pytest.raises(AuditImmutable), db.unit_of_work() as s:
        s.execute(sa.delete(AuditLog))
    with db.unit_of_work() as s:
        assert s.get(AuditLog, row.id).action == "thing.create"


def test_the_database_itself_refuses_updates(db):
    with db.unit_of_work() as s:
        record_audit(s, SYSTEM, "thing.create", "thing", 1)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE audit_log SET action = 'forged'")


def test_filters_by_actor_action_object_and_local_date(db):
    alice = Actor(user_id=1, username="alice", roles=frozenset({"admin"}))
    with db.unit_of_work() as s:
        record_audit(s, alice, "user.update", "user", 5, {"display_name": ["", "A"]})
        record_audit(s, SYSTEM, "user.create", "user", 6)
        old = record_audit(s, alice, "department.create", "department", 2)
        old.occurred_at = utcnow() - timedelta(days=3)

    def actions(**kw) -> list[str]:
        with db.unit_of_work() as s:
            return [r.action for r in list_audit(s, SYSTEM, PageRequest(first=50), AuditFilter(**kw)).items]

    assert actions() == ["user.create", "user.update", "department.create"]  # newest first
    assert actions(actor="ALICE") == ["user.update", "department.create"]
    assert actions(action="user.") == ["user.create", "user.update"]
    assert actions(object_type="user", object_id="5") == ["user.update"]
    assert actions(date_from=local_today()) == ["user.create", "user.update"]
    assert actions(date_to=local_today() - timedelta(days=1)) == ["department.create"]
    with pytest.raises(InvalidInput, match="起始日期"), db.unit_of_work() as s:
        list_audit(s, SYSTEM, PageRequest(), AuditFilter(date_from=local_today(), date_to=local_today() - timedelta(1)))


def test_only_admins_read_the_trail(db, session):
    with pytest.raises(Forbidden):
        list_audit(session, Actor(user_id=2, username="ana", roles=frozenset({"analyst"})), PageRequest())
    assert session.exec(select(AuditLog)).all() == []
