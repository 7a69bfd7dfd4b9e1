"""Reads of one warning's disposal: what the detail page and the API show."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from domain.disposal.models import EvidenceFile, WarningDisposal, WarningExtension, WarningFeedback
from domain.disposal.overdue import overdue_condition
from domain.disposal.service import Action, allowed_actions, visible
from domain.identity.actor import Actor
from domain.identity.models import Department
from domain.supervision.models import Entity
from domain.types import utcnow
from domain.warnings.models import Warning, WarningEvent

__all__ = ["DisposalDetail", "disposal_detail"]


@dataclass(frozen=True)
class DisposalDetail:
    warning: Warning
    department_name: str
    entity_name: str
    entity_uscc: str
    overdue: bool
    urge_count: int
    actions: list[Action]
    events: list[WarningEvent]
    feedback: list[WarningFeedback]
    extensions: list[WarningExtension]
    evidence: list[EvidenceFile]
    assisting: list[int]
    assisting_names: list[str]


def disposal_detail(session: Session, actor: Actor, warning_id: int) -> DisposalDetail:
    w, assists = visible(session, actor, warning_id)
    assert w.id is not None
    dept = session.get(Department, w.department_id)
    entity = session.get(Entity, w.entity_id)
    disposal = session.get(WarningDisposal, w.id)
    overdue = session.exec(select(col(Warning.id)).where(col(Warning.id) == w.id, overdue_condition(utcnow()))).first()
    assisting = list(assists())
    names = {d.id: d.name for d in session.exec(select(Department).where(col(Department.id).in_(assisting))).all()} \
        if assisting else {}
    return DisposalDetail(
        warning=w, department_name=dept.name if dept else "", entity_name=entity.name if entity else "",
        entity_uscc=entity.uscc if entity else "", overdue=overdue is not None,
        urge_count=disposal.urge_count if disposal else 0, actions=allowed_actions(session, actor, w, assists),
        events=list(session.exec(select(WarningEvent).where(col(WarningEvent.warning_id) == w.id)
                                 .order_by(col(WarningEvent.at), col(WarningEvent.id))).all()),
        feedback=list(session.exec(select(WarningFeedback).where(col(WarningFeedback.warning_id) == w.id)
                                   .order_by(col(WarningFeedback.id))).all()),
        extensions=list(session.exec(select(WarningExtension).where(col(WarningExtension.warning_id) == w.id)
                                     .order_by(col(WarningExtension.id))).all()),
        evidence=list(session.exec(select(EvidenceFile).where(col(EvidenceFile.warning_id) == w.id)
                                   .order_by(col(EvidenceFile.id))).all()),
        assisting=assisting, assisting_names=[names.get(i, str(i)) for i in assisting])
