"""disposal sweep-overdue, disposal deliver: the overdue sweep (超期巡检) and webhook delivery (推送投递) once, in the
foreground (the server runs both on its own: the sweep every 10 minutes, delivery continuously)."""

from __future__ import annotations

import typer

from cli.common import console, run_with_progress

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    disposal_app = typer.Typer(help="Disposal workflow (风险处置): overdue sweep, webhook delivery.",
                               no_args_is_help=True)
    disposal_app.command("sweep-overdue")(sweep_overdue)
    disposal_app.command("deliver")(deliver)
    app.add_typer(disposal_app, name="disposal")


def sweep_overdue() -> None:
    """Record overdue warnings (one event per deadline) and notify leads and analysts."""
    from domain.disposal.overdue import SWEEP_JOB

    job = run_with_progress(SWEEP_JOB)
    result = job.result or {}
    console.print(f"超期签收 {result.get('receipt', 0)} 条，超期处置 {result.get('disposal', 0)} 条，"
                  f"通知 {result.get('notices', 0)} 人次")


def deliver() -> None:
    """Dispatch the outbox and attempt every due webhook delivery once."""
    from domain.notifications.pump import DELIVER_JOB

    job = run_with_progress(DELIVER_JOB)
    result = job.result or {}
    console.print(f"分发 {result.get('dispatched', 0)} 条事件，投递 {result.get('attempted', 0)} 次，"
                  f"成功 {result.get('delivered', 0)} 次")
