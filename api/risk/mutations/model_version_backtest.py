"""backtestModelVersion: run a version over a past window as a job (回测); results under modelBacktests."""

from __future__ import annotations

from datetime import date

import strawberry

from api.context import Info
from api.errors import UserError, user_errors
from api.jobs.types import JobType
from api.risk.mutations.common import parse_id
from domain.errors import Conflict, InvalidInput, NotFound
from domain.risk import queries as q
from ml.jobs import start_risk_job

__all__ = ["BacktestModelVersionInput", "BacktestModelVersionPayload", "backtest_model_version_mutation"]


@strawberry.input(description="Which version to backtest, as of which past date (回测).")
class BacktestModelVersionInput:
    version_id: strawberry.ID
    as_of: date = strawberry.field(description="The past date to score as of (回测截止日).")
    window_days: int | None = strawberry.field(
        default=None, description="Days after it in which outcomes count (1–730); default its label window (观察窗口).")


@strawberry.type(description="The backtest job started, or what was wrong with the input.")
class BacktestModelVersionPayload:
    job: JobType | None
    errors: list[UserError]


def _start(session, actor, version_id: int, as_of: date, window_days: int | None):
    q.get_version(session, actor, version_id)  # an unknown version is an answer now, not a failed job later
    return start_risk_job(session, actor, "backtest", {"version_id": version_id, "as_of": as_of.isoformat(),
                                                        "window_days": window_days})


async def backtest_model_version_mutation(info: Info, input: BacktestModelVersionInput) -> BacktestModelVersionPayload:
    try:
        job = await info.context.write(_start, info.context.actor, parse_id(input.version_id, "version_id"),
                                       input.as_of, input.window_days)
    except (InvalidInput, Conflict, NotFound) as exc:
        return BacktestModelVersionPayload(job=None, errors=user_errors(exc))
    return BacktestModelVersionPayload(job=JobType.from_row(job), errors=[])
