"""Risk jobs: train (训练), score (评分), backtest (回测) — run by the job runner, the CLI, pages and GraphQL.

Params (all optional unless said):
- train: label_window_days, n_cutoffs, step_days, seed (defaults and bounds: `ml.model_training.TRAIN_DEFAULTS`,
  `TRAIN_BOUNDS`), promote_if_no_champion (false)
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
from domain.risk.versions import champion_version, promote_model_version
from ml.model_training import check_train_options

# ml.model_training.train_model and ml.runs are imported inside the handlers: they load numpy, xgboost and
# cel-python, which the CLI and the web app should not pay for at start-up.

__all__ = ["backtest_job", "score_job", "start_risk_job", "train_job"]

_TRAIN_PARAMS = ("label_window_days", "n_cutoffs", "step_days", "seed")


def _date(params: dict[str, Any], name: str, *, required: bool = False) -> date | None:
    raw = params.get(name)
    if raw in (None, ""):
        if required:
            raise InvalidInput(f"请填写{_DATE_NAMES.get(name, name)}（YYYY-MM-DD）", field=name, code="required")
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError as exc:
        raise InvalidInput(f"{_DATE_NAMES.get(name, name)}“{raw}”不是日期（YYYY-MM-DD）", field=name,
                           code="not_a_date") from exc


_DATE_NAMES = {"as_of": "日期"}


def _int(params: dict[str, Any], name: str, default: int | None) -> int | None:
    raw = params.get(name, default)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"“{raw}”不是整数", field=name, code="not_a_number") from exc


@job_handler("train")
def train_job(ctx: JobContext) -> dict[str, Any]:
    """Train a new model version; with promote_if_no_champion it becomes champion when there is none."""
    p = ctx.params
    from ml.model_training import train_model

    options = check_train_options({k: p.get(k) for k in _TRAIN_PARAMS})
    with ctx.db.unit_of_work() as session:
        version = train_model(session, ctx.actor, options=options, job_id=ctx.job_id, progress=ctx.progress)
        promoted = False
        if p.get("promote_if_no_champion") and champion_version(session, ctx.actor, model_name=DEFAULT_MODEL) is None:
            assert version.id is not None  # train_model flushed it
            promote_model_version(session, ctx.actor, version.id, reason="首个模型，训练后自动启用")
            promoted = True
        m = version.metrics
        return {"version_id": version.id, "version": version.version, "roc_auc": m.get("roc_auc"),
                "pr_auc": m.get("pr_auc"), "baseline_roc_auc": m.get("baseline_roc_auc"),
                "new_events_roc_auc": (m.get("new_events") or {}).get("roc_auc"),
                "mean_predicted": m.get("mean_predicted"), "positive_rate": m.get("positive_rate"),
                "best_iteration": m.get("best_iteration"), "promoted": promoted}


@job_handler("score")
def score_job(ctx: JobContext) -> dict[str, Any]:
    """Score every entity with the champion (and the challenger in shadow), then run what follows a
    committed scoring run (`ml.runs.after_scoring_committed`)."""
    from ml.runs import after_scoring_committed, score_all

    with ctx.db.unit_of_work() as session:
        runs = score_all(session, ctx.actor, as_of=_date(ctx.params, "as_of"), job_id=ctx.job_id,
                         progress=ctx.progress)
        result: dict[str, Any] = {"runs": [
            {"id": r.id, "role": r.role, "version_id": r.version_id, "as_of": r.as_of.isoformat(),
             "entities": r.entities, "levels": r.level_counts, "timings": r.timings} for r in runs]}
    after_scoring_committed(ctx.db, ctx.actor, [r["id"] for r in result["runs"]])
    return result


@job_handler("backtest")
def backtest_job(ctx: JobContext) -> dict[str, Any]:
    """Backtest one version over a past window."""
    from ml.runs import backtest_model_version

    p = ctx.params
    version_id = _int(p, "version_id", None)
    if version_id is None:
        raise InvalidInput("请指定模型版本", field="version_id", code="required")
    ctx.progress(0, 1, "回测中", force=True)
    with ctx.db.unit_of_work() as session:
        as_of = _date(p, "as_of", required=True)
        assert as_of is not None  # required: _date raised otherwise
        run = backtest_model_version(session, ctx.actor, version_id, as_of=as_of,
                                     window_days=_int(p, "window_days", None), job_id=ctx.job_id)
        summary = dict(run.backtest or {})
        return {"run_id": run.id, "version_id": run.version_id, "as_of": run.as_of.isoformat(),
                **summary}


def start_risk_job(session: Session, actor: Actor, kind: str, params: dict[str, Any]) -> Job:
    """Queue a train, score or backtest job for someone allowed to manage models; input that cannot run is
    refused here, before it is queued, with the same error the job would give."""
    from ml.runs import check_backtest

    ensure_can_manage_models(actor)
    if kind == "train":
        options = check_train_options({k: params.get(k) for k in _TRAIN_PARAMS})
        params = {**params, **{k: getattr(options, k) for k in _TRAIN_PARAMS}}
    elif kind == "score":
        _date(params, "as_of")
    elif kind == "backtest":
        check_backtest(session, actor, _int(params, "version_id", None) or 0,
                       as_of=_date(params, "as_of", required=True),  # type: ignore[arg-type]
                       window_days=_int(params, "window_days", None))
    return submit_job(session, actor, kind, params)
