"""Webhooks: written to the outbox with the change, delivered afterwards to a real local HTTP receiver, signed,
retried with back-off, idempotent; a crash between the write and the delivery loses nothing."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from domain.db import Database
from domain.disposal import service as d
from domain.errors import InvalidInput
from domain.identity.actor import SYSTEM
from domain.notifications import webhooks as wh
from domain.notifications.bus import bus
from domain.notifications.models import OutboxEvent, WebhookAttempt, WebhookDelivery
from domain.types import utcnow
from tests.domain.disposal.support import make_warning, make_world

SECRET = "receiver-secret-0123456789"


class Receiver:
    """A real HTTP server on a free port that records what it gets and answers with the queued status codes."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                outer.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                code = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(code)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


@pytest.fixture
def world(db):
    return make_world(db)


def subscribe(db, url, **kw):
    with db.unit_of_work() as s:
        return wh.create_subscription(s, SYSTEM, wh.SubscriptionInput(name=kw.pop("name", "一期门户"), url=url,
                                                                       secret=SECRET, **kw))


def test_a_step_is_delivered_signed_with_timestamp_and_idempotency_key(db, world, receiver):
    subscribe(db, receiver.url, event_kinds=["receive"])
    w = make_warning(db, world.dept_a)
    with db.unit_of_work() as s:
        d.receive_warning(s, world.handler_a, w.id)
    messages = wh.dispatch_outbox(db)
    assert [m["kind"] for m in messages] == ["issue", "receive"]
    stats = wh.deliver_due(db)
    assert (stats.attempted, stats.delivered) == (1, 1)  # only the subscribed kind
    headers, body = receiver.requests[0]
    assert wh.verify_signature(SECRET, headers["x-regwatch-timestamp"], body, headers["x-regwatch-signature"])
    assert not wh.verify_signature("wrong-secret-0123456789", headers["x-regwatch-timestamp"], body,
                                   headers["x-regwatch-signature"])
    assert not wh.verify_signature(SECRET, str(int(headers["x-regwatch-timestamp"]) - 3600), body,
                                   headers["x-regwatch-signature"])  # an old timestamp is a replay
    payload = json.loads(body)
    assert payload["event"] == "receive" and payload["data"]["warningCode"] == w.code
    assert payload["data"]["toStatus"] == "in_progress" and headers["idempotency-key"] == payload["deliveryId"]
    assert wh.deliver_due(db).attempted == 0  # delivered once, not again


def test_failures_are_retried_with_back_off_under_the_same_key_until_given_up(db, world, receiver):
    subscribe(db, receiver.url)
    make_warning(db, world.dept_a)
    wh.dispatch_outbox(db)
    receiver.statuses = [500, 503]
    first = wh.deliver_due(db)
    assert (first.attempted, first.failed) == (1, 1) and "HTTP 500" in first.errors[0]
    assert wh.deliver_due(db).attempted == 0  # waiting for its back-off
    with db.unit_of_work("read") as s:
        delivery = s.exec(select(WebhookDelivery)).one()
        wait = delivery.next_attempt_at - utcnow()
        assert timedelta(seconds=20) < wait <= wh.backoff(1)
    assert wh.deliver_due(db, now=utcnow() + timedelta(minutes=1)).failed == 1
    assert wh.deliver_due(db, now=utcnow() + timedelta(minutes=5)).delivered == 1
    keys = {h["idempotency-key"] for h, _ in receiver.requests}
    assert len(receiver.requests) == 3 and len(keys) == 1
    with db.unit_of_work("read") as s:
        assert [a.status_code for a in s.exec(select(WebhookAttempt).order_by(WebhookAttempt.id))] == [500, 503, 200]
        assert s.exec(select(WebhookDelivery)).one().status == "delivered"
    assert [wh.backoff(n).total_seconds() for n in (1, 2, 3, 10)] == [30, 60, 120, 3600]


def test_an_unreachable_receiver_is_given_up_after_the_last_attempt(db, world):
    subscribe(db, "http://127.0.0.1:9/closed")
    make_warning(db, world.dept_a)
    wh.dispatch_outbox(db)
    later = utcnow()
    for _ in range(wh.MAX_ATTEMPTS):
        later += timedelta(hours=2)
        wh.deliver_due(db, now=later)
    with db.unit_of_work("read") as s:
        delivery = s.exec(select(WebhookDelivery)).one()
        assert (delivery.status, delivery.attempts) == ("dead", wh.MAX_ATTEMPTS)
        assert "连接失败" in delivery.last_error


def test_a_crash_between_the_change_and_the_delivery_loses_nothing(db, database_url, world, receiver):
    subscribe(db, receiver.url, event_kinds=["receive"])
    w = make_warning(db, world.dept_a)
    with db.unit_of_work() as s:
        d.receive_warning(s, world.handler_a, w.id)
    # the process dies here: nothing was dispatched; a failed step wrote nothing either
    with pytest.raises(InvalidInput), db.unit_of_work() as s:
        d.submit_feedback(s, world.handler_a, w.id, d.FeedbackInput(measures=[], description=""))
    db.dispose()
    restarted = Database(database_url)
    try:
        with restarted.unit_of_work("read") as s:
            assert [o.kind for o in s.exec(select(OutboxEvent).where(OutboxEvent.dispatched_at.is_(None))
                                           .order_by(OutboxEvent.id))] == ["issue", "receive"]
        wh.dispatch_outbox(restarted)
        # crash again after claiming the delivery, before sending it: the lease runs out, another process sends it
        with restarted.unit_of_work() as s:
            s.execute(sa.update(WebhookDelivery).values(next_attempt_at=utcnow() + wh.LEASE))
        assert wh.deliver_due(restarted).attempted == 0
        assert wh.deliver_due(restarted, now=utcnow() + wh.LEASE + timedelta(seconds=1)).delivered == 1
        assert len(receiver.requests) == 1
    finally:
        restarted.dispose()


def test_subscriptions_filter_by_department_and_are_validated(db, world, receiver):
    subscribe(db, receiver.url, name="应急局系统", department_ids=[world.dept_b])
    make_warning(db, world.dept_a)
    make_warning(db, world.dept_b)
    wh.dispatch_outbox(db)
    assert wh.deliver_due(db).delivered == 1
    assert json.loads(receiver.requests[0][1])["data"]["departmentId"] == world.dept_b
    with pytest.raises(InvalidInput) as info, db.unit_of_work() as s:
        wh.create_subscription(s, SYSTEM, wh.SubscriptionInput(name="应急局系统", url="ftp://x", secret="short",
                                                               event_kinds=["explode"], department_ids=[999]))
    fields = {e.field for e in info.value.errors}
    assert fields == {"url", "secret", "event_kinds", "department_ids"}


async def test_dispatched_events_reach_in_process_subscribers(db, world):
    if db.backend != "sqlite":
        pytest.skip("PostgreSQL publishes through LISTEN/NOTIFY (tests/api/disposal)")
    async with bus.subscribe() as queue:
        make_warning(db, world.dept_a)
        wh.dispatch_outbox(db)
        message = await __import__("asyncio").wait_for(queue.get(), 5)
    assert message["kind"] == "issue" and message["departmentId"] == world.dept_a
