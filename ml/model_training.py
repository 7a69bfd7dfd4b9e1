"""Training a model version (训练模型): the business action, with its defaults and bounds defined once.

Every channel — the train job (pages), GraphQL `trainModel`, `regwatch train` — takes its defaults from
`TRAIN_DEFAULTS` and checks input with `check_train_options`, so the same action has the same defaults and
the same limits everywhere. The learning itself is `ml.training`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from domain.audit.service import record_audit
from domain.errors import FieldError, InvalidInput
from domain.identity.actor import Actor
from domain.risk.models import ModelVersion
from domain.risk.queries import DEFAULT_MODEL, ensure_can_manage_models

__all__ = ["TRAIN_BOUNDS", "TRAIN_DEFAULTS", "TrainOptions", "check_train_options", "train_model"]

Progress = Callable[[int, int | None, str], None]


@dataclass(frozen=True)
class TrainOptions:
    """What a person may choose when training (训练参数). The defaults were measured on the demo city
    (README, model report): 15 cut-offs 28 days apart beat 4 cut-offs 90 days apart."""

    label_window_days: int = 90  # 标签窗口：截止日后多少天内的处罚/检查不合格算作风险
    n_cutoffs: int = 15  # 训练截止日个数
    step_days: int = 28  # 相邻训练截止日间隔天数
    seed: int = 42  # 随机种子


TRAIN_DEFAULTS = TrainOptions()
# name -> (lowest, highest, Chinese name): the one place the limits live.
TRAIN_BOUNDS: dict[str, tuple[int, int, str]] = {
    "label_window_days": (1, 730, "标签窗口天数"),
    "n_cutoffs": (1, 36, "训练截止日个数"),
    "step_days": (7, 365, "截止日间隔天数"),
    "seed": (0, 2**31 - 1, "随机种子"),
}


def check_train_options(raw: Mapping[str, Any] | None = None) -> TrainOptions:
    """Training options from any channel's input (missing = default), each out-of-bounds or non-integer value a
    field error (snake_case field names), all reported together."""
    raw = dict(raw or {})
    values: dict[str, int] = {}
    errors: list[FieldError] = []
    for name, (low, high, label) in TRAIN_BOUNDS.items():
        value = raw.get(name)
        if value is None or value == "":
            values[name] = getattr(TRAIN_DEFAULTS, name)
            continue
        try:
            number = int(value)
            if isinstance(value, float) and number != value:
                raise ValueError
        except (TypeError, ValueError):
            errors.append(FieldError(name, "not_a_number", f"{label}“{value}”不是整数"))
            continue
        if not low <= number <= high:
            errors.append(FieldError(name, "out_of_range", f"{label}须在 {low}–{high} 之间，收到 {number}"))
            continue
        values[name] = number
    if errors:
        raise InvalidInput(errors[0].message if len(errors) == 1 else f"训练参数有 {len(errors)} 处问题",
                           field=errors[0].field, code=errors[0].code, errors=errors)
    return TrainOptions(**values)


def train_model(session: Session, actor: Actor, *, options: TrainOptions = TRAIN_DEFAULTS,
                plan: Any = None, model_name: str = DEFAULT_MODEL, job_id: int | None = None,
                progress: Progress | None = None) -> ModelVersion:
    """Train a new version on the time-split data (`plan`, default: from the data's dates and `options`) and
    record it with its metrics, calibration, thresholds, fingerprint and artifact. It holds no alias yet.
    `plan` is an `ml.training.TrainingPlan`."""
    from ml.training import default_plan, train  # xgboost/sklearn load here, not when the CLI or app starts

    ensure_can_manage_models(actor)
    conn = session.connection()
    plan = plan or default_plan(conn, label_window_days=options.label_window_days, n_cutoffs=options.n_cutoffs,
                                step_days=options.step_days, seed=options.seed)
    problems = plan.check()
    if problems:
        raise InvalidInput(problems[0][1], field=problems[0][0], code="invalid_plan",
                           errors=[FieldError(f, "invalid_plan", m) for f, m in problems])
    trained = train(conn, plan, progress=progress)
    number = (session.execute(sa.select(sa.func.max(col(ModelVersion.version)))
                              .where(col(ModelVersion.model_name) == model_name)).scalar() or 0) + 1
    version = ModelVersion(
        model_name=model_name, version=number, status="ready", features=trained.features, params=trained.params,
        train_from=plan.cutoffs[0], train_to=plan.cutoffs[-1], validation_cutoff=plan.validation_cutoff,
        label_window_days=plan.label_window_days, label_counts=trained.label_counts,
        data_fingerprint=trained.fingerprint, metrics=trained.metrics, thresholds=trained.thresholds,
        training_summary=trained.training_summary, calibration=trained.calibration or None,
        artifact=trained.artifact, trained_by_id=actor.user_id, trained_by_name=actor.username, job_id=job_id)
    session.add(version)
    session.flush()
    record_audit(session, actor, "model.train", "model_version", version.id, {
        "version": number, "roc_auc": trained.metrics["roc_auc"],
        "baseline_roc_auc": trained.metrics["baseline_roc_auc"], "fingerprint": trained.fingerprint})
    return version
