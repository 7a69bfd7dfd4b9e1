"""What the risk mutations share: parsing ids, starting risk jobs."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlmodel import Session

from domain.errors import InvalidInput
from domain.identity.actor import Actor
from domain.jobs.models import Job
from domain.jobs.service import submit_job
from domain.risk import jobs as risk_jobs  # noqa: F401  (registers the train / score / backtest handlers)
from domain.risk.queries import ensure_can_manage_models

__all__ = ["parse_id", "submit_risk_job"]


def parse_id(value: strawberry.ID | str | None, field: str) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{field} must be an id (a number), got {value!r}", field=field, code="bad_id") from exc


def submit_risk_job(session: Session, actor: Actor, kind: str, params: dict[str, Any]) -> Job:
    """Queue a train or backtest job for someone allowed to manage models."""
    ensure_can_manage_models(actor)
    return submit_job(session, actor, kind, params)
