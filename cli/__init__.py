"""The `regwatch` command: a thin Typer front over the domain, one module per feature."""

from __future__ import annotations

import typer

from cli import demo, disposal, identity, jobs, platform, report, risk, supervision, warnings

__all__ = ["app"]

app = typer.Typer(
    name="regwatch",
    help="Regwatch — 苏州市互联网+监管 风险预警与分析评价系统: serve, migrate, and operate the platform.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
)


@app.callback()
def _before_any_command() -> None:
    """Runs before every command (not for `regwatch --help`): what a command may run in this process — the risk
    job kinds and the steps after a committed scoring run — is registered here, so that the engine is loaded
    only when a command runs."""
    risk.register_jobs()
    warnings.register_scoring_step()


platform.register(app)
jobs.register(app)
identity.register(app)
demo.register(app)
risk.register(app)
supervision.register(app)
report.register(app)
warnings.register(app)
disposal.register(app)
