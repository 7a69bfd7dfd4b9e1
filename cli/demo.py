"""regwatch demo: the deterministic demo Suzhou city, and the first-run step that loads it into an empty database."""

from __future__ import annotations

from datetime import date

import typer
from rich.table import Table

from cli.common import console, database, fail, run_with_progress, setup_step
from domain.demo import service as demo_service

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    app.command()(demo)


def demo(
    entities: int = typer.Option(demo_service.DEFAULT_ENTITIES, "--entities", "-n", min=1,
                                 max=demo_service.MAX_ENTITIES, help="How many market entities (监管对象)."),
    seed: int = typer.Option(demo_service.DEFAULT_SEED, "--seed", help="Random seed: the same seed, the same city."),
    end_date: str = typer.Option(None, "--end-date", help="Last day of the two-year history (default: today, "
                                 "Asia/Shanghai), YYYY-MM-DD."),
) -> None:
    """Build the demo Suzhou city through the ingestion path: departments, data sources, entities and two years
    of inspections, penalties, complaints and credit records. Safe to repeat: records are updated, not doubled."""
    params: dict = {"entities": entities, "seed": seed}
    if end_date:
        try:
            date.fromisoformat(end_date)
        except ValueError:
            fail(f"--end-date must be a date like 2026-06-30, got {end_date!r}", 2)
        params["end_date"] = end_date
    job = run_with_progress("demo", params)
    result = job.result or {}
    table = Table("kind", "received", "accepted", "rejected", title=f"demo city: seed {seed}, "
                  f"history to {result.get('end_date')}, {result.get('seconds')} s")
    for kind, received in result.get("received", {}).items():
        table.add_row(kind, str(received), str(result["accepted"].get(kind, 0)), str(result["rejected"].get(kind, 0)))
    console.print(table)
    console.print("Rejected rows are deliberate: each batch's errors show on the data source pages.")


@setup_step(30, "demo Suzhou dataset")
def load_demo_if_empty() -> None:
    """Load the default demo city when the database has no entities yet."""
    db = database()
    try:
        with db.unit_of_work() as session:
            empty = not demo_service.has_entities(session)
    finally:
        db.dispose()
    if not empty:
        console.print("  entities already present: demo city not loaded")
        return
    run_with_progress("demo", {"entities": demo_service.DEFAULT_ENTITIES, "seed": demo_service.DEFAULT_SEED})
