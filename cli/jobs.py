"""jobs list, jobs run: background jobs (后台任务) from the console, run in the foreground with a progress bar."""

from __future__ import annotations

import typer

from cli.common import console, database, fail, local_time, run_with_progress

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    jobs_app = typer.Typer(help="Background jobs (后台任务).", no_args_is_help=True)
    jobs_app.command("list")(jobs_list)
    jobs_app.command("run")(jobs_run)
    app.add_typer(jobs_app, name="jobs")


def jobs_list(limit: int = typer.Option(20, help="How many, newest first.")) -> None:
    """List recent jobs."""
    # imported here, not at the top, to keep `regwatch --help` fast
    from rich.table import Table

    from domain.identity.actor import SYSTEM
    from domain.jobs.service import list_jobs

    db = database()
    with db.unit_of_work() as session:
        rows = list_jobs(session, SYSTEM, limit=limit)
    table = Table("id", "kind", "status", "progress", "started by", "created")
    for job in rows:
        table.add_row(str(job.id), job.kind, job.status,
                      f"{job.progress_done}/{job.progress_total or '?'}", job.created_by_name,
                      local_time(job.created_at))
    console.print(table)


def jobs_run(
    kind: str = typer.Argument(..., help="Job kind, e.g. import, train, score."),
    param: list[str] = typer.Option([], "--param", "-p", help="Parameter as key=value (repeatable)."),
) -> None:
    """Run one job in the foreground with a progress bar."""
    # imported here, not at the top, to keep `regwatch --help` fast
    from domain.jobs.service import registered_kinds

    if kind not in registered_kinds():
        fail(f"unknown job kind {kind!r}; known kinds: {', '.join(registered_kinds()) or '(none)'}")
    params: dict[str, str] = {}
    for item in param:
        key, sep, value = item.partition("=")
        if not sep or not key:
            fail(f"--param must look like key=value, got {item!r}")
        params[key] = value
    job = run_with_progress(kind, params)
    console.print(f"job {job.id} succeeded: {job.result}")
