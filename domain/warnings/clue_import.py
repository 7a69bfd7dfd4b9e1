"""Clue files (CSV / XLSX / JSONL) as the `clues` kind of the ingestion path: the imports page, the job, the file
readers, the batch row and its per-row error report are the supervision data's; validation, idempotency and
deduplication are the clues' own (`domain.warnings.clues`), so a file and `submitRiskClues` behave alike."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlmodel import Session

from domain.audit.service import record_audit
from domain.db import Database
from domain.identity.actor import Actor
from domain.integration.models import IngestionBatch, IngestionError
from domain.types import utcnow

__all__ = ["CHUNK", "ingest_clue_stream"]

CHUNK = 1_000
MAX_STORED_ERRORS = 1_000


def ingest_clue_stream(db: Database, actor: Actor, *, source: str, records: Iterable[Mapping[str, Any]],
                       mode: str = "partial", channel: str = "file", file_name: str | None = None,
                       job_id: int | None = None, on_progress: Callable[[int], None] | None = None,
                       max_errors: int = 1_000, dedup_days: int | None = None) -> Any:
    """Read the file chunk by chunk into one unit of work; all-or-nothing keeps nothing when a record fails."""
    from domain.settings import get_settings
    from domain.supervision.ingest import IngestResult, RecordError
    from domain.supervision.validation import BadRecord
    from domain.warnings.clues import ClueInput, _authorised_source, submit_clue_inputs

    window = get_settings().clue_dedup_days if dedup_days is None else dedup_days
    with db.unit_of_work() as session:
        ds = _authorised_source(session, actor, source)
        received = accepted = rejected = 0
        errors: list[tuple[int, int | None, str | None, str, str]] = []
        rows = iter(records)
        entity_ids: list[int] = []
        while chunk := list(itertools.islice(rows, CHUNK)):
            inputs: list[ClueInput | None] = []
            for rec in chunk:
                if isinstance(rec, BadRecord):
                    inputs.append(None)
                    errors.append((received + len(inputs) - 1, rec.row, None, rec.code, rec.message))
                else:
                    inputs.append(ClueInput.from_mapping(rec))
            valid = [(i, c) for i, c in enumerate(inputs) if c is not None]
            result = submit_clue_inputs(session, actor, ds, [c for _, c in valid], dedup_days=window)
            for (i, _), outcome in zip(valid, result.outcomes, strict=True):
                row = getattr(chunk[i], "row", None)
                for e in outcome.errors:
                    errors.append((received + i, row, e.field, e.code, e.message))
            rejected += sum(1 for c in inputs if c is None) + result.rejected
            accepted += result.created + result.updated + result.unchanged
            entity_ids.extend(result.entity_ids)
            received += len(chunk)
            if on_progress:
                on_progress(received)
        status = "done"
        if mode == "all_or_nothing" and rejected:
            session.rollback()  # nothing of the file is kept; the batch and its errors are
            ds = _authorised_source(session, actor, source)
            status, accepted = "rejected", 0
        assert ds.id is not None
        batch = IngestionBatch(source_id=ds.id, kind="clues", channel=channel, mode=mode, status=status,
                               file_name=file_name, received=received, accepted=accepted, rejected=rejected,
                               errors_total=len(errors), created_by_id=actor.user_id, job_id=job_id,
                               finished_at=utcnow())
        session.add(batch)
        session.flush()
        assert batch.id is not None
        _store_errors(session, batch.id, errors[:MAX_STORED_ERRORS])
        record_audit(session, actor, "ingest.clues", "ingestion_batch", batch.id,
                     {"source": ds.code, "mode": mode, "channel": channel, "file_name": file_name,
                      "received": received, "accepted": accepted, "rejected": rejected})
        out = IngestResult(batch_id=batch.id, kind="clues", status=status, received=received, accepted=accepted,
                           rejected=rejected, errors_total=len(errors),
                           errors=[RecordError(i, f, c, m, row) for i, row, f, c, m in errors[:max_errors]])
        out.timings = {}
        setattr(out, "entity_ids", entity_ids if status == "done" else [])  # noqa: B010  (for on-demand scoring)
    return out


def _store_errors(session: Session, batch_id: int, errors: list[tuple[int, int | None, str | None, str, str]]) -> None:
    for index, row, fld, code, message in errors:
        session.add(IngestionError(batch_id=batch_id, record_index=index, row_number=row, field=fld, code=code,
                                   message=message[:500]))
    session.flush()
