"""The job runner: claims queued jobs (exactly one claimant wins), runs them in threads with a heartbeat, writes
the end, reaps jobs whose process died, and asks the scheduler for due runs.

`domain.jobs.service` holds what callers use to queue and read jobs and the handler registry; this module
depends on it (and on `domain.jobs.schedule`), never the other way round.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlmodel import col, select

from domain.db import Database
from domain.errors import DomainError, NotFound
from domain.identity.actor import SYSTEM, Actor
from domain.identity.models import User
from domain.jobs.models import Job
from domain.jobs.schedule import enqueue_due
from domain.jobs.service import JobContext, handler_of, submit_job
from domain.types import utcnow

__all__ = [
    "HEARTBEAT_SECONDS",
    "SCHEDULE_CHECK_SECONDS",
    "STALE_AFTER",
    "JobRunner",
    "claim_job",
    "reap_interrupted_jobs",
    "run_job",
    "run_job_now",
]

log = logging.getLogger("regwatch.jobs")

# Defaults of REGWATCH_JOB_HEARTBEAT_SECONDS and REGWATCH_JOB_STALE_SECONDS (domain.settings); the server's runner
# uses the settings. A job whose process died is marked failed by any running runner within the stale limit plus one
# heartbeat (runners look for stale jobs every heartbeat), or by the next one to start.
HEARTBEAT_SECONDS = 5.0
STALE_AFTER = timedelta(seconds=30)
SCHEDULE_CHECK_SECONDS = 30.0


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def claim_job(db: Database, job_id: int | None = None) -> Job | None:
    """Atomically move one queued job to running; exactly one claimant wins."""
    with db.unit_of_work() as session:
        stmt = select(col(Job.id)).where(col(Job.status) == "queued").order_by(col(Job.id)).limit(1)
        if job_id is not None:
            stmt = select(col(Job.id)).where(col(Job.id) == job_id, col(Job.status) == "queued")
        candidate = session.exec(stmt).first()
        if candidate is None:
            return None
        now = utcnow()
        claimed = cast("sa.CursorResult[Any]", session.execute(
            sa.update(Job).where(col(Job.id) == candidate, col(Job.status) == "queued").values(
                status="running", owner=_owner(), started_at=now, heartbeat_at=now)
        )).rowcount
        if claimed != 1:
            return None
        return session.get(Job, candidate)


def _finish(db: Database, job_id: int, *, result: dict[str, Any] | None = None, error: str | None = None,
            last: tuple[int, int | None, str] | None = None) -> None:
    with db.unit_of_work() as session:
        values: dict[str, Any] = {"finished_at": utcnow(), "heartbeat_at": utcnow()}
        if last is not None:  # the final progress may have been skipped by the write throttle
            values.update(progress_done=last[0], progress_total=last[1], message=last[2][:500])
        if error is None:
            values.update(status="succeeded", result=result or {})
            if last is not None and last[1]:  # finished means all of it, whatever step reported last
                values["progress_done"] = last[1]
        else:
            values.update(status="failed", error=error[:4000])
        session.execute(sa.update(Job).where(col(Job.id) == job_id).values(**values))


def run_job(db: Database, job: Job, *, on_progress: Callable[[int, int | None, str], None] | None = None,
            heartbeat_seconds: float = HEARTBEAT_SECONDS) -> Job:
    """Run a claimed job to the end in this thread, keeping its heartbeat fresh (every `heartbeat_seconds`)."""
    assert job.id is not None
    handler = handler_of(job.kind)
    actor = _load_actor(db, job)
    ctx = JobContext(db=db, job_id=job.id, actor=actor, params=dict(job.params), on_progress=on_progress)
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(heartbeat_seconds):
            try:
                with db.unit_of_work() as session:
                    session.execute(sa.update(Job).where(col(Job.id) == job.id).values(heartbeat_at=utcnow()))
            except Exception:  # a missed beat is not fatal
                log.warning("job %s heartbeat failed", job.id, exc_info=True)

    beater = threading.Thread(target=beat, name=f"job-{job.id}-heartbeat", daemon=True)
    beater.start()
    try:
        if handler is None:
            raise NotFound(f"没有处理“{job.kind}”类任务的程序（本版本不再支持此类任务）")
        result = handler(ctx) or {}
    except DomainError as exc:
        _finish(db, job.id, error=exc.message, last=ctx.last)
    except Exception as exc:
        log.error("job %s (%s) failed\n%s", job.id, job.kind, traceback.format_exc())
        _finish(db, job.id, error=f"任务意外出错，详情见服务日志（{type(exc).__name__}: {exc}）", last=ctx.last)
    else:
        _finish(db, job.id, result=result, last=ctx.last)
    finally:
        stop.set()
        beater.join(timeout=1)
    with db.unit_of_work() as session:
        done = session.get(Job, job.id)
        assert done is not None
        return done


def _load_actor(db: Database, job: Job) -> Actor:
    if job.created_by_id is None:
        return SYSTEM
    with db.unit_of_work() as session:
        user = session.get(User, job.created_by_id)
        if user is None:
            return Actor(user_id=job.created_by_id, username=job.created_by_name)
        return Actor(user_id=user.id, username=user.username, roles=frozenset(user.roles),
                     department_id=user.department_id)


def run_job_now(db: Database, actor: Actor, kind: str, params: dict[str, Any] | None = None, *,
                on_progress: Callable[[int, int | None, str], None] | None = None) -> Job:
    """Submit and run a job in the foreground (the CLI's way)."""
    with db.unit_of_work() as session:
        job = submit_job(session, actor, kind, params)
        job_id = job.id
    claimed = claim_job(db, job_id)
    if claimed is None:
        raise RuntimeError(f"job {job_id} was claimed by another runner")
    return run_job(db, claimed, on_progress=on_progress)


def reap_interrupted_jobs(db: Database, *, stale_after: timedelta = STALE_AFTER) -> int:
    """Mark running jobs whose heartbeat stopped (their process died or restarted) as failed."""
    cutoff = utcnow() - stale_after
    with db.unit_of_work() as session:
        return cast("sa.CursorResult[Any]", session.execute(
            sa.update(Job).where(col(Job.status) == "running", col(Job.heartbeat_at) < cutoff).values(
                status="failed", finished_at=utcnow(),
                error="任务已中断：运行它的进程已停止（重启或崩溃），请重新发起 (interrupted)")
        )).rowcount


class JobRunner:
    """Runs queued jobs in background threads of this process; several processes may each run one."""

    def __init__(self, db: Database, *, workers: int = 1, poll_seconds: float = 1.0,
                 heartbeat_seconds: float = HEARTBEAT_SECONDS,
                 stale_seconds: float = STALE_AFTER.total_seconds()) -> None:
        self.db = db
        self.workers = workers
        self.poll_seconds = poll_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.stale_after = timedelta(seconds=stale_seconds)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        reap_interrupted_jobs(self.db, stale_after=self.stale_after)
        for n in range(self.workers):
            thread = threading.Thread(target=self._loop, name=f"job-runner-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _loop(self) -> None:
        last_reap = time.monotonic()
        last_schedule_check = 0.0
        while not self._stop.is_set():
            try:
                job = claim_job(self.db)
                if job is not None:
                    run_job(self.db, job, heartbeat_seconds=self.heartbeat_seconds)
                    continue
                if time.monotonic() - last_reap > self.heartbeat_seconds:
                    reap_interrupted_jobs(self.db, stale_after=self.stale_after)
                    last_reap = time.monotonic()
                if time.monotonic() - last_schedule_check > SCHEDULE_CHECK_SECONDS:
                    enqueue_due(self.db)
                    last_schedule_check = time.monotonic()
            except Exception:
                log.exception("job runner loop error")
            self._stop.wait(self.poll_seconds)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=timeout)
        self._threads.clear()
