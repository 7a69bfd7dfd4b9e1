"""A first night's backlog (tens of thousands of outbox rows from one automatic issue): the pump takes it a batch at
a time and goes straight on while batches come back full; a delivery round is a fixed number of statements
whatever its size; on PostgreSQL a dispatch batch NOTIFYs its messages packed, in one statement."""

from __future__ import annotations

import json
import time

import pytest
import sqlalchemy as sa
from sqlmodel import select

from bench.webhooks import seed_backlog
from domain.notifications import webhooks as wh
from domain.notifications.models import OutboxEvent, WebhookDelivery
from domain.notifications.pump import NotificationPump
from tests.domain.notifications.test_webhooks import Receiver, subscribe
from tests.support import count_statements


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


def _message(i: int, comment: str = "") -> dict:
    return {"id": i, "kind": "issue", "warningId": i, "departmentId": 1, "departments": [1], "at": "2026-12-01",
            "comment": comment}


def test_messages_are_packed_into_notify_payloads_within_the_limit():
    messages = [_message(i, "模型评分自动下发") for i in range(500)] + [_message(500, "长" * 5000)]
    payloads = wh.notify_payloads(messages)
    assert 1 < len(payloads) < len(messages) // 10
    assert all(len(p.encode()) <= wh.NOTIFY_LIMIT for p in payloads)
    back = [m for p in payloads for m in wh.notified_messages(p)]
    assert [m["id"] for m in back] == list(range(501))
    assert back[:500] == messages[:500]
    assert "comment" not in back[500] and back[500]["kind"] == "issue"  # too long alone: its short form
    assert wh.notified_messages(json.dumps(_message(7))) == [_message(7)]  # one message from an older process


def test_a_delivery_round_is_the_same_statements_whatever_its_size(db, receiver):
    subscribe(db, receiver.url)
    seed_backlog(db, 60)
    while wh.dispatch_outbox(db, limit=100):
        pass
    sent = []
    for size in (5, 50):
        with count_statements(db) as counter:
            stats = wh.deliver_due(db, limit=size)
        assert stats.delivered == size
        sent.append(len(counter.statements))
    assert sent[0] == sent[1], sent
    with db.unit_of_work("read") as s:
        statuses = s.execute(sa.select(WebhookDelivery.status, sa.func.count()).group_by(WebhookDelivery.status))
        assert dict(statuses.all()) == {"delivered": 55, "pending": 5}
    assert len({json.loads(body)["deliveryId"] for _, body in receiver.requests}) == 55


def test_the_pump_drains_a_backlog_batch_after_batch(db, receiver):
    """Intervals of an hour: only going straight on after a full batch gets the backlog out."""
    subscribe(db, receiver.url)
    seed_backlog(db, 230)
    pump = NotificationPump(db, dispatch_seconds=3600, deliver_seconds=3600, batch=50)
    pump.start()
    try:
        deadline = time.monotonic() + 180
        while len(receiver.requests) < 230 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        pump.stop()
    assert len(receiver.requests) == 230
    with db.unit_of_work("read") as s:
        assert s.exec(select(sa.func.count()).select_from(OutboxEvent)
                      .where(OutboxEvent.dispatched_at.is_(None))).one() == 0
        assert s.exec(select(sa.func.count()).select_from(WebhookDelivery)
                      .where(WebhookDelivery.status == "delivered")).one() == 230


def test_a_dispatch_batch_notifies_its_messages_packed(db):
    if db.backend != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    import psycopg

    seed_backlog(db, 300)
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"LISTEN {wh.CHANNEL}")
        with count_statements(db) as counter:
            assert len(wh.dispatch_outbox(db, limit=300)) == 300
        notes = list(conn.notifies(timeout=2, stop_after=300))
    assert sum("pg_notify" in q for q in counter.statements) == 1
    heard = [m for n in notes for m in wh.notified_messages(n.payload)]
    assert len(heard) == 300 and len({m["id"] for m in heard}) == 300
    assert len(notes) <= 300 // 10
