"""trainModel: start a training job (训练新模型); its progress is the returned job's."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.errors import UserError, user_errors
from api.jobs.types import JobType
from domain.errors import Conflict, InvalidInput, NotFound
from ml.jobs import start_risk_job

__all__ = ["TrainModelInput", "TrainModelPayload", "train_model_mutation"]


@strawberry.input(description="How to train (训练参数); every field has a sensible default.")
class TrainModelInput:
    label_window_days: int = strawberry.field(default=180, description="Days after a cut-off for its label (标签窗口).")
    n_cutoffs: int = strawberry.field(default=4, description="Training cut-offs before the held-out one (截止日数).")
    seed: int = strawberry.field(default=42, description="Random seed, for repeatable training (随机种子).")
    promote_if_no_champion: bool = strawberry.field(
        default=False, description="Make it the champion when there is none yet (无冠军时自动启用).")


@strawberry.type(description="The training job started, or what was wrong with the input.")
class TrainModelPayload:
    job: JobType | None
    errors: list[UserError]


def _check(data: TrainModelInput) -> None:
    from domain.errors import FieldError

    errors = []
    if not 1 <= data.label_window_days <= 730:
        errors.append(FieldError("labelWindowDays", "out_of_range",
                                 f"labelWindowDays must be 1–730 days, got {data.label_window_days}"))
    if not 2 <= data.n_cutoffs <= 24:
        errors.append(FieldError("nCutoffs", "out_of_range", f"nCutoffs must be 2–24, got {data.n_cutoffs}"))
    if errors:
        raise InvalidInput(errors[0].message, field=errors[0].field, code=errors[0].code, errors=errors)


async def train_model_mutation(info: Info, input: TrainModelInput | None = None) -> TrainModelPayload:
    data = input or TrainModelInput()
    try:
        _check(data)
        job = await info.context.write(start_risk_job, info.context.actor, "train", {
            "label_window_days": data.label_window_days, "n_cutoffs": data.n_cutoffs, "seed": data.seed,
            "promote_if_no_champion": data.promote_if_no_champion})
    except (InvalidInput, Conflict, NotFound) as exc:
        return TrainModelPayload(job=None, errors=user_errors(exc))
    return TrainModelPayload(job=JobType.from_row(job), errors=[])
