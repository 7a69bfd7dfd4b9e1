"""Risk jobs: train (训练), score (评分), backtest (回测) — run by the job runner, the CLI, pages and GraphQL.

Params (all optional unless said):
- train: label_window_days (90), n_cutoffs (4), seed (42), promote_if_no_champion (false)
- score: as_of (ISO date, default today)
- backtest: version_id (required), as_of (ISO date, required), window_days (default the version's)
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session

from domain.errors import InvalidInput
from domain.identity.actor import Actor
from domain.jobs.models import Job
from domain.jobs.service import JobContext, job_handler, submit_job
from domain.risk.queries import DEFAULT_MODEL, ensure_can_manage_models
from ml import service

__all__ = ["backtest_job", "score_job", "start_risk_job", "train_job"]


def _date(params: dict[str, Any], name: str, *, required: bool = False) -> date | None:
    raw = params.get(name)
    if raw in (None, ""):
        if required:
            raise InvalidInput(f"{name} is required (YYYY-MM-DD)", field=name, code="required")
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError as exc:
        raise InvalidInput(f"{name} {raw!r} is not a date (YYYY-MM-DD)", field=name, code="not_a_date") from exc


def _int(params: dict[str, Any], name: str, default: int | None) -> int | None:
    raw = params.get(name, default)
    if raw is None:
        return None
    try:
        return int(raw)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{name} {raw!r} is not a whole number", field=name, code="not_a_number") from exc


@job_handler("train")
def train_job(ctx: JobContext) -> dict[str, Any]:
    """Train a new model version; with promote_if_no_champion it becomes champion when there is none."""
    p = ctx.params
    with ctx.db.unit_of_work() as session:
        version = service.train_model(
            session, ctx.actor, label_window_days=_int(p, "label_window_days", 90) or 90,
            n_cutoffs=_int(p, "n_cutoffs", 4) or 4, seed=_int(p, "seed", 42) or 0, job_id=ctx.job_id,
            progress=ctx.progress)
        promoted = False
        if p.get("promote_if_no_champion") and service.champion_version(session, ctx.actor,
                                                                        model_name=DEFAULT_MODEL) is None:
            service.promote_model_version(session, ctx.actor, version.id, reason="first model")
            promoted = True
        m = version.metrics
        return {"version_id": version.id, "version": version.version, "roc_auc": m.get("roc_auc"),
                "pr_auc": m.get("pr_auc"), "baseline_roc_auc": m.get("baseline_roc_auc"),
                "best_iteration": m.get("best_iteration"), "promoted": promoted}


@job_handler("score")
def score_job(ctx: JobContext) -> dict[str, Any]:
    """Score every entity with the champion (and the challenger in shadow)."""
    with ctx.db.unit_of_work() as session:
        runs = service.score_all(session, ctx.actor, as_of=_date(ctx.params, "as_of"), job_id=ctx.job_id,
                                 progress=ctx.progress)
        return {"runs": [{"id": r.id, "role": r.role, "version_id": r.version_id, "as_of": r.as_of.isoformat(),
                          "entities": r.entities, "levels": r.level_counts, "timings": r.timings} for r in runs]}


@job_handler("backtest")
def backtest_job(ctx: JobContext) -> dict[str, Any]:
    """Backtest one version over a past window."""
    p = ctx.params
    version_id = _int(p, "version_id", None)
    if version_id is None:
        raise InvalidInput("version_id is required", field="versionId", code="required")
    ctx.progress(0, 1, "backtesting", force=True)
    with ctx.db.unit_of_work() as session:
        run = service.backtest_model_version(session, ctx.actor, version_id, as_of=_date(p, "as_of", required=True),
                                             window_days=_int(p, "window_days", None), job_id=ctx.job_id)
        return {"run_id": run.id, "version_id": run.version_id, "as_of": run.as_of.isoformat(),
                "levels": run.level_counts, **run.drift}


def start_risk_job(session: Session, actor: Actor, kind: str, params: dict[str, Any]) -> Job:
    """Queue a train or backtest job for someone allowed to manage models; a backtest that cannot run is
    refused here, before it is queued, with the same error the job would give."""
    ensure_can_manage_models(actor)
    if kind == "backtest":
        service.check_backtest(session, actor, _int(params, "version_id", None) or 0,
                               as_of=_date(params, "as_of", required=True),  # type: ignore[arg-type]
                               window_days=_int(params, "window_days", None))
    return submit_job(session, actor, kind, params)
