"""What every command shares: settings with a readable error, the database, running jobs with a progress bar."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from domain.db import Database
from domain.identity.actor import SYSTEM, Actor
from domain.jobs.models import Job
from domain.jobs.service import run_job_now
from domain.settings import Settings, SettingsError, get_settings

__all__ = ["SETUP_STEPS", "console", "database", "fail", "run_with_progress", "settings", "setup_step"]

# `regwatch setup` runs these in order; each feature registers what a first run needs (idempotent steps).
SETUP_STEPS: list[tuple[int, str, Callable[[], None]]] = []


def setup_step(order: int, label: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    def register(fn: Callable[[], None]) -> Callable[[], None]:
        SETUP_STEPS.append((order, label, fn))
        return fn
    return register

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 1) -> None:
    err_console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def settings() -> Settings:
    try:
        return get_settings()
    except SettingsError as exc:
        fail(str(exc), 2)
        raise  # unreachable


def database() -> Database:
    return Database(settings().database_url)


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
