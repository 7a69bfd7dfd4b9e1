"""trainModel: start a training job (训练新模型); its progress is the returned job's.

Defaults and bounds are the action's own (`ml.model_training.TRAIN_DEFAULTS`, `TRAIN_BOUNDS`): an omitted field
takes the same default as on the page and in the CLI, and the job refuses the same out-of-range values.
"""

from __future__ import annotations

import strawberry

from api.context import Info
from api.errors import UserError, user_errors
from api.jobs.types import JobType
from domain.errors import Conflict, InvalidInput, NotFound
from ml.jobs import start_risk_job
from ml.model_training import TRAIN_BOUNDS, TRAIN_DEFAULTS

__all__ = ["TrainModelInput", "TrainModelPayload", "train_model_mutation"]


def _doc(name: str, what: str) -> str:
    low, high, _ = TRAIN_BOUNDS[name]
    return f"{what}; {low}–{high}, default {getattr(TRAIN_DEFAULTS, name)}."


@strawberry.input(description="How to train (训练参数); an omitted field takes the action's default.")
class TrainModelInput:
    label_window_days: int | None = strawberry.field(
        default=None, description=_doc("label_window_days", "Days after a cut-off for its label (标签窗口)"))
    n_cutoffs: int | None = strawberry.field(
        default=None, description=_doc("n_cutoffs", "Training cut-offs before the held-out one (截止日数)"))
    step_days: int | None = strawberry.field(
        default=None, description=_doc("step_days", "Days between training cut-offs (截止日间隔)"))
    seed: int | None = strawberry.field(
        default=None, description=_doc("seed", "Random seed, for repeatable training (随机种子)"))
    promote_if_no_champion: bool = strawberry.field(
        default=False, description="Make it the champion when there is none yet (无冠军时自动启用).")


@strawberry.type(description="The training job started, or what was wrong with the input.")
class TrainModelPayload:
    job: JobType | None
    errors: list[UserError]


async def train_model_mutation(info: Info, input: TrainModelInput | None = None) -> TrainModelPayload:
    data = input or TrainModelInput()
    params = {k: getattr(data, k) for k in ("label_window_days", "n_cutoffs", "step_days", "seed")
              if getattr(data, k) is not None}
    try:
        job = await info.context.write(start_risk_job, info.context.actor, "train",
                                       {**params, "promote_if_no_champion": data.promote_if_no_champion})
    except (InvalidInput, Conflict, NotFound) as exc:
        return TrainModelPayload(job=None, errors=user_errors(exc))
    return TrainModelPayload(job=JobType.from_row(job), errors=[])
