"""serve, migrate, check-db, setup (jobs: cli/jobs.py)."""

from __future__ import annotations

from typing import TypedDict

import typer

from cli.common import SETUP_STEPS, console, database, ensure_migrated, settings
from domain.schema_version import current_revision, upgrade_to_head

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(migrate)
    app.command("check-db")(check_db)
    app.command()(setup)


# uvicorn must not rewrite the client address from X-Forwarded-For on its own (by default it believes 127.0.0.1):
# the app does it, only for REGWATCH_TRUSTED_PROXIES.
class _ServerOptions(TypedDict):
    proxy_headers: bool


SERVER_OPTIONS = _ServerOptions(proxy_headers=False)


def serve(
    host: str = typer.Option(None, help="Address to bind (default REGWATCH_HOST, 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default REGWATCH_PORT, 8000)."),
    workers: int = typer.Option(1, min=1, help="Worker processes; the app keeps no shared state in memory."),
    reload: bool = typer.Option(False, help="Reload on code changes (development)."),
) -> None:
    """Serve the pages, GraphQL and GraphiQL with uvicorn."""
    import uvicorn

    cfg = settings()
    database().dispose()  # refuses a database behind its migrations
    console.print(f"Regwatch on http://{host or cfg.host}:{port or cfg.port}  ({cfg.backend}, {cfg.env})")
    uvicorn.run("regwatch_app:create_app", factory=True, host=host or cfg.host, port=port or cfg.port,
                workers=workers, reload=reload, log_level="warning", access_log=False, **SERVER_OPTIONS)


def migrate(revision: str = typer.Argument("head", help="Target revision (default: head).")) -> None:
    """Upgrade the database to the latest migration (Alembic)."""
    from alembic import command

    from domain.schema_version import alembic_config

    cfg = settings()
    if cfg.backend == "sqlite":
        cfg.var_dir.mkdir(parents=True, exist_ok=True)
    if revision == "head":
        upgrade_to_head(cfg.database_url)
    else:
        command.upgrade(alembic_config(cfg.database_url), revision)
    db = database(at_head=False)
    with db.engine.connect() as conn:
        console.print(f"database at migration [bold]{current_revision(conn)}[/] ({cfg.backend})")
    db.dispose()


def check_db() -> None:
    """Exit 0 when the database is at the latest migration, 1 otherwise."""
    db = database(at_head=False)
    ensure_migrated(db)
    with db.engine.connect() as conn:
        console.print(f"database at head {current_revision(conn)}")
    db.dispose()


def setup() -> None:
    """First-run setup, safe to repeat: migrate, then each feature's step (reference data, admin, demo, model)."""
    migrate("head")
    for _order, label, step in sorted(SETUP_STEPS, key=lambda s: s[0]):
        console.print(f"[bold]setup:[/] {label}")
        step()
    console.print("[green]setup complete[/]")
