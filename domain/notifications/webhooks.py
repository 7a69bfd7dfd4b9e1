"""Outbound webhooks: subscriptions, the outbox dispatcher, signed delivery with retries and a log.

Every delivery is a POST of a JSON body with these headers:

- ``X-Regwatch-Event``: the event kind (receive, feedback, close, overdue …)
- ``X-Regwatch-Timestamp``: Unix seconds when this attempt was signed
- ``X-Regwatch-Signature``: ``sha256=`` + hex HMAC-SHA256 of ``"<timestamp>.<body>"`` with the subscription secret
- ``Idempotency-Key``: the same on every retry of one event to one subscription (a receiver drops repeats)

A receiver checks the signature with `verify_signature` (or the same three lines) and rejects old timestamps.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain.audit.service import record_audit
from domain.db import Database
from domain.errors import FieldError, InvalidInput, NotFound
from domain.identity.actor import Actor
from domain.identity.models import Department
from domain.identity.policy import require
from domain.notifications.bus import bus
from domain.notifications.models import OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookSubscription
from domain.pagination import Page, PageRequest, by_id, select_page
from domain.types import table_of, utcnow

__all__ = [
    "CHANNEL",
    "MAX_ATTEMPTS",
    "DeliveryStats",
    "SubscriptionInput",
    "backoff",
    "create_subscription",
    "deliver_due",
    "delivery_body",
    "dispatch_outbox",
    "list_subscriptions",
    "notified_messages",
    "notify_payloads",
    "outbox_message",
    "page_deliveries",
    "sign",
    "update_subscription",
    "verify_signature",
]

log = logging.getLogger("regwatch.webhooks")

CHANNEL = "regwatch_events"  # PostgreSQL NOTIFY channel
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
TIMEOUT_SECONDS = 10.0
LEASE = timedelta(seconds=60)  # a claimed delivery is retried by another process if this one dies mid-attempt


def backoff(attempts: int) -> timedelta:
    """Wait after the n-th failed attempt: 30 s, 1 min, 2 min … at most an hour."""
    return min(BACKOFF_BASE * (2 ** max(0, attempts - 1)), BACKOFF_MAX)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str, *, tolerance: int = 300,
                     now: float | None = None) -> bool:
    """What a receiver does: the timestamp is recent and the signature matches (compared in constant time)."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((now or time.time()) - ts) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature or "")


# ---- subscriptions ---------------------------------------------------------------------------------------------

@dataclass
class SubscriptionInput:
    name: str | None = None
    url: str | None = None
    secret: str | None = None
    event_kinds: list[str] | None = None
    department_ids: list[int] | None = None
    active: bool | None = None


def _validate(session: Session, data: SubscriptionInput, *, creating: bool) -> dict[str, Any]:
    from domain.disposal.events import EVENT_KINDS

    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    if data.name is not None or creating:
        name = (data.name or "").strip()
        if not name:
            errors.append(FieldError("name", "required", "请填写接收系统名称"))
        elif len(name) > 100:
            errors.append(FieldError("name", "too_long", f"接收系统名称最多 100 个字符（当前 {len(name)} 个）"))
        values["name"] = name
    if data.url is not None or creating:
        url = (data.url or "").strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            errors.append(FieldError("url", "bad_url", f"推送地址须为 http:// 或 https:// 开头的完整网址，收到“{url}”"))
        elif len(url) > 500:
            errors.append(FieldError("url", "too_long", "推送地址最多 500 个字符"))
        values["url"] = url
    if data.secret is not None:
        if len(data.secret) < 16:
            errors.append(FieldError("secret", "too_short", f"签名密钥至少 16 个字符（当前 {len(data.secret)} 个）"))
        values["secret"] = data.secret
    elif creating:
        values["secret"] = secrets.token_urlsafe(32)
    if data.event_kinds is not None:
        unknown = [k for k in data.event_kinds if k not in EVENT_KINDS]
        if unknown:
            errors.append(FieldError("event_kinds", "bad_choice",
                                     f"未知的事件类型：{'、'.join(unknown)}（可选：{'、'.join(EVENT_KINDS)}）"))
        values["event_kinds"] = sorted(set(data.event_kinds))
    if data.department_ids is not None:
        ids = sorted(set(data.department_ids))
        found = set(session.exec(select(col(Department.id)).where(col(Department.id).in_(ids))).all()) if ids else set()
        missing = [str(i) for i in ids if i not in found]
        if missing:
            errors.append(FieldError("department_ids", "not_found", f"部门不存在：{'、'.join(missing)}"))
        values["department_ids"] = ids
    if data.active is not None:
        values["active"] = data.active
    if "name" in values and not errors:
        taken = session.exec(select(col(WebhookSubscription.id))
                             .where(col(WebhookSubscription.name) == values["name"])).first()
        if taken is not None:
            errors.append(FieldError("name", "duplicate", f"接收系统名称“{values['name']}”已被使用"))
    if errors:
        raise InvalidInput(errors[0].message, errors=errors)
    return values


def _audit_view(sub: WebhookSubscription) -> dict[str, Any]:
    return {"name": sub.name, "url": sub.url, "event_kinds": sub.event_kinds, "department_ids": sub.department_ids,
            "active": sub.active}  # never the secret


def create_subscription(session: Session, actor: Actor, data: SubscriptionInput) -> WebhookSubscription:
    require(actor, "settings.manage")
    values = _validate(session, data, creating=True)
    sub = WebhookSubscription(**values, created_by_name=actor.username)
    session.add(sub)
    session.flush()
    record_audit(session, actor, "webhook.create", "webhook_subscription", sub.id, _audit_view(sub))
    return sub


def update_subscription(session: Session, actor: Actor, subscription_id: int,
                        data: SubscriptionInput) -> WebhookSubscription:
    require(actor, "settings.manage")
    sub = session.get(WebhookSubscription, subscription_id)
    if sub is None:
        raise NotFound(f"推送订阅 {subscription_id} 不存在", field="id")
    if data.name is not None and data.name.strip() == sub.name:
        data.name = None
    values = _validate(session, data, creating=False)
    before = _audit_view(sub)
    for key, value in values.items():
        setattr(sub, key, value)
    sub.updated_at = utcnow()
    session.flush()
    record_audit(session, actor, "webhook.update", "webhook_subscription", sub.id,
                 {"before": before, "after": _audit_view(sub), "secret_changed": "secret" in values})
    return sub


def list_subscriptions(session: Session, actor: Actor) -> list[WebhookSubscription]:
    require(actor, "settings.manage")
    return list(session.exec(select(WebhookSubscription).order_by(col(WebhookSubscription.id))).all())


def page_deliveries(session: Session, actor: Actor, page: PageRequest, *, max_size: int,
                    subscription_id: int | None = None, status: str | None = None) -> Page[Any]:
    """The delivery log, newest first: each delivery with its subscription's name."""
    require(actor, "settings.manage")
    stmt = select(WebhookDelivery)
    if subscription_id is not None:
        stmt = stmt.where(col(WebhookDelivery.subscription_id) == subscription_id)
    if status:
        stmt = stmt.where(col(WebhookDelivery.status) == status)

    def load(deliveries: list[WebhookDelivery]) -> list[tuple[WebhookDelivery, str]]:
        names = by_id(session, WebhookSubscription, (d.subscription_id for d in deliveries),
                      col(WebhookSubscription.name))
        return [(d, names[d.subscription_id][1]) for d in deliveries]

    return select_page(session, stmt, page, order_by=(col(WebhookDelivery.id).desc(),), max_size=max_size, load=load)


def attempts_of(session: Session, actor: Actor, delivery_ids: list[int]) -> dict[int, list[WebhookAttempt]]:
    require(actor, "settings.manage")
    out: dict[int, list[WebhookAttempt]] = {i: [] for i in delivery_ids}
    if delivery_ids:
        for row in session.exec(select(WebhookAttempt).where(col(WebhookAttempt.delivery_id).in_(delivery_ids))
                                .order_by(col(WebhookAttempt.id))).all():
            out[row.delivery_id].append(row)
    return out


# ---- the dispatcher: outbox -> deliveries + live messages ------------------------------------------------------

def outbox_message(row: OutboxEvent) -> dict[str, Any]:
    """What live subscribers and webhooks get for one outbox row (JSON-ready)."""
    return {
        "id": row.id,
        "kind": row.kind,
        "warningId": row.warning_id,
        "eventId": row.event_id,
        "departmentId": row.department_id,
        "departments": list(row.departments or []),
        "at": row.created_at.isoformat(),
        **{k: v for k, v in (row.payload or {}).items() if k not in ("id", "kind")},
    }


def _matches(sub: WebhookSubscription, row: OutboxEvent) -> bool:
    if sub.event_kinds and row.kind not in sub.event_kinds:
        return False
    return not sub.department_ids or bool(set(sub.department_ids).intersection(row.departments or []))


def dispatch_outbox(db: Database, *, limit: int = 200, now: datetime | None = None) -> list[dict[str, Any]]:
    """Turn undispatched outbox rows into webhook deliveries and live messages, in one transaction.

    On PostgreSQL the rows are locked with SKIP LOCKED (several processes may dispatch at once) and each message
    goes out with NOTIFY on commit, so every process's listener hears it; on SQLite the messages are published to
    this process's bus after the commit. Returns the messages.
    """
    now = now or utcnow()
    postgres = db.backend == "postgresql"
    with db.unit_of_work() as session:
        stmt = (select(OutboxEvent).where(col(OutboxEvent.dispatched_at).is_(None)).order_by(col(OutboxEvent.id))
                .limit(limit))
        if postgres:
            stmt = stmt.with_for_update(skip_locked=True)
        rows = list(session.exec(stmt).all())
        if not rows:
            return []
        subs = list(session.exec(select(WebhookSubscription).where(col(WebhookSubscription.active))).all())
        deliveries = [
            {"subscription_id": sub.id, "outbox_id": row.id, "idempotency_key": f"rw-{row.id}-{sub.id}",
             "kind": row.kind, "status": "pending", "attempts": 0, "next_attempt_at": now, "last_error": "",
             "created_at": now}
            for row in rows for sub in subs if _matches(sub, row)]
        if deliveries:
            session.execute(sa.insert(WebhookDelivery), deliveries)
        session.execute(sa.update(OutboxEvent).where(col(OutboxEvent.id).in_([r.id for r in rows]))
                        .values(dispatched_at=now))
        messages = [outbox_message(r) for r in rows]
        if postgres:
            # one statement for the batch, a few NOTIFYs each carrying as many messages as fit (a JSON array):
            # a backlog of 100,000 events goes out as batches of `limit`, each a few dozen queue entries
            session.execute(sa.text(f"SELECT pg_notify('{CHANNEL}', p) FROM unnest(CAST(:p AS text[])) AS p"),
                            {"p": notify_payloads(messages)})
    if not postgres:
        for message in messages:
            bus.publish(message)
    return messages


NOTIFY_LIMIT = 7900  # bytes of one NOTIFY payload (PostgreSQL's limit is 8000)
_SHORT = ("id", "kind", "warningId", "departmentId", "departments", "at")


def notify_payloads(messages: list[dict[str, Any]]) -> list[str]:
    """The messages packed into NOTIFY payloads: JSON arrays of whole messages, each payload within NOTIFY_LIMIT;
    a message too long on its own goes as its short form (listeners fetch the rest by id)."""
    payloads: list[str] = []
    parts: list[str] = []
    size = 2
    for message in messages:
        text = json.dumps(message, ensure_ascii=False, default=str)
        if len(text.encode()) + 2 > NOTIFY_LIMIT:
            text = json.dumps({k: message[k] for k in _SHORT}, default=str)
        length = len(text.encode()) + 1
        if parts and size + length > NOTIFY_LIMIT:
            payloads.append("[" + ",".join(parts) + "]")
            parts, size = [], 2
        parts.append(text)
        size += length
    if parts:
        payloads.append("[" + ",".join(parts) + "]")
    return payloads


def notified_messages(payload: str) -> list[dict[str, Any]]:
    """The messages of one NOTIFY payload (an array of them, or one message from an older process)."""
    data = json.loads(payload)
    items = data if isinstance(data, list) else [data]
    return [m for m in items if isinstance(m, dict)]


# ---- delivery --------------------------------------------------------------------------------------------------

def delivery_body(row: OutboxEvent, idempotency_key: str) -> bytes:
    message = outbox_message(row)
    body = {"deliveryId": idempotency_key, "event": row.kind, "occurredAt": message["at"], "data": message}
    return json.dumps(body, ensure_ascii=False, sort_keys=True, default=str).encode()


@dataclass
class DeliveryStats:
    attempted: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


def _post(http: httpx.Client, url: str, secret: str, key: str, kind: str, body: bytes
          ) -> tuple[int | None, str, int]:
    ts = int(time.time())
    headers = {"content-type": "application/json; charset=utf-8", "user-agent": "regwatch-webhook/1",
               "x-regwatch-event": kind, "x-regwatch-timestamp": str(ts),
               "x-regwatch-signature": sign(secret, ts, body), "idempotency-key": key, "x-regwatch-delivery": key}
    started = time.monotonic()
    code: int | None = None
    error = ""
    try:
        response = http.post(url, content=body, headers=headers)
        code = response.status_code
        if not 200 <= code < 300:
            error = f"接收方返回 HTTP {code}"
    except httpx.HTTPError as exc:
        error = f"连接失败（{type(exc).__name__}：{exc}）"[:500]
    return code, error, int((time.monotonic() - started) * 1000)


def deliver_due(db: Database, *, limit: int = 200, now: datetime | None = None,
                client: httpx.Client | None = None, parallel: int = 8) -> DeliveryStats:
    """Attempt every due delivery once: claim them (a lease, so two processes never send one at once; one
    transaction), POST them signed (`parallel` at a time), then record every attempt and mark each delivered or
    schedule its retry (back-off), giving up after MAX_ATTEMPTS (one transaction)."""
    from concurrent.futures import ThreadPoolExecutor

    now = now or utcnow()
    stats = DeliveryStats()
    jobs: list[tuple[int, str, str, str, str, bytes, int]] = []
    with db.unit_of_work() as session:
        # claim up to `limit` due deliveries in one statement: the lease moves them out of everyone's due set; on
        # PostgreSQL SKIP LOCKED lets another process claim the next ones at the same time
        due = (select(col(WebhookDelivery.id))
               .where(col(WebhookDelivery.status) == "pending", col(WebhookDelivery.next_attempt_at) <= now)
               .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id)).limit(limit))
        if db.backend == "postgresql":
            due = due.with_for_update(skip_locked=True)
        table = table_of(WebhookDelivery)
        won = list(session.execute(sa.update(table).where(table.c.id.in_(due.scalar_subquery()))
                                   .values(next_attempt_at=now + LEASE).returning(table.c.id)).scalars())
        if won:
            deliveries = list(session.exec(select(WebhookDelivery).where(col(WebhookDelivery.id).in_(won))).all())
            subs = {x.id: x for x in session.exec(select(WebhookSubscription).where(
                col(WebhookSubscription.id).in_({d.subscription_id for d in deliveries}))).all()}
            outbox = {x.id: x for x in session.exec(select(OutboxEvent).where(
                col(OutboxEvent.id).in_({d.outbox_id for d in deliveries}))).all()}
            for d in sorted(deliveries, key=lambda x: x.id or 0):
                sub, row = subs[d.subscription_id], outbox[d.outbox_id]
                assert d.id is not None
                jobs.append((d.id, sub.url, sub.secret, d.idempotency_key, d.kind,
                             delivery_body(row, d.idempotency_key), d.attempts))
    if not jobs:
        return stats
    own_client = client is None
    http = client or httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)
    try:
        with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(jobs)))) as pool:
            results = list(pool.map(lambda j: _post(http, j[1], j[2], j[3], j[4], j[5]), jobs))
    finally:
        if own_client:
            http.close()
    done_at = utcnow()
    with db.unit_of_work() as session:
        session.execute(sa.insert(WebhookAttempt), [
            {"delivery_id": job[0], "at": done_at, "status_code": code, "error": error, "duration_ms": ms}
            for job, (code, error, ms) in zip(jobs, results, strict=True)])
        changes = []
        for job, (code, error, _ms) in zip(jobs, results, strict=True):
            attempts = job[6] + 1
            stats.attempted += 1
            change: dict[str, Any] = {"b_id": job[0], "attempts": attempts, "last_status_code": code,
                                      "last_error": error, "status": "pending", "delivered_at": None,
                                      "next_attempt_at": now + LEASE}  # the lease stays on what is not retried
            if not error:
                change.update(status="delivered", delivered_at=done_at)
                stats.delivered += 1
            elif attempts >= MAX_ATTEMPTS:
                change.update(status="dead")
                stats.dead += 1
                stats.errors.append(error)
            else:
                change.update(next_attempt_at=done_at + backoff(attempts))
                stats.failed += 1
                stats.errors.append(error)
            changes.append(change)
        table = table_of(WebhookDelivery)
        session.execute(sa.update(table).where(table.c.id == sa.bindparam("b_id"))
                        .values({k: sa.bindparam(k) for k in changes[0] if k != "b_id"}), changes)
    return stats


def retry_now(session: Session, actor: Actor, delivery_id: int) -> WebhookDelivery:
    """Send a given-up (or waiting) delivery again at once (delivery log page)."""
    require(actor, "settings.manage")
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound(f"投递 {delivery_id} 不存在", field="id")
    if delivery.status == "delivered":
        raise InvalidInput("该投递已送达，无需重发", field="id", code="already_delivered")
    delivery.status, delivery.next_attempt_at = "pending", utcnow()
    record_audit(session, actor, "webhook.retry", "webhook_delivery", delivery.id, {})
    return delivery
