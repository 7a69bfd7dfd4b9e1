"""GraphQL types of the disposal workflow."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from api.nodes import node
from domain.disposal.inbox import InboxRow
from domain.disposal.models import EvidenceFile, WarningExtension, WarningFeedback
from domain.disposal.queries import DisposalDetail
from domain.notifications.models import WebhookDelivery, WebhookSubscription
from domain.warnings.models import WarningEvent

__all__ = ["DisposalWarningNode", "EvidenceNode", "ExtensionNode", "FeedbackNode", "InboxCountsType", "NoticeNode",
           "TimelineEventNode", "WarningEventMessage", "WebhookDeliveryNode", "WebhookSubscriptionNode"]


@strawberry.type(name="DisposalEvent", description="One step of a warning's life (处置记录): who, department, "
                                                   "when, from → to, comment.")
class TimelineEventNode:
    id: strawberry.ID
    kind: str
    label: str = strawberry.field(description="The step in Chinese (签收、提交处置反馈 …).")
    from_status: str | None
    to_status: str | None
    actor_name: str
    department_id: strawberry.ID | None
    at: datetime
    comment: str
    payload: JSON

    @classmethod
    def build(cls, e: WarningEvent) -> TimelineEventNode:
        from domain.disposal.events import event_label

        return cls(id=strawberry.ID(str(e.id)), kind=e.kind, label=event_label(e.kind), from_status=e.from_status,
                   to_status=e.to_status, actor_name=e.actor_name,
                   department_id=strawberry.ID(str(e.department_id)) if e.department_id else None, at=e.at,
                   comment=e.comment, payload=cast(strawberry.scalars.JSON, e.payload or {}))


@strawberry.type(name="EvidenceFile", description="证明材料: download at /disposal/evidence/{id} (attachment).")
class EvidenceNode:
    id: strawberry.ID
    name: str
    content_type: str
    size_bytes: int
    uploaded_by: str
    uploaded_at: datetime
    feedback_id: strawberry.ID | None
    download_url: str

    @classmethod
    def build(cls, f: EvidenceFile) -> EvidenceNode:
        return cls(id=strawberry.ID(str(f.id)), name=f.original_name, content_type=f.content_type,
                   size_bytes=f.size_bytes, uploaded_by=f.uploaded_by_name, uploaded_at=f.uploaded_at,
                   feedback_id=strawberry.ID(str(f.feedback_id)) if f.feedback_id else None,
                   download_url=f"/disposal/evidence/{f.id}")


@strawberry.type(name="WarningFeedback", description="处置反馈: the responsible department's whole (part main) or an "
                                                     "assisting department's part (assist).")
class FeedbackNode:
    id: strawberry.ID
    part: str
    round: int
    department_id: strawberry.ID
    measures: list[str] = strawberry.field(description="onsite_inspection / rectification_order / "
                                                       "case_investigation / administrative_penalty / interview / "
                                                       "credit_sanction / referral / other.")
    outcome: str | None = strawberry.field(description="confirmed / partly / false_alarm.")
    description: str
    satisfaction: int | None
    satisfaction_comment: str
    submitted_by: str
    submitted_at: datetime

    @classmethod
    def build(cls, f: WarningFeedback) -> FeedbackNode:
        return cls(id=strawberry.ID(str(f.id)), part=f.part, round=f.round,
                   department_id=strawberry.ID(str(f.department_id)), measures=list(f.measures or []),
                   outcome=f.outcome, description=f.description, satisfaction=f.satisfaction,
                   satisfaction_comment=f.satisfaction_comment, submitted_by=f.submitted_by_name,
                   submitted_at=f.submitted_at)


@strawberry.type(name="WarningExtension", description="延期申请 and its decision.")
class ExtensionNode:
    id: strawberry.ID
    status: str
    previous_due_at: datetime
    requested_due_at: datetime
    reason: str
    requested_by: str
    decided_by: str | None
    decision_comment: str

    @classmethod
    def build(cls, e: WarningExtension) -> ExtensionNode:
        return cls(id=strawberry.ID(str(e.id)), status=e.status, previous_due_at=e.previous_due_at,
                   requested_due_at=e.requested_due_at, reason=e.reason, requested_by=e.requested_by_name,
                   decided_by=e.decided_by_name, decision_comment=e.decision_comment)


@strawberry.type(name="DisposalWarning", description="A warning as the disposal workflow sees it.")
class DisposalWarningNode:
    id: strawberry.ID
    code: str
    level: str
    status: str
    department_id: strawberry.ID
    department_name: str
    entity_name: str
    row_version: int = strawberry.field(description="Send it back with the next step: a step on a changed "
                                                    "warning is refused (已被他人修改，请刷新).")
    dispatched_at: datetime
    receipt_due_at: datetime
    disposal_due_at: datetime
    received_at: datetime | None
    closed_at: datetime | None
    overdue: bool
    urge_count: int
    allowed_actions: list[str] = strawberry.field(description="The steps the caller may take now.")
    events: list[TimelineEventNode]
    feedback: list[FeedbackNode]
    extensions: list[ExtensionNode]
    evidence: list[EvidenceNode]
    assisting_department_ids: list[strawberry.ID]

    @classmethod
    def from_detail(cls, d: DisposalDetail) -> DisposalWarningNode:
        w = d.warning
        return cls(
            id=strawberry.ID(str(w.id)), code=w.code, level=w.level, status=w.status,
            department_id=strawberry.ID(str(w.department_id)), department_name=d.department_name,
            entity_name=d.entity_name, row_version=w.row_version, dispatched_at=w.dispatched_at,
            receipt_due_at=w.receipt_due_at, disposal_due_at=w.disposal_due_at, received_at=w.received_at,
            closed_at=w.closed_at, overdue=d.overdue, urge_count=d.urge_count,
            allowed_actions=[a.name for a in d.actions], events=[TimelineEventNode.build(e) for e in d.events],
            feedback=[FeedbackNode.build(f) for f in d.feedback],
            extensions=[ExtensionNode.build(e) for e in d.extensions],
            evidence=[EvidenceNode.build(f) for f in d.evidence],
            assisting_department_ids=[strawberry.ID(str(i)) for i in d.assisting])

    @classmethod
    def from_row(cls, r: InboxRow) -> DisposalWarningNode:
        w = r.warning
        return node(cls, {
            "id": str(w.id), "code": w.code, "level": w.level, "status": w.status,
            "department_id": str(w.department_id), "department_name": r.department_name,
            "entity_name": r.entity_name, "row_version": w.row_version, "dispatched_at": w.dispatched_at,
            "receipt_due_at": w.receipt_due_at, "disposal_due_at": w.disposal_due_at, "received_at": w.received_at,
            "closed_at": w.closed_at, "overdue": r.overdue, "urge_count": r.urge_count, "allowed_actions": [],
            "events": [], "feedback": [], "extensions": [], "evidence": [], "assisting_department_ids": []})


@strawberry.type(name="InboxCounts", description="How many warnings each inbox tab holds (under the same filters).")
class InboxCountsType:
    pending: int = strawberry.field(description="待签收")
    in_progress: int = strawberry.field(description="处置中")
    review: int = strawberry.field(description="待审核")
    done: int = strawberry.field(description="已办结")
    overdue: int = strawberry.field(description="已超期")


@strawberry.type(name="WarningEventMessage", description="A warning event as it happens (subscription).")
class WarningEventMessage:
    id: strawberry.ID = strawberry.field(description="The outbox id (also the webhooks' idempotency basis).")
    kind: str
    warning_id: strawberry.ID | None
    warning_code: str | None
    department_id: strawberry.ID | None
    status: str | None
    from_status: str | None
    to_status: str | None
    actor_name: str | None
    comment: str | None
    at: str

    @classmethod
    def build(cls, m: dict[str, Any]) -> WarningEventMessage:
        def sid(v: Any) -> strawberry.ID | None:
            return strawberry.ID(str(v)) if v is not None else None

        return cls(id=strawberry.ID(str(m.get("id"))), kind=m.get("kind", ""), warning_id=sid(m.get("warningId")),
                   warning_code=m.get("warningCode"), department_id=sid(m.get("departmentId")),
                   status=m.get("status"), from_status=m.get("fromStatus"), to_status=m.get("toStatus"),
                   actor_name=m.get("actorName"), comment=m.get("comment"), at=str(m.get("at", "")))


@strawberry.type(name="Notice", description="站内通知 for the caller (urged, overdue, returned, reassigned …).")
class NoticeNode:
    id: strawberry.ID
    kind: str
    title: str
    body: str
    warning_id: strawberry.ID | None
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def build(cls, n: Any) -> NoticeNode:
        return cls(id=strawberry.ID(str(n.id)), kind=n.kind, title=n.title, body=n.body,
                   warning_id=strawberry.ID(str(n.warning_id)) if n.warning_id else None, created_at=n.created_at,
                   read_at=n.read_at)


@strawberry.type(name="WebhookSubscription", description="推送订阅 of a receiving system (the secret is never "
                                                         "returned after creation).")
class WebhookSubscriptionNode:
    id: strawberry.ID
    name: str
    url: str
    event_kinds: list[str]
    department_ids: list[strawberry.ID]
    active: bool
    secret: str | None = strawberry.field(description="Only in the answer to createWebhookSubscription.")

    @classmethod
    def build(cls, s: WebhookSubscription, *, with_secret: bool = False) -> WebhookSubscriptionNode:
        return cls(id=strawberry.ID(str(s.id)), name=s.name, url=s.url, event_kinds=list(s.event_kinds or []),
                   department_ids=[strawberry.ID(str(i)) for i in s.department_ids or []], active=s.active,
                   secret=s.secret if with_secret else None)


@strawberry.type(name="WebhookDelivery", description="投递记录: one event to one subscription.")
class WebhookDeliveryNode:
    id: strawberry.ID
    subscription_name: str
    kind: str
    status: str
    attempts: int
    idempotency_key: str
    last_status_code: int | None
    last_error: str
    next_attempt_at: datetime
    delivered_at: datetime | None
    created_at: datetime

    @classmethod
    def build(cls, row: Any) -> WebhookDeliveryNode:
        d: WebhookDelivery = row[0]
        return cls(id=strawberry.ID(str(d.id)), subscription_name=row[1], kind=d.kind, status=d.status,
                   attempts=d.attempts, idempotency_key=d.idempotency_key, last_status_code=d.last_status_code,
                   last_error=d.last_error, next_attempt_at=d.next_attempt_at, delivered_at=d.delivered_at,
                   created_at=d.created_at)
