"""Jobs: the handler registry, submitting, reading, and the context a running job reports progress through.

A job handler is `fn(ctx: JobContext) -> dict` registered under a kind with `@job_handler("kind")`.
It opens its own units of work through `ctx.db`, and reports progress through `ctx.progress`.
Claiming, running, heartbeats and reaping live in `domain.jobs.runner`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain.audit.service import record_audit
from domain.db import Database
from domain.errors import NotFound
from domain.identity.actor import Actor
from domain.identity.policy import can, require
from domain.jobs.models import Job
from domain.pagination import Page, PageRequest, select_page
from domain.types import utcnow

__all__ = [
    "JobContext",
    "get_job",
    "handler_of",
    "job_handler",
    "jobs_query",
    "list_jobs",
    "page_jobs",
    "registered_kinds",
    "remove_job_handler",
    "submit_job",
]

Handler = Callable[["JobContext"], dict[str, Any] | None]


@dataclass(frozen=True)
class _Registration:
    handler: Handler
    permission: str | None  # asked of whoever queues the job, beside jobs.start


_HANDLERS: dict[str, _Registration] = {}


def job_handler(kind: str, *, permission: str | None = None) -> Callable[[Handler], Handler]:
    """Register `fn` as the handler of `kind`; `permission` (a policy permission) is required to queue it."""
    def register(fn: Handler) -> Handler:
        _HANDLERS[kind] = _Registration(fn, permission)
        return fn
    return register


def remove_job_handler(kind: str) -> None:
    """Forget a kind (tests that register their own kinds remove them again)."""
    _HANDLERS.pop(kind, None)


def registered_kinds() -> list[str]:
    return sorted(_HANDLERS)


def handler_of(kind: str) -> Handler | None:
    registration = _HANDLERS.get(kind)
    return registration.handler if registration else None


@dataclass
class JobContext:
    db: Database
    job_id: int
    actor: Actor
    params: dict[str, Any]
    on_progress: Callable[[int, int | None, str], None] | None = None
    _last_write: float = field(default=0.0)
    last: tuple[int, int | None, str] | None = None  # the latest progress reported, written or not

    def progress(self, done: int, total: int | None = None, message: str = "", *, force: bool = False) -> None:
        """Record progress; written at most every half second unless forced, so hot loops can call it."""
        self.last = (done, total, message)
        if self.on_progress:
            self.on_progress(done, total, message)
        now = time.monotonic()
        if not force and now - self._last_write < 0.5:
            return
        self._last_write = now
        with self.db.unit_of_work() as session:
            session.execute(
                sa.update(Job).where(col(Job.id) == self.job_id).values(
                    progress_done=done, progress_total=total, message=message[:500], heartbeat_at=utcnow()
                )
            )


def submit_job(session: Session, actor: Actor, kind: str, params: dict[str, Any] | None = None) -> Job:
    """Queue a job for the runner (jobs.start, and the kind's own permission if it names one)."""
    require(actor, "jobs.start")
    registration = _HANDLERS.get(kind)
    if registration is None:
        raise NotFound(f"未知的任务类型“{kind}”", field="kind", code="unknown_kind")
    if registration.permission:
        require(actor, registration.permission)
    job = Job(kind=kind, params=params or {}, created_by_id=actor.user_id, created_by_name=actor.username)
    session.add(job)
    session.flush()
    record_audit(session, actor, "job.submit", "job", job.id, {"kind": kind, "params": params or {}})
    return job


def get_job(session: Session, actor: Actor, job_id: int) -> Job:
    """One job: any with jobs.read, otherwise only one the actor started (others: not found)."""
    job = session.get(Job, job_id)
    if job is None or not (can(actor, "jobs.read") or job.created_by_id == actor.user_id):
        raise NotFound(f"任务 {job_id} 不存在", field="id")
    return job


def jobs_query(actor: Actor, *, kind: str | None = None, status: str | None = None):
    """Jobs the actor may see, newest first: all with jobs.read, otherwise the actor's own."""
    stmt = select(Job).order_by(col(Job.id).desc())
    if kind:
        stmt = stmt.where(col(Job.kind) == kind)
    if status:
        stmt = stmt.where(col(Job.status) == status)
    if not can(actor, "jobs.read"):
        stmt = stmt.where(col(Job.created_by_id) == actor.user_id)
    return stmt


def list_jobs(session: Session, actor: Actor, *, kind: str | None = None, limit: int = 50) -> list[Job]:
    return list(session.exec(jobs_query(actor, kind=kind).limit(limit)))


def page_jobs(session: Session, actor: Actor, page: PageRequest, *, max_size: int, kind: str | None = None,
              status: str | None = None) -> Page[Job]:
    return select_page(session, jobs_query(actor, kind=kind, status=status), page, order_by=(col(Job.id).desc(),),
                       max_size=max_size)




_MOVED = {"JobRunner", "run_job", "run_job_now", "reap_interrupted_jobs", "HEARTBEAT_SECONDS", "STALE_AFTER",
          "SCHEDULE_CHECK_SECONDS"}


def __getattr__(name: str) -> Any:
    """Shim while importers move: the runner's names now live in domain.jobs.runner."""
    if name in _MOVED or name == "_claim":
        from domain.jobs import runner

        return runner.claim_job if name == "_claim" else getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
