"""regwatch import, regwatch reference load, regwatch sources: supervision data in and integration set-up."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from cli.common import console, database, fail, local_time, run_with_progress, setup_step
from domain.errors import DomainError
from domain.identity.actor import SYSTEM
from domain.integration.models import (
    BATCH_OUTCOME_LABELS,
    DATA_SOURCE_KINDS,
    INGEST_KINDS,
    IngestionBatch,
    batch_outcome,
)

__all__ = ["register"]

MANUAL_SOURCE = "MANUAL"


def register(app: typer.Typer) -> None:
    app.command("import")(import_file)
    reference = typer.Typer(help="Reference data: GB/T 2260 regions, GB/T 4754-2017 industries (参考数据).",
                            no_args_is_help=True)
    reference.command("load")(reference_load)
    app.add_typer(reference, name="reference")
    sources = typer.Typer(help="Data sources (数据源) and their integration status.", no_args_is_help=True)
    sources.command("list")(sources_list)
    sources.command("add")(sources_add)
    app.add_typer(sources, name="sources")


def import_file(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                help=".csv (UTF-8 / UTF-8 BOM / GBK), .xlsx or .jsonl"),
    kind: str = typer.Option(..., "--kind", help=f"One of: {', '.join(INGEST_KINDS)}."),
    source: str = typer.Option(None, "--source", help="Data source code the records come from "
                                                      "(default: the manual-entry source)."),
    mode: str = typer.Option("partial", "--mode", help="partial (keep valid records) or all_or_nothing."),
    show_errors: int = typer.Option(20, "--show-errors", help="How many rejected records to list."),
) -> None:
    """Import a file of records (导入) as one batch, with a progress bar; rejected records are listed."""
    from domain.integration.service import batch_errors, manual_source_code
    from domain.pagination import PageRequest
    from domain.supervision.imports import IMPORT_JOB, import_params

    if source is None:
        db = database()
        with db.unit_of_work() as session:
            source = manual_source_code(session)
        db.dispose()
        if source is None:
            fail("no manual-entry data source exists: pass --source CODE (see `regwatch sources list`)", 2)
    try:
        params = import_params(kind=kind, source=source, path=file.resolve(), mode=mode, channel="cli")
    except DomainError as exc:
        fail(exc.message, 2)
    job = run_with_progress(IMPORT_JOB, params)
    result = job.result or {}
    outcome = batch_outcome(result["status"], result["accepted"], result["rejected"])
    colour = {"done": "green", "partial": "yellow"}.get(outcome, "red")
    console.print(f"batch [bold]{result['batch_id']}[/] ({result['status']}) [{colour}]{BATCH_OUTCOME_LABELS[outcome]}"
                  f"[/]: received {result['received']}, accepted [green]{result['accepted']}[/], "
                  f"rejected [red]{result['rejected']}[/]"
                  + (f", encoding {result['encoding']}" if result.get("encoding") else ""))
    if result["rejected"] and show_errors:
        db = database()
        with db.unit_of_work() as session:
            page = batch_errors(session, SYSTEM, result["batch_id"], PageRequest(first=show_errors))
            batch = session.get(IngestionBatch, result["batch_id"])
            total = batch.errors_total if batch is not None else len(page.items)
        table = Table("row (行)", "field", "code", "message",
                      title=f"first {len(page.items)} of {total} errors (header = row 1)")
        for error in page.items:
            row = str(error.row_number) if error.row_number is not None else f"#{error.record_index}"
            table.add_row(row, error.field or "", error.code, error.message)
        console.print(table)
        db.dispose()
    if outcome in ("rejected", "all_rejected"):  # nothing was stored: a failed delivery
        raise typer.Exit(1)


def reference_load() -> None:
    """Load (or refresh) the shipped regions and industries; safe to repeat."""
    from domain.reference.service import load_reference_data

    db = database()
    with db.engine.begin() as connection:
        counts = load_reference_data(connection)
    db.dispose()
    console.print(f"loaded {counts['region']} regions and {counts['industry']} industries")


def sources_list() -> None:
    """Data sources with their freshness and the integration completion figure."""
    from domain.integration.service import integration_status

    db = database()
    with db.unit_of_work() as session:
        status = integration_status(session, SYSTEM)
    db.dispose()
    table = Table("code", "name", "kind", "last push", "records", "30-day rejection", "fresh")
    for s in status.sources:
        rate = f"{s.rejection_rate:.1%}" if s.rejection_rate is not None else "—"
        table.add_row(s.source.code, s.source.name, s.source.kind,
                      local_time(s.last_push_at) if s.last_push_at else "never",
                      ", ".join(f"{k} {n}" for k, n in sorted(s.records.items())) or "—", rate,
                      "yes" if s.fresh else "no")
    console.print(table)
    completion = f"{status.completion:.1%}" if status.completion is not None else "—"
    console.print(f"integration completion (集成完成率): {completion} "
                  f"({status.connected_fresh} of {status.expected} expected sources fresh)")


def sources_add(
    code: str = typer.Argument(..., help="Code integrators send as `source`."),
    name: str = typer.Argument(..., help="Display name (名称)."),
    kind: str = typer.Option("department_system", "--kind", help=f"One of: {', '.join(DATA_SOURCE_KINDS)}."),
    department: str = typer.Option(None, "--department", help="Owning department code."),
    user: str = typer.Option(None, "--user", help="Its integration user's username (tokens belong to it)."),
    feeds: str = typer.Option("", "--feeds", help=f"Comma-separated kinds it is expected to send "
                                                  f"({', '.join(INGEST_KINDS)})."),
    stale_after_days: int = typer.Option(7, "--stale-after-days", help="Stale after this many days without data."),
) -> None:
    """Register a data source."""
    from domain.integration.service import create_data_source

    db = database()
    try:
        with db.unit_of_work() as session:
            create_data_source(session, SYSTEM, code=code, name=name, kind=kind, department_code=department,
                               username=user, expected_feeds=[f.strip() for f in feeds.split(",") if f.strip()],
                               stale_after_days=stale_after_days)
    except DomainError as exc:
        fail(exc.message, 2)
    finally:
        db.dispose()
    console.print(f"data source {code} registered")


@setup_step(10, "reference data and the manual-import data source")
def setup_reference_and_manual_source() -> None:
    """Regions and industries (refreshed), and the 手工导入 source that page and CLI imports default to."""
    import sqlalchemy as sa
    from sqlmodel import col

    from domain.integration.models import DataSource
    from domain.reference.service import load_reference_data

    db = database()
    with db.engine.begin() as connection:
        load_reference_data(connection)
        exists = connection.execute(sa.select(col(DataSource.id)).where(col(DataSource.kind) == "manual")).first()
    if exists is None:
        from domain.integration.service import create_data_source

        with db.unit_of_work() as session:
            create_data_source(session, SYSTEM, code=MANUAL_SOURCE, name="手工导入", kind="manual",
                               description="页面上传与命令行导入的默认数据源")
    db.dispose()
