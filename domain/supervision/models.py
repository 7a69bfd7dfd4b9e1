"""Supervision data: the item catalogue, entities, actions, complaints, credit records."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from domain.types import UTCDateTime, utcnow

__all__ = [
    "ACTION_KINDS",
    "ACTION_TRIGGERS",
    "CREDIT_KINDS",
    "DEREGISTERED_STATUSES",
    "ITEM_KINDS",
    "Complaint",
    "CreditRecord",
    "Entity",
    "SupervisionAction",
    "SupervisionItem",
]

# The one definition of the item/action kinds (labels in `fields.ITEM_KIND_LABELS`, same order).
ITEM_KINDS = ("inspection", "penalty", "coercion", "other")
ACTION_KINDS = ITEM_KINDS
# How an inspection was triggered (检查方式/触发方式): 双随机 draw, complaint, clue or warning, routine, 专项 campaign.
ACTION_TRIGGERS = ("random", "complaint", "clue", "routine", "campaign")
# Statuses that take an entity off the register (吊销, 注销): `Entity.deregistered_on` is the date it happened.
DEREGISTERED_STATUSES = ("revoked", "cancelled")
CREDIT_KINDS = ("abnormal_operation", "serious_violation", "commendation")


class SupervisionItem(SQLModel, table=True):
    """监管事项: a catalogue entry (监管事项编码 / 检查实施清单编码)."""

    __tablename__ = "supervision_item"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    department_id: int = Field(foreign_key="department.id", index=True)
    kind: str = Field(max_length=16)
    legal_basis: str = Field(default="", max_length=500)
    active: bool = Field(default=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Entity(SQLModel, table=True):
    """监管对象: a market entity keyed by its unified social credit code (统一社会信用代码)."""

    __tablename__ = "entity"
    # the entity list's order (name, id): keyset pages walk it (migration 0007)
    __table_args__ = (sa.Index("ix_entity_name_id", "name", "id"),
                      sa.Index("ix_entity_region_name_id", "region_code", "name", "id"))

    id: int | None = Field(default=None, primary_key=True)
    uscc: str = Field(max_length=18, unique=True)
    name: str = Field(max_length=200)
    entity_type: str = Field(max_length=32)
    industry_code: str | None = Field(default=None, max_length=4, index=True)  # GB/T 4754 division (or section)
    industry_class_code: str | None = Field(default=None, max_length=4)  # the four-digit class, where given
    region_code: str | None = Field(default=None, max_length=6)
    registered_capital: Decimal | None = Field(default=None, sa_type=sa.Numeric(16, 2))  # 万元
    founded_on: date | None = Field(default=None)
    status: str = Field(default="active", max_length=16)
    # 状态变更日期: when `status` took its current value (None: not known)
    status_changed_on: date | None = Field(default=None)
    # 注销/吊销日期: when the entity left the register (first revoked or cancelled); None while registered.
    # "Registered at a cut-off d": founded_on <= d (or unknown) and (deregistered_on is None or deregistered_on > d).
    deregistered_on: date | None = Field(default=None)
    source_id: int | None = Field(default=None, foreign_key="data_source.id")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SupervisionAction(SQLModel, table=True):
    """监管行为: one inspection, penalty, coercive measure or other act on an entity under an item."""

    __tablename__ = "supervision_action"
    __table_args__ = (
        sa.UniqueConstraint("source_id", "external_id"),
        # Covers the risk features' per-entity aggregation (ml.features): no table lookups (migration 0006).
        sa.Index("ix_supervision_action_entity_started_covering", "entity_id", "started_on", "kind", "result",
                 "decided_on", "penalty_amount"),
        # the action list's filters + its order (started_on DESC, id DESC), scanned backwards (migration 0007)
        sa.Index("ix_supervision_action_department_started_id", "department_id", "started_on", "id"),
        sa.Index("ix_supervision_action_item_started_id", "item_id", "started_on", "id"),
        sa.Index("ix_supervision_action_started_id", "started_on", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="data_source.id")
    external_id: str = Field(max_length=64)
    kind: str = Field(max_length=16)
    item_id: int | None = Field(default=None, foreign_key="supervision_item.id")
    department_id: int = Field(foreign_key="department.id")
    entity_id: int = Field(foreign_key="entity.id")
    started_on: date
    decided_on: date | None = Field(default=None)
    result: str | None = Field(default=None, max_length=32)  # inspection: pass / fail / rectify
    penalty_amount: Decimal | None = Field(default=None, sa_type=sa.Numeric(16, 2))  # 元
    document_number: str | None = Field(default=None, max_length=100)
    officers: str | None = Field(default=None, max_length=200)
    # 检查方式: one of ACTION_TRIGGERS (random = 双随机抽查); None when the source did not say
    trigger: str | None = Field(default=None, max_length=16)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Complaint(SQLModel, table=True):
    """投诉举报: a complaint about an entity (12345, 12315, letters, visits)."""

    __tablename__ = "complaint"
    __table_args__ = (
        sa.UniqueConstraint("source_id", "external_id"),
        sa.Index("ix_complaint_entity_received", "entity_id", "received_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="data_source.id")
    external_id: str = Field(max_length=64)
    entity_id: int = Field(foreign_key="entity.id")
    received_on: date
    channel: str = Field(max_length=16)
    category: str = Field(max_length=64)
    responded_on: date | None = Field(default=None)
    outcome: str | None = Field(default=None, max_length=200)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CreditRecord(SQLModel, table=True):
    """信用记录: abnormal-operation list, serious-violation list, commendation."""

    __tablename__ = "credit_record"
    __table_args__ = (
        sa.UniqueConstraint("source_id", "external_id"),
        sa.Index("ix_credit_record_entity_listed", "entity_id", "listed_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="data_source.id")
    external_id: str = Field(max_length=64)
    entity_id: int = Field(foreign_key="entity.id")
    kind: str = Field(max_length=32)
    listed_on: date
    removed_on: date | None = Field(default=None)
    authority: str | None = Field(default=None, max_length=100)
    reason: str | None = Field(default=None, max_length=500)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
