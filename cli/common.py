"""What every command shares: settings with a readable error, the database, running jobs with a progress bar."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from domain.db import Database, Mode
from domain.errors import DomainError
from domain.identity.actor import SYSTEM, Actor
from domain.jobs.models import Job
from domain.jobs.runner import run_job_now
from domain.settings import Settings, SettingsError, get_settings
from domain.types import LOCAL_TZ

__all__ = ["SETUP_STEPS", "act", "console", "database", "ensure_migrated", "explain", "fail", "local_time",
           "run_with_progress", "settings", "setup_step"]

# `regwatch setup` runs these in order; each feature registers what a first run needs (idempotent steps).
SETUP_STEPS: list[tuple[int, str, Callable[[], None]]] = []
T = TypeVar("T")


def setup_step(order: int, label: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    def register(fn: Callable[[], None]) -> Callable[[], None]:
        SETUP_STEPS.append((order, label, fn))
        return fn
    return register

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def explain(exc: DomainError) -> NoReturn:
    """A domain error as the console shows it (each field with its message); exit 1."""
    fail("; ".join(f"{e.field}: {e.message}" if e.field else e.message for e in exc.errors) or exc.message)


def act(fn: Callable[..., T], *args: Any, work: Mode = "commit", **kwargs: Any) -> T:
    """`fn(session, SYSTEM, *args)` in a unit of work of its own (`Database.unit_of_work`: commit, read or
    dry_run), as the console operator; a domain error is printed (`explain`) and exits 1."""
    db = database()
    try:
        with db.unit_of_work(work) as session:
            return fn(session, SYSTEM, *args, **kwargs)
    except DomainError as exc:
        explain(exc)
    finally:
        db.dispose()


def settings() -> Settings:
    try:
        return get_settings()
    except SettingsError as exc:
        fail(str(exc), 2)
        raise  # unreachable


def database(*, at_head: bool = True) -> Database:
    """The configured database; unless `at_head=False` (migrate, check-db), one behind its migrations is refused
    with a message instead of a SQL traceback further on."""
    db = Database(settings().database_url)
    if at_head:
        ensure_migrated(db)
    return db


def ensure_migrated(db: Database) -> None:
    """Exit 1 with a plain message when the database is unreachable or not at the code's migration head."""
    # imported here, not at the top, to keep `regwatch --help` fast (alembic reads the migration scripts)
    import sqlalchemy as sa

    from domain.schema_version import current_revision, head_revision

    try:
        with db.engine.connect() as conn:
            current = current_revision(conn)
    except sa.exc.SQLAlchemyError as exc:
        db.dispose()
        fail(f"无法连接数据库（{type(exc).__name__}），请检查 REGWATCH_DATABASE_URL "
             f"(the database is unreachable: {exc.__class__.__name__})")
    head = head_revision()
    if current != head:
        db.dispose()
        fail(f"数据库未迁移到最新版本（当前 {current or '空库'}，代码需要 {head}）：请运行 `regwatch migrate` "
             f"(the database is behind its migrations: run `regwatch migrate`)")


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time as a person reads it: Asia/Shanghai, to the minute ("-" when there is none)."""
    if value is None:
        return "-"
    return value.astimezone(LOCAL_TZ).strftime(fmt)


def run_with_progress(kind: str, params: dict[str, Any] | None = None, *, actor: Actor = SYSTEM,
                      db: Database | None = None) -> Job:
    """Run a job in the foreground with a Rich progress bar; exit non-zero if it fails."""
    db = db or database()
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.fields[message]}"), console=console, transient=False) as progress:
        task = progress.add_task(kind, total=None, message="")

        def on_progress(done: int, total: int | None, message: str) -> None:
            progress.update(task, completed=done, total=total, message=message)

        job = run_job_now(db, actor, kind, params, on_progress=on_progress)
        if job.status == "succeeded" and job.progress_total:
            progress.update(task, completed=job.progress_total, total=job.progress_total, message="done")
    if job.status != "succeeded":
        fail(f"job {job.id} ({kind}) failed: {job.error}")
    return job
