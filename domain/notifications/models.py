"""Outbox, webhook subscriptions and deliveries, in-app notices."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.types import UTCDateTime, utcnow

__all__ = ["DELIVERY_STATUSES", "Notification", "OutboxEvent", "WebhookAttempt", "WebhookDelivery",
           "WebhookSubscription"]

DELIVERY_STATUSES = {"pending": "待投递", "delivered": "已送达", "dead": "已放弃"}


class OutboxEvent(SQLModel, table=True):
    """发件箱: one warning event to publish, written in the same transaction as the change itself; a dispatcher
    turns it into webhook deliveries and live messages afterwards, so a crash in between loses nothing."""

    __tablename__ = "outbox_event"
    __table_args__ = (sa.Index("ix_outbox_event_dispatched", "dispatched_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)  # the warning event's kind: receive, feedback, close, overdue …
    warning_id: int | None = Field(default=None)
    event_id: int | None = Field(default=None)  # the warning_event row
    department_id: int | None = Field(default=None)  # the responsible department after the change
    departments: list[Any] = Field(default_factory=list, sa_type=sa.JSON)  # every department that may see it
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    dispatched_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebhookSubscription(SQLModel, table=True):
    """推送订阅: a receiving system, which event kinds and departments it wants, the secret it verifies with."""

    __tablename__ = "webhook_subscription"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    url: str = Field(max_length=500)
    secret: str = Field(max_length=128)
    event_kinds: list[Any] = Field(default_factory=list, sa_type=sa.JSON)  # empty: every kind
    department_ids: list[Any] = Field(default_factory=list, sa_type=sa.JSON)  # empty: every department
    active: bool = Field(default=True)
    created_by_name: str = Field(default="system", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WebhookDelivery(SQLModel, table=True):
    """投递: one outbox event to one subscription; retried with back-off until delivered or given up."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (sa.Index("ix_webhook_delivery_status_next", "status", "next_attempt_at"),
                      sa.Index("ix_webhook_delivery_subscription_created", "subscription_id", "created_at", "id"))

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="webhook_subscription.id")
    outbox_id: int = Field(foreign_key="outbox_event.id")
    idempotency_key: str = Field(max_length=64, unique=True)
    kind: str = Field(max_length=32)
    status: str = Field(default="pending", max_length=16)  # DELIVERY_STATUSES
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_status_code: int | None = Field(default=None)
    last_error: str = Field(default="", max_length=500)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WebhookAttempt(SQLModel, table=True):
    """投递记录: one HTTP attempt of a delivery."""

    __tablename__ = "webhook_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="webhook_delivery.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    status_code: int | None = Field(default=None)
    error: str = Field(default="", max_length=500)
    duration_ms: int = Field(default=0)


class Notification(SQLModel, table=True):
    """站内通知: a notice for one user (urged, overdue, returned …)."""

    __tablename__ = "notification"
    __table_args__ = (sa.Index("ix_notification_user_read", "user_id", "read_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id")
    kind: str = Field(max_length=32)
    warning_id: int | None = Field(default=None, foreign_key="risk_warning.id")
    title: str = Field(max_length=200)
    body: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


import domain.notifications.outbox  # noqa: E402, F401  (the outbox listener goes wherever the tables go)
